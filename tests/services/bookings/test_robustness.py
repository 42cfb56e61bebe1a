"""Every documented operation, called with odd ids, odd queries and odd bodies: never a 5xx."""

from __future__ import annotations

import re

from services.kit.testing import TestSigner

from .conftest import ContractStandIn
from .factories import catalogue, staff

ODD_IDS = ["x" * 200, "%00", "é", "0", "..", " "]
ODD_BODIES = [
    None,
    {},
    [],
    {"capacity": -1},
    {"name": "x" * 5000},
    {"name": "a\x00b"},
    {"reason": "a\x00"},
    {"reason": None},
    "texte",
]
ODD_QUERIES = [
    {"since": "hier"},
    {"limit": "0"},
    {"limit": "100000"},
    {"starts_on": "2027-02-30"},
    {"state": "perdue"},
    {"school_year": "x" * 300},
    {"unknown": "1"},
]


async def test_odd_input_never_breaks_the_service(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    document = await (await bookings.get("/openapi.json")).json()
    callers = [staff(signer), signer.headers(families=["x" * 200])]
    failures = []
    for path, operations in document["paths"].items():
        for method in operations:
            for odd in ODD_IDS:
                concrete = re.sub(r"\{[^}]+\}", odd.replace("/", ""), path)
                for headers in callers:
                    for body in ODD_BODIES if method != "get" else [None]:
                        kwargs = {"json": body} if body is not None else {}
                        response = await bookings.request(
                            method.upper(), concrete, headers=headers, **kwargs
                        )
                        if response.status >= 500:
                            failures.append((method, concrete[:60], body, response.status))
            if method == "get":
                for query in ODD_QUERIES:
                    concrete = re.sub(r"\{[^}]+\}", activity["id"], path)
                    response = await bookings.get(concrete, params=query, headers=callers[0])
                    if response.status >= 500:
                        failures.append((method, concrete, query, response.status))
    assert failures == [], sorted(set((m, p, s) for m, p, _, s in failures))
    assert period["id"]


async def test_nul_characters_in_valid_requests_are_bad_input(
    bookings, signer: TestSigner, stand_in: ContractStandIn
) -> None:
    activity, period = await catalogue(bookings, signer)
    family_id = "famille-nul"
    response = await bookings.post(
        f"/families/{family_id}/registrations",
        json={"person_id": "a\x00", "activity_id": activity["id"], "period_id": period["id"]},
        headers=signer.headers(families=[family_id]),
    )
    # Refused as bad input, by the kit's body reader (400) or by our schemas (422).
    assert response.status in (400, 422)
    renamed = await bookings.patch(
        f"/activities/{activity['id']}", json={"description": "x\x00"}, headers=staff(signer)
    )
    assert renamed.status in (400, 422)
    filtered = await bookings.get(
        f"/families/{family_id}/registrations",
        params={"person_id": "\x00"},
        headers=signer.headers(families=[family_id]),
    )
    assert filtered.status in (400, 422)
