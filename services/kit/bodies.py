"""Reading request bodies and query strings into pydantic models, with precise errors."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .guards import NUL_ESCAPE
from .problems import BadRequest, UnsupportedMediaType, ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)
MAX_PAGE_SIZE = 100


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as `{field, message}` pairs, without echoing the input back."""
    return [
        {"field": ".".join(str(p) for p in error["loc"]) or "body", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]


async def read_json(request: web.Request, model: type[ModelT]) -> ModelT:
    """The JSON body as `model`: 415 for another content type, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = await request.read()
    if NUL_ESCAPE.search(raw):
        raise BadRequest("The body contains a NUL character (\\u0000), which no field accepts.")
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.") from None
    except RecursionError:
        # A few KB of `[[[[…` nest deeper than the parser's recursion limit: the caller's
        # mistake (or an attack), not ours.
        raise BadRequest("The body's JSON nests too deeply.") from None
    except ValueError:
        # An integer of more than 4,300 digits: Python refuses to convert it (CVE-2020-10735).
        raise BadRequest("The body's JSON holds a number too long to read.") from None
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(
            "Some fields are missing or invalid.", errors=field_errors(exc)
        ) from None


def read_query(request: web.Request, model: type[ModelT]) -> ModelT:
    """The query string as `model`, 422 with field errors when invalid."""
    try:
        return model.model_validate(dict(request.query))
    except ValidationError as exc:
        raise ValidationFailed("Invalid query parameters.", errors=field_errors(exc)) from None


def json_response(model: BaseModel | list[BaseModel], status: int = 200) -> web.Response:
    """Serialise exactly the schema's fields (never more) as JSON."""
    if isinstance(model, list):
        body = "[" + ",".join(m.model_dump_json() for m in model) + "]"
    else:
        body = model.model_dump_json()
    return web.Response(text=body, status=status, content_type="application/json")
