"""The English of the families catalogue's field labels, for every part that shows them.

The families service owns the French labels (`services/families/fields.py`) and sends them
with its data and events; the gateway's pages and the notifications' e-mails both show them
in English on request. Their translations live here once, in `field_labels.en.json`, keyed
by the French label like the gateway's catalogs (which merge this file under their own).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

ENGLISH_CATALOG = Path(__file__).with_name("field_labels.en.json")


@cache
def english_field_labels() -> dict[str, str]:
    """French label → English label."""
    catalog: dict[str, str] = json.loads(ENGLISH_CATALOG.read_text(encoding="utf-8"))
    return catalog


def field_label(french: str, language: str) -> str:
    """`french` in `language`; a label without a translation stays as the service wrote it."""
    if language == "en":
        return english_field_labels().get(french, french)
    return french
