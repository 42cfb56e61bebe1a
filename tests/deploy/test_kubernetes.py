"""The Kubernetes manifests: they build, match the API schemas, and wire every process."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from gateway.config import GatewaySettings
from portail.commands.outbox import relayed_services
from portail.registry import SERVICE_NAMES, service
from services.kit.settings import BaseServiceSettings, SettingsError

from .manifests import (
    APP_UID,
    BASE,
    CONFIG_NAME,
    DEV_VALUE,
    GATEWAY_PORT,
    IMAGE,
    K8S,
    KUBERNETES_VERSIONS,
    OVERLAYS,
    SECRET_NAME,
    Manifest,
    build,
    container_env,
    dev_default_fields,
    load_all,
    load_from,
    of_kind,
    placeholder,
    pod_labels,
    pod_spec,
    processes_of,
    relay_of,
    required_env,
    settings_classes,
    yaml_files,
)

TARGETS = ("base", *OVERLAYS)
HTTP_PROCESSES = ("gateway", *SERVICE_NAMES)
RELAYS = tuple(relay_of(name) for name in relayed_services())


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(K8S.parent)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = load_all(path)
    assert documents, f"{path} is empty"
    if K8S in path.parents and path.name != "kustomization.yaml":
        for document in documents:
            assert {"apiVersion", "kind", "metadata"} <= document.keys(), path


def test_there_is_a_staging_and_a_production_overlay() -> None:
    assert {"staging", "production"} <= set(OVERLAYS)


# ----------------------------------------------------------------------------- kustomize


def kustomizations() -> list[Path]:
    return sorted(K8S.rglob("kustomization.yaml"))


@pytest.mark.parametrize("path", kustomizations(), ids=lambda p: str(p.relative_to(K8S)))
def test_kustomization_references_only_existing_files(path: Path) -> None:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    referenced = list(spec.get("resources", []))
    for generator in spec.get("configMapGenerator", []) + spec.get("secretGenerator", []):
        referenced += generator.get("envs", []) + generator.get("files", [])
    for patch in spec.get("patches", []):
        if "path" in patch:
            referenced.append(patch["path"])
    assert referenced, f"{path} lists nothing"
    for reference in referenced:
        target = (path.parent / reference).resolve()
        assert target.exists(), f"{path}: {reference} does not exist"
        if target.is_dir():
            assert (target / "kustomization.yaml").exists(), f"{reference} is no kustomization"


def test_every_base_manifest_is_listed_in_the_base_kustomization() -> None:
    spec = yaml.safe_load((BASE / "kustomization.yaml").read_text(encoding="utf-8"))
    listed = {(BASE / r).resolve() for r in spec["resources"]}
    on_disk = {p.resolve() for p in BASE.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert on_disk - listed == set(), "manifests that no kustomization applies"


@pytest.mark.parametrize("target", TARGETS)
def test_builds(target: str) -> None:
    resources = build(target)
    assert of_kind(resources, "Deployment")


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", TARGETS)
def test_every_resource_matches_the_kubernetes_openapi_schema(target: str, version: str) -> None:
    # strict: an unknown or misspelt field is an error, not silently dropped by the API server.
    failures = []
    for resource in build(target):
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            failures.append(f"{resource['kind']}/{resource['metadata']['name']}: {exc.message}")
    assert failures == []


def test_the_schema_validation_rejects_a_misspelt_field() -> None:
    deployment = dict(of_kind(build("base"), "Deployment")["families"])
    broken = {**deployment, "spec": {**deployment["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("target", OVERLAYS)
def test_an_overlay_sets_namespace_and_a_pinned_image(target: str) -> None:
    resources = build(target)
    namespaces = of_kind(resources, "Namespace")
    assert len(namespaces) == 1
    (namespace,) = namespaces
    labels = namespaces[namespace]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for resource in resources:
        if resource["kind"] != "Namespace":
            assert resource["metadata"].get("namespace") == namespace, resource["metadata"]
    for workload in workloads(target):
        for container in pod_spec(workload)["containers"]:
            repository, _, tag = container["image"].rpartition(":")
            assert repository.endswith(f"/{IMAGE}"), container["image"]
            assert tag and tag != "latest", container["image"]


def test_overlays_differ_in_size() -> None:
    def replicas(target: str) -> dict[str, int]:
        deployments = of_kind(build(target), "Deployment")
        return {name: deployments[name]["spec"]["replicas"] for name in SERVICE_NAMES}

    staging, production = replicas("staging"), replicas("production")
    assert all(count == 1 for count in staging.values())
    assert all(count >= 2 for count in production.values())
    hpa = of_kind(build("production"), "HorizontalPodAutoscaler")["gateway"]["spec"]
    assert hpa["minReplicas"] >= 2


# ----------------------------------------------------------------------------- every process


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_every_service_has_deployment_service_account_and_migration_job(
    target: str, name: str
) -> None:
    resources = build(target)
    port = service(name).settings_class().default_port
    deployment = of_kind(resources, "Deployment")[name]
    assert of_kind(resources, "ServiceAccount")[name]["automountServiceAccountToken"] is False
    assert pod_spec(deployment)["serviceAccountName"] == name

    (container,) = pod_spec(deployment)["containers"]
    assert container["command"] == ["python", "-m", f"services.{name}.app"]
    assert [p["containerPort"] for p in container["ports"]] == [port]

    kube_service = of_kind(resources, "Service")[name]
    assert kube_service["spec"]["ports"][0]["port"] == port
    selector = kube_service["spec"]["selector"]
    assert selector.items() <= pod_labels(deployment).items()
    # The Service selects this Deployment's pods and no migration or other pod.
    for other in [*of_kind(resources, "Deployment").values(), *of_kind(resources, "Job").values()]:
        if other is not deployment:
            assert not selector.items() <= pod_labels(other).items()

    job = of_kind(resources, "Job")[f"{name}-migrate"]
    (migrate,) = pod_spec(job)["containers"]
    assert migrate["command"] == ["portail", "migrate", name]
    assert pod_spec(job)["restartPolicy"] == "Never"


@pytest.mark.parametrize("name", HTTP_PROCESSES)
def test_http_processes_have_liveness_and_readiness_probes(name: str) -> None:
    deployment = of_kind(build("base"), "Deployment")[name]
    (container,) = pod_spec(deployment)["containers"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"


def workloads(target: str) -> list[Manifest]:
    resources = build(target)
    return [*of_kind(resources, "Deployment").values(), *of_kind(resources, "Job").values()]


@pytest.mark.parametrize("target", TARGETS)
def test_every_pod_is_hardened(target: str) -> None:
    for workload in workloads(target):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec["automountServiceAccountToken"] is False, name
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True, name
        assert pod["runAsUser"] == APP_UID, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in context["capabilities"], name
            assert context.get("privileged", False) is False, name
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys(), name
            assert {"cpu", "memory"} <= resources["limits"].keys(), name
            # A read-only root needs one writable place: an emptyDir on /tmp (beat's schedule).
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"], name


def test_gateway_and_worker_are_autoscaled_and_the_gateway_has_a_disruption_budget() -> None:
    resources = build("base")
    deployments = of_kind(resources, "Deployment")
    autoscalers = of_kind(resources, "HorizontalPodAutoscaler")
    for name in ("gateway", "worker"):
        target = autoscalers[name]["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        # The autoscaler owns the count; a `replicas` would be reset at every apply.
        assert "replicas" not in deployments[name]["spec"]
    budget = of_kind(resources, "PodDisruptionBudget")["gateway"]["spec"]
    assert budget["selector"]["matchLabels"].items() <= pod_labels(deployments["gateway"]).items()


def test_beat_runs_alone() -> None:
    beat = of_kind(build("production"), "Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert "beat" not in of_kind(build("production"), "HorizontalPodAutoscaler")
    worker = of_kind(build("base"), "Deployment")["worker"]
    assert pod_spec(worker)["containers"][0]["command"] == ["portail", "worker"]
    assert pod_spec(beat)["containers"][0]["command"] == ["portail", "beat"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", relayed_services())
def test_a_service_that_emits_events_serves_only_and_its_relay_has_a_deployment(
    target: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployments = of_kind(build(target), "Deployment")
    served = load_from(monkeypatch, name, workload_env(target, deployments[name]))
    assert served.outbox_relay_in_process is False

    relay = deployments[relay_of(name)]
    # One relay whatever the service's replicas: more would only share the same rows.
    assert relay["spec"]["replicas"] == 1
    spec = pod_spec(relay)
    assert spec["serviceAccountName"] == name
    (container,) = spec["containers"]
    assert container["command"] == ["portail", "outbox-relay", name]
    assert "ports" not in container
    relayed = load_from(monkeypatch, relay_of(name), workload_env(target, relay))
    assert (relayed.database_url, relayed.redis_url) == (served.database_url, served.redis_url)
    # Woken by NOTIFY: the poll is only a safety net, not the 1 s default.
    assert relayed.outbox_relay_interval_seconds > 1


def test_services_without_an_outbox_have_no_relay() -> None:
    deployments = of_kind(build("base"), "Deployment")
    relays = {n for n, d in deployments.items()
              if pod_labels(d)["app.kubernetes.io/component"] == "outbox-relay"}  # fmt: skip
    assert relays == set(RELAYS)


# ----------------------------------------------------------------------------- settings


def workload_env(target: str, workload: Manifest) -> dict[str, str]:
    """The environment a workload's container starts with, secrets replaced by stand-ins."""
    resources = build(target)
    (container,) = pod_spec(workload)["containers"]
    env: dict[str, str] = {}
    for name, value, secret_key in container_env(resources, container):
        if secret_key is not None:
            env[name] = placeholder(secret_key)
        else:
            assert value is not None, name
            env[name] = value
    return env


def process_of(workload: Manifest) -> str:
    labels = pod_labels(workload)
    return labels["app.kubernetes.io/name"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_workload_starts_in_prod_with_the_environment_it_is_given(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Loading the real settings classes in `prod` checks required_in_prod and every validator
    # (https public address, key lengths, types) against what the manifests actually set.
    checked = set()
    for workload in workloads(target):
        env = workload_env(target, workload)
        assert env.get("PORTAIL_PROFILE") == "prod", workload["metadata"]["name"]
        for process in processes_of(process_of(workload)):
            missing = required_env(settings_classes()[process]) - env.keys()
            assert missing == set(), f"{workload['metadata']['name']} lacks {missing}"
            with monkeypatch.context() as patch:
                settings = load_from(patch, process, env)
            assert settings.profile == "prod"
            checked.add(process)
    assert checked == set(settings_classes())


@pytest.mark.parametrize("target", TARGETS)
def test_no_workload_falls_back_on_a_dev_default(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Settings not in required_in_prod still have defaults made for `make run` (a loopback S3
    # or SMTP server, dev credentials): in the cluster each one must come from the manifests.
    for workload in workloads(target):
        env = workload_env(target, workload)
        for process in processes_of(process_of(workload)):
            with monkeypatch.context() as patch:
                settings = load_from(patch, process, env)
            for field in dev_default_fields(settings_classes()[process]):
                where = f"{workload['metadata']['name']}: {settings.env_name(field)}"
                assert field in settings.model_fields_set, f"{where} keeps its dev default"
                assert not DEV_VALUE.search(str(getattr(settings, field))), where


@pytest.mark.parametrize("name", HTTP_PROCESSES)
def test_http_processes_listen_on_all_interfaces_on_their_container_port(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    deployment = of_kind(build("base"), "Deployment")[name]
    settings = load_from(monkeypatch, name, workload_env("base", deployment))
    (container,) = pod_spec(deployment)["containers"]
    assert settings.host == "0.0.0.0"
    assert settings.port == container["ports"][0]["containerPort"]


def test_the_settings_check_fails_when_a_secret_is_not_wired(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deployment = of_kind(build("base"), "Deployment")["families"]
    env = workload_env("base", deployment)
    del env["FAMILIES_DATABASE_URL"]
    with pytest.raises(SettingsError, match="FAMILIES_DATABASE_URL"):
        load_from(monkeypatch, "families", env)


def test_secrets_come_from_secret_references_only() -> None:
    resources = build("base")
    assert "Secret" not in {r["kind"] for r in resources}, "a Secret's values would be committed"
    secret_like = ("PASSWORD", "SECRET", "KEY_ID", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL")
    for workload in workloads("base"):
        (container,) = pod_spec(workload)["containers"]
        for name, value, secret_key in container_env(resources, container):
            if any(part in name for part in secret_like):
                assert secret_key == name, f"{name} must come from {SECRET_NAME}, got {value!r}"


def test_gateway_service_urls_point_at_the_services() -> None:
    resources = build("base")
    data = of_kind(resources, "ConfigMap")
    (config,) = [v["data"] for k, v in data.items() if k.startswith(CONFIG_NAME)]
    services = of_kind(resources, "Service")
    for name in SERVICE_NAMES:
        port = services[name]["spec"]["ports"][0]["port"]
        assert config[f"{name.upper()}_SERVICE_URL"] == f"http://{name}:{port}"
    assert config["GATEWAY_URL"] == f"http://gateway:{GATEWAY_PORT}"
    assert config["JWKS_URL"].startswith(config["GATEWAY_URL"] + "/")


NGINX = "nginx.ingress.kubernetes.io/"
SIZE_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


@pytest.mark.parametrize("target", OVERLAYS)
def test_the_ingress_lets_an_upload_reach_the_gateway(
    target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ingress-nginx's defaults (1 MiB bodies, 60 s) would refuse or cut the uploads the
    # gateway accepts; the gateway, not the ingress, must be the one that says 413 or 504.
    resources = build(target)
    gateway = of_kind(resources, "Deployment")["gateway"]
    settings = load_from(monkeypatch, "gateway", workload_env(target, gateway))
    assert isinstance(settings, GatewaySettings)
    (ingress,) = of_kind(resources, "Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    size = annotations[NGINX + "proxy-body-size"].lower()
    limit = int(size[:-1]) * SIZE_UNITS[size[-1]] if size[-1] in SIZE_UNITS else int(size)
    assert limit > settings.max_upload_body_bytes
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[NGINX + timeout]) > settings.upload_deadline_seconds, timeout


# ----------------------------------------------------------------------------- network policies


def _selects(selector: Manifest, labels: dict[str, str]) -> bool:
    assert "matchExpressions" not in selector, "the evaluator reads matchLabels only"
    return dict(selector.get("matchLabels", {})).items() <= labels.items()


def _peer_matches(peer: Manifest, labels: dict[str, str]) -> bool:
    # Pods of our own namespace are matched by a bare podSelector; ipBlock is not used (it could
    # match pod addresses), and namespaceSelector peers are other namespaces (kube-dns).
    assert "ipBlock" not in peer, "ipBlock peers are not evaluated here"
    if "namespaceSelector" in peer:
        return False
    return _selects(peer["podSelector"], labels)


def _rule_allows(rule: Manifest, side: str, peer: dict[str, str], port: int) -> bool:
    peers = rule.get(side)
    ports = rule.get("ports")
    peer_ok = peers is None or any(_peer_matches(p, peer) for p in peers)
    port_ok = ports is None or any(p.get("port") == port for p in ports)
    return peer_ok and port_ok


def _admits_outsiders(rule: Manifest, port: int) -> bool:
    ports = rule.get("ports")
    return "from" not in rule and (ports is None or any(p.get("port") == port for p in ports))


def reachable(src: dict[str, str] | None, dst: dict[str, str], port: int) -> bool:
    """Whether the base's policies let a pod labelled `src` open `dst`:`port`.

    `src` None is a client outside the namespace (an ingress controller, another team's pod):
    only our ingress rules apply to it, and only rules without a peer list admit it.
    """
    policies = of_kind(build("base"), "NetworkPolicy").values()
    egress = [
        p
        for p in policies
        if src is not None
        and "Egress" in p["spec"]["policyTypes"]
        and _selects(p["spec"]["podSelector"], src)
    ]
    ingress = [
        p
        for p in policies
        if "Ingress" in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], dst)
    ]
    out = not egress or any(
        _rule_allows(r, "to", dst, port) for p in egress for r in p["spec"].get("egress", [])
    )
    into = not ingress or any(
        _rule_allows(r, "from", src, port) if src is not None else _admits_outsiders(r, port)
        for p in ingress
        for r in p["spec"].get("ingress", [])
    )
    return out and into


def labels_of(name: str) -> dict[str, str]:
    resources = build("base")
    workload = {**of_kind(resources, "Deployment"), **of_kind(resources, "Job")}[name]
    return pod_labels(workload)


def port_of(name: str) -> int:
    return service(name).settings_class().default_port


def test_everything_is_denied_by_default() -> None:
    policy = of_kind(build("base"), "NetworkPolicy")["default-deny-all"]["spec"]
    assert policy["podSelector"] == {}
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in policy and "egress" not in policy
    stranger = {"app": "somebody-else"}
    assert not reachable(stranger, labels_of("families"), port_of("families"))
    assert not reachable(None, labels_of("families"), port_of("families"))


@pytest.mark.parametrize("name", SERVICE_NAMES)
def test_only_the_gateway_reaches_a_service(name: str) -> None:
    port = port_of(name)
    target = labels_of(name)
    assert reachable(labels_of("gateway"), target, port)
    others = [n for n in SERVICE_NAMES if n != name] + ["worker", "beat", f"{name}-migrate"]
    for other in others:
        assert not reachable(labels_of(other), target, port), f"{other} reaches {name}"
    assert not reachable({"app": "somebody-else"}, target, port)
    assert not reachable(None, target, port)


@pytest.mark.parametrize("name", [*SERVICE_NAMES, "worker", "beat"])
def test_services_and_tasks_reach_the_gateway(name: str) -> None:
    assert reachable(labels_of(name), labels_of("gateway"), GATEWAY_PORT)


def test_the_gateway_is_the_public_entry_and_nothing_calls_worker_or_beat() -> None:
    assert reachable(None, labels_of("gateway"), GATEWAY_PORT)
    assert not reachable(None, labels_of("gateway"), 9090)
    for name in ("worker", "beat", "families-migrate", *RELAYS):
        for src in ("gateway", "families"):
            assert not reachable(labels_of(src), labels_of(name), GATEWAY_PORT)
        assert not reachable(None, labels_of(name), GATEWAY_PORT)
    for relay in RELAYS:  # a relay only publishes: it calls nothing in the cluster
        assert not reachable(labels_of(relay), labels_of("gateway"), GATEWAY_PORT)
    assert not reachable(labels_of("families-migrate"), labels_of("gateway"), GATEWAY_PORT)


def test_every_workload_has_its_own_policy() -> None:
    policies = of_kind(build("base"), "NetworkPolicy")
    for workload in workloads("base"):
        labels = pod_labels(workload)
        own = [
            n
            for n, p in policies.items()
            if p["spec"]["podSelector"] and _selects(p["spec"]["podSelector"], labels)
        ]
        assert own, f"no policy of its own for {workload['metadata']['name']}"


# Servers outside the namespace a pod may open; SMTP's three ports are one relay's choices.
OUTSIDE_PORTS = {25, 80, 443, 465, 587, 3310, 5432, 6379}
SMTP_PORTS = {25, 465, 587}
DEFAULT_PORTS = {
    "https": 443,
    "http": 80,
    "redis": 6379,
    "rediss": 6379,
    "postgresql+asyncpg": 5432,
}


def reaches_outside(src: dict[str, str], port: int) -> bool:
    """Whether the base's egress policies let a pod labelled `src` open `port` off-cluster."""
    policies = of_kind(build("base"), "NetworkPolicy").values()
    egress = [
        p
        for p in policies
        if "Egress" in p["spec"]["policyTypes"] and _selects(p["spec"]["podSelector"], src)
    ]
    # Only a rule without a peer list admits an address outside the cluster (no ipBlock here).
    return any(
        "to" not in rule
        and (rule.get("ports") is None or any(p.get("port") == port for p in rule["ports"]))
        for policy in egress
        for rule in policy["spec"].get("egress", [])
    )


def url_port(url: str) -> int | None:
    """The TCP port a URL opens (None for an embedded SQLite file)."""
    parts = urlsplit(url)
    if parts.scheme.startswith("sqlite"):
        return None
    return parts.port or DEFAULT_PORTS[parts.scheme]


def servers_used(settings: BaseServiceSettings, only: str = "") -> set[int]:
    """The ports of the off-cluster servers a process's settings point at (or one URL's)."""
    values = settings.model_dump()
    if only:
        return {port for port in [url_port(values[only])] if port is not None}
    ports = {url_port(settings.database_url), url_port(settings.redis_url)}
    if "s3_endpoint_url" in values:
        ports.add(url_port(values["s3_endpoint_url"]))
    if values.get("payfip_mode") == "payfip":
        ports.add(url_port(values["payfip_ws_url"]))
    if "smtp_port" in values:
        ports.add(values["smtp_port"])
    if "clamd_port" in values:  # optional, but the policy must not be what forbids it
        ports.add(values["clamd_port"])
    return {port for port in ports if port is not None}


@pytest.mark.parametrize(
    "name", [*HTTP_PROCESSES, *RELAYS, "worker", "beat", *(f"{n}-migrate" for n in SERVICE_NAMES)]
)
def test_each_workload_reaches_the_servers_its_settings_name_and_no_others(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = {**of_kind(build("base"), "Deployment"), **of_kind(build("base"), "Job")}[name]
    env = workload_env("base", workload)
    labels = pod_labels(workload)
    needed: set[int] = set()
    for process in processes_of(process_of(workload)):
        with monkeypatch.context() as patch:
            settings = load_from(patch, process, env)
        if labels["app.kubernetes.io/component"] == "migration":
            # A migration opens its database and nothing else, whatever its settings name.
            needed |= servers_used(settings, only="database_url")
        elif name == "beat":
            # Beat only sends the schedule's messages to the broker; the worker runs them.
            needed |= servers_used(settings, only="redis_url")
        else:
            needed |= servers_used(settings)
    allowed = {port for port in OUTSIDE_PORTS if reaches_outside(labels, port)}
    assert needed - allowed == set(), f"{name} cannot reach {needed - allowed}"
    spare = SMTP_PORTS if needed & SMTP_PORTS else set()
    assert allowed - needed - spare == set(), f"{name} may open {allowed - needed - spare}"


def test_the_outside_evaluator_sees_the_difference() -> None:
    assert reaches_outside(labels_of("billing"), 443)
    assert not reaches_outside(labels_of("families"), 443)
    assert not reaches_outside(labels_of("families-migrate"), 6379)
    assert not reaches_outside({"app": "somebody-else"}, 5432)
