"""POST /families/names: the names of a staff list's families in one call, and to whom; and
the gateway's `calls.family_names` over it (per 200 ids, without the service)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from gateway.calls import family_names
from gateway.session import require_signed_in
from services.families.schemas import MAX_FAMILY_NAMES
from services.kit.keys import METRICS
from tests.gateway.conftest import dead_url

from .conftest import FamiliesApi
from .pages import STAFF_EMAIL, AuthWithStaff, sign_in


async def _names(api: FamiliesApi, ids: list[str], headers: dict[str, str]) -> dict[str, str]:
    response = await api.client.post("/families/names", json={"ids": ids}, headers=headers)
    assert response.status == 200, await response.text()
    return {f["id"]: f["name"] for f in (await response.json())["families"]}


async def test_staff_and_municipal_systems_read_many_names_at_once(api: FamiliesApi) -> None:
    tag = uuid.uuid4().hex[:6]
    families = [await api.family(name=f"NOM{tag}-{n}") for n in range(3)]
    ids = [f["id"] for f in families]
    expected = {f["id"]: f["name"] for f in families}

    unknown = str(uuid.uuid4())
    assert await _names(api, [*ids, unknown, ids[0]], api.staff()) == expected
    assert await _names(api, ids, api.system("families:read")) == expected
    assert await _names(api, [unknown], api.staff()) == {}
    assert await _names(api, [], api.staff()) == {}


async def test_a_family_or_a_system_without_the_scope_is_refused(api: FamiliesApi) -> None:
    own, other = await api.family(), await api.family()
    ids = {"ids": [own["id"], other["id"]]}
    for headers in (api.parent(own["id"]), api.system("bookings:read")):
        refused = await api.client.post("/families/names", json=ids, headers=headers)
        assert refused.status == 403
        assert refused.content_type == "application/problem+json"
        assert other["name"] not in await refused.text()
    anonymous = await api.client.post("/families/names", json=ids)
    assert anonymous.status == 401


async def test_more_ids_than_the_bound_or_bad_ids_answer_422(api: FamiliesApi) -> None:
    family = await api.family()
    at_bound = [family["id"]] + [str(uuid.uuid4()) for _ in range(MAX_FAMILY_NAMES - 1)]
    assert await _names(api, at_bound, api.staff()) == {family["id"]: family["name"]}

    for body in (
        {"ids": [*at_bound, str(uuid.uuid4())]},
        {"ids": ["x" * 37]},
        {"ids": [""]},
        {"ids": "un-seul"},
        {},
        {"ids": [], "more": 1},
    ):
        refused = await api.client.post("/families/names", json=body, headers=api.staff())
        assert refused.status == 422, body
        assert refused.content_type == "application/problem+json"
    too_many = await api.client.post(
        "/families/names", json={"ids": [*at_bound, "one-more"]}, headers=api.staff()
    )
    assert (await too_many.json())["errors"] == [
        {"field": "ids", "message": f"Trop d'éléments : {MAX_FAMILY_NAMES} au plus."}
    ]


def names_page(app: web.Application) -> None:
    """A test page of the gateway answering `calls.family_names` of `?ids=a,b,c`."""

    async def page(request: web.Request) -> web.Response:
        await require_signed_in(request)
        ids = request.query["ids"].split(",")
        return web.json_response(await family_names(request, ids))

    app.router.add_get("/essai-noms-de-familles", page)


async def staff_gateway(gateway: Any, upstream: Any, signer: Any, families_url: str) -> Any:
    """The gateway with `names_page`, an agent signed in, the families service at that url."""
    auth = await upstream(
        AuthWithStaff(signer, accounts={STAFF_EMAIL: []}, staff={STAFF_EMAIL}).app()
    )
    client = await gateway({"auth": auth.url, "families": families_url}, setup=names_page)
    await sign_in(client, STAFF_EMAIL)
    return client


def batches_answered(api: FamiliesApi) -> float:
    """How many `POST /families/names` the families app has answered 200 (its own metrics)."""
    metrics = api.client.app[METRICS]
    labels = {"method": "POST", "route": "/families/names", "status": "200"}
    answered = metrics.registry.get_sample_value(
        "http_requests_total", {"service": metrics.service, **labels}
    )
    return answered or 0


async def test_family_names_asks_per_200_ids_and_skips_ids_no_family_can_have(
    api: FamiliesApi, gateway: Any, upstream: Any, signer: Any
) -> None:
    families = [await api.family(name=f"NOMS-{n}") for n in range(3)]
    client = await staff_gateway(
        gateway, upstream, signer, str(api.client.make_url("")).rstrip("/")
    )
    # 200 unknown ids sort before the families' uuids ('-' < any hex digit): these come in a
    # second call. An id longer than any family's must not cost the names of its chunk.
    unknown = [f"0-{n:04d}" for n in range(MAX_FAMILY_NAMES)]
    ids = [*unknown, "x" * 40, *(f["id"] for f in families)]
    before = batches_answered(api)

    named = await client.get("/essai-noms-de-familles", params={"ids": ",".join(ids)})

    assert await named.json() == {f["id"]: f["name"] for f in families}
    assert batches_answered(api) - before == 2


async def test_family_names_without_the_families_service_names_nobody(
    gateway: Any, upstream: Any, signer: Any
) -> None:
    client = await staff_gateway(gateway, upstream, signer, dead_url())
    named = await client.get("/essai-noms-de-familles", params={"ids": str(uuid.uuid4())})
    assert named.status == 200 and await named.json() == {}
