"""The kit's token checks: forged or misused tokens refused, family routes kept to theirs."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from cryptography.hazmat.primitives import serialization

from services.kit.identity import IDENTITY, Identity, Membership, TokenVerifier, require_family
from services.kit.problems import Forbidden, NotFound
from services.kit.testing import TestSigner


def verifier_for(signer: TestSigner) -> TokenVerifier:
    return TokenVerifier(
        issuer="portail-auth", audience="portail", jwks_json=json.dumps(signer.jwks)
    )


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def forged_tokens(signer: TestSigner) -> dict[str, str]:
    """Every way a token can be forged or misused, by name."""
    now = int(time.time())
    claims = {
        "sub": "x",
        "iss": "portail-auth",
        "aud": "portail",
        "iat": now,
        "exp": now + 60,
        "role": "staff",
    }
    other = TestSigner()
    public_key_bytes = signer.private_key.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    valid = signer.token(role="staff")
    header, _payload, signature = valid.split(".")
    tampered_payload = _b64({**claims, "role": "staff", "sub": "someone-else"})
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': signer.kid})}.{_b64(claims)}.",
        "HS256 with the public key": jwt.encode(
            claims, public_key_bytes, algorithm="HS256", headers={"kid": signer.kid}
        ),
        "expired": signer.token(role="staff", ttl=-60),
        "wrong audience": jwt.encode(
            {**claims, "aud": "elsewhere"},
            signer.private_key,
            algorithm="EdDSA",
            headers={"kid": signer.kid},
        ),
        "wrong issuer": jwt.encode(
            {**claims, "iss": "evil"},
            signer.private_key,
            algorithm="EdDSA",
            headers={"kid": signer.kid},
        ),
        "unknown key": other.token(role="staff"),
        "another key claiming our kid": jwt.encode(
            claims, other.private_key, algorithm="EdDSA", headers={"kid": signer.kid}
        ),
        "tampered payload": f"{header}.{tampered_payload}.{signature}",
        "no expiry": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"},
            signer.private_key,
            algorithm="EdDSA",
            headers={"kid": signer.kid},
        ),
        "unknown role": signer.token(role="superuser"),
        "garbage": "not.a.token",
    }


async def test_a_valid_token_gives_the_identity() -> None:
    signer = TestSigner()
    identity = await verifier_for(signer).verify(
        signer.token(families=["f1"], rights=["book"], scopes=["families:read"])
    )
    assert identity == Identity(
        subject="test-account",
        role="family",
        memberships=identity.memberships,
        scopes=frozenset({"families:read"}),
    )
    assert identity.family_ids == {"f1"}


@pytest.mark.parametrize("name", list(forged_tokens(TestSigner())))
async def test_every_forged_token_is_refused(name: str) -> None:
    signer = TestSigner()
    token = forged_tokens(signer)[name]
    with pytest.raises(jwt.PyJWTError):
        await verifier_for(signer).verify(token)


async def test_a_cached_token_still_expires() -> None:
    signer = TestSigner()
    verifier = verifier_for(signer)
    token = signer.token(ttl=1)
    assert (await verifier.verify(token)).role == "family"
    assert (await verifier.verify(token)).role == "family"  # from the cache
    await asyncio.sleep(6.5)  # past the expiry and the verifier's 5 s leeway
    with pytest.raises(jwt.ExpiredSignatureError):
        await verifier.verify(token)


async def test_a_refused_token_is_not_cached() -> None:
    signer = TestSigner()
    verifier = verifier_for(signer)
    forged = forged_tokens(signer)["another key claiming our kid"]
    for _ in range(2):
        with pytest.raises(jwt.PyJWTError):
            await verifier.verify(forged)


def _request_by(identity: Identity) -> web.Request:
    request = make_mocked_request("GET", "/families/f-1")
    request[IDENTITY] = identity
    return request


def test_a_family_route_refuses_others_as_missing_and_municipal_systems_as_forbidden() -> None:
    own = Identity(subject="p", role="family", memberships=(Membership("f-1"),))
    assert require_family(_request_by(own), "f-1") is own
    with pytest.raises(NotFound):
        require_family(_request_by(own), "f-2")
    # Whatever the family (existing or not), a municipal system is told the route is not its.
    system = Identity(subject="compta", role="service", scopes=frozenset({"bookings:read"}))
    for family_id in ("f-1", "unknown"):
        with pytest.raises(Forbidden) as refused:
            require_family(_request_by(system), family_id)
        assert "insufficient_scope" in refused.value.headers["WWW-Authenticate"]
