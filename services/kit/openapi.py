"""OpenAPI 3.1 documents built from the routes themselves and their pydantic schemas."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

F = TypeVar("F", bound=Callable[..., Any])
# A query parameter: its JSON type ("string"), or its whole schema when it has bounds.
# `description` and `deprecated` in that schema go to the parameter itself.
QueryParameter = str | dict[str, Any]
_OPERATION_ATTR = "__openapi_operation__"
_PARAMETER_FIELDS = ("description", "deprecated")

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


@dataclass(frozen=True)
class ResponseHeader:
    """A header the success answer may carry (`required`: every success answer does)."""

    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = False


def idempotency_key(key: re.Pattern[str]) -> dict[str, Any]:
    """The IETF draft's `Idempotency-Key` request header, as a service that honours it reads
    it (`key`, its own check of a key)."""
    return {
        "type": "string",
        "pattern": key.pattern,
        "description": "Your own key for this operation, sent again by its retries: a retry "
        "gets the first answer again (with `Idempotent-Replayed: true`) instead of doing the "
        "operation twice",
    }


# What marks such a retry's answer.
IDEMPOTENT_REPLAYED = ResponseHeader(
    "`true` when this answer is the one first given to the request's Idempotency-Key, sent "
    "again: nothing was done this time",
    {"type": "string", "const": "true"},
)


@dataclass(frozen=True)
class Operation:
    """What the document says about one handler."""

    summary: str
    tags: tuple[str, ...] = ()
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    response_status: int = 200
    errors: tuple[int, ...] = ()
    auth: bool = True
    query: dict[str, QueryParameter] = field(default_factory=dict)
    many: bool = False
    files: tuple[str, ...] = ()
    headers: dict[str, QueryParameter] = field(default_factory=dict)
    response_headers: dict[str, ResponseHeader] = field(default_factory=dict)


def operation(
    summary: str,
    *,
    tags: tuple[str, ...] = (),
    request: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: tuple[int, ...] = (),
    auth: bool = True,
    query: Mapping[str, QueryParameter] | None = None,
    many: bool = False,
    files: tuple[str, ...] = (),
    headers: Mapping[str, QueryParameter] | None = None,
    response_headers: Mapping[str, ResponseHeader] | None = None,
) -> Callable[[F], F]:
    """Describe a handler for the service's OpenAPI document.

    `many`: the success body is a JSON array of `response`. `files`: the request is a
    multipart/form-data upload with these file fields (besides any JSON `request`). `query`:
    each parameter's JSON type, or its whole schema when it has bounds (`{"type": "integer",
    "maximum": 500}`), so that callers and the contract tests know them. `headers`: optional
    request headers the handler reads (`Idempotency-Key`), described the same way.
    `response_headers`: headers the success answer may carry (`Idempotent-Replayed`).
    """

    def decorate(handler: F) -> F:
        setattr(
            handler,
            _OPERATION_ATTR,
            Operation(
                summary,
                tags,
                request,
                response,
                status,
                errors,
                auth,
                dict(query or {}),
                many,
                files,
                dict(headers or {}),
                dict(response_headers or {}),
            ),
        )
        return handler

    return decorate


def build_document(app: web.Application, *, title: str, version: str) -> dict[str, Any]:
    """The OpenAPI document of every described route of `app`."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    for route in app.router.routes():
        described: Operation | None = getattr(route.handler, _OPERATION_ATTR, None)
        resource = route.resource
        if described is None or resource is None or route.method == "HEAD":
            continue
        path = resource.canonical
        paths.setdefault(path, {})[route.method.lower()] = _operation_object(
            described, path, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


class _ServedJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema, saying what the services really write."""

    def time_schema(self, schema: core_schema.TimeSchema) -> JsonSchemaValue:
        # A time of day leaves as « 08:30:00 », without an offset: RFC 3339's partial-time.
        # JSON Schema's `time` format is full-time (offset required), which no answer holds.
        return {"type": "string", "format": "partial-time"}


def _parameter(name: str, where: str, parameter: QueryParameter) -> dict[str, Any]:
    schema = {"type": parameter} if isinstance(parameter, str) else dict(parameter)
    described = {key: schema.pop(key) for key in _PARAMETER_FIELDS if key in schema}
    return {"name": name, "in": where, "required": False, **described, "schema": schema}


def _header_object(header: ResponseHeader) -> dict[str, Any]:
    return {
        "description": header.description,
        "required": header.required,
        "schema": dict(header.schema),
    }


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    document = model.model_json_schema(
        ref_template="#/components/schemas/{model}", schema_generator=_ServedJsonSchema
    )
    for name, definition in document.pop("$defs", {}).items():
        schemas[name] = definition
    schemas[model.__name__] = document
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation_object(described: Operation, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    responses: dict[str, Any] = {}
    success: dict[str, Any] = {"description": "Success"}
    if described.response is not None:
        body: dict[str, Any] = _schema_ref(described.response, schemas)
        if described.many:
            body = {"type": "array", "items": body}
        success["content"] = {"application/json": {"schema": body}}
    if described.response_headers:
        success["headers"] = {
            name: _header_object(header) for name, header in described.response_headers.items()
        }
    responses[str(described.response_status)] = success
    # 400: the kit's guard refuses control characters anywhere in the address, before any
    # handler; 422: a declared query is validated like a body.
    errors = set(described.errors) | {400} | ({401, 403} if described.auth else set())
    if described.query:
        errors.add(422)
    if described.request is not None or described.files:
        errors |= {413, 415, 422}
    for status in sorted(errors):
        responses[str(status)] = {"description": "Problem", "content": problem}
    parameters = (
        [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_parameters(path)
        ]
        + [_parameter(name, "query", kind) for name, kind in described.query.items()]
        + [_parameter(name, "header", kind) for name, kind in described.headers.items()]
    )
    result: dict[str, Any] = {
        "summary": described.summary,
        "tags": list(described.tags),
        "parameters": parameters,
        "responses": responses,
    }
    if described.files:
        result["requestBody"] = {
            "required": True,
            "content": {"multipart/form-data": {"schema": _multipart_schema(described.files)}},
        }
    elif described.request is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _schema_ref(described.request, schemas)}},
        }
    if described.auth:
        result["security"] = [{"bearer": []}]
    return result


def _multipart_schema(files: tuple[str, ...]) -> dict[str, Any]:
    binary = {"type": "string", "format": "binary"}
    return {
        "type": "object",
        "required": [files[0]],
        "properties": {name: binary for name in files},
    }


def _path_parameters(path: str) -> list[str]:
    # A parameter may share its segment with text (`/calendar/{token}.ics`).
    return re.findall(r"\{([^{}:]+)(?::[^{}]*)?\}", path)
