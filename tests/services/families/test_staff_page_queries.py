"""Staff's family pages given addresses typed or tampered with: a readable page, never a 500.

Through the real gateway and the real families service: a page number past the service's
last (10,000) and a search with a C1 control character (U+0080…U+009F) were answered by the
service with a refusal the page turned into « Erreur inattendue » (500).
"""

from __future__ import annotations

import pytest

from .conftest import Portal
from .pages import STAFF_EMAIL, text_of


@pytest.mark.parametrize(
    "address",
    [
        "/agents/demandes?page=99999999999999999999",
        "/agents/demandes?page=10001",
        "/agents/demandes?page=" + "9" * 5_000,
        "/agents/familles?q=Etcheverry&page=99999999999999999999",
    ],
)
async def test_a_page_number_past_the_last_shows_the_first_page(
    portal: Portal, address: str
) -> None:
    agent = await portal.visitor(STAFF_EMAIL)
    response = await agent.get(address)
    assert response.status == 200, text_of(await response.text())[:300]


async def test_a_search_with_a_c1_control_character_is_a_400_page(portal: Portal) -> None:
    agent = await portal.visitor(STAFF_EMAIL)
    response = await agent.get("/agents/familles?q=Etch%C2%80everry")
    assert response.status == 400
    assert response.content_type == "text/html"
    assert "Erreur inattendue" not in text_of(await response.text())
