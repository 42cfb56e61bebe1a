"""The S3 bucket of documents: the kit's object store plus streaming, batches and listing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from services.kit.object_store import STORE_ERRORS, ObjectStore

from .config import DocumentsSettings
from .errors import StorageUnavailable

CHUNK_BYTES = 256 * 1024
SUBMISSIONS_PREFIX = "submissions/"
ORG_PREFIX = "org/"
UNAVAILABLE = (
    "Le stockage des documents est momentanément indisponible : rien n'a été enregistré. "
    "Réessayez dans quelques minutes."
)


def new_key(prefix: str) -> str:
    """A storage key made by the server alone: nothing of the file name or the caller in it."""
    return f"{prefix}{uuid.uuid4().hex}"


@dataclass(frozen=True)
class StoredObject:
    """A key listed in the bucket, with its age."""

    key: str
    last_modified: datetime


class Storage(ObjectStore):
    """The documents bucket: the kit's store plus streaming, batches, deletion and listing."""

    def __init__(self, settings: DocumentsSettings) -> None:
        super().__init__(settings, unavailable=lambda: StorageUnavailable(UNAVAILABLE))

    async def put_all(self, items: Iterable[tuple[str, bytes, str]]) -> None:
        """Store several objects, or none: what was stored is removed when one fails."""
        stored: list[str] = []
        try:
            for key, data, content_type in items:
                await self.put(key, data, content_type)
                stored.append(key)
        except BaseException:
            await self.delete_quietly(stored)
            raise

    async def stream(self, key: str) -> tuple[int, AsyncIterator[bytes]]:
        """The object's length and its bytes in chunks, each read in a thread."""
        try:
            response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        except STORE_ERRORS:
            raise StorageUnavailable(
                "Le stockage des documents est momentanément indisponible. Réessayez plus tard."
            ) from None
        body = response["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
                    yield chunk
            finally:
                body.close()

        return int(response["ContentLength"]), chunks()

    async def delete(self, keys: Iterable[str]) -> None:
        """Delete these objects (missing ones are fine); raises when S3 fails."""
        batch = [{"Key": k} for k in keys]
        for start in range(0, len(batch), 1000):
            response = await asyncio.to_thread(
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch[start : start + 1000], "Quiet": True},
            )
            if response.get("Errors"):
                raise StorageUnavailable(f"{len(response['Errors'])} object(s) not deleted")

    async def delete_quietly(self, keys: Iterable[str]) -> None:
        """Best-effort delete for compensation; the orphan sweep catches what this misses."""
        keys = list(keys)
        if not keys:
            return
        try:
            await self.delete(keys)
        except Exception:  # noqa: S110 - the nightly sweep removes what remains
            pass

    async def list_objects(self, prefix: str) -> list[StoredObject]:
        """Every object under `prefix`."""
        return await asyncio.to_thread(self._list, prefix)

    def _list(self, prefix: str) -> list[StoredObject]:
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                found.append(StoredObject(item["Key"], item["LastModified"]))
        return found
