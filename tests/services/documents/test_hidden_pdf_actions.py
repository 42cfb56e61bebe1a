"""A PDF action whose type is an indirect reference, inside a compressed object stream.

`/S 5 0 R` with object 5 the name `/Launch`, both in an `/ObjStm`: the raw scan sees only
compressed bytes, and the object walk saw a reference where it looked for a name. The file
was stored and shown to staff; a click on the page launched the program its `/F` names.
"""

from __future__ import annotations

import struct
import zlib

import pytest
from sqlalchemy import func, select

from services.documents.models import Submission
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner

from .api import create_type, new_family, parent, upload


def pdf_with_hidden_action(action: bytes) -> bytes:
    """One page whose link annotation runs `action`, named through an indirect object."""
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}

    def add(number: int, body: bytes) -> None:
        offsets[number] = len(out)
        out.extend(b"%d 0 obj\n%s\nendobj\n" % (number, body))

    add(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    add(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    add(3, b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Annots [6 0 R] >>")
    name = action
    annotation = (
        b"<< /Type /Annot /Subtype /Link /Rect [0 0 612 792]"
        b" /A << /Type /Action /S 5 0 R /F (calc.exe) >> >>"
    )
    header = b"5 0 6 %d " % (len(name) + 1)
    packed = zlib.compress(header + name + b" " + annotation)
    add(
        4,
        b"<< /Type /ObjStm /N 2 /First %d /Length %d /Filter /FlateDecode >>\nstream\n"
        % (len(header), len(packed))
        + packed
        + b"\nendstream",
    )
    offsets[7] = len(out)
    rows = [(0, 0, 255), *[(1, offsets[n], 0) for n in (1, 2, 3, 4)], (2, 4, 0), (2, 4, 1)]
    rows.append((1, offsets[7], 0))
    table = zlib.compress(b"".join(struct.pack(">BHB", *row) for row in rows))
    out.extend(
        b"7 0 obj\n<< /Type /XRef /Size 8 /W [1 2 1] /Root 1 0 R /Length %d"
        b" /Filter /FlateDecode >>\nstream\n" % len(table) + table + b"\nendstream\nendobj\n"
    )
    out.extend(b"startxref\n%d\n%%%%EOF\n" % offsets[7])
    return bytes(out)


@pytest.mark.parametrize("action", [b"/Launch", b"/ImportData", b"/GoToE"])
async def test_an_action_named_through_an_indirect_object_is_refused(
    documents, bucket, signer: TestSigner, action: bytes
) -> None:
    family = new_family()
    kind = await create_type(documents, signer)

    response = await upload(
        documents,
        parent(signer, family),
        family,
        kind["id"],
        [("lien.pdf", pdf_with_hidden_action(action))],
    )

    assert response.status == 422, await response.text()
    assert action.decode() in (await response.json())["detail"]
    assert bucket.keys() == []
    async with documents.app[DATABASE].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0
