"""What an uploaded file really is, judged by its bytes; names kept only for display.

Only PDF, JPEG and PNG are accepted. The declared content type and the file name are
never trusted: the type comes from the first bytes, images are decoded and re-encoded (which
drops metadata, trailing data and anything hidden in ancillary chunks), PDFs are parsed and
refused when they carry active content (JavaScript, automatic actions, launches, embedded
files, rich media) or a second format (a PDF+ZIP polyglot).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
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
# A decompression bomb (a small PNG of 100k×100k pixels) stops here instead of eating memory.
MAX_IMAGE_PIXELS = 40_000_000
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


def inspect_file(raw: bytes, filename: str, accepted: tuple[str, ...] = FORMATS) -> InspectedFile:
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
        data = reencode_image(raw, kind, name)
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


def reencode_image(raw: bytes, kind: str, name: str) -> bytes:
    """Decode and re-encode the image: only pixels survive (no metadata, no trailing data)."""
    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(raw), formats=[kind.upper()]) as image:
                image.load()
                # The camera's rotation lives in EXIF, which is dropped: apply it first.
                upright = ImageOps.exif_transpose(image) or image
                return _encode(upright, kind)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(f"L'image « {name} » est trop grande (en pixels).") from None
    except Exception:
        raise FileRefused(f"L'image « {name} » est illisible ou endommagée.") from None


def _encode(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "jpeg":
        converted = image if image.mode in ("RGB", "L") else image.convert("RGB")
        converted.save(out, format="JPEG", quality=90, optimize=True)
    else:
        allowed = ("RGB", "RGBA", "L", "LA", "P", "1")
        converted = image if image.mode in allowed else image.convert("RGBA")
        converted.save(out, format="PNG", optimize=True)
    return out.getvalue()
