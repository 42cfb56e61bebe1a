"""The table `portail run` prints once everything is ready: what runs where, logs, accounts."""

from __future__ import annotations

from pathlib import Path

from .layout import S3_ACCESS_KEY_ID, S3_BUCKET, S3_SECRET_ACCESS_KEY
from .plan import Portal
from .supervisor import Child


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def render_summary(
    portal: Portal, children: list[Child], *, notes: dict[str, list[str]], elapsed: float
) -> str:
    """The whole summary, French first with the English words a newcomer looks for."""
    rows: list[tuple[str, ...]] = [("processus", "adresse / URL", "état", "journal / log")]
    for child in children:
        rows.append(
            (child.spec.name, child.spec.url or "—", child.ready_detail, _relative(child.spec.log))
        )
    lines = [
        "",
        f"Portail Famille (profil dev) prêt en {elapsed:.1f} s / ready in {elapsed:.1f} s",
        "",
        *_table(rows),
        "",
    ]
    if portal.has_gateway():
        lines.append(f"  Portail / portal ........ {portal.gateway_url}")
    else:
        lines.append("  Portail / portal ........ pas encore (gateway/app.py absent)")
    lines += [
        f"  Courriels / inbox ....... {portal.inbox_url}",
        f"  S3 ...................... {portal.s3_endpoint}  bucket {S3_BUCKET}, "
        f"clés {S3_ACCESS_KEY_ID} / {S3_SECRET_ACCESS_KEY}",
        f"  Redis ................... {portal.redis_url}",
        f"  SMTP .................... 127.0.0.1:{portal.ports.smtp}",
        f"  Données / data .......... {_relative(portal.layout.root)}/ "
        "(rm -rf var pour repartir de zéro / to reset)",
    ]
    missing = portal.missing_services()
    if missing:
        lines.append("  Services absents ........ " + ", ".join(missing) + " (pas encore écrits)")
    if not portal.has_gateway():
        lines.append("  Gateway absente ......... gateway/app.py n'existe pas encore")
    lines.append("")
    lines.append("  Données de démo / demo data: " + (", ".join(notes) or "aucune / none"))
    for name, said in notes.items():
        lines += [f"    {name}: {line}" for line in said]
    if "auth" not in notes:
        lines.append("    (pas de comptes de démo : le service auth n'a pas de seed)")
    lines += [
        "",
        "  Ctrl-C arrête tout / stops everything.   État : make status",
        "",
    ]
    return "\n".join(lines)
