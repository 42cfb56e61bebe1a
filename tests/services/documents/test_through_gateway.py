"""Through the real gateway, with the real families service: pages and API together."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from aiohttp import ClientSession, FormData, web
from prometheus_client.parser import text_string_to_metric_families

from services.kit.testing import TestSigner
from tests.gateway.conftest import same_origin, settings_of

from . import files
from .api import create_type, multipart, new_family, parent, staff, upload
from .portal import portal as _portal
from .portal import sign_in as _sign_in


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_a_parent_sends_vaccinations_and_staff_accept_them(
    service_client,
    make_documents,
    gateway,
    upstream,
    aiohttp_client,
    signer: TestSigner,
) -> None:
    client, _, family_id, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    csrf = await _sign_in(client, "famille.test@example.org")

    overview = _text(await (await client.get("/documents")).text())
    assert "Enfant TEST" in overview
    member = _text(await (await client.get(f"/documents?personne={child_id}")).text())
    assert "Documents — Enfant TEST" in member  # not « Documents de Enfant TEST »
    assert re.search(r"Manquant Photocopie des vaccinations \* Aucun document transmis", member)

    body, content_type = multipart([("vaccins.pdf", files.pdf())])
    sent = await client.post(
        f"/api/documents/families/{family_id}/documents/{type_id}/files?person_id={child_id}",
        data=body,
        headers={**same_origin(client), "X-CSRF-Token": csrf, "Content-Type": content_type},
    )
    assert sent.status == 201, await sent.text()
    submission: dict[str, Any] = await sent.json()
    piece = _text(
        await (await client.get(f"/documents/piece?type={type_id}&personne={child_id}")).text()
    )
    assert "En attente de validation" in piece and "vaccins.pdf" in piece
    size = -(-len(files.pdf()) // 1024)  # kilobytes, rounded up as the page does
    assert f"vaccins.pdf ({size} Ko)" in piece
    english = _text(
        await (
            await client.get(f"/documents/piece?type={type_id}&personne={child_id}&lang=en")
        ).text()
    )
    assert f"vaccins.pdf ({size} KB)" in english  # it read « Ko » on the English page
    await client.get("/documents?lang=fr")  # the rest of the visit in French again

    download = await client.get(
        f"/api/documents/families/{family_id}/submissions/{submission['id']}"
        f"/files/{submission['files'][0]['id']}"
    )
    assert download.status == 200
    assert download.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    staff_client = await aiohttp_client(client.server)
    staff_csrf = await _sign_in(staff_client, "agent@example.org")
    queue = await (await staff_client.get("/agents/documents")).text()
    assert "Photocopie des vaccinations" in queue and "Enfant TEST" in queue
    # The family is a link to its record, named: « Fiche de la famille » on every line did not
    # tell the agent whose document it was.
    assert f'<a href="/agents/familles/{family_id}">Famille TEST</a>' in queue
    decided = await staff_client.post(
        f"/agents/documents/{submission['id']}/decision",
        data={"csrf_token": staff_csrf, "decision": "accept"},
        headers=same_origin(staff_client),
        allow_redirects=False,
    )
    # Post/Redirect/Get: back to the queue, where a refresh decides nothing again; the notice
    # names the document type, read back from the service by the submission's id.
    assert decided.status == 303, await decided.text()
    location = decided.headers["Location"]
    assert location.startswith("/agents/documents?ok=accepte&")
    after = _text(await (await staff_client.get(location)).text())
    assert "Photocopie des vaccinations : accepté." in after
    # An address cannot put its words on the page, nor claim another state than the real one.
    forged = "Appelez le 0899 123 456"
    for query in (
        {"ok": forged},
        {"ok": "refuse", "document": submission["id"], "famille": family_id},
        {"ok": "accepte", "document": submission["id"], "famille": forged},
    ):
        shown = _text(await (await staff_client.get("/agents/documents", params=query)).text())
        assert "0899" not in shown and "Photocopie des vaccinations : " not in shown, query
    refused_notice = {"ok": "refuse", "document": submission["id"], "famille": family_id}
    generic = _text(
        await (await staff_client.get("/agents/documents", params=refused_notice)).text()
    )
    assert "Document : refusé." in generic

    piece = _text(
        await (await client.get(f"/documents/piece?type={type_id}&personne={child_id}")).text()
    )
    assert "Accepté" in piece
    complete = await client.get(
        f"/api/documents/families/{family_id}/completeness?person_id={child_id}"
    )
    assert await complete.json() == {"complete": True, "missing": []}


async def test_through_the_gateway_foreign_children_oversize_and_no_script_refusals(
    service_client,
    make_documents,
    gateway,
    upstream,
    signer: TestSigner,
) -> None:
    client, _, family_id, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    csrf = await _sign_in(client, "famille.test@example.org")
    api = f"/api/documents/families/{family_id}/documents/{type_id}/files"
    headers = {**same_origin(client), "X-CSRF-Token": csrf}

    body, content_type = multipart([("v.pdf", files.pdf())])
    foreign = await client.post(
        f"{api}?person_id=someone-else",
        data=body,
        headers={**headers, "Content-Type": content_type},
    )
    assert foreign.status == 404

    big, content_type = multipart([("gros.pdf", b"%PDF-1.4\n" + b"A" * (11 * 1024 * 1024))])
    oversized = await client.post(
        f"{api}?person_id={child_id}", data=big, headers={**headers, "Content-Type": content_type}
    )
    assert oversized.status == 413

    hostile, content_type = multipart([("facture.pdf", files.ELF)])
    refused = await client.post(
        f"{api}?person_id={child_id}",
        data=hostile,
        headers={**headers, "Content-Type": content_type},
    )
    assert refused.status == 422
    assert "exécutable" in (await refused.json())["detail"]

    # The form without a script posts to a page, which passes the file on.
    form = FormData()
    for name, value in (("csrf_token", csrf), ("famille", family_id), ("type", type_id)):
        form.add_field(name, value)
    form.add_field("personne", child_id)
    form.add_field("file", files.pdf(), filename="x.pdf.exe", content_type="application/pdf")
    no_script = await client.post("/documents/envoyer", data=form, headers=same_origin(client))
    assert no_script.status == 422
    assert "extension est .exe" in _text(await no_script.text())


async def test_staff_define_a_type_and_publish_a_form_that_families_download(
    service_client, make_documents, gateway, upstream, aiohttp_client, signer: TestSigner
) -> None:
    async def activities(_request: web.Request) -> web.Response:
        return web.json_response({"items": [{"id": "alsh", "name": "ALSH Josta Leku"}]})

    catalogue = web.Application()  # the bookings catalogue's contract: id and name
    catalogue.router.add_get("/activities", activities)
    bookings = await upstream(catalogue)
    client, documents, _, _, _ = await _portal(
        service_client, make_documents, gateway, upstream, signer, bookings=bookings.url
    )
    staff_client = await aiohttp_client(client.server)
    csrf = await _sign_in(staff_client, "agent@example.org")
    origin = same_origin(staff_client)
    editor = await (await staff_client.get("/agents/types-documents")).text()
    assert "ALSH Josta Leku" in editor

    created = await staff_client.post(
        "/agents/types-documents",
        data={
            "csrf_token": csrf,
            "nom": "Attestation d'assurance",
            "concerne": "family",
            "validite": "365",
            "formats": "pdf",
            "obligatoire": "on",
            "activite": "alsh",
            "actif": "on",
        },
        headers=origin,
    )
    assert created.status == 200
    assert "« Attestation d'assurance » enregistré." in _text(await created.text())
    types = await (await documents.get("/document-types", headers=staff(signer))).json()
    insurance = next(t for t in types["items"] if t["name"] == "Attestation d'assurance")
    assert (insurance["activity_ids"], insurance["accepted_formats"]) == (["alsh"], ["pdf"])

    published = await staff_client.post(
        "/agents/documentation",
        data={
            "csrf_token": csrf,
            "titre": "Fiche sanitaire",
            "categorie": "Formulaires",
            "a_retourner": "on",
            "debut": "2020-01-01",
        },
        headers=origin,
    )
    page = await published.text()
    assert "ajoutez maintenant son fichier" in _text(page)
    document_id = re.search(r'action="/agents/documentation/([0-9a-f-]+)/fichier"', page)
    assert document_id
    form = FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("file", files.pdf(), filename="fiche.pdf", content_type="application/pdf")
    attached = await staff_client.post(
        f"/agents/documentation/{document_id.group(1)}/fichier", data=form, headers=origin
    )
    assert attached.status == 200
    assert "fiche.pdf" in await attached.text()

    await _sign_in(client, "famille.test@example.org")
    english = _text(await (await client.get("/documents?lang=en")).text())
    assert "My documents" in english and "TIP" in english and "Family members" in english
    await client.get("/documents?lang=fr")
    listing = await (await client.get("/documentation")).text()
    assert "Fiche sanitaire" in listing and "à nous retourner" in _text(listing)
    link = re.search(r'href="(/api/documents/org-documents/[^"]+/file)"', listing)
    assert link
    download = await client.get(link.group(1))
    assert download.status == 200
    assert (await download.read()).startswith(b"%PDF-")
    forbidden = await client.get("/agents/documents")
    assert forbidden.status == 403


async def test_the_hostile_corpus_and_a_refusal_through_the_gateway(
    service_client, make_documents, gateway, upstream, bucket_of, signer: TestSigner
) -> None:
    from .test_hostile_files import CORPUS

    client, documents, family_id, child_id, type_id = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    bucket = bucket_of(documents)
    parent_token = signer.headers(families=[family_id])
    api = f"/api/documents/families/{family_id}/documents/{type_id}/files?person_id={child_id}"

    for label, name, content, expected in CORPUS:
        body, content_type = multipart([(name, content)])
        response = await client.post(
            api, data=body, headers={**parent_token, "Content-Type": content_type}
        )
        assert response.status == 422, label
        assert expected in (await response.json())["detail"], label
    assert bucket.keys() == []

    body, content_type = multipart([("vaccins.pdf", files.pdf())])
    sent = await (
        await client.post(api, data=body, headers={**parent_token, "Content-Type": content_type})
    ).json()
    refused = await client.post(
        f"/api/documents/submissions/{sent['id']}/refuse",
        json={"reason": "Page illisible"},
        headers=staff(signer),
    )
    assert refused.status == 200
    listed = await (
        await client.get(f"/api/documents/families/{family_id}/documents", headers=parent_token)
    ).json()
    (item,) = listed["members"][0]["documents"]
    assert (item["state_label"], item["refusal_reason"]) == ("Refusé", "Page illisible")


async def _calls(session: ClientSession, families_url: str, method: str, route: str) -> float:
    """How many requests the families service has answered on this route (its /metrics)."""
    text = await (await session.get(f"{families_url}/metrics")).text()
    return sum(
        sample.value
        for metric in text_string_to_metric_families(text)
        for sample in metric.samples
        if sample.name == "http_requests_total"
        and (sample.labels["method"], sample.labels["route"]) == (method, route)
    )


async def test_the_review_queue_names_its_families_in_one_call_to_families(
    service_client, make_documents, gateway, upstream, signer: TestSigner
) -> None:
    client, documents, _, _, _ = await _portal(
        service_client, make_documents, gateway, upstream, signer
    )
    families_url = settings_of(client).families_service_url
    async with ClientSession() as session:
        others = [
            await (
                await session.post(
                    f"{families_url}/families", json={"name": name}, headers=staff(signer)
                )
            ).json()
            for name in ("ETCHEVERRY", "DUHALDE", "OSPITAL")
        ]
        unknown = new_family()  # a family the families service does not know (or no more)
        book = await create_type(documents, signer, name="Livret de famille", concerns="family")
        for sender in [*(f["id"] for f in others), unknown]:
            sent = await upload(
                documents, parent(signer, sender), sender, book["id"], [("l.pdf", files.pdf())]
            )
            assert sent.status == 201, await sent.text()
        await _sign_in(client, "agent@example.org")

        reads_before = await _calls(session, families_url, "GET", "/families/{family_id}")
        batches_before = await _calls(session, families_url, "POST", "/families/names")
        queue = await (await client.get("/agents/documents")).text()
        reads = await _calls(session, families_url, "GET", "/families/{family_id}")
        batches = await _calls(session, families_url, "POST", "/families/names")

    for other in others:
        assert f'<a href="/agents/familles/{other["id"]}">Famille {other["name"]}</a>' in queue
    assert f'<a href="/agents/familles/{unknown}">Fiche de la famille</a>' in queue
    assert (batches - batches_before, reads - reads_before) == (1, 0)
