"""The cross-family matrix: foreign ids answer like missing ones; staff routes are staff's."""

from __future__ import annotations

import pytest

from services.kit.testing import TestSigner

from . import files
from .api import create_type, multipart, new_family, parent, staff, upload


@pytest.fixture
async def world(documents, members, signer: TestSigner) -> dict:
    """Family A with a child and a submitted file; family B, a stranger to it."""
    _, directory = members
    family_a, family_b = new_family(), new_family()
    child_a = directory.add(family_a, "Enfant A")
    directory.add(family_b, "Enfant B")
    kind = await create_type(documents, signer, concerns="child", mandatory=True)
    sent = await (
        await upload(
            documents,
            parent(signer, family_a),
            family_a,
            kind["id"],
            [("a.pdf", files.pdf())],
            child_a,
        )
    ).json()
    org = await (
        await documents.post(
            "/org-documents",
            json={"title": "Menus", "category": "Menus", "published_at": "2099-01-01T00:00:00Z"},
            headers=staff(signer),
        )
    ).json()
    return {
        "a": family_a,
        "b": family_b,
        "child_a": child_a,
        "type": kind["id"],
        "submission": sent["id"],
        "file": sent["files"][0]["id"],
        "org": org["id"],
    }


def family_routes(w: dict) -> list[tuple[str, str]]:
    """Every family route with an id, addressed with family A's ids."""
    a, s, f = w["a"], w["submission"], w["file"]
    return [
        ("GET", f"/families/{a}/documents"),
        ("GET", f"/families/{a}/submissions/{s}"),
        ("GET", f"/families/{a}/submissions/{s}/files/{f}"),
        ("GET", f"/families/{a}/completeness?person_id={w['child_a']}"),
        ("GET", f"/dashboard/{a}"),
        ("POST", f"/families/{a}/documents/{w['type']}/files?person_id={w['child_a']}"),
    ]


async def _call(documents, method: str, url: str, headers: dict[str, str]):
    if method == "POST":
        body, content_type = multipart([("x.pdf", files.pdf())])
        return await documents.post(
            url, data=body, headers={**headers, "Content-Type": content_type}
        )
    return await documents.request(method, url, headers=headers)


async def test_family_b_gets_404_on_every_route_of_family_a(
    documents, world, bucket, signer: TestSigner
) -> None:
    keys_before = bucket.keys()
    for method, url in family_routes(world):
        response = await _call(documents, method, url, parent(signer, world["b"]))
        assert response.status == 404, (method, url, response.status)
        assert response.headers["Content-Type"].startswith("application/problem+json")
    assert bucket.keys() == keys_before


async def test_family_b_cannot_reach_a_submission_through_its_own_family_path(
    documents, world, signer: TestSigner
) -> None:
    b, s, f = world["b"], world["submission"], world["file"]
    headers = parent(signer, b)
    for url in (f"/families/{b}/submissions/{s}", f"/families/{b}/submissions/{s}/files/{f}"):
        foreign = await documents.get(url, headers=headers)
        missing = await documents.get(url.replace(s, "no-such-submission"), headers=headers)
        assert foreign.status == missing.status == 404
        assert (await foreign.json())["detail"] == (await missing.json())["detail"]


async def test_family_b_cannot_send_for_family_a_child(
    documents, world, signer: TestSigner
) -> None:
    b = world["b"]
    response = await upload(
        documents, parent(signer, b), b, world["type"], [("x.pdf", files.pdf())], world["child_a"]
    )
    assert response.status == 404
    assert "ne fait pas partie" in (await response.json())["detail"]


async def test_anonymous_gets_401_everywhere(documents, world) -> None:
    routes = [
        *family_routes(world),
        ("GET", "/org-documents"),
        ("GET", f"/org-documents/{world['org']}/file"),
        ("GET", "/document-types"),
        ("GET", "/review/submissions"),
    ]
    for method, url in routes:
        response = await _call(documents, method, url, {})
        assert response.status == 401, (method, url)


async def test_a_parent_is_forbidden_on_staff_routes(documents, world, signer: TestSigner) -> None:
    headers = parent(signer, world["a"])
    s, o, t = world["submission"], world["org"], world["type"]
    routes = [
        ("GET", "/review/submissions", None),
        ("POST", f"/submissions/{s}/accept", {}),
        ("POST", f"/submissions/{s}/refuse", {"reason": "non"}),
        ("POST", "/document-types", {"name": "X"}),
        ("PATCH", f"/document-types/{t}", {"mandatory": False}),
        ("GET", "/staff/org-documents", None),
        ("POST", "/org-documents", {"title": "X", "category": "Y"}),
        ("PATCH", f"/org-documents/{o}", {"title": "X"}),
        ("DELETE", f"/org-documents/{o}", None),
    ]
    for method, url, body in routes:
        response = await documents.request(method, url, json=body, headers=headers)
        assert response.status == 403, (method, url, response.status)
    body, content_type = multipart([("x.pdf", files.pdf())])
    org_upload = await documents.post(
        f"/org-documents/{o}/files", data=body, headers={**headers, "Content-Type": content_type}
    )
    assert org_upload.status == 403


async def test_unpublished_org_documents_are_invisible_to_families(
    documents, world, signer: TestSigner
) -> None:
    response = await documents.get(
        f"/org-documents/{world['org']}/file", headers=parent(signer, world["a"])
    )
    assert response.status == 404


async def test_staff_reach_every_family(documents, world, signer: TestSigner) -> None:
    for method, url in family_routes(world)[:-1]:
        response = await documents.request(method, url, headers=staff(signer))
        assert response.status == 200, (method, url, response.status)


async def test_an_overlong_family_id_is_a_missing_family(documents, signer: TestSigner) -> None:
    long_id = "f" * 65
    for url in (f"/families/{long_id}/documents", f"/dashboard/{long_id}"):
        response = await documents.get(url, headers=staff(signer))
        assert response.status == 404
