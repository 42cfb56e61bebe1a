"""S3-compatible object storage: one boto3 client, every call in a thread, every object encrypted.

boto3 is blocking; each call runs through `asyncio.to_thread` so that the event loop keeps
serving other requests while S3 answers. The client is thread-safe and shared. Keys are
always made by the server (never from a file name); buckets are private.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

SSE = "AES256"
STORE_ERRORS = (BotoCoreError, ClientError)


class ObjectStoreSettings(Protocol):
    """The settings a service needs for its bucket (shared names `S3_*`).

    Read-only members: the services' settings are frozen models.
    """

    @property
    def s3_endpoint_url(self) -> str: ...
    @property
    def s3_access_key_id(self) -> str: ...
    @property
    def s3_secret_access_key(self) -> str: ...
    @property
    def s3_region(self) -> str: ...
    @property
    def s3_bucket(self) -> str: ...
    @property
    def s3_timeout_seconds(self) -> float: ...


class ObjectStore:
    """Private, server-side-encrypted objects in one bucket."""

    def __init__(
        self, settings: ObjectStoreSettings, *, unavailable: Callable[[], Exception]
    ) -> None:
        self.bucket = settings.s3_bucket
        # Raised instead of boto's errors on writes: the service's own problem, in its words.
        self.unavailable = unavailable
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
        """Store `data` under `key`, encrypted at rest; the service's `unavailable` on failure."""
        try:
            await asyncio.to_thread(
                self.client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ServerSideEncryption=SSE,
            )
        except STORE_ERRORS:
            raise self.unavailable() from None

    async def read(self, key: str) -> bytes:
        """The whole object (callers bound sizes); boto's errors propagate."""
        response = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
        body = response["Body"]
        try:
            return bytes(await asyncio.to_thread(body.read))
        finally:
            body.close()

    def close(self) -> None:
        """Release the client's connections."""
        self.client.close()
