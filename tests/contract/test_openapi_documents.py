"""The committed OpenAPI documents (docs/openapi/) are what the code serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from portail.cli import main
from portail.commands.openapi import build_document, document_path, render
from portail.registry import SERVICE_NAMES


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_committed_document_is_up_to_date(name: str) -> None:
    committed = document_path(name)
    assert committed.exists(), f"{committed} missing: run `uv run portail openapi`"
    assert committed.read_text(encoding="utf-8") == render(build_document(name)), (
        f"The API of {name} changed: run `uv run portail openapi` and commit {committed.name}"
        " (the diff is the API change to review)."
    )


async def test_committed_document_is_what_the_service_serves(service_client) -> None:
    families = await service_client("families")

    served = await (await families.get("/openapi.json")).json()

    assert served == json.loads(document_path("families").read_text(encoding="utf-8"))


def test_command_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi", "--check", "--output", str(tmp_path), "documents"]) == 1
    assert not (tmp_path / "documents.json").exists()

    assert main(["openapi", "--output", str(tmp_path), "documents"]) == 0
    written = json.loads((tmp_path / "documents.json").read_text(encoding="utf-8"))
    assert written["openapi"] == "3.1.0"
    assert "/families/{family_id}/documents/{type_id}/files" in written["paths"]

    assert main(["openapi", "--check", "--output", str(tmp_path), "documents"]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_path_parameter_is_named_as_in_its_path(name: str) -> None:
    document = build_document(name)
    for path, operations in document["paths"].items():
        in_path = re.findall(r"\{([^{}]+)\}", path)
        for method, operation in operations.items():
            declared = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            assert declared == in_path, f"{method.upper()} {path}: {declared}"


# The routes that honour an Idempotency-Key and mark its replays (services' own tests replay
# each one for real).
IDEMPOTENT = {
    ("families", "post", "/families"),
    ("families", "post", "/families/{family_id}/persons"),
    ("bookings", "post", "/families/{family_id}/reservations/changes"),
    ("bookings", "post", "/families/{family_id}/reservations/repeat"),
}


def test_every_idempotent_route_documents_its_key_and_the_replay_header() -> None:
    documented = set()
    for name in SERVICE_NAMES:
        for path, operations in build_document(name)["paths"].items():
            for method, operation in operations.items():
                headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
                replayed = {
                    status: response.get("headers", {}).get("Idempotent-Replayed")
                    for status, response in operation["responses"].items()
                }
                if "Idempotency-Key" in headers or any(replayed.values()):
                    documented.add((name, method, path))
                    success = next(s for s in replayed if s.startswith("2"))
                    assert replayed[success] is not None, (name, method, path, "no header")
                    assert replayed[success] == {
                        "description": replayed[success]["description"],
                        "required": False,
                        "schema": {"type": "string", "const": "true"},
                    }, (name, method, path)
                    assert "Idempotency-Key" in headers, (name, method, path)
                    assert "409" in operation["responses"], "a twin still running is a 409"

    assert documented == IDEMPOTENT
