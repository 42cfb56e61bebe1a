"""Settings of the bookings service (environment variables prefixed `BOOKINGS_`)."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.kit.settings import BaseServiceSettings


class BookingsSettings(BaseServiceSettings):
    """The kit's settings, whether several processes may listen on one port, and how long
    saves' idempotency keys are kept."""

    model_config = SettingsConfigDict(env_prefix="BOOKINGS_", extra="ignore", frozen=True)
    service_name: ClassVar[str] = "bookings"
    default_port: ClassVar[int] = 8103
    # Never more than the pool (BOOKINGS_DATABASE_POOL_SIZE): in a rush, connections opened
    # for the burst and closed at once cost more (connection, type introspection, statements
    # prepared anew) than the wait for a pooled one.
    database_max_overflow: ClassVar[int | None] = 0
    # SO_REUSEPORT: several copies of the service on one host share the port and the kernel
    # spreads connections between them (the service keeps no state of its own). Off by
    # default, so that a second start on a taken port fails instead of sharing it silently.
    reuse_port: bool = False

    # A client retries a save within minutes of a timeout; a week covers a retry queue stuck
    # over a weekend. Past it the nightly purge (`tasks.py`) deletes the key.
    idempotency_keys_retention_days: int = Field(7, ge=1)
