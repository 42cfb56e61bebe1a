"""What an uploaded file really is, judged by its bytes; names kept only for display.

Only PDF, JPEG and PNG are accepted. The declared content type and the file name are
never trusted: the type comes from the first bytes, images are decoded and re-encoded (which
drops metadata, trailing data and anything hidden in ancillary chunks), PDFs are parsed and
refused when they carry active content (JavaScript, automatic actions, launches, embedded
files, rich media) or a second format (a PDF+ZIP polyglot).

An image is judged by its header before it is decoded: too many pixels is refused at once,
and `decoding_bytes` tells the upload what the decoding will take, so that the memory budget
is reserved for it (a 140 KB PNG of 6000×6000 pixels decodes to 144 MB).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from .errors import FileRefused

FORMATS = ("pdf", "jpeg", "png")
CONTENT_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}
EXTENSIONS = {"pdf": (".pdf",), "jpeg": (".jpg", ".jpeg"), "png": (".png",)}
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG"}

MAX_NAME_LENGTH = 150
# A decompression bomb (a small PNG of 100k×100k pixels) stops here, read from its header.
# 50 Mpx lets in the 48 and 50 Mpx photos of recent phones (8000×6000, 8160×6120).
# DOCUMENTS_MAX_IMAGE_PIXELS sets it.
MAX_IMAGE_PIXELS = 50_000_000
# JPEGs above this are decoded at 1/2 (1/4, 1/8) of their size, which libjpeg does for a
# fraction of the memory: a 48 Mpx photo is kept at 12 Mpx, plenty to read a document, and
# takes 48 MB to decode instead of 192 MB. PNG has no such reduced decoding.
FULL_DECODE_PIXELS = 24_000_000
# Bytes a pixel takes in Pillow's memory: RGB is held in 4 like RGBA and CMYK.
ONE_BYTE_MODES = frozenset({"1", "L", "P"})
TWO_BYTE_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
# Modes encoded as they are; any other is converted first (to RGB for JPEG, RGBA for PNG).
KEPT_MODES = {
    "jpeg": frozenset({"RGB", "L"}),
    "png": frozenset({"RGB", "RGBA", "L", "LA", "P", "1"}),
}
CONVERTED_BYTES_PER_PIXEL = 4
MAX_PDF_OBJECTS = 100_000

# Keys whose presence means the PDF can run or launch something, or carries another file.
ACTIVE_PDF_KEYS = frozenset(
    {
        "/JavaScript",
        "/JS",
        "/OpenAction",
        "/AA",
        "/Launch",
        "/EmbeddedFile",
        "/EmbeddedFiles",
        "/RichMedia",
        "/XFA",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
    }
)


@dataclass(frozen=True)
class InspectedFile:
    """A file that passed every check, as it will be stored."""

    data: bytes
    format: str
    display_name: str

    @property
    def content_type(self) -> str:
        """The type we serve it with (ours, never the client's)."""
        return CONTENT_TYPES[self.format]

    @property
    def sha256(self) -> str:
        """Hex digest of the stored bytes."""
        return hashlib.sha256(self.data).hexdigest()


def inspect_file(
    raw: bytes,
    filename: str,
    accepted: tuple[str, ...] = FORMATS,
    *,
    max_image_pixels: int = MAX_IMAGE_PIXELS,
) -> InspectedFile:
    """The file as it will be stored, or `FileRefused` with a French reason."""
    name = clean_filename(filename)
    if not raw:
        raise FileRefused(f"Le fichier « {name} » est vide.")
    kind = sniff(raw)
    if kind not in FORMATS:
        raise FileRefused(
            f"Le fichier « {name} » n'est ni un PDF, ni une image JPEG ou PNG "
            f"(contenu reconnu : {kind}). Enregistrez-le au format PDF, JPEG ou PNG."
        )
    _check_extension(name, kind)
    if kind not in accepted:
        labels = ", ".join(FORMAT_LABELS[f] for f in accepted)
        raise FileRefused(
            f"Le fichier « {name} » est au format {FORMAT_LABELS[kind]} ; "
            f"ce document est attendu au format : {labels}."
        )
    if kind == "pdf":
        check_pdf(raw, name)
        data = raw
    else:
        data = reencode_image(raw, kind, name, max_pixels=max_image_pixels)
    return InspectedFile(data=data, format=kind, display_name=name)


def clean_filename(filename: str) -> str:
    """The name to display, or `FileRefused` when it carries separators or control characters.

    Such a name is refused rather than silently rewritten: the family should know what
    was received, and a name with a null byte or a path is never an honest mistake.
    """
    name = unicodedata.normalize("NFC", filename or "").strip()
    if not name:
        raise FileRefused("Le fichier n'a pas de nom.")
    if "\x00" in name:
        raise FileRefused("Le nom du fichier contient un caractère nul : renommez-le.")
    if "/" in name or "\\" in name:
        raise FileRefused(
            "Le nom du fichier contient un séparateur de dossier (/ ou \\) : renommez-le."
        )
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        raise FileRefused("Le nom du fichier contient des caractères de contrôle : renommez-le.")
    if name in (".", "..") or name.startswith("."):
        raise FileRefused("Le nom du fichier ne peut pas commencer par un point.")
    if len(name) > MAX_NAME_LENGTH:
        raise FileRefused(
            f"Le nom du fichier est trop long ({len(name)} caractères, {MAX_NAME_LENGTH} au plus)."
        )
    return name


def _check_extension(name: str, kind: str) -> None:
    # "x.pdf.exe" is refused whatever it contains: a name that lies about its type invites
    # the next person who downloads it to open it with the wrong program.
    lowered = name.lower()
    if not lowered.endswith(EXTENSIONS[kind]):
        extension = "." + lowered.rsplit(".", 1)[1] if "." in lowered else "(aucune)"
        expected = " ou ".join(EXTENSIONS[kind])
        raise FileRefused(
            f"Le fichier « {name} » est un {FORMAT_LABELS[kind]} mais son extension est "
            f"{extension} : renommez-le en {expected}."
        )


def sniff(raw: bytes) -> str:
    """The format by magic bytes: pdf, jpeg, png, or a short word for what it is instead."""
    if raw.startswith(b"%PDF-"):
        return "pdf"
    if raw.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if raw.startswith(b"\x7fELF"):
        return "programme exécutable (ELF)"
    if raw.startswith(b"MZ"):
        return "programme exécutable Windows"
    if raw.startswith((b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        return "archive compressée"
    head = raw[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<svg", b"<?xml")) or b"<svg" in head:
        return "image SVG"
    if head.startswith((b"<!doctype html", b"<html", b"<script", b"<")):
        return "page HTML"
    return "format inconnu"


def check_pdf(raw: bytes, name: str) -> None:
    """Refuse a PDF that is unreadable, encrypted, a polyglot, or carries active content."""
    if b"PK\x03\x04" in raw and b"PK\x05\x06" in raw:
        raise FileRefused(f"Le PDF « {name} » contient une archive ZIP cachée : il est refusé.")
    if b"%%EOF" not in raw[-2048:]:
        raise FileRefused(f"Le PDF « {name} » est incomplet ou endommagé (fin de fichier absente).")
    tail = raw[raw.rfind(b"%%EOF") + 5 :]
    if tail.strip(b"\r\n\t \x00"):
        raise FileRefused(
            f"Le PDF « {name} » contient des données après sa fin : il est refusé "
            "(fichier altéré ou double format)."
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(raw), strict=False)
            if reader.is_encrypted:
                raise FileRefused(
                    f"Le PDF « {name} » est protégé par un mot de passe : "
                    "envoyez une version non protégée."
                )
            if len(reader.pages) < 1:
                raise FileRefused(f"Le PDF « {name} » ne contient aucune page.")
            found = _active_keys(reader)
    except FileRefused:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, RecursionError, OSError):
        raise FileRefused(f"Le PDF « {name} » est illisible ou endommagé.") from None
    except Exception:
        # pypdf raises many kinds on hostile input; any of them means "not a sound PDF".
        raise FileRefused(f"Le PDF « {name} » est illisible ou endommagé.") from None
    found |= _raw_active_names(raw)
    if found:
        raise FileRefused(
            f"Le PDF « {name} » contient du contenu actif ({', '.join(sorted(found))}) : "
            "il est refusé. Imprimez-le en PDF ou scannez-le pour en obtenir une copie simple."
        )


def _active_keys(reader: PdfReader) -> set[str]:
    """Walk every object reachable from the trailer; collect active keys and action types."""
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise FileRefused("Le PDF est trop complexe pour être vérifié.")
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in seen:
                continue
            seen.add(ref)
            node = node.get_object()
        if isinstance(node, DictionaryObject):
            for key, value in node.items():
                if key in ACTIVE_PDF_KEYS:
                    found.add(str(key))
                if key == "/S" and isinstance(value, IndirectObject):
                    # `/S 5 0 R` names the action through another object (hidden, compressed,
                    # in an object stream the raw scan cannot read): judge the name it holds.
                    value = value.get_object()
                if key == "/S" and isinstance(value, NameObject) and value in ACTIVE_PDF_KEYS:
                    found.add(str(value))
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return found


_NAME_TOKEN = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_STREAM_BODY = re.compile(rb"stream\r?\n.*?endstream", re.DOTALL)


def _raw_active_names(raw: bytes) -> set[str]:
    """Active names in the raw object syntax, hex escapes decoded: a backstop for objects the
    parser did not reach. Stream bodies are skipped: compressed bytes would match by chance."""
    found = set()
    for token in _NAME_TOKEN.findall(_STREAM_BODY.sub(b"stream endstream", raw)):
        decoded = re.sub(rb"#([0-9a-fA-F]{2})", lambda m: bytes([int(m.group(1), 16)]), token)
        name = decoded.decode("latin-1")
        if name in ACTIVE_PDF_KEYS:
            found.add(name)
    return found


# glibc's malloc serves blocks under 32 MiB from per-thread heaps once one such block was
# freed, and a heap keeps its peak: Pillow's default 16 MiB blocks made each checking thread
# keep the 140 MB of the last big image it decoded (five of them 280 MB, measured). Blocks
# above 32 MiB are always mapped apart and given back to the system when freed.
PILLOW_BLOCK_BYTES = 64 * 1024 * 1024


def give_decoded_images_back() -> None:
    """Make Pillow allocate decoded images so that their memory returns to the system once
    freed (called when the service starts: it is a setting of the whole process)."""
    # What Pillow does itself for the PILLOW_BLOCK_SIZE environment variable.
    Image.core.set_block_size(PILLOW_BLOCK_BYTES)  # type: ignore[attr-defined]


def decoding_bytes(raw: bytes) -> int:
    """Bytes that decoding this image will take at the peak, read from its header alone;
    0 for a PDF, or a file the inspection will refuse before decoding it."""
    kind = sniff(raw)
    if kind not in ("jpeg", "png"):
        return 0
    try:
        with _opened(raw, kind) as image:
            _reduce(image, kind)
            width, height = image.size
            return width * height * _bytes_per_pixel_to_check(image.mode, kind)
    except Exception:
        return 0


def reencode_image(
    raw: bytes, kind: str, name: str, *, max_pixels: int = MAX_IMAGE_PIXELS
) -> bytes:
    """Decode and re-encode the image: only pixels survive (no metadata, no trailing data).

    Only the first frame of an animated PNG is decoded and kept; frames are never larger
    than the size in the header, which the limit is checked against before anything is
    decoded.
    """
    try:
        with _opened(raw, kind) as image:
            _refuse_too_many_pixels(image, name, max_pixels)
            _reduce(image, kind)
            image.load()
            # The camera's rotation lives in EXIF, which is dropped: apply it first, in place,
            # so that the unrotated pixels are freed as soon as the rotated ones exist.
            ImageOps.exif_transpose(image, in_place=True)
            return _encode(image, kind)
    except FileRefused:
        raise
    except Image.DecompressionBombError:
        # Pillow's own stop (twice its MAX_IMAGE_PIXELS), for a header past any limit of ours.
        raise FileRefused(f"L'image « {name} » est trop grande (en pixels).") from None
    except Exception:
        raise FileRefused(f"L'image « {name} » est illisible ou endommagée.") from None


@contextmanager
def _opened(raw: bytes, kind: str) -> Iterator[Image.Image]:
    # Lazy: only the header is read. Pillow's bomb warning is silenced because our own limit,
    # checked on the same header, decides (Pillow's would refuse a 48 Mpx photo).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(raw), formats=[kind.upper()]) as image:
            yield image


def _refuse_too_many_pixels(image: Image.Image, name: str, max_pixels: int) -> None:
    width, height = image.size
    if width * height > max_pixels:
        limit = f"{max_pixels / 1_000_000:g}".replace(".", ",")
        raise FileRefused(
            f"L'image « {name} » est trop grande : {width} × {height} pixels, pour {limit} "
            "millions de pixels au plus. Envoyez une photo de plus petite définition "
            "(ou un scan en PDF)."
        )


def _reduce(image: Image.Image, kind: str) -> None:
    """Ask libjpeg for a reduced decoding of a JPEG larger than `FULL_DECODE_PIXELS`."""
    width, height = image.size
    scale = 1
    while scale < 8 and (width // scale) * (height // scale) > FULL_DECODE_PIXELS:
        scale *= 2
    if kind == "jpeg" and scale > 1:
        image.draft(image.mode, (width // scale, height // scale))


def _bytes_per_pixel_to_check(mode: str, kind: str) -> int:
    """The decoded pixel plus one copy of it (the camera's rotation replaces the image in
    place), or, for a mode converted before encoding, the converted pixel and the
    intermediate Pillow may go through (16-bit grey to RGBA: 254 MB for 6000×6000, measured)."""
    decoded = _bytes_per_pixel(mode)
    if mode in KEPT_MODES[kind]:
        return 2 * decoded
    return 2 * decoded + CONVERTED_BYTES_PER_PIXEL


def _bytes_per_pixel(mode: str) -> int:
    if mode in ONE_BYTE_MODES:
        return 1
    if mode in TWO_BYTE_MODES:
        return 2
    return 4


def _encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "jpeg":
        converted = image if image.mode in KEPT_MODES[kind] else image.convert("RGB")
        converted.save(out, format="JPEG", quality=90, optimize=True)
    else:
        converted = image if image.mode in KEPT_MODES[kind] else image.convert("RGBA")
        converted.save(out, format="PNG", optimize=True)
    return out.getvalue()
