"""Reading bodies and queries with per-field errors in French (the pages show them as they are)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from services.kit.problems import BadRequest, UnsupportedMediaType, ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)

_MESSAGES = {
    "missing": "Ce champ est obligatoire.",
    "extra_forbidden": "Champ inconnu.",
    "string_type": "Texte attendu.",
    "string_too_short": "Ce champ est trop court.",
    "int_type": "Nombre entier attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "bool_type": "Oui ou non attendu (true ou false).",
    "bool_parsing": "Oui ou non attendu (true ou false).",
    "date_type": "Date attendue au format AAAA-MM-JJ.",
    "date_parsing": "Date invalide : format AAAA-MM-JJ attendu.",
    "date_from_datetime_parsing": "Date invalide : format AAAA-MM-JJ attendu.",
    "date_from_datetime_inexact": "Date invalide : format AAAA-MM-JJ attendu.",
    "datetime_type": "Date et heure attendues (ISO 8601).",
    "datetime_parsing": "Date et heure invalides (ISO 8601 attendu).",
    "datetime_from_date_parsing": "Date et heure invalides (ISO 8601 attendu).",
    "dict_type": "Objet JSON attendu.",
    "list_type": "Liste attendue.",
    "model_type": "Objet JSON attendu.",
    "model_attributes_type": "Objet JSON attendu.",
}


def french_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in French."""
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("string_type", "int_type", "bool_type", "date_type") and error.get("input") is None:
        return "Ce champ ne peut pas être vide."
    if kind == "string_too_long":
        return f"Trop long : {context.get('max_length')} caractères au plus."
    if kind in ("too_long",):
        return f"Trop d'éléments : {context.get('max_length')} au plus."
    if kind in ("too_short",):
        return "Au moins un élément est attendu."
    if kind == "literal_error":
        return f"Valeur non autorisée ; valeurs possibles : {context.get('expected')}."
    if kind in ("greater_than_equal", "greater_than"):
        return f"Doit être supérieur ou égal à {context.get('ge', context.get('gt'))}."
    if kind in ("less_than_equal", "less_than"):
        return f"Doit être inférieur ou égal à {context.get('le', context.get('lt'))}."
    if kind in ("value_error", "assertion_error"):
        return str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return _MESSAGES.get(kind, str(error["msg"]))


def field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    """Pydantic's errors as `{field, message}` pairs, in French, never echoing the input."""
    errors = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"])
        errors.append({"field": prefix + field if field else (prefix.rstrip(".") or "body"),
                       "message": french_message(error)})  # fmt: skip
    return errors


def parse(model: type[ModelT], document: Any, *, prefix: str = "") -> ModelT:
    """`document` as `model`, or 422 with French field errors."""
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise ValidationFailed(
            "Certains champs sont manquants ou invalides.", errors=field_errors(exc, prefix)
        ) from None


async def read_body(request: web.Request, model: type[ModelT]) -> ModelT:
    """The JSON body as `model`: 415 for another content type, 400 malformed, 422 invalid."""
    if request.content_type != "application/json":
        raise UnsupportedMediaType("Send the body as application/json.")
    raw = await request.read()
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
    return parse(model, document)


def read_params(request: web.Request, model: type[ModelT]) -> ModelT:
    """The query string as `model`, 422 with field errors when invalid."""
    return parse(model, dict(request.query))
