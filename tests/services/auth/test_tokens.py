"""Tokens: pinned algorithm, audience, issuer, expiry; forged-token matrix; rotation (13)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import select

import services.kit.identity as kit_identity
from portail.registry import SERVICE_NAMES
from portail.registry import service as registry_service
from services.auth.context import AUTH
from services.auth.models import SigningKey
from services.families.app import create_app as create_families_app
from services.families.config import FamiliesSettings
from services.families.schemas import FamilyCreate
from services.families.service import create_family
from services.kit.keys import DATABASE
from tests import support

from .conftest import active_family, sign_in, staff_headers

ADMIN = ("administrator",)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


async def families_client(aiohttp_client, service_databases, **settings: Any):  # type: ignore[no-untyped-def]
    """The real families service, trusting only what the auth service publishes."""
    if "families" not in service_databases:
        service_databases["families"] = await support.prepare_service_database("families")
    config = FamiliesSettings(
        database_url=service_databases["families"],
        redis_url=support.redis_url(),
        profile="test",
        **settings,
    )
    return await aiohttp_client(create_families_app(config))


async def a_family(client) -> str:  # type: ignore[no-untyped-def]
    async with client.app[DATABASE].transaction() as session:
        family = await create_family(session, data=FamilyCreate(name="ROTATION"))
    return family.id


def forged_tokens(
    valid: str, private_key: Ed25519PrivateKey, kid: str, public_jwk: dict
) -> dict[str, str]:
    """Every way we know of to make a token our verifier must refuse."""
    claims = jwt.decode(valid, options={"verify_signature": False})
    now = int(time.time())
    sign: Callable[..., str] = lambda c, **h: jwt.encode(  # noqa: E731
        c, private_key, algorithm="EdDSA", headers={"kid": kid, **h}
    )
    header_b64, _, signature_b64 = valid.split(".")
    raised = {**claims, "role": "staff", "staff_roles": ["administrator"]}
    public_bytes = base64.urlsafe_b64decode(public_jwk["x"] + "==")
    hs_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": kid}, raised)
    rsa_key = generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "alg=none": _unsigned({"alg": "none", "typ": "JWT", "kid": kid}, raised) + ".",
        "alg=None signature kept": _unsigned({"alg": "None", "kid": kid}, raised)
        + "."
        + signature_b64,
        "HS256 keyed with the public key": hs_input
        + "."
        + _b64(hmac.new(public_bytes, hs_input.encode(), hashlib.sha256).digest()),
        "HS256 keyed with the JWK text": hs_input
        + "."
        + _b64(
            hmac.new(json.dumps(public_jwk).encode(), hs_input.encode(), hashlib.sha256).digest()
        ),
        "RS256 with an attacker key": jwt.encode(
            raised, rsa_key, algorithm="RS256", headers={"kid": kid}
        ),
        "expired": sign({**claims, "iat": now - 3600, "exp": now - 600}),
        "wrong audience": sign({**claims, "aud": "another-app"}),
        "wrong issuer": sign({**claims, "iss": "https://evil.example"}),
        "no expiry": sign({k: v for k, v in claims.items() if k != "exp"}),
        "unknown kid": jwt.encode(
            claims,
            Ed25519PrivateKey.generate(),
            algorithm="EdDSA",
            headers={"kid": uuid.uuid4().hex},
        ),
        "right kid, another key": jwt.encode(
            raised, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
        ),
        "tampered payload": f"{header_b64}.{_b64(json.dumps(raised).encode())}.{signature_b64}",
        "unknown role": sign({**claims, "role": "superuser"}),
        "garbage": "not.a.token",
    }


async def test_the_forged_token_matrix_is_refused_by_auth_and_by_families(
    auth_client, signer, aiohttp_client, service_databases
) -> None:
    auth = await auth_client()
    jwks = await (await auth.get("/.well-known/jwks.json")).json()
    families = await families_client(aiohttp_client, service_databases, jwks_json=json.dumps(jwks))
    family_id = await a_family(families)
    parent = await active_family(auth, signer, family_id=family_id)
    key = await auth.app[AUTH].keyring.signing_key()
    forged = forged_tokens(parent["token"], key.private_key, key.kid, key.public_jwk)

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # Control: the genuine token is accepted by both, so a refusal below means something.
    assert (await auth.get("/accounts/me", headers=bearer(parent["token"]))).status == 200
    assert (
        await families.get(f"/families/{family_id}", headers=bearer(parent["token"]))
    ).status == 200
    accepted = []
    for name, token in forged.items():
        for service, path in ((auth, "/accounts/me"), (families, f"/families/{family_id}")):
            response = await service.get(path, headers=bearer(token))
            if response.status != 401:
                accepted.append((name, path, response.status))
    assert accepted == [], accepted
    assert len(forged) * 2 == 28  # 14 forgeries x 2 services, 100 % refused


async def test_jwks_publishes_ed25519_public_keys_only(auth_client) -> None:
    client = await auth_client()
    document = await (await client.get("/.well-known/jwks.json")).json()
    assert document["keys"]
    for key in document["keys"]:
        assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["alg"] == "EdDSA"
        assert "d" not in key  # never the private half


async def test_signing_keys_are_encrypted_at_rest_and_a_wrong_key_stops_the_start(
    auth_client,
) -> None:
    client = await auth_client()
    async with client.app[DATABASE].sessions() as session:
        row = (await session.scalars(select(SigningKey))).first()
    key = await client.app[AUTH].keyring.signing_key()
    raw = key.private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert raw not in row.private_key_enc
    with pytest.raises(Exception, match="AUTH_KEY_ENCRYPTION_KEY"):
        await auth_client(key_encryption_key="another-key-encryption-key-0123456789")


@pytest.fixture
def fast_jwks_refresh(monkeypatch: pytest.MonkeyPatch) -> float:
    """Verifiers may refetch the JWKS every second instead of 30: the test runs at 1/30 scale."""
    monkeypatch.setattr(kit_identity, "JWKS_REFRESH_INTERVAL_SECONDS", 1.0)
    return 1.0


async def _rotation_run(
    auth_client, signer, aiohttp_client, service_databases, *, delay: float
) -> tuple[list[int], set[str], set[str]]:
    """Statuses, the kids that signed, and the two that must have: the key before the
    rotation and the rotation's. (The database is shared with other auth tests: a key another
    test rotated in with the default delay may come into force during the run too.)"""
    auth = await auth_client(key_activation_delay_seconds=delay)
    jwks_url = str(auth.make_url("/.well-known/jwks.json"))
    families = await families_client(
        aiohttp_client, service_databases, jwks_url=jwks_url, jwks_json=""
    )
    family_id = await a_family(families)
    parent = await active_family(auth, signer, family_id=family_id)
    statuses: list[int] = []
    kids: set[str] = set()

    async def one_round(token: str) -> None:
        kids.add(jwt.get_unverified_header(token)["kid"])
        response = await families.get(
            f"/families/{family_id}", headers={"Authorization": f"Bearer {token}"}
        )
        statuses.append(response.status)

    await one_round(parent["token"])  # the families service fetches the JWKS once, now
    rotated = await auth.post("/keys/rotate", headers=staff_headers(signer, *ADMIN))
    assert rotated.status == 201
    expected = {jwt.get_unverified_header(parent["token"])["kid"], (await rotated.json())["kid"]}
    deadline = time.monotonic() + delay + 2.5
    while time.monotonic() < deadline:
        refreshed = await auth.post(
            "/sessions/refresh", headers={"X-Session-Token": parent["session_token"]}
        )
        await one_round((await refreshed.json())["token"])
        await one_round(parent["token"])  # tokens of the previous key stay valid
        await asyncio.sleep(0.05)
    return statuses, kids, expected


async def test_key_rotation_fails_no_request(
    auth_client, signer, aiohttp_client, service_databases, fast_jwks_refresh
) -> None:
    # The activation delay exceeds the verifiers' refresh interval (60 s vs 30 s by default).
    statuses, kids, expected = await _rotation_run(
        auth_client, signer, aiohttp_client, service_databases, delay=fast_jwks_refresh * 1.5
    )
    assert expected <= kids, "the new key must have signed during the run"
    assert set(statuses) == {200}, statuses
    assert len(statuses) > 20


async def test_without_the_activation_delay_a_rotation_would_fail_requests(
    auth_client, signer, aiohttp_client, service_databases, fast_jwks_refresh
) -> None:
    # Control for the test above: signing with a key the verifiers may not fetch yet fails.
    statuses, kids, expected = await _rotation_run(
        auth_client, signer, aiohttp_client, service_databases, delay=0
    )
    assert expected <= kids
    assert 401 in statuses


async def test_only_administrators_rotate_keys(auth_client, signer) -> None:
    client = await auth_client()
    agent = await client.post("/keys/rotate", headers=staff_headers(signer, "agent"))
    parent = await client.post("/keys/rotate", headers=signer.headers(families=["f"]))
    assert (agent.status, parent.status) == (403, 403)


async def test_tokens_are_short_lived_and_carry_our_claims(auth_client, signer) -> None:
    client = await auth_client()
    parent = await active_family(client, signer, family_id="fam-claims")
    header = jwt.get_unverified_header(parent["token"])
    claims = jwt.decode(parent["token"], options={"verify_signature": False})
    assert header["alg"] == "EdDSA" and header["kid"]
    assert claims["iss"] == "portail-auth" and claims["aud"] == "portail"
    assert claims["exp"] - claims["iat"] == 300
    assert {"sub", "role", "fam", "scope", "sid", "jti"} <= set(claims)
    again = await sign_in(client, parent["email"], parent["password"])
    assert (
        jwt.decode((await again.json())["token"], options={"verify_signature": False})["jti"]
        != claims["jti"]
    )


SERVICE_EXTRA_SETTINGS: dict[str, dict[str, Any]] = {"documents": {"s3_create_bucket": False}}


@pytest.mark.parametrize("name", [n for n in SERVICE_NAMES if n != "auth"])
async def test_every_service_refuses_the_forged_token_matrix(
    name, auth_client, signer, aiohttp_client, service_databases
) -> None:
    auth = await auth_client()
    jwks = json.dumps(await (await auth.get("/.well-known/jwks.json")).json())
    if name not in service_databases:
        service_databases[name] = await support.prepare_service_database(name)
    entry = registry_service(name)
    settings = entry.settings_class()(
        database_url=service_databases[name],
        redis_url=support.redis_url(),
        profile="test",
        jwks_json=jwks,
        **SERVICE_EXTRA_SETTINGS.get(name, {}),
    )
    module = __import__(f"{entry.package}.app", fromlist=["create_app"])
    client = await aiohttp_client(module.create_app(settings))
    parent = await active_family(auth, signer)
    key = await auth.app[AUTH].keyring.signing_key()
    forged = forged_tokens(parent["token"], key.private_key, key.kid, key.public_jwk)
    # The kit verifies any bearer token before routing: the OpenAPI document is enough to ask.
    genuine = await client.get(
        "/openapi.json", headers={"Authorization": f"Bearer {parent['token']}"}
    )
    assert genuine.status == 200
    accepted = []
    for forgery, token in forged.items():
        response = await client.get("/openapi.json", headers={"Authorization": f"Bearer {token}"})
        if response.status != 401:
            accepted.append((forgery, response.status))
    assert accepted == []
