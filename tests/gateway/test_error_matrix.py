"""Every error the gateway itself answers carries the security headers; API callers get
problem+json, people get a French page (promise 28, issue 2's bad input)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gateway.errors import PAGE_ERRORS

from .conftest import echo_app

ONE_REQUEST_A_MINUTE = {
    "buckets": {"default": {"window": 60, "per_ip": 1, "per_identity": 1, "fail_open": True}},
    "rules": [],
}
# (method, path, body): what makes the gateway answer each status, on the API and on pages.
CASES = {
    # A NUL in an id: no service can store it, and a page would have met the service's 400.
    (400, "api"): ("GET", "/api/families/families/%00", None),
    (400, "page"): ("GET", "/agents/familles/%00", None),
    (404, "api"): ("GET", "/api/nothing-here", None),
    (404, "page"): ("GET", "/nulle-part", None),
    (405, "api"): ("DELETE", "/readyz", None),
    (405, "page"): ("DELETE", "/connexion", None),
    (413, "api"): ("POST", "/api/families/families", b"x" * 70_000),
    (413, "page"): ("POST", "/connexion", b"x" * 70_000),
    (429, "api"): ("GET", "/api/families/families", None),
    (429, "page"): ("GET", "/connexion", None),
}


@pytest.fixture
def one_a_minute(tmp_path: Path) -> Path:
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(ONE_REQUEST_A_MINUTE))
    return path


@pytest.mark.parametrize(("status", "kind"), sorted(CASES))
async def test_errors_carry_security_headers_and_speak_to_their_caller(
    gateway, upstream, one_a_minute: Path, status: int, kind: str
) -> None:
    families = await upstream(echo_app())
    client = await gateway(
        {"families": families.url},
        public_base_url="https://portail.example.fr",  # HSTS on, as in prod
        **({"rate_limits_file": one_a_minute} if status == 429 else {}),
    )
    method, path, body = CASES[(status, kind)]
    if status == 429:
        await client.request(method, path)  # the minute's one request

    response = await client.request(method, path, data=body)

    assert response.status == status
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "max-age=" in headers["Strict-Transport-Security"]
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Cache-Control"] == "no-store"
    if status == 429:
        assert int(headers["Retry-After"]) > 0
    if kind == "api":
        assert response.content_type == "application/problem+json"
        problem = await response.json()
        assert problem["status"] == status
        assert problem["detail"]
    else:
        assert response.content_type == "text/html"
        page = await response.text()
        assert '<html lang="fr"' in page
        assert PAGE_ERRORS[status][0].replace("'", "&#39;") in page


async def test_the_api_root_lists_each_service_s_document_with_or_without_its_slash(
    gateway, upstream
) -> None:
    families = await upstream(echo_app())
    client = await gateway({"families": families.url})

    with_slash = await client.get("/api/")
    without_slash = await client.get("/api")

    assert with_slash.status == without_slash.status == 200
    index = await with_slash.json()
    assert index == await without_slash.json()
    assert index["services"]["families"]["openapi"].endswith("/api/families/openapi.json")
    assert set(index["services"]) == {
        "auth", "families", "bookings", "billing", "documents", "notifications"
    }  # fmt: skip
    assert index["token"]["url"].endswith("/api/auth/oauth/token")
    # The API's own headers, not a page's.
    assert (
        without_slash.headers["Content-Security-Policy"]
        == with_slash.headers["Content-Security-Policy"]
    )
    unknown = await client.get("/api/nothing-here")
    assert unknown.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("window", "said"),
    # A second may pass between the two requests: 59 s is still « secondes », 899 s 15 minutes.
    [(60, "secondes."), (900, "dans 15 minutes."), (3600, "dans 60 minutes.")],
)
async def test_the_wait_of_a_refused_page_is_said_in_minutes_past_two(
    gateway, upstream, tmp_path: Path, window: int, said: str
) -> None:
    """« Vous pourrez réessayer dans 891 secondes » asked people to count."""
    limits = tmp_path / "limits.yaml"
    bucket = {"window": window, "per_ip": 1, "per_identity": 1, "fail_open": True}
    limits.write_text(yaml.safe_dump({"buckets": {"default": bucket}, "rules": []}))
    families = await upstream(echo_app())
    client = await gateway({"families": families.url}, rate_limits_file=limits)
    await client.get("/connexion")  # the window's one request

    refused = await client.get("/connexion")

    assert refused.status == 429
    assert window - 2 <= int(refused.headers["Retry-After"]) <= window
    page = await refused.text()
    assert said in page and ("minutes" in said) == ("minutes" in page), page[-800:]
