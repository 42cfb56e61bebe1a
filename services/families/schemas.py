"""What the families API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator


class FamilyCreate(BaseModel):
    """A new family, as staff or a municipal system create it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, description="Nom de la famille, e.g. TEST")

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value


class FamilyRead(BaseModel):
    """A family as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    created_at: datetime
    version: int
