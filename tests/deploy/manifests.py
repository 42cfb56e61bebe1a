"""Loading the deploy files as data: the compose file, kustomize builds, the settings classes."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

from portail.commands.outbox import relayed_services
from portail.registry import ROOT, SERVICE_NAMES, service
from services.kit.relay_process import relay_settings_class
from services.kit.settings import BaseServiceSettings, load_settings

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
BASE = K8S / "base"
OVERLAYS = tuple(sorted(path.name for path in (K8S / "overlays").iterdir() if path.is_dir()))
COMPOSE_FILE = DEPLOY / "compose.yaml"
IMAGE = "portail-famille"
APP_UID = 10001
SECRET_NAME = "portail-secrets"
CONFIG_NAME = "portail-config"
GATEWAY_PORT = 8080
# The Kubernetes versions whose OpenAPI schemas every manifest must satisfy: the oldest we
# support and the newest kubernetes-validate ships.
KUBERNETES_VERSIONS = ("1.30.0", "1.34.0")

Manifest = dict[str, Any]


def settings_classes() -> dict[str, type[BaseServiceSettings]]:
    """Every process's settings class, by process name (services, their outbox relays,
    gateway, worker)."""
    from gateway.config import GatewaySettings
    from portail.worker import WorkerSettings

    classes: dict[str, type[BaseServiceSettings]] = {
        name: service(name).settings_class() for name in SERVICE_NAMES
    }
    for name in relayed_services():
        classes[relay_of(name)] = relay_settings_class(service(name).settings_class())
    classes["gateway"] = GatewaySettings
    classes["worker"] = WorkerSettings
    return classes


def relay_of(name: str) -> str:
    """The process (compose service, Deployment) that relays service `name`'s outbox."""
    return f"{name}-relay"


def required_env(cls: type[BaseServiceSettings]) -> set[str]:
    """The environment variables a settings class refuses to start without in prod."""
    return {cls.env_name(field) for field in cls.required_in_prod}


def all_env_names(cls: type[BaseServiceSettings]) -> set[str]:
    """Every environment variable a settings class reads."""
    return {cls.env_name(field) for field in cls.model_fields}


# A default meant for `make run`: a loopback server, a dev credential, a `.local` address.
DEV_VALUE = re.compile(r"127\.0\.0\.1|localhost|(^|[-_ ])dev([-_ ]|$)|\.local\b", re.I)


def dev_default_fields(cls: type[BaseServiceSettings]) -> list[str]:
    """Fields whose default only makes sense in dev: prod must set each one explicitly.

    The profile and the listening address are checked on their own (only HTTP processes
    listen; the others never use `host`).
    """
    return [
        field
        for field, info in cls.model_fields.items()
        if field not in ("profile", "host")
        and isinstance(info.default, str)
        and DEV_VALUE.search(info.default)
    ]


def load_from(
    monkeypatch: pytest.MonkeyPatch, process: str, env: dict[str, str]
) -> BaseServiceSettings:
    """A process's settings loaded from exactly `env`: nothing leaks from the test's own."""
    cls = settings_classes()[process]
    names = all_env_names(cls) | {"PORTAIL_PROFILE"}
    for name in list(os.environ):
        if name.upper() in names:
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(cls)


def processes_of(name: str) -> list[str]:
    """The settings classes a process loads: the worker and beat run every service's tasks."""
    if name in ("worker", "beat"):
        return ["worker", *SERVICE_NAMES]
    return [name]


# ----------------------------------------------------------------------------- YAML files


def yaml_files() -> list[Path]:
    """Every YAML file under deploy/."""
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def load_all(path: Path) -> list[Any]:
    """Every document of a YAML file, empty ones dropped."""
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


@functools.cache
def compose() -> dict[str, Any]:
    """deploy/compose.yaml with its anchors and merge keys resolved."""
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


@functools.cache
def compose_schema() -> dict[str, Any]:
    """The compose-spec JSON schema, as vendored by check-jsonschema (SchemaStore's copy)."""
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, Any] = json.loads(vendor.joinpath("compose-spec.json").read_text("utf-8"))
    return schema


# ----------------------------------------------------------------------------- kustomize


def kubectl() -> str:
    """The kubectl binary (its embedded kustomize builds the overlays), or skip."""
    binary = shutil.which("kubectl")
    if binary is None:
        pytest.skip("kubectl is not installed: overlays cannot be built here")
    return binary


@functools.cache
def build(target: str) -> tuple[Manifest, ...]:
    """`kubectl kustomize` of base or of an overlay, as a tuple of resources."""
    path = BASE if target == "base" else K8S / "overlays" / target
    result = subprocess.run(
        [kubectl(), "kustomize", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, f"kustomize build of {target} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(resources: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    """The resources of one kind, by name."""
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def pod_spec(workload: Manifest) -> Manifest:
    """The pod template spec of a Deployment or a Job."""
    spec: Manifest = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Manifest) -> dict[str, str]:
    """The labels of a workload's pods."""
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def config_map(resources: tuple[Manifest, ...], name: str) -> dict[str, str]:
    """The data of a ConfigMap given its generated (hash-suffixed) name."""
    data: dict[str, str] = of_kind(resources, "ConfigMap")[name].get("data", {})
    return data


def container_env(
    resources: tuple[Manifest, ...], container: Manifest
) -> Iterator[tuple[str, str | None, str | None]]:
    """(name, literal value, secret key) for each variable a container gets."""
    for source in container.get("envFrom", []):
        assert "configMapRef" in source, f"envFrom only from ConfigMaps, got {source}"
        for key, value in config_map(resources, source["configMapRef"]["name"]).items():
            yield key, value, None
    for variable in container.get("env", []):
        if "value" in variable:
            yield variable["name"], variable["value"], None
        else:
            ref = variable["valueFrom"]["secretKeyRef"]
            assert ref["name"] == SECRET_NAME, f"{variable['name']}: unknown Secret {ref['name']}"
            yield variable["name"], None, ref["key"]


def placeholder(name: str) -> str:
    """A stand-in for a secret's value that satisfies the settings' own format checks."""
    if name.endswith("DATABASE_URL"):
        return f"postgresql+asyncpg://u:p@db.invalid:5432/{name.lower()}"
    if name == "REDIS_URL":
        return "redis://redis.invalid:6379/0"
    return f"placeholder-{name.lower()}-0123456789abcdef0123456789abcdef"
