"""Images judged by their header before they are decoded: too many pixels refused at once
with the reason, the memory decoding takes reserved in the budget (big images wait their
turn), phone photos (12 to 48 Mpx) accepted."""

from __future__ import annotations

import asyncio
import io
import re
from html import unescape
from pathlib import Path

from aiohttp import FormData
from PIL import Image
from sqlalchemy import func, select

from services.documents.keys import UPLOAD_BUDGET
from services.documents.models import Submission
from services.kit.keys import DATABASE
from services.kit.testing import TestSigner
from tests.gateway.conftest import same_origin

from . import files
from .api import new_document
from .portal import portal, sign_in

MB = 1_000_000


def _rss() -> int:
    """This process's resident memory, in bytes: the service runs in it (its checks in
    threads), so its decoding shows here."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


async def _stored_image(documents, bucket, response) -> Image.Image:  # type: ignore[no-untyped-def]
    assert response.status == 201, await response.text()
    [key] = bucket.keys()
    return Image.open(io.BytesIO(bucket.get(key)))


async def test_an_image_above_the_pixel_limit_is_refused_with_its_size_and_nothing_is_kept(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    documents = await make_documents(max_image_pixels=20_000_000)
    document = await new_document(documents, signer)

    response = await document.send([("scan.png", files.png_bomb())])

    assert response.status == 422, await response.text()
    problem = await response.json()
    assert problem["type"].endswith("/file-refused")
    assert problem["detail"] == (
        "L'image « scan.png » est trop grande : 6000 × 6000 pixels, pour 20 millions de pixels "
        "au plus. Envoyez une photo de plus petite définition (ou un scan en PDF)."
    )
    assert bucket_of(documents).keys() == []
    async with documents.app[DATABASE].sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Submission)) == 0


async def test_a_header_claiming_too_many_pixels_is_refused_by_the_header_not_a_500(
    documents, bucket, signer: TestSigner
) -> None:
    document = await new_document(documents, signer)

    # 64 Mpx: past our limit (50), not Pillow's (179); 400 Mpx: past Pillow's own stop too.
    ours = await document.send([("a.png", files.png_header_claiming(8000, 8000))])
    pillows = await document.send([("b.png", files.png_header_claiming(20000, 20000))])

    assert ours.status == 422, await ours.text()
    assert "8000 × 8000 pixels, pour 50 millions de pixels au plus" in (await ours.json())["detail"]
    assert pillows.status == 422, await pillows.text()
    assert "b.png" in (await pillows.json())["detail"]
    assert "trop grande" in (await pillows.json())["detail"]
    assert bucket.keys() == []


async def test_a_6000_by_6000_png_of_100_kb_is_accepted_within_the_limit(
    documents, bucket, signer: TestSigner
) -> None:
    document = await new_document(documents, signer)
    bomb = files.png_bomb()
    assert len(bomb) < 150_000

    response = await document.send([("s.png", bomb)])

    stored = await _stored_image(documents, bucket, response)
    assert stored.size == (6000, 6000)
    # Released: nothing of it is still counted.
    assert documents.app[UPLOAD_BUDGET].reserved == 0


async def test_concurrent_big_images_are_decoded_one_after_the_other_within_bounded_memory(
    make_documents, bucket_of, signer: TestSigner
) -> None:
    # The default budget (192 MiB); a long wait, so that they queue rather than get 429.
    documents = await make_documents(upload_wait_seconds=30)
    budget = documents.app[UPLOAD_BUDGET]
    document = await new_document(documents, signer)
    bomb = files.png_bomb()
    before = _rss()
    peaks = {"rss": before, "reserved": 0}
    sending = True

    async def watch() -> None:
        while sending:
            peaks["rss"] = max(peaks["rss"], _rss())
            peaks["reserved"] = max(peaks["reserved"], budget.reserved)
            await asyncio.sleep(0.02)

    watcher = asyncio.create_task(watch())
    responses = await asyncio.gather(*(document.send([(f"{n}.png", bomb)]) for n in range(4)))
    sending = False
    await watcher

    assert [r.status for r in responses] == [201] * 4
    assert len(bucket_of(documents).keys()) == 4
    # Measured: 180 MB more, one decoding at a time; four at once took 1.15 GB, and one at
    # a time with Pillow's default blocks 440 MB (each thread's heap kept its last image).
    assert peaks["rss"] - before < 300 * MB, (peaks["rss"] - before) / MB
    # Each decoding (6000×6000×4 bytes, and a copy) was reserved: the whole budget, so they
    # ran one at a time. Before, each reserved three times its 105 KB.
    assert peaks["reserved"] == budget.capacity
    assert budget.reserved == 0


async def test_a_phone_photo_is_accepted_and_turned_upright(
    documents, bucket, signer: TestSigner
) -> None:
    document = await new_document(documents, signer)

    response = await document.send([("carnet.jpg", files.phone_photo(4000, 3000))])

    stored = await _stored_image(documents, bucket, response)
    assert stored.format == "JPEG"
    assert stored.size == (3000, 4000)
    assert not stored.getexif()


async def test_a_48_megapixel_photo_is_accepted_and_kept_at_12_megapixels(
    documents, bucket, signer: TestSigner
) -> None:
    document = await new_document(documents, signer)

    response = await document.send([("carnet.jpg", files.phone_photo(8000, 6000))])

    # Decoded by libjpeg at half its size (48 MB instead of 192), then turned upright.
    stored = await _stored_image(documents, bucket, response)
    assert stored.size == (3000, 4000)


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


async def test_the_pixel_refusal_reads_in_english_on_english_pages(
    service_client, make_documents, gateway, upstream, signer
) -> None:
    client, _, family_id, child_id, type_id = await portal(
        service_client, make_documents, gateway, upstream, signer
    )
    csrf = await sign_in(client, "famille.test@example.org")

    async def send() -> str:
        form = FormData()
        for name, value in (
            ("csrf_token", csrf),
            ("famille", family_id),
            ("type", type_id),
            ("personne", child_id),
        ):
            form.add_field(name, value)
        form.add_field(
            "file",
            files.png_header_claiming(8000, 8000),
            filename="carnet.png",
            content_type="image/png",
        )
        response = await client.post("/documents/envoyer", data=form, headers=same_origin(client))
        assert response.status == 422
        return _text(await response.text())

    french = await send()
    assert (await client.get("/documents?lang=en")).status == 200
    english = await send()

    assert "L'image « carnet.png » est trop grande : 8000 × 8000 pixels" in french
    assert (
        "The image “carnet.png” is too large: 8000 × 8000 pixels, for at most 50 million "
        "pixels. Send a lower-resolution photo (or a PDF scan)."
    ) in english
