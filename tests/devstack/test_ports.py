"""The dev portal refuses to start on a taken port and names it, in French and English."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from portail.cli import build_parser
from portail.commands.devstack import portal_from_args
from portail.devstack.launcher import run_portal
from portail.devstack.layout import SERVICE_PORTS, DevPorts, VarLayout
from portail.devstack.plan import Portal
from portail.devstack.ports import PortInUse, check_ports_free, free_port


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something already listens on (as PostgreSQL or Redis would on CI)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_taken_port_is_named_with_what_needed_it(listening: int) -> None:
    with pytest.raises(PortInUse) as caught:
        check_ports_free([("redis", free_port()), ("gateway", listening)])
    message = str(caught.value)
    assert f"127.0.0.1:{listening} (gateway)" in message
    assert "déjà utilisé" in message and "already in use" in message
    assert caught.value.taken == [("gateway", listening)]


def test_free_ports_pass() -> None:
    check_ports_free([("s3", free_port()), ("smtp", free_port())])


async def test_the_launcher_stops_before_starting_anything_when_a_port_is_taken(
    listening: int, tmp_path: Path
) -> None:
    services = {name: free_port() for name in SERVICE_PORTS}
    ports = DevPorts(
        redis=free_port(),
        s3=free_port(),
        smtp=free_port(),
        inbox=listening,
        gateway=free_port(),
        services=services,
    )
    lines: list[str] = []
    portal = Portal(layout=VarLayout(tmp_path / "var"), ports=ports)

    code = await run_portal(portal, report=lines.append)

    assert code == 2
    assert f"127.0.0.1:{listening} (inbox)" in "\n".join(lines)
    assert not (tmp_path / "var").exists(), "nothing is created before the ports are checked"


def test_the_default_ports_stay_clear_of_what_ci_machines_run() -> None:
    ports = DevPorts()
    used = {ports.redis, ports.s3, ports.smtp, ports.inbox, ports.gateway, *ports.services.values()}
    assert not used & {5432, 6379}
    assert len(used) == 4 + 1 + len(SERVICE_PORTS), "no port is shared by two processes"


def test_a_port_offset_moves_every_port_and_what_the_children_are_told(tmp_path: Path) -> None:
    args = build_parser().parse_args(
        ["run", "--var", str(tmp_path / "var"), "--port-offset", "100"]
    )
    portal = portal_from_args(args)

    default = DevPorts()
    assert portal.ports.gateway == default.gateway + 100
    assert portal.ports.services == {n: p + 100 for n, p in default.services.items()}
    moved = {portal.ports.redis, portal.ports.s3, portal.ports.smtp, portal.ports.inbox}
    assert moved == {default.redis + 100, default.s3 + 100, default.smtp + 100, 8125}
    env = portal.environment()
    assert env["PUBLIC_BASE_URL"] == "http://127.0.0.1:8180"
    assert env["BOOKINGS_SERVICE_URL"].endswith(f":{default.services['bookings'] + 100}")
    assert env["SMTP_PORT"] == str(default.smtp + 100)


def test_a_port_offset_out_of_range_is_refused() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--port-offset", "70000"])
