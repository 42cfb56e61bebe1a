"""A parent's page asked for another family (`?famille=<id>`, a hidden field) is refused with
the « page introuvable » page, as a missing page: never quietly shown as their own family's,
which read as if the address had worked. Without `famille`, the parent's own family."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from .test_i18n_coverage import families_database, portal, whole_portal  # noqa: F401 (fixtures)

PARENT_PAGES = (
    "/", "/famille", "/factures", "/historique", "/contact", "/courriels", "/documents",
    "/mes-donnees",
)  # fmt: skip


@pytest.mark.parametrize("path", PARENT_PAGES)
async def test_a_page_asked_for_another_family_is_not_found(
    whole_portal: dict[str, Any],  # noqa: F811 (the imported fixture)
    path: str,
) -> None:
    parent = whole_portal["parent"]
    own = await parent.get(path)
    assert own.status == 200, (path, own.status)
    other = await parent.get(path, params={"famille": str(uuid.uuid4())})
    html = await other.text()
    assert other.status == 404, (path, other.status)
    assert 'class="card error-page"' in html, html[:400]  # the readable page, no stack
    asked_for_own = await parent.get(path, params={"famille": whole_portal["family"]["id"]})
    assert asked_for_own.status == 200
