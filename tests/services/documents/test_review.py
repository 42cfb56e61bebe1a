"""Staff accept or refuse; events leave with the decision; validity expires; completeness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from services.documents.models import OutboxMessage, Submission
from services.documents.service import today_in_paris
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from . import files
from .api import create_type, new_family, parent, staff, upload


async def _send(documents, signer, family, type_id, person_id=None) -> dict:
    response = await upload(
        documents, parent(signer, family), family, type_id, [("doc.pdf", files.pdf())], person_id
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def _events(documents) -> list[dict]:
    async with documents.app[DATABASE].sessions() as session:
        rows = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.occurred_at))
        return [row.message for row in rows]


async def test_staff_see_the_queue_and_accept_with_the_type_validity(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer, name="Attestation CAF", validity_days=365)
    sent = await _send(documents, signer, family, kind["id"])

    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert [s["id"] for s in queue["items"]] == [sent["id"]]
    accepted = await documents.post(
        f"/submissions/{sent['id']}/accept", json={}, headers=staff(signer)
    )

    assert accepted.status == 200, await accepted.text()
    body = await accepted.json()
    assert body["state"] == "accepted"
    assert body["valid_until"] == (today_in_paris() + timedelta(days=365)).isoformat()
    queue = await (await documents.get("/review/submissions", headers=staff(signer))).json()
    assert queue["items"] == []
    events = await _events(documents)
    assert [e["type"] for e in events] == ["document.submitted", "document.accepted"]
    assert events[1]["family_id"] == family
    assert events[1]["data"]["document_type_name"] == "Attestation CAF"


async def test_refusal_carries_its_reason_to_the_family_and_the_event(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    sent = await _send(documents, signer, family, kind["id"])
    reason = "Le document est illisible : merci de le scanner à nouveau."

    refused = await documents.post(
        f"/submissions/{sent['id']}/refuse", json={"reason": reason}, headers=staff(signer)
    )

    assert refused.status == 200
    listed = await (
        await documents.get(f"/families/{family}/documents", headers=parent(signer, family))
    ).json()
    item = next(d for d in listed["family"] if d["document_type_id"] == kind["id"])
    assert (item["state"], item["state_label"], item["refusal_reason"]) == (
        "refused",
        "Refusé",
        reason,
    )
    refused_event = (await _events(documents))[-1]
    assert refused_event["type"] == "document.refused"
    assert refused_event["data"]["reason"] == reason


async def test_a_decision_is_taken_once(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer)
    sent = await _send(documents, signer, family, kind["id"])
    await documents.post(f"/submissions/{sent['id']}/accept", json={}, headers=staff(signer))

    again = await documents.post(
        f"/submissions/{sent['id']}/refuse", json={"reason": "trop tard"}, headers=staff(signer)
    )
    blank = await documents.post(
        f"/submissions/{sent['id']}/refuse", json={"reason": "   "}, headers=staff(signer)
    )

    assert again.status == 409
    assert "déjà été traité" in (await again.json())["detail"]
    assert blank.status == 422
    assert len(await _events(documents)) == 2  # submitted, accepted: nothing from the refusals


async def test_validity_runs_out_expiring_then_expired(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer, mandatory=True, all_activities=True)
    sent = await _send(documents, signer, family, kind["id"])
    soon = today_in_paris() + timedelta(days=10)
    await documents.post(
        f"/submissions/{sent['id']}/accept",
        json={"valid_until": soon.isoformat()},
        headers=staff(signer),
    )

    async def state() -> str:
        listed = await (
            await documents.get(f"/families/{family}/documents", headers=parent(signer, family))
        ).json()
        return next(
            d["state_label"] for d in listed["family"] if d["document_type_id"] == kind["id"]
        )

    async def complete() -> bool:
        response = await documents.get(
            f"/families/{family}/completeness",
            params={"activity_id": "alsh"},
            headers=parent(signer, family),
        )
        return bool((await response.json())["complete"])

    assert await state() == "Expire bientôt"
    assert await complete() is True
    async with documents.app[DATABASE].transaction() as session:
        await session.execute(
            update(Submission)
            .where(Submission.id == sent["id"])
            .values(valid_until=today_in_paris() - timedelta(days=1))
        )
    assert await state() == "Expiré"
    assert await complete() is False


async def test_completeness_names_what_blocks_a_child_for_an_activity(
    documents, members, signer: TestSigner
) -> None:
    _, directory = members
    family = new_family()
    child = directory.add(family, "Enfant")
    vaccins = await create_type(
        documents, signer, name="Vaccins", concerns="child", mandatory=True, all_activities=True
    )
    assurance = await create_type(
        documents, signer, name="Assurance", mandatory=True, activity_ids=["alsh"]
    )
    await create_type(documents, signer, name="Facultatif", all_activities=True)
    await create_type(
        documents, signer, name="Cantine seulement", mandatory=True, activity_ids=["cantine"]
    )
    headers = parent(signer, family)

    async def check(activity: str) -> dict:
        response = await documents.get(
            f"/families/{family}/completeness",
            params={"person_id": child, "activity_id": activity},
            headers=headers,
        )
        assert response.status == 200
        return dict(await response.json())

    before = await check("alsh")
    assert before["complete"] is False
    assert {(m["name"], m["state"]) for m in before["missing"]} == {
        ("Vaccins", "missing"),
        ("Assurance", "missing"),
    }
    assert set(before["missing"][0]) >= {"document_type_id", "name"}

    pending = await _send(documents, signer, family, vaccins["id"], child)
    assert {m["state"] for m in (await check("alsh"))["missing"]} == {"pending", "missing"}
    await documents.post(f"/submissions/{pending['id']}/accept", json={}, headers=staff(signer))
    insured = await _send(documents, signer, family, assurance["id"])
    await documents.post(f"/submissions/{insured['id']}/accept", json={}, headers=staff(signer))

    assert await check("alsh") == {"complete": True, "missing": []}
    assert [m["name"] for m in (await check("cantine"))["missing"]] == ["Cantine seulement"]


async def test_a_municipal_system_with_the_scope_may_ask_completeness(
    documents, signer: TestSigner
) -> None:
    family = new_family()
    allowed = await documents.get(
        f"/families/{family}/completeness",
        headers=signer.headers(role="service", scopes=["documents:read"]),
    )
    refused = await documents.get(
        f"/families/{family}/completeness", headers=signer.headers(role="service")
    )
    assert allowed.status == 200
    # Without it, 403 and why (the route is not the system's), never the family's answer.
    assert refused.status == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


async def test_a_new_acceptance_makes_the_old_copy_purgeable(documents, signer: TestSigner) -> None:
    family = new_family()
    kind = await create_type(documents, signer, validity_days=30)
    first = await _send(documents, signer, family, kind["id"])
    await documents.post(f"/submissions/{first['id']}/accept", json={}, headers=staff(signer))
    second = await _send(documents, signer, family, kind["id"])
    await documents.post(f"/submissions/{second['id']}/accept", json={}, headers=staff(signer))

    async with documents.app[DATABASE].sessions() as session:
        old = await session.get(Submission, first["id"])
        new = await session.get(Submission, second["id"])
    assert old is not None and new is not None and old.purge_after and new.purge_after
    assert old.purge_after < new.purge_after
