"""`portail create-staff`, `invite-family`, `create-api-client`, `rotate-keys` on real auth."""

from __future__ import annotations

import asyncio
import io
import re
import uuid

import aiohttp
import pytest
from sqlalchemy import func, select

from portail import demo
from portail.cli import main
from portail.devstack.layout import DevPorts, VarLayout
from portail.devstack.plan import Portal
from portail.devstack.seeding import seed_all
from portail.registry import ROOT
from services.auth.context import AUTH
from services.auth.models import Account
from services.auth.seed import seed
from services.families.models import Family
from services.kit.database import Database
from services.kit.migrations import upgrade
from services.kit.outbox import utcnow
from tests import support

from .conftest import KEK, PUBLIC_BASE_URL, sign_in, unique_email

MIGRATIONS_OF = {name: ROOT / "services" / name / "migrations" for name in ("auth", "families")}


@pytest.fixture
def auth_env(monkeypatch: pytest.MonkeyPatch, service_databases: dict[str, str]) -> None:
    for name in ("auth", "families"):
        if name not in service_databases:
            service_databases[name] = asyncio.run(support.prepare_service_database(name))
    monkeypatch.setenv("AUTH_DATABASE_URL", service_databases["auth"])
    # invite-family reads the families service's database, configured as that service's.
    monkeypatch.setenv("FAMILIES_DATABASE_URL", service_databases["families"])
    monkeypatch.setenv("REDIS_URL", support.redis_url())
    monkeypatch.setenv("AUTH_KEY_ENCRYPTION_KEY", KEK)
    monkeypatch.setenv("PUBLIC_BASE_URL", PUBLIC_BASE_URL)
    monkeypatch.setenv("PORTAIL_PROFILE", "test")


def test_create_staff_prints_a_one_time_link(auth_env, capsys) -> None:
    assert main(["create-staff", unique_email("admin"), "--role", "administrator"]) == 0
    out = capsys.readouterr().out
    assert f"{PUBLIC_BASE_URL}/premiere-connexion?token=" in out


def test_create_staff_with_a_password_from_stdin(auth_env, capsys, monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough staff passphrase\n"))
    email = unique_email("agent")
    assert main(["create-staff", email, "--role", "agent", "--password-stdin"]) == 0
    assert "actif" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["create-staff", unique_email("agent"), "--role", "agent", "--password-stdin"]) == 1
    assert "refusé" in capsys.readouterr().err
    assert main(["create-staff", email, "--role", "agent"]) == 1  # already exists


async def _add_family(database_url: str) -> str:
    database = Database(database_url, pool_size=1)
    try:
        async with database.transaction() as session:
            now = utcnow()
            family = Family(id=str(uuid.uuid4()), name="LIGNE DE COMMANDE", status="active",
                            created_at=now, updated_at=now)  # fmt: skip
            session.add(family)
        return family.id
    finally:
        await database.dispose()


async def _accounts_of(database_url: str, email: str) -> int:
    database = Database(database_url, pool_size=1)
    try:
        async with database.sessions() as session:
            count = select(func.count()).select_from(Account).where(Account.email == email)
            return int(await session.scalar(count) or 0)
    finally:
        await database.dispose()


def test_invite_family_and_refuse_bad_input(auth_env, service_databases, capsys) -> None:
    family_id = asyncio.run(_add_family(service_databases["families"]))
    assert main(["invite-family", unique_email(), "--family-id", family_id]) == 0
    assert "/premiere-connexion?token=" in capsys.readouterr().out
    assert main(["invite-family", "not-an-email", "--family-id", family_id]) == 1
    assert main(["invite-family", unique_email(), "--family-id", "f", "--rights", "root"]) == 1


def test_invite_family_acts_on_the_dev_portal_its_options_name(
    auth_env, capsys, monkeypatch, tmp_path
) -> None:
    """Beside `portail run --port-offset 1000 --var DIR`: that portal's databases and port."""
    portal = Portal(layout=VarLayout(tmp_path), ports=DevPorts().shifted(1000))
    for name in portal.environment():
        monkeypatch.delenv(name, raising=False)  # what the command sets is undone afterwards
    for name in ("auth", "families"):
        upgrade(MIGRATIONS_OF[name], portal.layout.database_url(name))
    family_id = asyncio.run(_add_family(portal.layout.database_url("families")))
    email = unique_email()
    argv = ["invite-family", email, "--family-id", family_id]
    assert main([*argv, "--port-offset", "1000", "--var", str(tmp_path)]) == 0
    assert "http://127.0.0.1:9080/premiere-connexion?token=" in capsys.readouterr().out
    assert asyncio.run(_accounts_of(portal.layout.database_url("auth"), email)) == 1


def test_invite_family_refuses_a_family_that_is_none(
    auth_env, service_databases, capsys, monkeypatch
) -> None:
    email, unknown = unique_email(), str(uuid.uuid4())
    assert main(["invite-family", email, "--family-id", unknown]) == 1
    assert f"refusé : aucune famille n'a l'identifiant {unknown}" in capsys.readouterr().err
    # No families database to ask: refused as well, never invited unchecked.
    monkeypatch.setenv("FAMILIES_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/none")
    assert main(["invite-family", email, "--family-id", unknown]) == 1
    assert "la base des familles (FAMILIES_DATABASE_URL) ne répond pas" in capsys.readouterr().err
    assert asyncio.run(_accounts_of(service_databases["auth"], email)) == 0


def test_rotate_keys(auth_env, capsys) -> None:
    assert main(["rotate-keys"]) == 0
    assert "nouvelle clé" in capsys.readouterr().out


async def test_the_dev_seed_is_idempotent_and_its_parent_signs_in(auth_client, signer) -> None:
    client = await auth_client()
    first = await seed(client.app[AUTH])
    again = await seed(client.app[AUTH])
    assert first == again and len(first) == 3
    assert (await sign_in(client, demo.DEMO_PARENT_EMAIL, demo.DEMO_PARENT_PASSWORD)).status == 201
    admin = await sign_in(client, demo.DEMO_ADMIN_EMAIL, demo.DEMO_ADMIN_PASSWORD)
    assert (await admin.json())["type"].endswith("/mfa-enrolment-required")


def test_portail_seed_runs_the_auth_seed_on_the_configured_database(auth_env) -> None:
    notes = asyncio.run(seed_all(["auth"], report=lambda _line: None))
    assert notes["auth"][0].startswith(demo.DEMO_PARENT_EMAIL)


async def test_create_api_client_prints_a_secret_that_gets_a_scoped_token(
    auth_env, auth_client, capsys
) -> None:
    argv = ["create-api-client", "Logiciel comptable", "--scope", "bookings:read"]
    assert await asyncio.to_thread(main, argv) == 0
    out = capsys.readouterr().out
    client_id = re.search(r"client_id\s+(\S+)", out).group(1)
    secret = re.search(r"client_secret\s+(\S+)", out).group(1)
    auth = await auth_client()
    answer = await auth.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth(client_id, secret)},
    )
    assert answer.status == 200
    assert (await answer.json())["scope"] == "bookings:read"
    wrong = await auth.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": aiohttp.encode_basic_auth(client_id, "not-the-secret")},
    )
    assert wrong.status == 401


def test_create_api_client_refuses_an_unknown_scope(auth_env, capsys) -> None:
    assert main(["create-api-client", "Logiciel", "--scope", "everything"]) == 1
    assert "'everything' is no scope of the portal." in capsys.readouterr().err
