"""Schemathesis against the families service's own OpenAPI document (promise 29)."""

from __future__ import annotations

from services.kit.testing import TestSigner

from .conftest import assert_conforms, create_family, run_against


async def test_families_answers_generated_input_as_documented(
    service_client, signer: TestSigner
) -> None:
    families = await service_client("families")
    family_id, person_id = await create_family(families, signer)

    report = await run_against(
        families, signer, family_id, {"family_id": family_id, "person_id": person_id}
    )

    assert_conforms(report)
