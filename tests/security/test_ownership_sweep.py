"""No cross-family access, swept from each service's own OpenAPI document (promise 18).

For each service: real data of two families A and B made through its API, then every
operation with an id called as A's parent with B's ids (404; 403 or 404 on staff routes),
every staff route called by parents, everything anonymously (401), and B's data read by
staff before and after must be the same. See tests/security/sweep.py and docs/security.md.
"""

from __future__ import annotations

from services.kit.testing import TestSigner
from tests.services.families.conftest import families_api

from .sweep import Target, sweep

# The caller's own data, whatever ids the caller holds: nothing of another family to reach.
OWN = "the caller's own (token subject), no id of another family to pass"


async def test_families_refuses_every_foreign_id(service_client, signer: TestSigner) -> None:
    api = await families_api(await service_client("families"), signer)
    families = {}
    for name in ("a", "b"):
        family = await api.family()
        person = await api.person(family["id"])
        request = await api.requested(
            family["id"], {"phone": "06 00 00 00 00"}, version=family["version"]
        )
        families[name] = (family["id"], person["id"], request["id"])
    family_b, person_b, request_b = families["b"]
    target = Target(
        name="families",
        client=api.client,
        staff=api.staff(),
        parent_a=api.parent(families["a"][0]),
        parent_b=api.parent(family_b),
        family_b=family_b,
        ids_b={"family_id": family_b, "person_id": person_b, "request_id": request_b},
        allowed={
            "GET /me/families": OWN,
            "GET /changes": "a family reads only its own changes (the token's families)",
        },
        reads_b=[f"/families/{family_b}/requests/{request_b}"],
    )

    await sweep(target)
