"""The bucket of invoice PDFs: boto3 in a thread, private, every object encrypted (AES256)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .config import BillingSettings
from .errors import StorageUnavailable

SSE = "AES256"
ERRORS = (BotoCoreError, ClientError)
UNAVAILABLE = "Le stockage des factures est momentanément indisponible. Réessayez plus tard."


def new_key() -> str:
    """A key made by the server alone: nothing of the family or the number in it."""
    return f"invoices/{uuid.uuid4().hex}.pdf"


class Storage:
    """Private, server-side-encrypted PDFs in billing's bucket."""

    def __init__(self, settings: BillingSettings) -> None:
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
        """Create the bucket when missing: private, public access blocked, encrypted."""
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

    async def put_pdf(self, key: str, data: bytes) -> None:
        """Store a PDF under `key`, encrypted at rest."""
        try:
            await asyncio.to_thread(
                self.client.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType="application/pdf",
                ServerSideEncryption=SSE,
            )
        except ERRORS:
            raise StorageUnavailable(UNAVAILABLE) from None

    async def get(self, key: str) -> bytes:
        """The object's bytes."""
        try:
            obj = await asyncio.to_thread(self.client.get_object, Bucket=self.bucket, Key=key)
            return bytes(await asyncio.to_thread(obj["Body"].read))
        except ERRORS:
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
        except ERRORS:
            pass  # readiness says so until S3 answers
    app[STORAGE] = storage
    app[READINESS].add("s3", storage.ping)
    yield
