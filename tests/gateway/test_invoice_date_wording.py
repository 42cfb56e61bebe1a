"""« Mes factures » names each invoice with its date in both languages, through the real gateway,
billing and families services.

Found reading the English page: « F261100003 from 1 November 2026 » — the invoice's « du » was
the lone « du » the documents' pages translate « from » (a publication « du … au … »).
"""

from __future__ import annotations

import re
from html import unescape

from tests.services.billing.conftest import (  # noqa: F401 (the billing tests' fixtures)
    Portal,
    gateway,
    portal,
    upstream,
)
from tests.services.billing.test_pages import sign_in
from tests.services.billing.test_payments import issued_invoice

PARENT = "famille.test@example.org"


def invoice_titles(page: str) -> list[str]:
    """The text of each invoice's title line."""
    titles = re.findall(r'<p class="invoice__title">(.*?)<span class="state"', page, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", t)).split()) for t in titles]


async def test_an_invoice_is_dated_in_french_and_in_english(portal: Portal) -> None:  # noqa: F811
    family, invoice = await issued_invoice(portal)
    portal.auth.accounts[PARENT] = [family]
    await sign_in(portal, PARENT)
    number = invoice["number"]

    french = await (await portal.gateway.get("/factures")).text()
    english = await (await portal.gateway.get("/factures?lang=en")).text()

    [title] = invoice_titles(french)
    assert re.fullmatch(rf"{number} du \d{{2}}/\d{{2}}/\d{{4}}", title), title
    [title] = invoice_titles(english)
    assert re.fullmatch(rf"{number} dated \d{{1,2}} [A-Z][a-z]+ \d{{4}}", title), title
