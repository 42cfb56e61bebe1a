"""JSON bodies are read into schemas with precise errors, and never carry a NUL to the database."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel

from services.kit.bodies import read_json
from services.kit.problems import problem_middleware


class Named(BaseModel):
    name: str


async def _client(aiohttp_client):  # type: ignore[no-untyped-def]
    async def handler(request: web.Request) -> web.Response:
        return web.json_response((await read_json(request, Named)).model_dump())

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_post("/named", handler)
    return await aiohttp_client(app)


async def test_a_nul_escape_is_refused_before_validation(aiohttp_client) -> None:
    client = await _client(aiohttp_client)
    response = await client.post(
        "/named", data=b'{"name": "TE\\u0000ST"}', headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert "NUL" in (await response.json())["detail"]


async def test_another_content_type_is_a_415(aiohttp_client) -> None:
    client = await _client(aiohttp_client)
    response = await client.post("/named", data=b"name=x", headers={"Content-Type": "text/plain"})
    assert response.status == 415


async def test_a_valid_body_is_read(aiohttp_client) -> None:
    client = await _client(aiohttp_client)
    response = await client.post("/named", json={"name": "TEST"})
    assert await response.json() == {"name": "TEST"}


async def test_a_deeply_nested_body_is_a_400_not_a_500(aiohttp_client) -> None:
    client = await _client(aiohttp_client)
    deep = b"[" * 30_000 + b"]" * 30_000  # 60 KB: under the gateway's 64 KiB limit
    response = await client.post("/named", data=deep, headers={"Content-Type": "application/json"})
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert "nests too deeply" in (await response.json())["detail"]


async def test_an_integer_too_long_to_convert_is_a_400_not_a_500(aiohttp_client) -> None:
    # Python refuses int() of more than 4,300 digits with a ValueError that json.loads lets
    # through: 5 KB reached every JSON endpoint, unauthenticated POST /sessions included.
    client = await _client(aiohttp_client)
    long_number = b'{"name": ' + b"9" * 5_000 + b"}"
    response = await client.post(
        "/named", data=long_number, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert "too long" in (await response.json())["detail"]
