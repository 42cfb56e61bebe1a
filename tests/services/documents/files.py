"""Files made by the tests: sound ones, and the hostile corpus."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

# The EICAR test file: harmless, and detected as a virus by every antivirus (here by the
# tests' own clamd signatures, clamd.py).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf(pages: int = 1) -> bytes:
    """A small, sound PDF."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_eicar() -> bytes:
    """A sound PDF (no active content, the inspection lets it through) whose XMP metadata
    stream holds the EICAR string as is: only an antivirus refuses it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    metadata = DecodedStreamObject()
    metadata.set_data(EICAR)
    metadata.update(
        {NameObject("/Type"): NameObject("/Metadata"), NameObject("/Subtype"): NameObject("/XML")}
    )
    writer._root_object[NameObject("/Metadata")] = writer._add_object(metadata)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """A PDF whose document runs JavaScript (a /Names /JavaScript tree)."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hello');"),
        }
    )
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("js"), writer._add_object(action)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/JavaScript"): writer._add_object(tree)}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_open_action() -> bytes:
    """A PDF with an /OpenAction launching a URI when opened."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://attacker.example/"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_embedded_file() -> bytes:
    """A PDF carrying an attachment."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_attachment("payload.exe", b"MZ" + b"\0" * 64)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(size: tuple[int, int] = (40, 30), trailer: bytes = b"") -> bytes:
    """A PNG, with extra bytes after its end when `trailer` is given."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, format="PNG")
    return out.getvalue() + trailer


def jpeg_with_exif(comment: bytes = b"secret-gps") -> bytes:
    """A JPEG carrying EXIF metadata (a camera's)."""
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010E] = comment.decode()  # ImageDescription
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def zip_archive() -> bytes:
    """A ZIP archive."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("evil.exe", b"MZ" + b"\0" * 100)
    return out.getvalue()


def pdf_zip_polyglot() -> bytes:
    """A PDF with a ZIP archive appended: valid as both."""
    return pdf() + zip_archive()


ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 120
PE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 56 + b"PE\0\0" + b"\0" * 64
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


def png_bomb(width: int = 6000, height: int = 6000) -> bytes:
    """A valid black RGB PNG of `width`×`height` pixels, a hundred-odd KB for 6000×6000:
    what a decompression bomb looks like (its rows compressed as they are made, so the
    test never holds the decoded image)."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)  # filter byte "none", then black pixels
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width`×`height` pixels, followed by a few bytes of pixels:
    only a check of the header refuses it without trying to decode it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def phone_photo(width: int = 4000, height: int = 3000, orientation: int = 6) -> bytes:
    """A JPEG as a phone takes it: landscape sensor, EXIF saying how to turn it upright."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, exif=exif.tobytes())
    return out.getvalue()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)
