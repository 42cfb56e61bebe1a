"""Schemathesis against the billing service, with the real bookings and families services
behind the real gateway for what a run reads (promise 29)."""

from __future__ import annotations

from services.kit.testing import TestSigner

from .conftest import assert_conforms, base_url, create_family, run_against


async def test_billing_answers_generated_input_as_documented(
    service_client, gateway, signer: TestSigner
) -> None:
    families = await service_client("families")
    family_id, person_id = await create_family(families, signer)
    # bookings reads families through a gateway; billing reads both through another one.
    bookings_front = await gateway({"families": base_url(families)})
    bookings = await service_client("bookings", gateway_url=base_url(bookings_front))
    front = await gateway({"families": base_url(families), "bookings": base_url(bookings)})
    billing = await service_client("billing", gateway_url=base_url(front))

    report = await run_against(
        billing, signer, family_id, {"family_id": family_id, "person_id": person_id}
    )

    assert_conforms(report)
