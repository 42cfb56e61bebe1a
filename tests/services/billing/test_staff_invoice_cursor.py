"""`GET /staff/invoices?cursor=`: a system that follows `next_cursor` reads every invoice of
its filter exactly once, even while invoices are issued between its pages (with `offset`, a
new invoice pushed the others one place on: one was read twice)."""

from __future__ import annotations

import base64
from typing import Any

from .conftest import Portal
from .test_staff_invoice_pages import MONTH, _issue_town, _page

SIZE = 4


async def _issue(portal: Portal, number: str, *, kind: str = "invoice") -> None:
    """One invoice issued now (a credit note when `kind` says so), still to pay."""
    await portal.sql(
        """
        INSERT INTO invoices (id, family_id, number, issued_on, amount_cents, balance_cents,
                              kind, state, month, due_on, family_name, family_address,
                              quotient, resident, created_at, updated_at)
        VALUES (gen_random_uuid()::text, gen_random_uuid()::text, :number, DATE '2026-11-29',
                3500, 3500, :kind, 'issued', :month, DATE '2026-12-29', 'NOUVELLE', '', 850,
                true, now(), now())
        """,
        number=number,
        kind=kind,
        month=MONTH,
    )


async def _follow(portal: Portal, between: Any = None, **filters: Any) -> list[dict[str, Any]]:
    """Every page from the first, following `next_cursor`; `between(n)` runs after page n."""
    page = await _page(portal, **filters, limit=SIZE)
    read = list(page["items"])
    pages = 1
    while page["next_cursor"] is not None:
        if between is not None:
            await between(pages)
        page = await _page(portal, **filters, limit=SIZE, cursor=page["next_cursor"])
        read += page["items"]
        pages += 1
    return read


async def test_following_the_cursor_reads_each_invoice_once_while_invoices_are_issued(
    portal: Portal,
) -> None:
    await _issue_town(portal, count=30)
    before = {i["number"] for i in (await _page(portal, month=MONTH, limit=500))["items"]}

    async def issue_meanwhile(page: int) -> None:
        # A new invoice numbers after every other, so it sorts first: with `offset` the next
        # page would start one invoice back. A credit note (A…) sorts after every invoice.
        await _issue(portal, f"F2611{90000 + page:05d}")
        await _issue(portal, f"A2611{page:05d}", kind="credit_note")

    read = [i["number"] for i in await _follow(portal, issue_meanwhile, month=MONTH)]

    assert len(read) == len(set(read)), "an invoice was read twice"
    assert before <= set(read), f"missed: {sorted(before - set(read))}"
    # What was issued meanwhile comes only where it sorts after the page being read: the new
    # invoices before the cursor never, every credit note (issued before the last page) once.
    assert not [n for n in read if n.startswith("F261190")]
    assert sorted(n for n in read if n.startswith("A")) == [f"A2611{p:05d}" for p in range(1, 8)]
    assert read == sorted(read, reverse=True)


async def test_the_cursor_pages_keep_the_filter_and_the_whole_filter_s_totals(
    portal: Portal,
) -> None:
    await _issue_town(portal, count=30)

    first = await _page(portal, month=MONTH, state="to_pay", limit=SIZE)
    second = await _page(
        portal, month=MONTH, state="to_pay", limit=SIZE, cursor=first["next_cursor"]
    )
    every = await _follow(portal, month=MONTH, state="to_pay")

    assert second["total"] == first["total"] == 10
    assert second["to_pay_count"] == 10 and second["balance_due_cents"] == 10 * 3500
    assert len(every) == 10 and all(i["balance_cents"] == 3500 for i in every)
    assert {i["id"] for i in first["items"]}.isdisjoint(i["id"] for i in second["items"])
    # The last page says so: no cursor to an empty page, even when it is full.
    assert (await _page(portal, month=MONTH, limit=30))["next_cursor"] is None
    assert (await _page(portal, month=MONTH, limit=29))["next_cursor"] is not None


async def test_the_first_offset_page_hands_over_to_cursors(portal: Portal) -> None:
    await _issue_town(portal, count=10)

    by_offset = await _page(portal, month=MONTH, limit=SIZE, offset=0)
    by_cursor = await _page(portal, month=MONTH, limit=SIZE, cursor=by_offset["next_cursor"])
    second_by_offset = await _page(portal, month=MONTH, limit=SIZE, offset=SIZE)

    assert by_cursor["items"] == second_by_offset["items"]


async def test_a_malformed_or_forged_cursor_is_a_422_naming_cursor(portal: Portal) -> None:
    await _issue_town(portal, count=3)
    first = await _page(portal, month=MONTH, limit=1)

    def b64(raw: str) -> str:
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    forged = [
        "",
        "abc",
        "!!!!",
        first["next_cursor"] + "*",
        "x" * 201,
        b64("i0|F261100002|" + first["items"][0]["id"]),  # another version
        b64("i1|F2611' OR 1=1 --|x"),
        b64("i1|F261100002|"),
        b64("i1|F261100002|" + "a" * 37),
        b64("i1|f261100002|abc"),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ]
    for cursor in forged:
        response = await portal.billing.get(
            "/staff/invoices", params={"cursor": cursor}, headers=portal.staff
        )
        assert response.status == 422, (cursor, response.status)
        assert response.content_type == "application/problem+json"
        assert [e["field"] for e in (await response.json())["errors"]] == ["cursor"], cursor

    both = await portal.billing.get(
        "/staff/invoices",
        params={"cursor": first["next_cursor"], "offset": "1"},
        headers=portal.staff,
    )
    assert both.status == 422
    assert [e["field"] for e in (await both.json())["errors"]] == ["offset"]


async def test_a_cursor_opens_nothing_to_callers_without_the_scope(portal: Portal) -> None:
    await _issue_town(portal, count=3)
    cursor = (await _page(portal, month=MONTH, limit=1))["next_cursor"]
    family = "00000000-0000-4000-8000-00000000f0f1"
    system = portal.signer.headers(role="service", subject="registre", scopes=["families:read"])

    for headers in (portal.parent(family), system):
        refused = await portal.billing.get(
            "/staff/invoices", params={"cursor": cursor}, headers=headers
        )
        assert refused.status == 403
        assert "F2611" not in await refused.text()
