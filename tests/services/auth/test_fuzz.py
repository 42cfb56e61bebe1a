"""Generated input on the anonymous endpoints: always a 4xx problem or a success, never a 500."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ENDPOINTS = {
    "/sessions": ("email", "password", "totp_code"),
    "/invitations/check": ("token",),
    "/invitations/accept": ("token", "password"),
    "/invitations/renew": ("token",),
    "/password-resets": ("email",),
    "/password-resets/check": ("token",),
    "/password-resets/confirm": ("token", "password"),
    "/password-rule": ("password", "email"),
    "/oauth/token": ("grant_type", "client_id", "client_secret", "scope"),
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=8,
)


def bodies(fields: tuple[str, ...]):  # type: ignore[no-untyped-def]
    """Objects with the endpoint's field names (some missing, some extra) and any JSON values."""
    keys = st.sampled_from([*fields, "extra", ""])
    return st.dictionaries(keys, JSON_VALUES, max_size=len(fields) + 1) | JSON_VALUES


def generated(fields: tuple[str, ...]) -> list[str]:
    """Hypothesis's examples for one endpoint, as JSON texts (sent afterwards, async)."""
    examples: list[str] = []

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(body=bodies(fields))
    def collect(body: object) -> None:
        examples.append(json.dumps(body))

    collect()
    return examples


async def test_generated_bodies_never_make_the_service_fail(auth_client) -> None:
    client = await auth_client()
    failures: list[tuple[str, str, int]] = []
    for path, fields in ENDPOINTS.items():
        for raw in generated(fields):
            response = await client.post(
                path,
                data=raw.encode(),
                headers={"Content-Type": "application/json", "X-Forwarded-For": "192.0.2.77"},
            )
            if response.status >= 500:
                failures.append((path, raw[:200], response.status))
            elif response.status >= 400:
                assert response.headers["Content-Type"].startswith("application/problem+json")
    assert failures == []
