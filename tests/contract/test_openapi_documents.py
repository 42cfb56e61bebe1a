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
