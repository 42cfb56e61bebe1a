"""Services' messages on English pages: the catalog covers what a family can meet (every
refusal code of a reservation change, the problem types of registrations, uploads and change
requests, the services' fixed sentences), and pages pick the right English text.

The pages themselves are tested through the real services in
`tests/services/bookings/test_english_messages.py` and
`tests/services/documents/test_english_refusals.py`."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from gateway.i18n import load_catalogs
from gateway.keys import TRANSLATOR
from gateway.service_messages import change_result_label, problem_text
from services.kit.typography import french_spacing

SERVICES = Path(__file__).resolve().parents[2] / "services"
ENGLISH = load_catalogs()["en"]._catalog  # the merged catalog, read only
# Problem types met on staff pages only (the catalogue, the review queue) or shown as a 404.
STAFF_OR_404 = {
    "activity-name-taken", "catalogue-conflict", "unit-not-found", "closure-not-found",
    "not-reviewable", "duplicate-document-type", "family-not-found", "change-request-not-found",
}  # fmt: skip


def declared_slugs(*services: str) -> set[str]:
    """The problem types these services declare (`slug = "…"` in their modules)."""
    found: set[str] = set()
    for service in services:
        for path in (SERVICES / service).glob("*.py"):
            found |= set(re.findall(r'\bslug = "([a-z-]+)"', path.read_text(encoding="utf-8")))
            found |= set(re.findall(r'status, slug, title = \d+, "([a-z-]+)"', path.read_text()))
    return found


def refusal_codes() -> set[str]:
    """Every code the bookings service refuses a reservation change with."""
    codes: set[str] = set()
    for path in (SERVICES / "bookings").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'_refused\(\s*[\w.]+,\s*"([a-z-]+)"', text))
    return codes


def fixed_sentences() -> set[str]:
    """The French sentences without values that uploads and change requests answer with."""
    sentences: set[object] = set()
    sources = [
        *(
            SERVICES / "documents" / name
            for name in ("inspection.py", "uploads.py", "budget.py", "workflow.py")
        ),
        *(SERVICES / "families" / name for name in ("change_requests.py", "formats.py")),
        SERVICES / "families" / "policy.py",
        SERVICES / "families" / "validation.py",
    ]
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in (
                    "FileRefused",
                    "ValueError",
                    "UploadsBusy",
                    "ValidationFailed",
                    "ServiceUnavailable",
                ):
                    sentences |= {a.value for a in node.args if isinstance(a, ast.Constant)}
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        is_message = isinstance(key, ast.Constant) and key.value == "message"
                        if is_message or path.name == "validation.py":
                            sentences.add(value.value)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                if names == ["message"]:
                    sentences.add(node.value.value)
    return {s for s in sentences if isinstance(s, str) and re.match(r"[A-ZÀ-Ý]", s)}


def test_every_reservation_refusal_code_has_an_english_sentence() -> None:
    codes = refusal_codes()
    assert len(codes) >= 10, codes  # the search finds them
    missing = {code for code in codes if f"refusal:{code}" not in ENGLISH}
    assert not missing


def test_refusal_sentences_use_only_the_values_a_result_carries() -> None:
    for key, sentence in ENGLISH.items():
        if key.startswith("refusal:"):
            names = {name for _, name, _, _ in string.Formatter().parse(sentence) if name}
            assert names <= {"day", "unit", "activity"}, key


def test_the_problem_types_families_meet_have_english_sentences() -> None:
    met = declared_slugs("bookings", "documents", "families") - STAFF_OR_404
    missing = {slug for slug in met if f"problem:{slug}" not in ENGLISH}
    assert not missing


def test_every_problem_entry_names_a_declared_type() -> None:
    declared = declared_slugs("bookings", "documents", "families", "kit")
    entries = {key.removeprefix("problem:") for key in ENGLISH if key.startswith("problem:")}
    assert entries <= declared, entries - declared


def test_the_fixed_sentences_of_uploads_and_change_requests_are_in_english() -> None:
    sentences = fixed_sentences()
    assert "Le fichier n'a pas de nom." in sentences and "Champ inconnu." in sentences
    missing = sorted(s for s in sentences if s not in ENGLISH)
    assert not missing


def english_request() -> web.Request:
    request = make_mocked_request("GET", "/reservations")
    request[TRANSLATOR] = load_catalogs()["en"]
    return request


def french_request() -> web.Request:
    request = make_mocked_request("GET", "/reservations")
    request[TRANSLATOR] = load_catalogs()["fr"]
    return request


FULL = {
    "ok": False, "code": "full", "day": "2027-04-21", "unit_label": "Journée",
    "activity_name": "ALSH", "label": "refusé : complet : plus de place le mercredi 21/04/2027",
}  # fmt: skip


@pytest.mark.parametrize(
    ("result", "english"),
    [
        (FULL, "refused: full, no place left on Wednesday 21 April 2027 (Journée)"),
        ({**FULL, "code": "closed"}, "refused: “ALSH” is closed on Wednesday 21 April 2027"),
        ({"ok": True, "label": "en liste d'attente"}, "on the waiting list"),
        ({**FULL, "code": "a-code-of-tomorrow"}, FULL["label"]),  # unknown: the French stays
    ],
)
def test_a_change_result_reads_in_the_pages_language(result: dict[str, Any], english: str) -> None:
    assert change_result_label(english_request(), result) == english
    assert change_result_label(french_request(), result) == french_spacing(result["label"])


def test_a_problem_reads_by_sentence_then_by_type_then_as_the_service_wrote_it() -> None:
    base = "https://portail-famille.example/problems/"
    fixed = {"type": base + "activity-not-found", "status": 404, "detail": "Activité inconnue."}
    named = {"type": base + "group-full", "status": 409, "detail": "Le groupe « A » est complet."}
    unknown = {"type": base + "something-new", "status": 409, "detail": "Une phrase neuve."}
    failed = {"type": base + "internal-error", "status": 500, "detail": "Traceback…"}

    request = english_request()
    assert problem_text(request, fixed, "x") == "Unknown activity."
    assert problem_text(request, named, "x") == "The group is full for this period."
    assert problem_text(request, unknown, "x") == "Une phrase neuve."
    fallback = "La demande n'a pas pu être enregistrée."
    assert problem_text(request, failed, fallback) == "The request could not be saved."
    assert problem_text(french_request(), named, "x") == "Le groupe « A » est complet."


def test_the_kits_english_validation_sentence_reads_in_the_pages_language() -> None:
    """The kit refuses an invalid body in English, for API clients: a French page showed
    « Some fields are missing or invalid. » (the staff's refused credit note)."""
    refused = {
        "type": "https://portail-famille.example/problems/validation-failed",
        "status": 422,
        "detail": "Some fields are missing or invalid.",
    }
    french = "Certains champs sont manquants ou invalides."
    assert problem_text(french_request(), refused, "x") == french
    assert problem_text(english_request(), refused, "x") == ENGLISH[french]
