"""Alembic environment of the billing service."""

from services.billing.models import Base
from services.kit.migrations import run_env

run_env(Base.metadata)
