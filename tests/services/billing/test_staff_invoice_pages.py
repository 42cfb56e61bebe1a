"""`GET /staff/invoices` in pages: a town of 10,000 families gets its month's invoices a
page at a time, in a stable order, with the count and the situation of the whole filter."""

from __future__ import annotations

import html
from typing import Any

import pytest

from gateway.pages.billing import _total
from tests.browser import PHONE, AccessibilityAudit, chromium, requires_chromium, sign_in_on_page
from tests.gateway.fakes import PASSWORD

from .conftest import Portal
from .test_accessibility import DESKTOP
from .test_pages import sign_in

TOWN = 10_000
MONTH = "2026-10"


async def _issue_town(portal: Portal, count: int = TOWN) -> None:
    """`count` issued invoices of one month, one a family; every third one still to pay."""
    await portal.sql(
        """
        INSERT INTO invoices (id, family_id, number, issued_on, amount_cents, balance_cents,
                              kind, state, month, due_on, family_name, family_address,
                              quotient, resident, created_at, updated_at)
        SELECT gen_random_uuid()::text, gen_random_uuid()::text,
               'F2611' || lpad(n::text, 5, '0'), DATE '2026-11-01', 3500,
               CASE WHEN n % 3 = 0 THEN 3500 ELSE 0 END, 'invoice',
               CASE WHEN n % 3 = 0 THEN 'issued' ELSE 'paid' END, :month, DATE '2026-11-30',
               'FAMILLE ' || n, '', 850, true, now(), now()
        FROM generate_series(1, :count) AS n
        """,
        month=MONTH,
        count=count,
    )


async def _page(portal: Portal, **params: Any) -> dict[str, Any]:
    response = await portal.billing.get("/staff/invoices", params=params, headers=portal.staff)
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_the_list_answers_a_page_with_the_total(portal: Portal) -> None:
    await _issue_town(portal)

    first = await _page(portal, month=MONTH)

    assert len(first["items"]) == 100  # the default page
    assert first["total"] == TOWN
    # The situation is the whole month's, not the page's.
    to_pay = len([n for n in range(1, TOWN + 1) if n % 3 == 0])
    assert first["to_pay_count"] == to_pay
    assert first["balance_due_cents"] == to_pay * 3500
    assert [i["number"] for i in first["items"][:2]] == ["F261110000", "F261109999"]


async def test_the_pages_cover_every_invoice_once_in_order(portal: Portal) -> None:
    await _issue_town(portal)
    numbers: list[str] = []
    offset = 0
    while True:
        page = await _page(portal, month=MONTH, limit=500, offset=offset)
        numbers += [i["number"] for i in page["items"]]
        offset += 500
        if offset >= page["total"]:
            break

    assert len(numbers) == TOWN
    assert len(set(numbers)) == TOWN
    assert numbers == sorted(numbers, reverse=True)


async def test_a_page_beyond_the_maximum_is_a_422_naming_limit(portal: Portal) -> None:
    for params in ({"limit": "501"}, {"limit": "0"}, {"offset": "-1"}):
        response = await portal.billing.get("/staff/invoices", params=params, headers=portal.staff)
        assert response.status == 422, params
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert [e["field"] for e in problem["errors"]] == list(params)


async def test_a_forged_page_is_a_422_and_callers_without_the_scope_get_nothing(
    portal: Portal,
) -> None:
    await _issue_town(portal, count=3)
    forged = [
        {"limit": "abc"}, {"limit": "²"}, {"limit": "1.5"}, {"limit": "9" * 5000},
        {"offset": "-0x1"}, {"offset": "1000001"}, {"offset": "9" * 5000}, {"limit": ""},
    ]  # fmt: skip
    for params in forged:
        response = await portal.billing.get("/staff/invoices", params=params, headers=portal.staff)
        assert response.status == 422, (params, response.status)
        assert response.content_type == "application/problem+json"
        assert [e["field"] for e in (await response.json())["errors"]] == list(params)
    family = "00000000-0000-4000-8000-00000000f0f1"
    await portal.sql("UPDATE invoices SET family_id = :family", family=family)
    # A parent, even of the family asked, and a system without a billing scope: 403, no item.
    system = portal.signer.headers(role="service", subject="registre", scopes=["families:read"])
    for headers in (portal.parent(family), system):
        for params in ({}, {"family_id": family, "limit": "500"}):
            refused = await portal.billing.get("/staff/invoices", params=params, headers=headers)
            assert refused.status == 403
            assert "F2611" not in await refused.text()
    assert (await portal.billing.get("/staff/invoices")).status == 401


async def test_filters_count_only_what_they_keep(portal: Portal) -> None:
    await _issue_town(portal, count=30)

    to_pay = await _page(portal, month=MONTH, state="to_pay", limit=4)
    settled = await _page(portal, month=MONTH, state="settled", limit=4, offset=16)

    assert to_pay["total"] == 10 and len(to_pay["items"]) == 4
    assert all(i["balance_cents"] == 3500 for i in to_pay["items"])
    assert settled["total"] == 20 and len(settled["items"]) == 4
    assert (await _page(portal, month="2026-09"))["total"] == 0


async def _staff_page(portal: Portal, **params: str) -> str:
    response = await portal.gateway.get("/agents/factures", params=params)
    assert response.status == 200
    return html.unescape(await response.text())


async def test_the_staff_page_shows_the_invoices_a_page_at_a_time(portal: Portal) -> None:
    await _issue_town(portal, count=120)
    await sign_in(portal, "agent@example.org")

    first = await _staff_page(portal)
    assert first.count("data-invoice=") == 50
    assert "120 factures — Page 1 sur 3" in first
    assert 'href="/agents/factures?page=2#factures" rel="next">Page suivante</a>' in first
    assert "Page précédente" not in first
    assert 'data-invoice="F261100120"' in first and 'data-invoice="F261100070"' not in first

    middle = await _staff_page(portal, page="2")
    assert middle.count("data-invoice=") == 50
    assert 'data-invoice="F261100070"' in middle and 'data-invoice="F261100120"' not in middle
    assert 'href="/agents/factures?page=1#factures" rel="prev">Page précédente</a>' in middle
    assert 'href="/agents/factures?page=3#factures" rel="next">Page suivante</a>' in middle

    last = await _staff_page(portal, page="3")
    assert last.count("data-invoice=") == 20 and "Page suivante" not in last
    # A forged page number is the first page, never an error.
    assert "Page 1 sur 3" in await _staff_page(portal, page="-4")
    # « ² » passes str.isdigit() and fails int(); so do 5,000 digits (int()'s 4,300 limit).
    for forged in ("²", "9" * 5000):
        assert "Page 1 sur 3" in await _staff_page(portal, page=forged), forged[:5]

    english = await _staff_page(portal, page="2", lang="en")
    assert "120 invoices — Page 2 of 3" in english
    assert ">Previous page</a>" in english and ">Next page</a>" in english


async def test_the_pages_of_one_family_keep_the_family(portal: Portal) -> None:
    await _issue_town(portal, count=60)
    family = "00000000-0000-4000-8000-00000000f0f0"
    await portal.sql(
        "UPDATE invoices SET family_id = :family WHERE number > 'F261100005'", family=family
    )
    await sign_in(portal, "agent@example.org")

    first = await _staff_page(portal, famille=family)
    assert first.count("data-invoice=") == 50 and "55 factures — Page 1 sur 2" in first
    following = f'href="/agents/factures?famille={family}&page=2#factures" rel="next"'
    assert following in first

    second = await _staff_page(portal, famille=family, page="2")
    assert second.count("data-invoice=") == 5 and "Relevé de compte" in second


@pytest.mark.browser
@requires_chromium
@pytest.mark.timeout(240)
async def test_an_agent_pages_through_the_invoices_on_a_phone_and_a_desktop(
    portal: Portal,
) -> None:
    await _issue_town(portal, count=120)
    base = portal.gateway_url
    audit = AccessibilityAudit("billing-pages")
    async with chromium() as browser:
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            context = await browser.new_context(viewport=viewport, is_mobile=size == "phone")
            page = await context.new_page()
            await sign_in_on_page(page, base, "agent@example.org", PASSWORD)
            await page.goto(f"{base}/agents/factures")
            await page.get_by_role("link", name="Page suivante").click()
            await page.wait_for_url(f"{base}/agents/factures?page=2#factures")
            pages = page.get_by_role("navigation", name="Pages des factures")
            assert "Page 2 sur 3" in await pages.inner_text()
            assert await page.locator("[data-invoice]").count() == 50
            await page.screenshot(path=f"/tmp/billing-staff-invoices-{size}.png", full_page=True)
            await audit.check(page, f"/agents/factures?page=2 ({size})")
            await page.get_by_role("link", name="Page précédente").click()
            await page.wait_for_url(f"{base}/agents/factures?page=1#factures")
            await page.goto(f"{base}/agents/factures?page=3&lang=en")
            assert await page.get_by_role("link", name="Previous page").count() == 1
            await page.screenshot(path=f"/tmp/billing-staff-invoices-{size}-en.png")
            await context.close()
    assert not audit.found, audit.report()


def test_an_answer_without_total_counts_its_items() -> None:
    # A billing replica from before the pages, during a rolling update: all its items.
    assert _total({"items": [{}, {}, {}]}) == 3
    assert _total({"items": [], "total": 120}) == 120
    assert _total(None) == 0
