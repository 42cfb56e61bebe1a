"""Fixtures of the documents tests: the real app on PostgreSQL and moto's S3 over HTTP, and
a real clamd for the antivirus (clamd.py).

Each test gets its own bucket and starts from empty tables, so that "no object left" and
counts mean what they say. The family members come from a small server standing in for the
families service's persons endpoint (that service is built elsewhere); it checks the
caller's token like a service would, so a family only ever sees its own members.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import boto3
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from services.documents.keys import STORAGE
from services.kit.identity import TokenVerifier
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.gateway.conftest import gateway, upstream  # noqa: F401 (the gateway's fixtures)

from .clamd import CLAMD, NOT_INSTALLED, RealClamd

TABLES = "submission_files, submissions, org_documents, document_types, outbox_messages"


class Members:
    """The persons the stand-in families endpoint knows, per family."""

    def __init__(self) -> None:
        self.by_family: dict[str, list[dict[str, str]]] = {}
        self.down = False

    def add(self, family_id: str, first_name: str, role: str = "child") -> str:
        """Add a person to a family; returns its id."""
        person_id = str(uuid.uuid4())
        self.by_family.setdefault(family_id, []).append(
            {"id": person_id, "first_name": first_name, "last_name": "TEST", "role": role}
        )
        return person_id


@pytest.fixture
async def members(aiohttp_server: Any, signer: TestSigner) -> AsyncIterator[tuple[str, Members]]:
    """A server answering `GET /api/families/families/{id}/persons` for the caller's family."""
    directory = Members()
    verifier = TokenVerifier(
        issuer=signer.issuer, audience=signer.audience, jwks_json=_json(signer.jwks)
    )

    async def persons(request: web.Request) -> web.Response:
        if directory.down:
            return web.json_response({"detail": "down"}, status=503)
        family_id = request.match_info["family_id"]
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        identity = await verifier.verify(token)
        if identity.role != "staff" and family_id not in identity.family_ids:
            return web.json_response({"detail": "No such family."}, status=404)
        return web.json_response({"items": directory.by_family.get(family_id, [])})

    app = web.Application()
    app.router.add_get("/api/families/families/{family_id}/persons", persons)
    server: TestServer = await aiohttp_server(app)
    yield str(server.make_url("")).rstrip("/"), directory


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


DocumentsClient = TestClient[web.Request, web.Application]


@pytest.fixture
def make_documents(
    service_client: Callable[..., Awaitable[DocumentsClient]],
    members: tuple[str, Members],
    s3_endpoint: str,
) -> Callable[..., Awaitable[DocumentsClient]]:
    """Build the documents app with its own bucket and empty tables (settings overridable)."""

    async def make(**settings: Any) -> DocumentsClient:
        values = {
            "gateway_url": members[0],
            "s3_endpoint_url": s3_endpoint,
            "s3_bucket": f"test-{uuid.uuid4().hex[:12]}",
            **settings,
        }
        client = await service_client("documents", **values)
        async with client.app[DATABASE].transaction() as session:
            await session.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        return client

    return make


@pytest.fixture
async def documents(make_documents: Callable[..., Awaitable[DocumentsClient]]) -> DocumentsClient:
    """The documents app with its own bucket and empty tables, no antivirus."""
    return await make_documents()


@pytest.fixture
def bucket(documents: DocumentsClient, s3_endpoint: str) -> Bucket:
    """Direct access to the test's bucket, to see what is really stored."""
    return Bucket(documents.app[STORAGE].bucket, s3_endpoint)


@pytest.fixture
def bucket_of(s3_endpoint: str) -> Callable[[DocumentsClient], Bucket]:
    """The bucket of an app built with `make_documents`."""
    return lambda client: Bucket(client.app[STORAGE].bucket, s3_endpoint)


class Bucket:
    """The objects of one bucket, read over HTTP with boto3."""

    def __init__(self, name: str, endpoint: str) -> None:
        self.name = name
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="portail-dev",
            aws_secret_access_key="portail-dev-secret",
            region_name="eu-west-3",
        )

    def keys(self) -> list[str]:
        """Every key in the bucket."""
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", ()))

    def head(self, key: str) -> dict[str, Any]:
        """The object's metadata."""
        return dict(self.client.head_object(Bucket=self.name, Key=key))

    def get(self, key: str) -> bytes:
        """The object's bytes."""
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())

    def put(self, key: str, data: bytes) -> None:
        """Store an object directly (to fake a crash's leftover)."""
        self.client.put_object(Bucket=self.name, Key=key, Body=data)


@pytest.fixture(scope="session")
def clamd_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealClamd]:
    """One real clamd for the run, with the tests' own EICAR signatures (clamd.py)."""
    if not CLAMD.exists():
        pytest.skip(NOT_INSTALLED)
    daemon = RealClamd(tmp_path_factory.mktemp("clamd"))
    daemon.start()
    yield daemon
    daemon.stop()


@pytest.fixture
def clamd(clamd_daemon: RealClamd) -> RealClamd:
    """The run's real clamd, running (a test before may have stopped it), its verdicts
    counted from this test on."""
    daemon = clamd_daemon
    daemon.start()
    daemon.forget_verdicts()
    return daemon
