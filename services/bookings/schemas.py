"""What the bookings API accepts and returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ActivityCreate(BaseModel):
    """A new activity in the catalogue."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, description='e.g. "ALSH Josta Leku"')


class ActivityRead(BaseModel):
    """An activity as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime


class ActivityList(BaseModel):
    """The catalogue."""

    items: list[ActivityRead]
