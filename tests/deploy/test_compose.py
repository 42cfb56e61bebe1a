"""deploy/compose.yaml: valid compose, every process wired, its helper scripts work for real."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import jsonschema
import pytest

from portail.commands.outbox import relayed_services
from portail.registry import SERVICE_NAMES, service
from tests import support

from .manifests import (
    DEPLOY,
    GATEWAY_PORT,
    compose,
    compose_schema,
    dev_default_fields,
    load_from,
    processes_of,
    relay_of,
    required_env,
    settings_classes,
)

INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
HTTP_PROCESSES = ("gateway", *SERVICE_NAMES)
RELAYS = tuple(relay_of(name) for name in relayed_services())


def services() -> dict[str, Any]:
    entries: dict[str, Any] = compose()["services"]
    return entries


def validator() -> jsonschema.protocols.Validator:
    schema = compose_schema()
    validator: jsonschema.protocols.Validator = jsonschema.validators.validator_for(schema)(schema)
    return validator


def test_compose_file_matches_the_compose_specification() -> None:
    errors = [f"{list(e.path)}: {e.message}" for e in validator().iter_errors(compose())]
    assert errors == []


def test_the_compose_schema_rejects_a_misspelt_key() -> None:
    broken = {"services": {"families": {"image": "x", "depend_on": ["postgres"]}}}
    assert list(validator().iter_errors(broken)), "the schema accepted an unknown key"


def test_backing_servers_are_there_with_healthchecks() -> None:
    entries = services()
    images = {
        name: entries[name]["image"].split(":")[0]
        for name in ("postgres", "redis", "s3", "mailpit")
    }
    assert images == {
        "postgres": "postgres",
        "redis": "redis",
        "s3": "minio/minio",
        "mailpit": "axllent/mailpit",
    }
    for name in images:
        assert entries[name]["healthcheck"]["test"], name
        assert ":" in entries[name]["image"] and not entries[name]["image"].endswith(":latest")


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_service_has_its_process_and_its_migration_job(name: str) -> None:
    entries = services()
    port = service(name).settings_class().default_port
    entry = entries[name]
    assert entry["command"] == ["python", "-m", f"services.{name}.app"]
    assert f"http://127.0.0.1:{port}/readyz" in " ".join(entry["healthcheck"]["test"])
    assert entry["depends_on"][f"migrate-{name}"] == {"condition": "service_completed_successfully"}
    job = entries[f"migrate-{name}"]
    assert job["command"] == ["portail", "migrate", name]
    assert job["restart"] == "no"
    assert job["depends_on"]["postgres"] == {"condition": "service_healthy"}
    # The gateway waits for every service to be ready.
    assert entries["gateway"]["depends_on"][name] == {"condition": "service_healthy"}
    for queue_process in ("worker", "beat"):
        assert entries[queue_process]["depends_on"][f"migrate-{name}"] == {
            "condition": "service_completed_successfully"
        }


def test_one_image_runs_every_process_as_a_hardened_container() -> None:
    built = {e["image"] for e in services().values() if "build" in e}
    assert len(built) == 1
    (image,) = built
    for name in (*HTTP_PROCESSES, *RELAYS, "worker", "beat",
                 *(f"migrate-{n}" for n in SERVICE_NAMES)):  # fmt: skip
        entry = services()[name]
        assert entry["image"] == image, name
        assert entry["build"]["dockerfile"] == "deploy/Dockerfile", name
        assert entry["read_only"] is True and entry["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in entry["security_opt"], name
    assert services()["worker"]["command"] == ["portail", "worker"]
    assert services()["beat"]["command"][:2] == ["portail", "beat"]


def test_only_the_tls_proxy_and_local_consoles_are_published_on_loopback() -> None:
    for name, entry in services().items():
        for mapping in entry.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name} publishes {mapping}"
    assert "ports" not in services()["gateway"]
    command = services()["tls"]["command"]
    assert f"gateway:{GATEWAY_PORT}" in command


# ----------------------------------------------------------------------------- environment


def interpolate(value: str) -> str:
    """Resolve compose's ${VAR}, ${VAR:-default} and ${VAR:?error} like a filled-in .env."""

    def replace(match: re.Match[str]) -> str:
        if match["op"] in (":-", "-"):
            return match["arg"]
        return f"placeholder-{match['name'].lower()}-0123456789abcdef0123456789abcdef"

    return INTERPOLATION.sub(replace, value)


def environment_of(name: str) -> dict[str, str]:
    raw = services()[name].get("environment", {})
    assert isinstance(raw, dict), f"{name}: environment as a mapping"
    return {key: interpolate(str(value)) for key, value in raw.items()}


def compose_processes() -> list[str]:
    return [*HTTP_PROCESSES, *RELAYS, "worker", "beat", *(f"migrate-{n}" for n in SERVICE_NAMES)]


@pytest.mark.parametrize("name", compose_processes())
def test_every_process_starts_in_prod_with_the_environment_it_is_given(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment_of(name)
    assert env["PORTAIL_PROFILE"] == "prod"
    for process in processes_of(name.removeprefix("migrate-")):
        missing = required_env(settings_classes()[process]) - env.keys()
        assert missing == set(), f"{name} lacks {missing}"
        with monkeypatch.context() as patch:
            settings = load_from(patch, process, env)
        assert settings.profile == "prod"
        if process == name and name in HTTP_PROCESSES:
            assert settings.host == "0.0.0.0"
            test = " ".join(services()[name]["healthcheck"]["test"])
            assert f"127.0.0.1:{settings.port}/readyz" in test


@pytest.mark.parametrize("name", compose_processes())
def test_no_process_falls_back_on_a_dev_default(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Defaults made for `make run` (loopback S3 or SMTP, dev credentials) must all be replaced;
    # localhost itself is legitimate here (the portal is https://localhost:8443).
    env = environment_of(name)
    for process in processes_of(name.removeprefix("migrate-")):
        with monkeypatch.context() as patch:
            settings = load_from(patch, process, env)
        for field in dev_default_fields(settings_classes()[process]):
            assert field in settings.model_fields_set, f"{name}: {settings.env_name(field)}"
            assert "127.0.0.1" not in str(getattr(settings, field)), name


@pytest.mark.parametrize("name", relayed_services())
def test_a_service_that_emits_events_serves_only_and_its_relay_runs_beside_it(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        served = load_from(patch, name, environment_of(name))
    assert served.outbox_relay_in_process is False
    relay = services()[relay_of(name)]
    assert relay["command"] == ["portail", "outbox-relay", name]
    assert relay["depends_on"][f"migrate-{name}"] == {"condition": "service_completed_successfully"}
    assert "ports" not in relay and "healthcheck" not in relay
    env = environment_of(relay_of(name))
    with monkeypatch.context() as patch:
        relayed = load_from(patch, relay_of(name), env)
    assert (relayed.database_url, relayed.redis_url) == (served.database_url, served.redis_url)
    # Woken by NOTIFY: the poll is only a safety net, not the 1 s default.
    assert relayed.outbox_relay_interval_seconds > 1
    # It holds its database's URL and no other secret of its service.
    secret_like = ("PASSWORD", "SECRET", "KEY_ID", "ENCRYPTION_KEY", "DATABASE_URL")
    assert [k for k in env if any(part in k for part in secret_like)] == [
        f"{name.upper()}_DATABASE_URL"
    ]


def test_services_without_an_outbox_have_no_relay() -> None:
    relays = {n for n in services() if n.endswith("-relay")}
    assert relays == set(RELAYS)


def test_gateway_service_urls_name_compose_services() -> None:
    env = environment_of("gateway")
    for name in SERVICE_NAMES:
        port = service(name).settings_class().default_port
        assert env[f"{name.upper()}_SERVICE_URL"] == f"http://{name}:{port}"


def test_databases_are_one_per_service_with_their_own_role() -> None:
    created = environment_of("postgres")["PORTAIL_DATABASES"].split()
    assert created == list(SERVICE_NAMES)
    for name in SERVICE_NAMES:
        url = environment_of(name)[f"{name.upper()}_DATABASE_URL"]
        assert re.fullmatch(rf"postgresql\+asyncpg://{name}:[^@]+@postgres:5432/{name}", url), url


def test_every_variable_compose_needs_is_in_the_example_env_file() -> None:
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    needed = {m["name"] for m in INTERPOLATION.finditer(text)}
    required = {m["name"] for m in INTERPOLATION.finditer(text) if m["op"] == ":?"}
    example = (DEPLOY / "compose.env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert needed - documented == set()
    # The example never carries a real-looking secret: every required value says change-me.
    values = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", example, flags=re.MULTILINE))
    for name in required:
        assert values[name].startswith("change-me"), name


# ----------------------------------------------------------------------------- helper scripts


@pytest.fixture
def database_names() -> Iterator[list[str]]:
    names = [f"pf_deploy_{uuid.uuid4().hex[:6]}_{n}" for n in ("families", "billing")]
    yield names
    asyncio.run(_drop(names))


async def _drop(names: list[str]) -> None:
    connection = await asyncpg.connect(support.POSTGRES_ADMIN_URL)
    try:
        for name in names:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await connection.execute(f'DROP ROLE IF EXISTS "{name}"')
    finally:
        await connection.close()


def run_postgres_init(names: list[str]) -> subprocess.CompletedProcess[str]:
    admin = support.POSTGRES_ADMIN_URL
    env = {
        "PATH": os.environ["PATH"],
        "PORTAIL_DATABASES": " ".join(names),
        "POSTGRES_DB": admin.rsplit("/", 1)[1],
        "PGHOST": "127.0.0.1",
        "PGPORT": admin.rsplit(":", 1)[1].split("/")[0],
        "PGUSER": "postgres",
        **{f"{n.upper()}_DB_PASSWORD": f'it\'s a "quoted" pass {n}' for n in names},
    }
    return subprocess.run(
        ["bash", str(DEPLOY / "compose" / "postgres-init.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def can_create_table(role: str, database: str) -> bool:
    base = support.POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgres@", f"{role}@")
    try:
        connection = await asyncpg.connect(f"{base}/{database}")
    except asyncpg.InsufficientPrivilegeError:
        return False
    try:
        await connection.execute("CREATE TABLE probe (id int)")
        return True
    finally:
        await connection.close()


def test_postgres_init_creates_one_private_database_per_service(
    database_names: list[str],
) -> None:
    first, second = database_names
    result = run_postgres_init(database_names)
    assert result.returncode == 0, result.stderr
    assert asyncio.run(can_create_table(first, first))
    assert asyncio.run(can_create_table(second, second))
    # A service's role cannot even connect to another service's database.
    assert not asyncio.run(can_create_table(first, second))
    # Run again (a restarted container): nothing breaks, nothing is recreated.
    again = run_postgres_init(database_names)
    assert again.returncode == 0, again.stderr


def test_postgres_init_refuses_a_missing_password(database_names: list[str]) -> None:
    env_less = run_postgres_init([])
    assert env_less.returncode != 0
    result = subprocess.run(
        ["bash", str(DEPLOY / "compose" / "postgres-init.sh")],
        env={"PATH": os.environ["PATH"], "PORTAIL_DATABASES": database_names[0]},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert f"{database_names[0].upper()}_DB_PASSWORD is not set" in result.stderr


def test_documents_objects_are_encrypted_at_rest_in_minio() -> None:
    # The documents service stores every object with SSE-S3: MinIO needs a KMS key for it.
    s3 = environment_of("s3")
    key_name, _, key = s3["MINIO_KMS_SECRET_KEY"].partition(":")
    assert key_name and key
    assert services()["documents"]["depends_on"]["s3"] == {"condition": "service_healthy"}
