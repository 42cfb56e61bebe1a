"""API clients of municipal systems and the OAuth 2 token endpoint."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from services.kit.bodies import field_errors, json_response, read_json
from services.kit.openapi import operation
from services.kit.problems import BadRequest, UnsupportedMediaType, ValidationFailed

from . import clients
from .context import AUTH
from .errors import InvalidClient
from .requests import BASIC_CHALLENGE, BASIC_CREDENTIALS, require_administrator
from .schemas import (
    AccessToken,
    ApiClientCreate,
    ApiClientCreated,
    ApiClientList,
    ApiClientRead,
    TokenRequest,
)

routes = web.RouteTableDef()


@routes.post("/api-clients")
@operation(
    "Create an API client; its secret is shown this once (administrators)",
    tags=("api-clients",),
    request=ApiClientCreate,
    response=ApiClientCreated,
    status=201,
)
async def create_api_client(request: web.Request) -> web.Response:
    """POST /api-clients."""
    identity = require_administrator(request)
    data = await read_json(request, ApiClientCreate)
    client, secret = await clients.create(
        request.app[AUTH], name=data.name, scopes=data.scopes, actor=identity.subject
    )
    body = ApiClientCreated(
        **ApiClientRead.model_validate(client).model_dump(), client_secret=secret
    )
    return json_response(body, status=201)


@routes.get("/api-clients")
@operation("List API clients (administrators)", tags=("api-clients",), response=ApiClientList)
async def list_api_clients(request: web.Request) -> web.Response:
    """GET /api-clients."""
    require_administrator(request)
    rows = await clients.list_all(request.app[AUTH])
    return json_response(ApiClientList([ApiClientRead.model_validate(c) for c in rows]))


@routes.delete("/api-clients/{client_id}")
@operation(
    "Revoke an API client (administrators)", tags=("api-clients",), status=204, errors=(404,)
)
async def revoke_api_client(request: web.Request) -> web.Response:
    """DELETE /api-clients/{client_id}."""
    identity = require_administrator(request)
    await clients.revoke(
        request.app[AUTH], client_id=request.match_info["client_id"], actor=identity.subject
    )
    return web.Response(status=204)


@routes.post("/oauth/token")
@operation(
    "OAuth 2 client credentials: a short-lived token for a municipal system",
    tags=("api-clients",),
    response=AccessToken,
    errors=(400, 401, 415, 422),
    auth=False,
)
async def oauth_token(request: web.Request) -> web.Response:
    """POST /oauth/token (client_secret_basic or client_secret_post; form or JSON)."""
    data = await _token_request(request)
    if data.grant_type != "client_credentials":
        raise BadRequest(
            "Only the client_credentials grant is supported.", error="unsupported_grant_type"
        )
    basic = request.get(BASIC_CREDENTIALS)
    if basic is not None:
        client_id, client_secret = basic
    elif data.client_id and data.client_secret:
        client_id, client_secret = data.client_id, data.client_secret
    else:
        raise InvalidClient("Client credentials are missing.", error="invalid_client")
    try:
        token, scopes = await clients.exchange(
            request.app[AUTH], client_id=client_id, client_secret=client_secret, scope=data.scope
        )
    except InvalidClient as refused:
        if basic is not None:
            # RFC 6749 §5.2: a client that authenticated with Basic gets that challenge back.
            refused.headers["WWW-Authenticate"] = BASIC_CHALLENGE
        raise
    body = AccessToken(
        access_token=token,
        token_type="Bearer",  # noqa: S106 - the OAuth token type
        expires_in=request.app[AUTH].issuer.ttl,
        scope=" ".join(scopes),
    )
    return web.Response(
        text=body.model_dump_json(),
        content_type="application/json",
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


async def _token_request(request: web.Request) -> TokenRequest:
    if request.content_type == "application/json":
        return await read_json(request, TokenRequest)
    if request.content_type != "application/x-www-form-urlencoded":
        raise UnsupportedMediaType("Send the form as application/x-www-form-urlencoded or JSON.")
    try:
        form = await request.post()
    except ValueError:  # bytes that are not UTF-8
        raise BadRequest("The form is not valid UTF-8.", error="invalid_request") from None
    try:
        return TokenRequest.model_validate({k: str(v) for k, v in form.items()})
    except ValidationError as exc:
        raise ValidationFailed(
            "Some fields are missing or invalid.", errors=field_errors(exc)
        ) from None
