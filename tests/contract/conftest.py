"""Fixtures of the contract tests: tokens for every kind of caller, and the runner's budget."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from services.kit.testing import TestSigner
from tests.gateway.conftest import gateway, upstream  # noqa: F401 (the gateway's fixtures)

from .runner import ContractReport, run_contract

# Every scope of every service, granted to a client or not (services/auth/schemas.py
# SERVICE_SCOPES are those a client can be given): the signer puts them in a token directly.
ALL_SCOPES = tuple(
    f"{name}:{access}"
    for name in ("auth", "families", "bookings", "billing", "documents", "notifications")
    for access in ("read", "write")
)
# Generated requests per operation: the whole contract suite stays under two minutes here.
MAX_EXAMPLES = 10


def identities(signer: TestSigner, family_id: str) -> dict[str, dict[str, str]]:
    """Authorization headers: a staff member, a parent of `family_id`, a system with every scope."""
    return {
        "staff": signer.headers(
            subject=f"staff-{uuid.uuid4().hex[:6]}",
            role="staff",
            staff_roles=["agent", "administrator"],
        ),
        "family": signer.headers(subject=f"parent-{family_id}", families=[family_id]),
        "service": signer.headers(subject="municipal-system", role="service", scopes=ALL_SCOPES),
    }


async def run_against(
    client: TestClient[web.Request, web.Application],
    signer: TestSigner,
    family_id: str,
    known_ids: dict[str, str],
    **options: Any,
) -> ContractReport:
    """Schemathesis against the running app's own /openapi.json, in a thread beside its loop."""
    answer = await client.get("/openapi.json")
    assert answer.status == 200
    document = await answer.json()
    report = await asyncio.to_thread(
        run_contract,
        document,
        str(client.make_url("")).rstrip("/"),
        identities(signer, family_id),
        known_ids=known_ids,
        max_examples=options.pop("max_examples", MAX_EXAMPLES),
        **options,
    )
    name = document["info"]["title"]
    print(f"\n{name}: {report.operations} operations, {report.examples} examples")
    print(f"  statuses: {report.statuses}")
    return report


def assert_conforms(report: ContractReport, known: dict[str, str] | None = None) -> None:
    """Every operation ran its examples and none failed, except the `known` ones (with why).

    A known failure that no longer fails is only printed: the service's owner fixed it and
    the entry can go.
    """
    assert report.operations > 0
    assert report.examples >= report.operations * MAX_EXAMPLES // 2
    known = known or {}
    new = {name: message for name, message in report.failures.items() if name not in known}
    assert not new, "\n\n".join(f"{name}:\n{message}" for name, message in new.items())
    for name in sorted(set(known) - set(report.failures)):
        print(f"  known failure now passes, remove it: {name}")


async def create_family(
    families: TestClient[web.Request, web.Application], signer: TestSigner
) -> tuple[str, str]:
    """A family with one child in the families service: (family id, person id)."""
    staff = identities(signer, "none")["staff"]
    created = await families.post("/families", json={"name": "CONTRAT"}, headers=staff)
    assert created.status == 201, await created.text()
    family_id = (await created.json())["id"]
    person = await families.post(
        f"/families/{family_id}/persons",
        json={"role": "child", "first_name": "Enfant", "last_name": "CONTRAT"},
        headers=staff,
    )
    assert person.status == 201, await person.text()
    return family_id, (await person.json())["id"]


def base_url(client: TestClient[web.Request, web.Application]) -> str:
    """The address a test server listens on, without a trailing slash."""
    return str(client.make_url("")).rstrip("/")
