"""The bucket of invoice PDFs: the kit's object store (private, every object encrypted)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from services.kit.object_store import STORE_ERRORS, ObjectStore

from .config import BillingSettings
from .errors import StorageUnavailable

UNAVAILABLE = "Le stockage des factures est momentanément indisponible. Réessayez plus tard."


def new_key() -> str:
    """A key made by the server alone: nothing of the family or the number in it."""
    return f"invoices/{uuid.uuid4().hex}.pdf"


class Storage(ObjectStore):
    """Billing's bucket of invoice and receipt PDFs."""

    def __init__(self, settings: BillingSettings) -> None:
        super().__init__(settings, unavailable=lambda: StorageUnavailable(UNAVAILABLE))

    async def put_pdf(self, key: str, data: bytes) -> None:
        """Store a PDF under `key`, encrypted at rest."""
        await self.put(key, data, "application/pdf")

    async def get(self, key: str) -> bytes:
        """The object's bytes; `StorageUnavailable` when S3 fails."""
        try:
            return await self.read(key)
        except STORE_ERRORS:
            raise StorageUnavailable(UNAVAILABLE) from None


STORAGE: web.AppKey[Storage] = web.AppKey("billing_storage", Storage)


async def storage_ctx(app: web.Application) -> Any:
    """Open the storage with the app; the bucket is created in dev and tests."""
    from services.kit.keys import READINESS, SETTINGS

    settings = app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    storage = Storage(settings)
    if settings.s3_create_bucket:
        try:
            await storage.ensure_bucket()
        except STORE_ERRORS:
            pass  # readiness says so until S3 answers
    app[STORAGE] = storage
    app[READINESS].add("s3", storage.ping)
    yield
