"""Demo data of the documents service: what the manual shows for the family TEST.

Four documents are expected of the family ("MES DOCUMENTS 4 Attendus": the child's
"Photocopie des vaccinations" and three family documents) and eight documents are published
("DOCUMENTATION STRUCTURE 8 Télécharger des documents"). Fixed ids make it idempotent.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import select

from services.kit.database import Database
from services.kit.outbox import utcnow
from services.kit.settings import load_settings

from .config import DocumentsSettings
from .models import DocumentType, OrgDocument
from .storage import ORG_PREFIX, Storage

_NAMESPACE = uuid.UUID("3f6f1f38-8f55-4d5c-9a49-3b1f5f0d0c06")

VACCINATIONS = "Photocopie des vaccinations"
RENSEIGNEMENTS = "Fiche de renseignements signée"

DOCUMENT_TYPES = (
    {
        "name": VACCINATIONS,
        "concerns": "child",
        "mandatory": True,
        "all_activities": True,
        "validity_days": 365,
        "help_text": "Les pages du carnet de santé où figurent les vaccinations de l'enfant.",
    },
    {
        "name": "Attestation d'assurance responsabilité civile",
        "concerns": "family",
        "mandatory": True,
        "all_activities": True,
        "validity_days": 365,
        "help_text": "L'attestation de l'année scolaire en cours (extrascolaire compris).",
    },
    {
        "name": RENSEIGNEMENTS,
        "concerns": "family",
        "mandatory": True,
        "all_activities": True,
        "validity_days": 365,
        "help_text": "La fiche de la rubrique Documentation structure, remplie et signée.",
    },
    {
        "name": "Attestation de quotient familial (CAF ou MSA)",
        "concerns": "family",
        "mandatory": False,
        "validity_days": 365,
        "help_text": "Sans elle, le tarif le plus élevé s'applique.",
    },
)

ORG_DOCUMENTS = (
    ("Règlement intérieur de l'ALSH Josta Leku", "Règlement", "", False, None),
    ("Règlement intérieur du périscolaire", "Règlement", "", False, None),
    ("Menus de la restauration scolaire", "Menus", "Les menus du mois.", False, None),
    (
        "Fiche de renseignements",
        "Formulaires",
        "À remplir, signer et nous retourner.",
        True,
        RENSEIGNEMENTS,
    ),
    ("Autorisation de droit à l'image", "Formulaires", "À nous retourner signée.", True, None),
    ("Programme des vacances de printemps", "Programmes", "Sorties et activités.", False, None),
    ("Tarifs selon le quotient familial", "Tarifs", "", False, None),
    ("Projet éducatif de territoire", "Projet éducatif", "", False, None),
)


def demo_id(name: str) -> str:
    """The fixed id of a demo row."""
    return str(uuid.uuid5(_NAMESPACE, name))


async def seed_demo(database: Database, storage: Storage | None = None) -> list[str]:
    """Add the demo document types and published documents (with their PDFs) if missing."""
    owned = storage is None
    storage = storage or Storage(load_settings(DocumentsSettings))
    try:
        # `portail run` seeds while S3 starts: wait for it a little before giving up on files.
        storage_ready = await _wait_for(storage, seconds=S3_WAIT_SECONDS)
        await _seed_types(database)
        missing = await _seed_org_documents(database, storage if storage_ready else None)
    finally:
        if owned:
            storage.close()
    if missing:
        return [f"S3 indisponible : {missing} documents publiés sans fichier (relancez le seed)."]
    return []


S3_WAIT_SECONDS = 30.0


async def _wait_for(storage: Storage, *, seconds: float) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await storage.ensure_bucket()
            return True
        except Exception:
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.5)


async def _seed_types(database: Database) -> None:
    now = utcnow()
    async with database.transaction() as session:
        for position, values in enumerate(DOCUMENT_TYPES):
            if await session.get(DocumentType, demo_id(str(values["name"]))) is not None:
                continue
            taken = await session.scalar(
                select(DocumentType.id).where(DocumentType.name == values["name"])
            )
            if taken is None:
                session.add(
                    DocumentType(
                        id=demo_id(str(values["name"])), position=position, created_at=now, **values
                    )
                )


async def _seed_org_documents(database: Database, storage: Storage | None) -> int:
    """Rows for the published documents, and their files when S3 answers; returns how many
    are still without a file."""
    now = utcnow()
    missing = 0
    for index, (title, category, description, to_return, type_name) in enumerate(ORG_DOCUMENTS):
        document_id = demo_id(f"org:{title}")
        async with database.transaction() as session:
            document = await session.get(OrgDocument, document_id)
            if document is None:
                document = OrgDocument(
                    id=document_id,
                    title=title,
                    category=category,
                    description=description,
                    to_return=to_return,
                    document_type_id=demo_id(type_name) if type_name else None,
                    published_at=now - timedelta(days=30 - index),
                    created_at=now,
                )
                session.add(document)
            if document.storage_key is not None:
                continue
            if storage is None:
                missing += 1
                continue
            content = simple_pdf(title, description)
            key = f"{ORG_PREFIX}demo-{document_id}"
            await storage.put(key, content, "application/pdf")
            document.storage_key = key
            document.display_name = f"{title}.pdf"
            document.content_type = "application/pdf"
            document.size = len(content)
    return missing


def simple_pdf(title: str, text: str = "") -> bytes:
    """A one-page PDF with a title and a line of text (Latin-1 text, Helvetica)."""
    lines = [(title, 18, 780), (text, 12, 750), ("Mairie — Espace Famille", 10, 60)]
    content = b"".join(
        b"BT /F1 %d Tf 56 %d Td (%s) Tj ET\n" % (size, y, _pdf_text(line))
        for line, size, y in lines
        if line
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n%sendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(value: str) -> bytes:
    encoded = value.replace("—", "-").encode("cp1252", "replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
