"""Alembic environment of the families service."""

from services.families.models import Base
from services.kit.migrations import run_env

run_env(Base.metadata)
