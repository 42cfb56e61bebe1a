"""The monthly run: preview, publication, hand-computed totals, PDFs in S3, events, refusals."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import date

from pypdf import PdfReader

from . import scenario
from .conftest import Portal


async def test_a_months_run_matches_the_hand_computed_totals(portal: Portal) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)

    run = await portal.preview("2026-03")
    assert portal.lines.calls == ["2026-03"]
    totals = {i["family_name"]: i["amount_cents"] for i in run["invoices"]}
    assert totals == scenario.EXPECTED
    assert run["total_cents"] == sum(scenario.EXPECTED.values()) == 9181
    assert {i["state"] for i in run["invoices"]} == {"draft"}
    alpha = next(i for i in run["invoices"] if i["family_name"] == "ALPHA")
    assert [(x["day"], x["unit"], x["unit_price_cents"]) for x in alpha["lines"]] == [
        ("2026-03-02", "journée", 800),
        ("2026-03-02", "repas", 180),
        ("2026-03-03", "journée", 800),
        ("2026-03-17", "journée", 900),
    ]
    # Drafts are not the family's yet.
    assert (await portal.invoices(fam.alpha))["items"] == []

    published = await portal.publish(run["id"])
    assert published["state"] == "published" and published["invoice_count"] == 4
    numbers = [r[0] for r in await portal.sql("SELECT number FROM invoices ORDER BY family_name")]
    prefix = numbers[0][:5]
    assert re.fullmatch(r"F\d{4}", prefix)
    assert numbers == [f"{prefix}{n:05d}" for n in range(1, 5)]
    mine = await portal.invoices(fam.alpha, state="to_pay")
    assert mine["to_pay_count"] == 1 and mine["balance_due_cents"] == 2680
    assert mine["items"][0]["state_label"] == "À payer"
    assert (await portal.invoices(fam.delta))["items"] == []

    events = await portal.sql(
        "SELECT message FROM outbox_messages WHERE event_type = 'invoice.issued'"
    )
    assert sorted(e[0]["data"]["total_cents"] for e in events) == sorted(scenario.EXPECTED.values())
    assert {e[0]["family_id"] for e in events} == {fam.alpha, fam.bravo, fam.charlie, fam.echo}


async def test_each_invoice_has_one_encrypted_pdf_with_header_family_lines_totals_and_warning(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    await portal.publish((await portal.preview("2026-03"))["id"])

    keys = await portal.sql("SELECT pdf_key FROM invoices")
    assert len(keys) == 4 and all(re.fullmatch(r"invoices/[0-9a-f]{32}\.pdf", k[0]) for k in keys)
    s3 = portal.bucket()
    head = s3.head_object(Bucket=portal.bucket_name, Key=keys[0][0])
    assert head["ServerSideEncryption"] == "AES256"

    invoice = (await portal.invoices(fam.alpha))["items"][0]
    response = await portal.billing.get(
        f"/families/{fam.alpha}/invoices/{invoice['id']}/pdf", headers=portal.parent(fam.alpha)
    )
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="facture-{invoice["number"]}.pdf"'
    )
    text = PdfReader(io.BytesIO(await response.read())).pages[0].extract_text()
    for expected in (
        "Mairie de Hasparren",
        f"FACTURE N° {invoice['number']}",
        "Période : mars 2026",
        "Famille ALPHA",
        "Quotient familial : 450",
        "Léa ALPHA",
        "02/03/2026",
        "17/03/2026",
        "Restauration scolaire",
        "8,00 €",
        "1,80 €",
        "9,00 €",
        "Montant dû",
        "26,80 €",
        "Solde dû",
        "Comment payer",
        "PayFiP",
        "avis des sommes à payer",
        "Trésor Public",
    ):
        assert expected in text, (expected, text)
    assert "04/03/2026" not in text  # the justified absence is not billed
    # Generated once: asking again serves the same object, no new one.
    again = await portal.billing.get(
        f"/families/{fam.alpha}/invoices/{invoice['id']}/pdf", headers=portal.parent(fam.alpha)
    )
    assert again.status == 200
    listed = s3.list_objects_v2(Bucket=portal.bucket_name)["KeyCount"]
    assert listed == 4


async def test_a_month_already_invoiced_is_refused_and_nothing_is_billed_twice(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    await scenario.march(portal)
    run = await portal.preview("2026-03")
    await portal.publish(run["id"])
    again = await portal.billing.post("/runs", json={"month": "2026-03"}, headers=portal.staff)
    assert again.status == 409
    problem = await again.json()
    assert problem["type"].endswith("/month-already-invoiced") and "2026-03" in problem["detail"]
    twice = await portal.billing.post(f"/runs/{run['id']}/publish", headers=portal.staff)
    assert twice.status == 409
    assert (await portal.sql("SELECT count(*) FROM invoices"))[0][0] == 4


async def test_an_empty_preview_is_not_published_and_leaves_the_month_open(portal: Portal) -> None:
    await scenario.tariffs(portal)
    empty = await portal.preview("2026-03")
    assert (empty["invoice_count"], empty["invoices"]) == (0, [])

    refused = await portal.billing.post(f"/runs/{empty['id']}/publish", headers=portal.staff)

    assert refused.status == 409
    problem = await refused.json()
    assert problem["type"].endswith("/nothing-to-invoice")
    assert problem["detail"].startswith("Rien à facturer pour ce mois")
    assert await portal.sql("SELECT month FROM invoiced_months") == []
    # Bookings entered later for that month are still billed.
    await scenario.march(portal)
    await portal.publish((await portal.preview("2026-03"))["id"])
    assert (await portal.sql("SELECT count(*) FROM invoices WHERE state = 'issued'"))[0][0] == 4


async def test_two_racing_publications_of_one_month_issue_it_once(portal: Portal) -> None:
    await scenario.tariffs(portal)
    await scenario.march(portal)
    run = await portal.preview("2026-03")
    # A second preview of the same month replaces the first; both racers publish the latest.
    run = await portal.preview("2026-03")
    responses = await asyncio.gather(
        *(portal.billing.post(f"/runs/{run['id']}/publish", headers=portal.staff) for _ in range(4))
    )
    assert sorted(r.status for r in responses) == [200, 409, 409, 409]
    assert (await portal.sql("SELECT count(*) FROM invoices WHERE state = 'issued'"))[0][0] == 4
    assert (await portal.sql("SELECT count(*) FROM invoices WHERE state = 'draft'"))[0][0] == 0


async def test_numbers_stay_gapless_when_runs_of_several_months_publish_at_once(
    portal: Portal,
) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    for month in ("2026-01", "2026-02"):
        for family_id in (fam.alpha, fam.bravo, fam.charlie, fam.echo):
            portal.lines.add(family_id, "kid", "Kid", date.fromisoformat(f"{month}-12"))
    runs = [await portal.preview(m) for m in ("2026-01", "2026-02", "2026-03")]
    results = await asyncio.gather(
        *(portal.billing.post(f"/runs/{r['id']}/publish", headers=portal.staff) for r in runs)
    )
    assert [r.status for r in results] == [200, 200, 200]
    numbers = [r[0] for r in await portal.sql("SELECT number FROM invoices")]
    sequence = sorted(int(n[-5:]) for n in numbers)
    assert sequence == list(range(1, 13))
    assert len(set(numbers)) == 12


async def test_a_line_without_tariff_refuses_the_preview_and_names_it(portal: Portal) -> None:
    await scenario.tariffs(portal)
    fam = await scenario.march(portal)
    portal.lines.add(fam.alpha, "lea", "Léa ALPHA", date(2026, 3, 6), unit="garderie")
    response = await portal.billing.post("/runs", json={"month": "2026-03"}, headers=portal.staff)
    assert response.status == 409
    problem = await response.json()
    assert problem["type"].endswith("/missing-tariff")
    assert "garderie" in problem["detail"] and "06/03/2026" in problem["detail"]
    assert (await portal.sql("SELECT count(*) FROM invoices"))[0][0] == 0


async def test_a_malformed_month_is_refused(portal: Portal) -> None:
    for month in ("2026-13", "9999-12", "0000-01", "٢٠٢٦-03"):
        response = await portal.billing.post("/runs", json={"month": month}, headers=portal.staff)
        assert response.status == 422, month
    assert (await portal.sql("SELECT count(*) FROM invoicing_runs"))[0][0] == 0
