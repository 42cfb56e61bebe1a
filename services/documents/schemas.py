"""What the documents API returns."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class OrgDocumentRead(BaseModel):
    """A published document of the structure."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    category: str
    published_at: datetime


class OrgDocumentList(BaseModel):
    """The structure's published documents."""

    items: list[OrgDocumentRead]
