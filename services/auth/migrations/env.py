"""Alembic environment of the auth service."""

from services.auth.models import Base
from services.kit.migrations import run_env

run_env(Base.metadata)
