"""`GET /api/`: where a municipal system starts — each service's API and its OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from .config import SERVICE_NAMES
from .keys import GATEWAY_SETTINGS

OAUTH_ENDPOINT = "/api/auth/oauth/token"


async def api_index(request: web.Request) -> web.Response:
    """The services behind `/api/<service>/`, their documents and how to get a token."""
    base = request.app[GATEWAY_SETTINGS].public_base_url.rstrip("/")
    services = {
        name: {"base": f"{base}/api/{name}/", "openapi": f"{base}/api/{name}/openapi.json"}
        for name in SERVICE_NAMES
    }
    return web.json_response(
        {
            "services": services,
            "token": {
                "url": f"{base}{OAUTH_ENDPOINT}",
                "grant_type": "client_credentials",
                "authentication": "HTTP Basic with the API client's id and secret",
            },
        }
    )
