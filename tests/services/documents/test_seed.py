"""The demo data: the manual's "4 Attendus" and "8 Télécharger des documents"."""

from __future__ import annotations

from portail.demo import DEMO_CHILD_ID, DEMO_FAMILY_ID, DEMO_PARENT_ID
from services.documents.inspection import inspect_file
from services.documents.keys import STORAGE
from services.documents.seed import seed_demo, simple_pdf
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .api import parent


async def test_the_demo_family_expects_four_documents_and_reads_eight(
    documents, members, bucket, signer: TestSigner
) -> None:
    _, directory = members
    directory.by_family[DEMO_FAMILY_ID] = [
        {"id": DEMO_PARENT_ID, "first_name": "Parent", "last_name": "TEST", "role": "responsable"},
        {"id": DEMO_CHILD_ID, "first_name": "Enfant", "last_name": "TEST", "role": "child"},
    ]
    app = documents.app

    await seed_demo(app[DATABASE], app[STORAGE])
    await seed_demo(app[DATABASE], app[STORAGE])  # idempotent

    headers = parent(signer, DEMO_FAMILY_ID)
    tiles = await (await documents.get(f"/dashboard/{DEMO_FAMILY_ID}", headers=headers)).json()
    assert tiles == {"documents": {"count": 4}, "documentation": {"count": 8}}
    listed = await (
        await documents.get(f"/families/{DEMO_FAMILY_ID}/documents", headers=headers)
    ).json()
    (child,) = listed["members"]
    assert child["name"] == "Enfant TEST"
    assert [(d["name"], d["state_label"]) for d in child["documents"]] == [
        ("Photocopie des vaccinations", "Aucun document transmis")
    ]
    # The upload page lists them (« Formats acceptés : PDF, JPEG, PNG »), never an empty list.
    expected = listed["family"] + child["documents"]
    assert [d["accepted_formats"] for d in expected] == [["pdf", "jpeg", "png"]] * 4
    org = await (await documents.get("/org-documents", headers=headers)).json()
    assert sum(d["to_return"] for d in org["items"]) == 2
    assert len(bucket.keys()) == 8


def test_demo_pdfs_pass_our_own_checks() -> None:
    checked = inspect_file(simple_pdf("Règlement intérieur", "Texte (avec parenthèses)"), "r.pdf")
    assert checked.format == "pdf"
