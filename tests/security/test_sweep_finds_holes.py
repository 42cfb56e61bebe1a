"""The sweep itself: on a small app with the holes it is meant to find, it finds each of them.

Without this, a sweep that called nothing (or accepted everything) would pass on the real
services just the same.
"""

from __future__ import annotations

import uuid
from typing import Any

import jwt
import pytest
from aiohttp import web

from services.kit.testing import TestSigner

from .sweep import Target, sweep

FAMILY_A, FAMILY_B = str(uuid.uuid4()), str(uuid.uuid4())
PERSON_B = str(uuid.uuid4())
BEARER = [{"bearer": []}]


def _get(summary: str, *, security: list[Any] | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "security": BEARER if security is None else security}}


def leaky_app(signer: TestSigner, paths: dict[str, Any]) -> web.Application:
    """A service whose family route checks the family, and whose person route forgets to."""
    persons = {FAMILY_B: {PERSON_B: {"first_name": "Léa"}}}

    def families_of(request: web.Request) -> list[str]:
        header = request.headers.get("Authorization", "")
        if not header:
            raise web.HTTPUnauthorized()
        claims = jwt.decode(
            header.removeprefix("Bearer "),
            signer.private_key.public_key(),
            algorithms=["EdDSA"],
            audience=signer.audience,
        )
        return [f["id"] for f in claims["fam"]] if claims["role"] == "family" else ["*"]

    def owned(request: web.Request, family_id: str) -> None:
        allowed = families_of(request)
        if "*" not in allowed and family_id not in allowed:
            raise web.HTTPNotFound()

    async def family(request: web.Request) -> web.Response:
        owned(request, request.match_info["family_id"])
        return web.json_response({"id": request.match_info["family_id"]})

    async def person(request: web.Request) -> web.Response:
        # The hole: the family is the caller's, but the person is looked up anywhere.
        owned(request, request.match_info["family_id"])
        for members in persons.values():
            if request.match_info["person_id"] in members:
                return web.json_response(members[request.match_info["person_id"]])
        raise web.HTTPNotFound()

    async def export(request: web.Request) -> web.Response:
        owned(request, request.match_info["family_id"])
        return web.json_response(persons.get(request.match_info["family_id"], {}))

    async def document(request: web.Request) -> web.Response:
        return web.json_response({"openapi": "3.1.0", "paths": paths})

    async def health(request: web.Request) -> web.Response:
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/families/{family_id}", family)
    app.router.add_get("/families/{family_id}/persons/{person_id}", person)
    app.router.add_get("/families/{family_id}/export", export)
    app.router.add_get("/openapi.json", document)
    app.router.add_get("/health", health)
    return app


async def _target(aiohttp_client: Any, signer: TestSigner, paths: dict[str, Any]) -> Target:
    client = await aiohttp_client(leaky_app(signer, paths))
    return Target(
        name="leaky",
        client=client,
        staff=signer.headers(role="staff"),
        parent_a=signer.headers(families=[FAMILY_A]),
        parent_b=signer.headers(families=[FAMILY_B]),
        family_a=FAMILY_A,
        family_b=FAMILY_B,
        ids_b={"family_id": FAMILY_B, "person_id": PERSON_B},
        allowed={},
    )


PATHS = {
    "/families/{family_id}": _get("A family"),
    "/families/{family_id}/persons/{person_id}": _get("A person of the family"),
    "/families/{family_id}/export": _get("The family's data"),
}


async def test_a_person_read_through_the_callers_own_family_is_reported(
    aiohttp_client: Any, signer: TestSigner
) -> None:
    target = await _target(aiohttp_client, signer, PATHS)

    with pytest.raises(AssertionError) as found:
        await sweep(target)

    report = str(found.value)
    assert (
        "GET /families/{family_id}/persons/{person_id} as parent A, own family, B's other ids:"
        " 200 (expected 404)"
    ) in report
    assert "GET /families/{family_id} as" not in report  # the sound route is not reported


async def test_a_route_without_a_rule_fails_the_sweep_until_listed_with_a_reason(
    aiohttp_client: Any, signer: TestSigner
) -> None:
    paths = {"/families/{family_id}": _get("A family"), "/health": _get("Alive", security=[])}
    paths["/families/{family_id}/export"] = PATHS["/families/{family_id}/export"]
    target = await _target(aiohttp_client, signer, paths)

    with pytest.raises(AssertionError, match=r"\['GET /health'\]; allow-list each"):
        await sweep(target)

    target.allowed = {"GET /health": "liveness, no data"}
    report = await sweep(target)
    assert report.skipped == {"GET /health": "liveness, no data"}
    assert report.swept["GET /families/{family_id}"][:2] == [
        "anonymous:401",
        "parent A with B's ids:404",
    ]
