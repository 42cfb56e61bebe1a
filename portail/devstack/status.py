"""`portail status`: which processes of the dev portal answer, and whether they are ready."""

from __future__ import annotations

import aiohttp

from .plan import Portal
from .readiness import HttpProbe, Probe, TcpProbe
from .state import pid_alive, read_state
from .supervisor import ChildSpec


def _checks(portal: Portal) -> list[tuple[str, str, tuple[Probe, ...]]]:
    specs: list[ChildSpec] = []
    try:
        specs += portal.infrastructure()
    except Exception:
        specs.append(
            ChildSpec(
                "redis",
                [],
                portal.layout.log("redis"),
                probes=(TcpProbe("127.0.0.1", portal.ports.redis),),
                url=portal.redis_url,
            )
        )
    specs += portal.services() + portal.gateway()
    return [(spec.name, spec.url, spec.probes) for spec in specs]


async def collect_status(portal: Portal) -> list[tuple[str, str, str, str]]:
    """(name, url, pid note, readiness) of every process the dev portal would run."""
    state = read_state(portal.layout.state_file) or {}
    pids = {p["name"]: p["pid"] for p in state.get("processes", []) if isinstance(p, dict)}
    rows = []
    async with aiohttp.ClientSession() as session:
        for name, url, probes in _checks(portal):
            results = [await probe.check(session) for probe in probes]
            ready = all(ok for ok, _ in results)
            detail = (
                "prêt / ready"
                if ready
                else "ne répond pas / not answering: "
                + "; ".join(text for ok, text in results if not ok)
            )
            pid = pids.get(name)
            note = f"pid {pid}" if pid and pid_alive(pid) else "—"
            rows.append((name, url, note, detail))
    for name in ("worker", "beat"):
        pid = pids.get(name)
        if pid:
            rows.append((name, "—", f"pid {pid}", "en marche" if pid_alive(pid) else "arrêté"))
    return rows


def launcher_note(portal: Portal) -> str:
    """Whether a `portail run` launcher is recorded and alive."""
    state = read_state(portal.layout.state_file)
    if not state:
        return "Aucun `portail run` enregistré dans " + str(portal.layout.state_file)
    pid = int(state.get("launcher_pid", 0))
    alive = pid_alive(pid) if pid else False
    return f"Lanceur / launcher: pid {pid} " + ("en marche" if alive else "absent (arrêté ?)")


__all__ = ["HttpProbe", "collect_status", "launcher_note"]
