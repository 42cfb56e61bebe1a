"""More hand-made cursors for `GET /staff/invoices` (443a314), against the real billing
service: non-ASCII and look-alike characters, padding, percent-encoding, NUL and line breaks,
a separator smuggled into the id, a cursor carried to another filter or to the gateway as a
parent. A cursor is a position only: each is a 422 naming `cursor`, or a page the filter
allows anyway — never an error 500 nor another filter's invoice."""

from __future__ import annotations

import base64

from .conftest import Portal
from .test_staff_invoice_pages import MONTH, _issue_town, _page


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_look_alike_padded_and_smuggled_cursors_are_422s(portal: Portal) -> None:
    await _issue_town(portal, count=3)
    real = (await _page(portal, month=MONTH, limit=1))["next_cursor"]
    forged = [
        real + "=",  # padding: the service writes none
        real + "%3D",
        "ｉ" + real[1:],  # a full-width letter
        real[:-1] + "é",
        real + "\n",
        " " + real,
        _b64(b"i1|F261100002|abc|def"),  # a separator in the id
        _b64(b"i1|F261100002|abc\x00"),
        _b64("i1|F２61100002|abc".encode()),  # a full-width digit in the number
        _b64("i1|F261100002|é".encode()),
        _b64(b"i1|" + b"F" * 21 + b"|abc"),  # a number longer than any
        "A" * 200,  # the longest accepted shape, decoding to nothing of ours
    ]
    for cursor in forged:
        response = await portal.billing.get(
            "/staff/invoices", params={"cursor": cursor}, headers=portal.staff
        )
        assert response.status == 422, (cursor, response.status)
        assert [e["field"] for e in (await response.json())["errors"]] == ["cursor"], cursor
    # A NUL byte in the query is refused before any parameter is read.
    nul = await portal.billing.get(
        "/staff/invoices", params={"cursor": real + "\x00"}, headers=portal.staff
    )
    assert nul.status == 400 and nul.content_type == "application/problem+json"


async def test_a_cursor_under_another_filter_pages_that_filter_only(portal: Portal) -> None:
    """A cursor is the position (number, id): given with another family's filter it starts
    that family's list there, and nothing of the first filter comes with it."""
    await _issue_town(portal, count=6)
    everyone = await _page(portal, month=MONTH, limit=6)
    last, first = everyone["items"][-1], everyone["items"][0]
    cursor = (await _page(portal, month=MONTH, limit=1))["next_cursor"]
    # The newest invoice's family, after the newest invoice: nothing (its only one is before).
    own = await _page(portal, family_id=first["family_id"], cursor=cursor)
    assert own["items"] == [] and own["next_cursor"] is None and own["total"] == 1
    # The oldest invoice's family, after the newest invoice: its one invoice, no other.
    other = await _page(portal, family_id=last["family_id"], cursor=cursor)
    assert [i["id"] for i in other["items"]] == [last["id"]]
    assert {i["family_id"] for i in other["items"]} == {last["family_id"]}
