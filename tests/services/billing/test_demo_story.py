"""The demo `portail run` seeds tells one story whatever day it is seeded: registration open
to holidays still ahead, announced by the dashboard's news with the same days, and last month
(the month the staff's « Facturation » page opens on) with ALSH days to invoice, the months
before it invoiced to the family TEST.

The seeds run as `portail seed` runs them (bookings on its own SQLite database, families and
billing on theirs); billing reads the bookings seed's billable lines through the gateway.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.paris_time import PARIS
from portail.demo import DEMO_ACTIVITY_ALSH_ID, DEMO_CHILD_ID, DEMO_FAMILY_ID, billing_month
from services.billing.clock import previous_month
from services.billing.seed import seed_demo as seed_billing
from services.bookings.attendance import billable_lines
from services.bookings.models import Period
from services.bookings.seed import seed_demo as seed_bookings
from services.families.seed import seed_demo as seed_families
from services.kit.database import Database
from services.kit.keys import DATABASE
from services.kit.migrations import upgrade_async
from services.notifications.seed import demo_news_text, french_day

from .conftest import Portal
from .test_pages import post, sign_in

BOOKINGS_MIGRATIONS = Path(__file__).resolve().parents[3] / "services" / "bookings" / "migrations"


async def _seed(portal: Portal, tmp_path: Path, today: date) -> list[Period]:
    """Seed bookings (10:00 in Paris on `today`), families and billing; the ALSH's periods.

    Bookings' billable lines of the month to invoice are what billing reads of it."""
    bookings = Database(f"sqlite+aiosqlite:///{tmp_path / 'bookings.sqlite'}")
    try:
        await upgrade_async(BOOKINGS_MIGRATIONS, bookings.url)
        seeded_at = datetime.combine(today, time(10, 0), PARIS)
        await seed_bookings(bookings, clock=lambda: seeded_at)
        async with bookings.sessions() as session:
            month = f"{billing_month(today):%Y-%m}"
            for line in await billable_lines(session, month=month):
                portal.lines.items.append(line.model_dump(mode="json"))
            periods = list(
                await session.scalars(
                    select(Period).where(Period.activity_id == DEMO_ACTIVITY_ALSH_ID)
                )
            )
    finally:
        await bookings.dispose()
    await seed_families(portal.families.app[DATABASE])
    await seed_billing(portal.billing.app[DATABASE], today=today)
    return periods


@pytest.mark.parametrize(
    "today",
    [date(2027, 5, 15), date(2026, 11, 29), date(2027, 1, 2), date(2026, 8, 31)],
    ids=str,
)
async def test_seeded_any_day_the_demo_registers_for_holidays_ahead_and_has_a_month_to_invoice(
    portal: Portal, tmp_path: Path, today: date
) -> None:
    periods = await _seed(portal, tmp_path, today)
    seeded_at = datetime.combine(today, time(10, 0), PARIS)

    # Registration is open now, for a month at least, to holidays that have not started.
    (holidays,) = [
        p
        for p in periods
        if p.name.startswith("Vacances")
        and p.registration_opens_at <= seeded_at < p.registration_closes_at
    ]
    closes = holidays.registration_closes_at.astimezone(PARIS)
    assert closes - seeded_at >= timedelta(days=30), holidays.name
    assert holidays.starts_on > closes.date(), f"{holidays.name} ahead of its registration"
    # The dashboard's news names them and says the same days.
    opens = holidays.registration_opens_at.astimezone(PARIS).date()
    news = demo_news_text(today)
    assert f"aux {holidays.name[0].lower()}{holidays.name[1:]} à l'ALSH" in news, news
    assert f"au {french_day(closes.date(), year=True)} " in news, news
    assert f"du {french_day(opens, year=opens.year != closes.year)} au" in news, news

    # The staff page opens on last month; its preview bills the demo child's ALSH days.
    month = f"{billing_month(today):%Y-%m}"
    assert month == previous_month(today)
    run = await portal.preview(month)
    (draft,) = [i for i in run["invoices"] if i["family_id"] == DEMO_FAMILY_ID]
    assert [
        (x["person_id"], x["unit"], x["attendance"], x["unit_price_cents"]) for x in draft["lines"]
    ] == [(DEMO_CHILD_ID, "journee", "present", 700)] * 4, draft["lines"]
    assert all(x["day"].startswith(month) for x in draft["lines"])
    # The family has its issued invoices: one to pay, of the month before.
    (to_pay,) = (await portal.invoices(DEMO_FAMILY_ID, state="to_pay"))["items"]
    assert to_pay["month"] == previous_month(billing_month(today))
    detail = await portal.billing.get(
        f"/families/{DEMO_FAMILY_ID}/invoices/{to_pay['id']}", headers=portal.parent(DEMO_FAMILY_ID)
    )
    # Priced as the month to invoice is, the family's QF (850) in the demo's first bracket.
    assert {x["unit_price_cents"] for x in (await detail.json())["lines"]} == {700}


async def test_the_staff_billing_page_opens_on_the_demos_month_to_invoice(
    portal: Portal, tmp_path: Path
) -> None:
    today = datetime.now(PARIS).date()
    await _seed(portal, tmp_path, today)
    token = await sign_in(portal, "agent@example.org")
    page = await (await portal.gateway.get("/agents/facturation")).text()
    suggested = re.search(r'id="mois" name="mois" type="month" required value="([^"]+)"', page)
    assert suggested and suggested.group(1) == f"{billing_month(today):%Y-%m}", page
    # The months before are invoiced already: their runs are listed, published.
    assert page.count("émise") == 3, page

    status, preview = await post(portal, "/agents/facturation", token, mois=suggested.group(1))
    assert status == 200, preview
    assert "Rien à facturer" not in preview
    days = re.findall(r"Enfant TEST — [^—]+ — ALSH Josta Leku, journée — Présent", preview)
    # Four Wednesdays, fewer when a public holiday falls on one (11 November, 1 and 8 May).
    assert 2 <= len(days) == len(portal.lines.items) <= 4, preview
