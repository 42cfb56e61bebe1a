"""Schemathesis against the auth service's own OpenAPI document (promise 29)."""

from __future__ import annotations

from services.kit.testing import TestSigner

from .conftest import assert_conforms, base_url, create_family, run_against


async def test_auth_answers_generated_input_as_documented(
    service_client, gateway, signer: TestSigner
) -> None:
    families = await service_client("families")
    family_id, person_id = await create_family(families, signer)
    front = await gateway({"families": base_url(families)})
    auth = await service_client("auth", gateway_url=base_url(front))

    report = await run_against(
        auth, signer, family_id, {"family_id": family_id, "person_id": person_id}
    )

    assert_conforms(report)
