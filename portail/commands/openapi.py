"""`portail openapi`: write each service's OpenAPI document under docs/openapi/.

The documents are committed, so that an API change shows in review as a change of its
document; tests/contract/test_openapi_documents.py fails when one is out of date.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path
from typing import Any

from services.kit.app import openapi_document

from ..registry import ROOT, SERVICE_NAMES, service

DOCUMENTS_DIR = ROOT / "docs" / "openapi"
# The app is only built, never started: these values are never used to connect.
_UNUSED: dict[str, Any] = {
    "profile": "test",
    "database_url": "postgresql+asyncpg://unused/unused",
    "jwks_json": '{"keys": []}',
}


def build_document(name: str) -> dict[str, Any]:
    """The OpenAPI document of service `name`, from its routes (no server, no database)."""
    entry = service(name)
    settings = entry.settings_class()(**_UNUSED)
    app = importlib.import_module(f"{entry.package}.app").create_app(settings)
    return openapi_document(app)


def render(document: dict[str, Any]) -> str:
    """The committed text of a document: sorted keys, so that diffs show only real changes."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def document_path(name: str, folder: Path = DOCUMENTS_DIR) -> Path:
    """Where the document of service `name` is committed."""
    return folder / f"{name}.json"


def _openapi(args: argparse.Namespace) -> int:
    folder = Path(args.output)
    stale = []
    for name in args.services or SERVICE_NAMES:
        text = render(build_document(name))
        path = document_path(name, folder)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            print(f"{name}: {path} is up to date")
            continue
        stale.append(name)
        if not args.check:
            folder.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"{name}: wrote {path}")
        else:
            print(f"{name}: {path} is out of date")
    return 1 if args.check and stale else 0


def register(commands: Any) -> None:
    """Add `openapi`."""
    openapi = commands.add_parser(
        "openapi", help="write each service's OpenAPI document to docs/openapi/"
    )
    openapi.add_argument(
        "services", nargs="*", metavar="SERVICE", help="default: all of " + ", ".join(SERVICE_NAMES)
    )
    openapi.add_argument("--output", default=str(DOCUMENTS_DIR), help="default: docs/openapi")
    openapi.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a document is out of date"
    )
    openapi.set_defaults(handler=_openapi)
