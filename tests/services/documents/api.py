"""Small helpers to drive the documents API the way the gateway and pages do."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner

Client = TestClient[web.Request, web.Application]


def multipart(files: list[tuple[str, bytes]], boundary: str = "") -> tuple[bytes, str]:
    """A multipart body with one `file` part per (name, bytes), and its content type.

    Built by hand so that hostile names (null bytes, separators) reach the server as sent:
    the exact name goes in `filename*` (RFC 7578 / 8187), which the server prefers.
    """
    boundary = boundary or uuid.uuid4().hex
    chunks = []
    for name, data in files:
        chunks.append(
            (
                f"--{boundary}\r\n"
                f'Content-Disposition: form-data; name="file"; filename="upload"; '
                f"filename*=UTF-8''{quote(name, safe='')}\r\n"
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


async def upload(
    client: Client,
    headers: dict[str, str],
    family_id: str,
    type_id: str,
    files: list[tuple[str, bytes]],
    person_id: str | None = None,
) -> Any:
    """POST the files of a document; returns the response."""
    body, content_type = multipart(files)
    url = f"/families/{family_id}/documents/{type_id}/files"
    params = {"person_id": person_id} if person_id else None
    return await client.post(
        url, data=body, params=params, headers={**headers, "Content-Type": content_type}
    )


async def create_type(client: Client, signer: TestSigner, **fields: Any) -> dict[str, Any]:
    """Create a document type as staff; returns it."""
    body = {"name": f"Document {uuid.uuid4().hex[:8]}", **fields}
    response = await client.post("/document-types", json=body, headers=staff(signer))
    assert response.status == 201, await response.text()
    return dict(await response.json())


def staff(signer: TestSigner) -> dict[str, str]:
    """Headers of a staff member."""
    return signer.headers(role="staff", subject="agent-1")


def parent(signer: TestSigner, family_id: str) -> dict[str, str]:
    """Headers of a parent of `family_id`."""
    return signer.headers(families=[family_id], subject=f"parent-{family_id[:8]}")


def new_family() -> str:
    """A fresh family id."""
    return str(uuid.uuid4())


@dataclass
class NewDocument:
    """A document of a new type for a new family: where its parent sends files."""

    client: Client
    signer: TestSigner
    family_id: str
    type_id: str

    @property
    def url(self) -> str:
        """Where the files of the document are posted."""
        return f"/families/{self.family_id}/documents/{self.type_id}/files"

    @property
    def headers(self) -> dict[str, str]:
        """Headers of the family's parent."""
        return parent(self.signer, self.family_id)

    async def send(self, files: list[tuple[str, bytes]]) -> Any:
        """The parent uploads `files` (one multipart part each); returns the response."""
        return await upload(self.client, self.headers, self.family_id, self.type_id, files)

    async def send_body(self, body: Any, content_type: str) -> Any:
        """The parent posts `body` as it is (bytes or a stream) as `content_type`."""
        return await self.client.post(
            self.url, data=body, headers={**self.headers, "Content-Type": content_type}
        )


async def new_document(client: Client, signer: TestSigner) -> NewDocument:
    """A new family and a document type staff has just created for it to send files to."""
    kind = await create_type(client, signer)
    return NewDocument(client, signer, new_family(), kind["id"])
