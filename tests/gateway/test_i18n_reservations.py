"""English for « Mes réservations » and the staff lists: every text their templates translate
has an entry, with the same placeholders (`?lang=en` left them French)."""

from __future__ import annotations

import re

import pytest

from .test_i18n_coverage import GATEWAY, _module_msgids, _template_msgids, english

TEMPLATES = ("bookings/reservations.html", "bookings/agents_reservations.html")


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_text_of_the_reservation_pages_has_an_english_entry_with_its_placeholders(
    template: str,
) -> None:
    msgids = _template_msgids(GATEWAY / "templates" / template)
    assert len(msgids) > 20, "the extraction found (almost) nothing: it is broken"
    catalog = english()
    missing = sorted(m for m in msgids if m not in catalog)
    assert not missing, f"{len(missing)} texts without English:\n" + "\n".join(missing)
    fields = re.compile(r"\{(\w*)\}")
    assert not [m for m in msgids if set(fields.findall(m)) != set(fields.findall(catalog[m]))]


@pytest.mark.parametrize("module", ("reservations.py", "bookings.py"))
def test_every_message_of_the_booking_page_modules_has_an_english_entry(module: str) -> None:
    """The staff results and errors the modules write (« Fermeture du {day} : … », « Erreur. »,
    « Sélectionnez au moins une demande. ») stayed French on English staff pages."""
    msgids = _module_msgids(GATEWAY / "pages" / module)
    assert len(msgids) > 5, "the extraction found (almost) nothing: it is broken"
    catalog = english()
    missing = sorted(m for m in msgids if m not in catalog)
    assert not missing, f"{len(missing)} texts without English:\n" + "\n".join(missing)
