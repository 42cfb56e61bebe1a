"""Alembic environment of the bookings service."""

from services.bookings.models import Base
from services.kit.migrations import run_env

run_env(Base.metadata)
