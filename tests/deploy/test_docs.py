"""docs/deploy.md explains every variable the deploy files set, and the commands they run."""

from __future__ import annotations

import re

from portail.registry import ROOT, SERVICE_NAMES

from .manifests import (
    COMPOSE_FILE,
    all_env_names,
    build,
    compose,
    container_env,
    of_kind,
    pod_spec,
    required_env,
    settings_classes,
)

DOC = ROOT / "docs" / "deploy.md"


def documented() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", DOC.read_text(encoding="utf-8")))


def kubernetes_variables() -> set[str]:
    resources = build("base")
    names = set()
    workloads = [*of_kind(resources, "Deployment").values(), *of_kind(resources, "Job").values()]
    for workload in workloads:
        for container in pod_spec(workload)["containers"]:
            names |= {name for name, _, _ in container_env(resources, container)}
    return names


def compose_variables() -> set[str]:
    names = set()
    for entry in compose()["services"].values():
        names |= set(entry.get("environment", {}))
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    names |= set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    # The images' own variables (postgres, MinIO) are theirs, not ours.
    return {n for n in names if not n.startswith(("MINIO_", "POSTGRES_USER"))}


def test_every_variable_of_the_manifests_is_documented() -> None:
    assert kubernetes_variables() - documented() == set()


def test_every_variable_of_the_compose_file_is_documented() -> None:
    assert compose_variables() - documented() == set()


def test_every_variable_required_in_prod_is_documented() -> None:
    required = set().union(*(required_env(cls) for cls in settings_classes().values()))
    assert required - documented() == set()


# Fields a process inherits from the kit but never uses: no HTTP port, or no database.
UNUSED = {
    "gateway": {"GATEWAY_DATABASE_URL", "GATEWAY_DATABASE_POOL_SIZE"},
    "worker": {"WORKER_HOST", "WORKER_PORT", "WORKER_DATABASE_URL", "WORKER_DATABASE_POOL_SIZE"},
}


def test_every_variable_a_process_reads_is_documented() -> None:
    # A setting added to any settings class must be named in docs/deploy.md (if only in the
    # by-process list), so that whoever deploys knows it exists.
    for name, cls in settings_classes().items():
        missing = all_env_names(cls) - UNUSED.get(name, set()) - documented()
        assert missing == set(), f"{name}: {sorted(missing)} not in docs/deploy.md"


def test_the_documented_commands_are_the_ones_the_manifests_run() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in SERVICE_NAMES:
        assert f"python -m services.{name}.app" in text
    commands = (
        "python -m gateway.app",
        "portail worker",
        "portail beat",
        "portail migrate <service>",
        "kubectl kustomize",
        "docker build -f deploy/Dockerfile",
    )
    for command in commands:
        assert command in text


def test_the_adding_a_service_checklist_names_files_that_exist() -> None:
    text = (ROOT / "docs" / "adding-a-service.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:deploy|services|gateway|portail|tests|docs)/[\w./-]+)`", text))
    assert len(paths) >= 10
    for path in sorted(paths):
        if "messaging" in path:  # the example service itself
            continue
        candidates = [ROOT / path, ROOT / "deploy" / "k8s" / "base" / path]
        assert any(c.exists() for c in candidates), path
