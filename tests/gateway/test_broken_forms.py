"""A form body the gateway cannot read (multipart without its boundary, bytes that are not
UTF-8) is the visitor's mistake: a 400 page in French, never a 500."""

from __future__ import annotations

import pytest

from .conftest import same_origin

BROKEN = [
    ("multipart/form-data", b"no boundary declared"),
    ("multipart/form-data; boundary=xyz", b"garbage without the boundary"),
    ("application/x-www-form-urlencoded", b"email=\xff\xfe&password=x"),
]


@pytest.mark.parametrize(("content_type", "body"), BROKEN)
async def test_a_form_the_gateway_cannot_read_is_a_400_page(
    gateway, content_type: str, body: bytes
) -> None:
    client = await gateway()

    response = await client.post(
        "/connexion",
        data=body,
        headers={**same_origin(client), "Content-Type": content_type},
    )

    assert response.status == 400, await response.text()
    assert response.content_type == "text/html"
    assert "Demande incorrecte" in await response.text()
