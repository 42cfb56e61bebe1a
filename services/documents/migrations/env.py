"""Alembic environment of the documents service."""

from services.documents.models import Base
from services.kit.migrations import run_env

run_env(Base.metadata)
