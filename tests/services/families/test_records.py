"""Staff and municipal systems: create, edit, search, two households, the changes feed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.families.models import Family
from services.kit.keys import DATABASE

from .conftest import FamiliesApi


async def test_staff_search_finds_families_by_name_child_and_email(api: FamiliesApi) -> None:
    tag = uuid.uuid4().hex[:6]
    family = await api.family(name=f"DUPONT-{tag}", email=f"parent-{tag}@exemple.fr")
    await api.person(family["id"], first_name="Hugo", last_name=f"Enfant{tag}")
    await api.family(name=f"AUTRE-{tag}x")

    async def found(q: str) -> list[str]:
        response = await api.client.get("/staff/families", params={"q": q}, headers=api.staff())
        assert response.status == 200
        return [item["id"] for item in (await response.json())["items"]]

    assert await found(f"dupont-{tag}") == [family["id"]]
    assert await found(f"hugo enfant{tag}") == [family["id"]]
    assert await found(f"parent-{tag}@exemple") == [family["id"]]
    assert await found(f"{tag}%") == []  # a wildcard is searched literally
    page = await (await api.client.get(f"/staff/families?q={tag}", headers=api.staff())).json()
    assert page["total"] == 2
    line = next(item for item in page["items"] if item["id"] == family["id"])
    assert line["children"] == [f"Hugo Enfant{tag}"] and line["persons_count"] == 1


async def test_search_pages_through_results(api: FamiliesApi) -> None:
    tag = uuid.uuid4().hex[:6]
    for i in range(3):
        await api.family(name=f"PAGE{tag}-{i}")
    first = await (
        await api.client.get(f"/staff/families?q=PAGE{tag}&size=2", headers=api.staff())
    ).json()
    second = await (
        await api.client.get(f"/staff/families?q=PAGE{tag}&size=2&page=2", headers=api.staff())
    ).json()
    assert first["total"] == 3
    assert [i["name"] for i in first["items"] + second["items"]] == [
        f"PAGE{tag}-0", f"PAGE{tag}-1", f"PAGE{tag}-2",
    ]  # fmt: skip


async def test_a_child_can_belong_to_two_households(api: FamiliesApi) -> None:
    mother = await api.family(name="MERE")
    father = await api.family(name="PERE")
    child = await api.person(mother["id"], birth_date="2018-04-01")
    linked = await api.client.post(
        f"/families/{father['id']}/members", json={"person_id": child["id"]}, headers=api.staff()
    )
    assert linked.status == 200
    for family in (mother, father):
        fid = family["id"]
        seen = await api.client.get(
            f"/families/{fid}/persons/{child['id']}", headers=api.parent(fid)
        )
        assert seen.status == 200
        assert (await seen.json())["birth_date"] == "2018-04-01"
    dashboard = await api.client.get(f"/dashboard/{father['id']}", headers=api.parent(father["id"]))
    assert await dashboard.json() == {"famille": {"count": 1}}


async def test_staff_edit_with_a_stale_version_is_refused(api: FamiliesApi) -> None:
    family = await api.family()
    url = f"/families/{family['id']}"
    first = await api.client.patch(url, json={"version": 1, "city": "Pau"}, headers=api.staff())
    second = await api.client.patch(url, json={"version": 1, "city": "Dax"}, headers=api.staff())
    assert first.status == 200
    assert second.status == 409
    assert (await api.read_family(family["id"]))["city"] == "Pau"


async def test_staff_set_the_quotient_with_its_evidence(api: FamiliesApi) -> None:
    family = await api.family()
    response = await api.client.put(
        f"/families/{family['id']}/quotient",
        json={
            "version": 1,
            "quotient": 620,
            "quotient_date": "2026-01-10",
            "quotient_source": "CAF",
        },
        headers=api.staff(),
    )
    assert response.status == 200, await response.text()
    record = await api.read_family(family["id"])
    assert (record["quotient"], record["quotient_date"], record["quotient_source"]) == (
        620, "2026-01-10", "CAF",
    )  # fmt: skip
    mine = await (
        await api.client.get(f"/families/{family['id']}", headers=api.parent(family["id"]))
    ).json()
    assert mine["quotient"] == 620  # families read it, never write it


async def test_the_billing_contact_must_be_a_member(api: FamiliesApi) -> None:
    family = await api.family()
    other = await api.family()
    stranger = await api.person(other["id"], role="responsable")
    parent = await api.person(family["id"], role="responsable")
    url = f"/families/{family['id']}"
    refused = await api.client.patch(
        url, json={"version": 1, "billing_person_id": stranger["id"]}, headers=api.staff()
    )
    assert refused.status == 422
    accepted = await api.client.patch(
        url, json={"version": 1, "billing_person_id": parent["id"]}, headers=api.staff()
    )
    assert accepted.status == 200


async def test_a_municipal_import_creates_and_updates_then_reads_the_changes(
    api: FamiliesApi,
) -> None:
    since = datetime.now(UTC) - timedelta(seconds=1)
    system = api.system("families:write")
    created = await api.client.post(
        "/families",
        json={"name": "IMPORT", "postal_code": "64100", "city": "Bayonne"},
        headers=system,
    )
    assert created.status == 201
    family = await created.json()
    person = await api.client.post(
        f"/families/{family['id']}/persons",
        json={"role": "responsable", "first_name": "Ana", "last_name": "Import",
              "phone_mobile": "0611223344"},
        headers=system,
    )  # fmt: skip
    assert person.status == 201
    person_id = (await person.json())["id"]
    patched = await api.client.patch(
        f"/families/{family['id']}/persons/{person_id}",
        json={"version": 1, "email": "ana@exemple.fr"},
        headers=system,
    )
    assert patched.status == 200

    feed = await api.client.get(
        "/changes", params={"since": since.isoformat()}, headers=api.system("families:read")
    )
    assert feed.status == 200, await feed.text()
    body = await feed.json()
    assert family["id"] in [f["id"] for f in body["families"]]
    changed = next(p for p in body["persons"] if p["id"] == person_id)
    assert changed["family_ids"] == [family["id"]]
    assert changed["email"] == "ana@exemple.fr" and changed["version"] == 2

    later = await api.client.get(
        "/changes",
        params={"since": (datetime.now(UTC) + timedelta(minutes=1)).isoformat()},
        headers=api.system("families:read"),
    )
    assert (await later.json())["families"] == []


async def _feed(api: FamiliesApi, since: datetime, limit: int) -> tuple[list[str], int]:
    """Every family id of the feed from `since`, following cursors; and how many calls."""
    seen: list[str] = []
    params = {"since": since.isoformat(), "limit": str(limit)}
    for calls in range(1, 1000):
        response = await api.client.get("/changes", params=params, headers=api.staff())
        assert response.status == 200, await response.text()
        body = await response.json()
        assert len(body["families"]) + len(body["persons"]) <= limit
        seen += [f["id"] for f in body["families"]]
        if body["next_cursor"] is None:
            return seen, calls
        params = {"cursor": body["next_cursor"], "limit": str(limit)}
    raise AssertionError("the feed never ended")


async def test_the_changes_feed_pages_with_a_cursor(api: FamiliesApi) -> None:
    since = datetime.now(UTC)
    made = [(await api.family())["id"] for _ in range(3)]
    seen, calls = await _feed(api, since, limit=2)
    assert set(made) <= set(seen)
    assert len(seen) == len(set(seen))  # each record once
    assert calls >= 2


async def test_the_feed_goes_past_many_records_sharing_one_timestamp(api: FamiliesApi) -> None:
    same = datetime.now(UTC) + timedelta(days=365)  # alone at that instant
    ids = [str(uuid.uuid4()) for _ in range(5)]
    async with api.client.app[DATABASE].transaction() as session:
        for family_id in ids:
            session.add(Family(id=family_id, name="SEED", status="active", created_at=same,
                               updated_at=same))  # fmt: skip
    seen, _calls = await _feed(api, same, limit=2)
    assert sorted(seen) == sorted(ids)


async def test_a_bad_cursor_is_a_field_error(api: FamiliesApi) -> None:
    response = await api.client.get("/changes", params={"cursor": "!!"}, headers=api.staff())
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "cursor"


async def test_the_changes_feed_wants_an_aware_date(api: FamiliesApi) -> None:
    response = await api.client.get(
        "/changes", params={"since": "2026-01-01T00:00:00"}, headers=api.staff()
    )
    assert response.status == 422


async def test_the_changes_feed_refuses_a_page_over_500_records(api: FamiliesApi) -> None:
    since = "2026-01-01T00:00:00Z"
    largest = await api.client.get(
        "/changes", params={"since": since, "limit": "500"}, headers=api.staff()
    )
    too_large = await api.client.get(
        "/changes", params={"since": since, "limit": "501"}, headers=api.staff()
    )

    assert largest.status == 200
    assert too_large.status == 422
    assert too_large.content_type == "application/problem+json"
    assert [e["field"] for e in (await too_large.json())["errors"]] == ["limit"]
    document = await (await api.client.get("/openapi.json")).json()
    parameters = document["paths"]["/changes"]["get"]["parameters"]
    limit = next(p for p in parameters if p["name"] == "limit")
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 500, "default": 200}


async def test_the_openapi_document_describes_every_route(api: FamiliesApi) -> None:
    document = await (await api.client.get("/openapi.json")).json()
    for path in (
        "/families/{family_id}/persons/{person_id}",
        "/families/{family_id}/requests",
        "/families/{family_id}/requests/{request_id}/withdraw",
        "/families/{family_id}/export",
        "/staff/requests/{request_id}/accept",
        "/staff/policy",
        "/changes",
    ):
        assert path in document["paths"], path
    assert "ChangeRequestCreate" in document["components"]["schemas"]


async def test_my_families_lists_the_accounts_households(api: FamiliesApi) -> None:
    family = await api.family(name="MOI")
    await api.person(family["id"])
    mine = await (await api.client.get("/me/families", headers=api.parent(family["id"]))).json()
    assert mine == [{"id": family["id"], "name": "MOI", "persons_count": 1}]
