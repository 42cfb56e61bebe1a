"""Billing's events say who acted: `by` (the token's subject) and `by_role`, as documents'.

The family's « Historique de mes actions » has a « Par » column; invoices' and payments'
lines had none, their events naming nobody. A payment PayFiP's notification confirms names
no one (no account of ours acted). Through the real billing service, families and gateway."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web

from services.billing import clock, tasks
from services.billing.config import BillingSettings
from services.billing.storage import STORAGE
from services.kit.http_client import create_http_client
from services.kit.keys import DATABASE, SETTINGS

from .conftest import Portal
from .test_payments import choose, start
from .test_tasks import Runtime

AGENT = "agent@example.org"  # Portal.staff's subject


async def actors(portal: Portal, family_id: str) -> list[tuple[str, Any, Any]]:
    """(event type, by, by_role) of the family's events, oldest first."""
    rows = await portal.sql(
        "SELECT message FROM outbox_messages WHERE message ->> 'family_id' = :family"
        " ORDER BY occurred_at, id",
        family=family_id,
    )
    return [(m["type"], m["data"].get("by"), m["data"].get("by_role")) for (m,) in rows]


async def test_invoices_and_payments_name_the_agent_the_system_or_nobody_for_payfip(
    portal: Portal,
) -> None:
    await portal.tariff(mode="brackets", brackets=[{"qf_min": 0, "price_cents": 1200}])
    family = await portal.family("PAYEUR", quotient=700, email="payeur@example.org")
    other = await portal.family("CHEQUE", quotient=700)
    for someone, kid in ((family, "kid"), (other, "kid2")):
        for day in (2, 3):
            portal.lines.add(someone, kid, f"Kid {kid}", date(2026, 3, day))
    await portal.publish((await portal.preview("2026-03"))["id"])  # by the agent
    invoice = (await portal.invoices(family))["items"][0]
    started = await start(portal, family, invoice)
    await choose(portal, started, "P")  # paid at PayFiP: its notification confirms it
    credited = await portal.billing.post(
        f"/invoices/{invoice['id']}/credit",
        json={"reason": "Journée annulée", "reissue": True, "remove_line_days": []},
        headers=portal.staff,
    )
    assert credited.status == 200, await credited.text()
    finance = portal.signer.headers(role="service", subject="finances", scopes=["billing:write"])
    paid = await portal.billing.post(
        "/payments",
        json={"family_id": other, "amount_cents": 1000, "method": "cheque",
              "received_on": clock.today().isoformat()},
        headers=finance,
    )  # fmt: skip
    assert paid.status == 201, await paid.text()
    by_agent = await portal.billing.post(
        "/payments",
        json={"family_id": other, "amount_cents": 1400, "method": "especes",
              "received_on": clock.today().isoformat()},
        headers=portal.staff,
    )  # fmt: skip
    assert by_agent.status == 201, await by_agent.text()

    assert await actors(portal, family) == [
        ("invoice.issued", AGENT, "staff"),
        ("payment.received", None, None),  # PayFiP's notification: nobody of ours
        ("invoice.issued", AGENT, "staff"),  # the reissued invoice
        ("invoice.cancelled", AGENT, "staff"),
    ]
    assert await actors(portal, other) == [
        ("invoice.issued", AGENT, "staff"),
        ("payment.received", "finances", "service"),
        ("payment.received", AGENT, "staff"),
    ]


def gateway_with_oauth(portal: Portal) -> web.Application:
    """The portal's gateway, with the OAuth token endpoint beat's run signs in at (the tests'
    auth stand-in has none): a client-credentials token for billing's client, as auth gives."""

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "client_credentials" and form["client_id"] == "billing"
        issued = portal.signer.token(
            subject="billing", role="service", scopes=["billing:read", "families:read"]
        )
        return web.json_response({"access_token": issued, "token_type": "Bearer"})

    async def forward(request: web.Request) -> web.Response:
        reply = await portal.gateway.request(
            request.method, request.path_qs, headers=request.headers, data=await request.read()
        )
        return web.Response(
            status=reply.status, body=await reply.read(), content_type=reply.content_type
        )

    app = web.Application()
    app.router.add_post("/api/auth/oauth/token", token)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


async def test_the_automatic_monthly_run_names_the_structures_software(
    portal: Portal, upstream: Any
) -> None:
    # Beat's run publishes with no account of anyone's: « un logiciel de la structure ».
    await portal.tariff(mode="brackets", brackets=[{"qf_min": 0, "price_cents": 1200}])
    family = await portal.family("AUTOMATIQUE", quotient=700)
    portal.lines.add(family, "kid", "Kid AUTOMATIQUE", date(2026, 3, 2))
    gateway = await upstream(gateway_with_oauth(portal))
    settings = portal.billing.app[SETTINGS]
    assert isinstance(settings, BillingSettings)
    beat = settings.model_copy(
        update={"gateway_url": gateway.url, "api_client_id": "billing",
                "api_client_secret": "secret", "auto_publish": True}
    )  # fmt: skip
    http = create_http_client(10)
    try:
        runtime = Runtime(beat, portal.billing.app[DATABASE], portal.billing.app[STORAGE], http)
        outcome = await tasks.monthly_run_async(runtime, "2026-03")  # type: ignore[arg-type]
    finally:
        await http.close()

    assert outcome == "published 2026-03"
    assert await actors(portal, family) == [("invoice.issued", None, "service")]
