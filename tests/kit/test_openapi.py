"""The kit's OpenAPI generation describes what a route reads and what its answer carries."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from services.kit.openapi import (
    IDEMPOTENT_REPLAYED,
    ResponseHeader,
    build_document,
    idempotency_key,
    operation,
)

KEY = re.compile(r"^[a-z]{1,10}$")


def _document(handler: Any) -> dict[str, Any]:
    app = web.Application()
    app.router.add_post("/things", handler)
    return build_document(app, title="test", version="1")


def test_a_route_describes_the_headers_its_success_answer_may_carry() -> None:
    @operation(
        "Make a thing",
        status=201,
        headers={"Idempotency-Key": idempotency_key(KEY)},
        response_headers={
            "Idempotent-Replayed": IDEMPOTENT_REPLAYED,
            "Location": ResponseHeader("Where the thing is", required=True),
        },
    )
    async def make(request: web.Request) -> web.Response:
        return web.json_response({}, status=201)

    post = _document(make)["paths"]["/things"]["post"]

    assert post["responses"]["201"]["headers"] == {
        "Idempotent-Replayed": {
            "description": IDEMPOTENT_REPLAYED.description,
            "required": False,
            "schema": {"type": "string", "const": "true"},
        },
        "Location": {
            "description": "Where the thing is",
            "required": True,
            "schema": {"type": "string"},
        },
    }
    # Problems carry none of them.
    assert "headers" not in post["responses"]["400"]
    (key,) = post["parameters"]
    assert key["name"] == "Idempotency-Key" and key["in"] == "header"
    assert key["schema"] == {"type": "string", "pattern": KEY.pattern}
    assert "Idempotent-Replayed" in key["description"]


def test_a_parameter_s_description_and_deprecation_are_the_parameter_s() -> None:
    @operation(
        "List things",
        query={
            "cursor": {"type": "string", "description": "from next_cursor"},
            "offset": {"type": "integer", "minimum": 0, "deprecated": True},
            "q": "string",
        },
    )
    async def things(request: web.Request) -> web.Response:
        return web.json_response([])

    cursor, offset, q = _document(things)["paths"]["/things"]["post"]["parameters"]

    assert cursor == {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "from next_cursor",
        "schema": {"type": "string"},
    }
    assert offset["deprecated"] is True and offset["schema"] == {"type": "integer", "minimum": 0}
    assert q == {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}


def test_a_route_without_response_headers_describes_none() -> None:
    @operation("Make a thing")
    async def make(request: web.Request) -> web.Response:
        return web.json_response({})

    assert "headers" not in _document(make)["paths"]["/things"]["post"]["responses"]["200"]
