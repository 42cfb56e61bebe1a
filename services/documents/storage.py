"""The S3 bucket of documents: one boto3 client, every call in a thread, every object encrypted.

boto3 is blocking; each call runs through `asyncio.to_thread` so that the event loop keeps
serving other requests while S3 answers. The client is thread-safe and shared.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import DocumentsSettings
from .errors import StorageUnavailable

SSE = "AES256"
CHUNK_BYTES = 256 * 1024
SUBMISSIONS_PREFIX = "submissions/"
ORG_PREFIX = "org/"
STORAGE_ERRORS = (BotoCoreError, ClientError)
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


class Storage:
    """Private, server-side-encrypted objects in one bucket."""

    def __init__(self, settings: DocumentsSettings) -> None:
        self.bucket = settings.s3_bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            aws_access_key_id=settings.s3_access_key_id,
            aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=settings.s3_timeout_seconds,
                read_timeout=settings.s3_timeout_seconds,
                retries={"max_attempts": 2, "mode": "standard"},
                max_pool_connections=32,
            ),
        )

    async def ensure_bucket(self) -> None:
        """Create the bucket when missing: private, public access blocked, encrypted by default."""
        await asyncio.to_thread(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
                raise
        region = self.client.meta.region_name
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        self.client.create_bucket(
            Bucket=self.bucket,
            ACL="private",
            **({"CreateBucketConfiguration": location} if location else {}),
        )
        self.client.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.client.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": SSE}}]
            },
        )

    async def ping(self) -> None:
        """Raise when the bucket cannot be reached (readiness)."""
        await asyncio.to_thread(self.client.head_bucket, Bucket=self.bucket)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, encrypted at rest; `StorageUnavailable` on failure."""
        try:
            await asyncio.to_thread(
                self.client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ServerSideEncryption=SSE,
            )
        except STORAGE_ERRORS:
            raise StorageUnavailable(UNAVAILABLE) from None

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

    async def read(self, key: str) -> bytes:
        """The whole object (for the antivirus retry; files are bounded by the upload cap)."""
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            return bytes(await asyncio.to_thread(body.read))
        finally:
            body.close()

    async def stream(self, key: str) -> tuple[int, AsyncIterator[bytes]]:
        """The object's length and its bytes in chunks, each read in a thread."""
        try:
            response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        except STORAGE_ERRORS:
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

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()
