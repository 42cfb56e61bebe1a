"""« Mes réservations » asked for a day the planning cannot show — a year mistyped in « Aller à
la date » (0001, 9999) — through the real gateway, bookings, families and documents: the page
says which days it shows, in the page's language, and shows the current week. It answered
500 « Erreur inattendue » (the week before 0001-01-01 does not exist) or « Service
momentanément indisponible » (bookings failed on 9999-12-31)."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner

from .portal import PARENT_EMAIL, Portal
from .test_pages import sign_in, text_of
from .test_reservation_pages import ready_child


@pytest.mark.parametrize("asked", ["0001-01-03", "9999-12-31", "1899-05-01", "2026-02-31"])
async def test_a_day_out_of_the_plannings_reach_is_said_and_the_current_week_shown(
    portal: Portal, signer: TestSigner, asked: str
) -> None:
    await ready_child(portal, signer)
    client, base = portal.gateway, portal.base_url
    await sign_in(client, base, PARENT_EMAIL)
    page = f"/reservations?famille={portal.family_id}&personne={portal.child_id}&semaine={asked}"

    french = await client.get(page)
    english = await client.get(page + "&lang=en")

    assert french.status == 400
    said = text_of(await french.text())
    assert "Cette date n'est pas valable : choisissez un jour entre le " not in said
    assert "Cette date n'est pas valable : choisissez un jour entre " in said
    assert "Planning — Enfant TEST" in said  # the current week, to go on from
    assert "Service momentanément indisponible" not in said
    assert english.status == 400
    assert "This date is not valid: choose a day between " in text_of(await english.text())
