"""Reading uploaded files from a multipart body, stopping as soon as the size cap is passed.

aiohttp's `client_max_size` only guards `request.read()`/`post()`; a multipart body read
part by part is not bounded by it. This reader counts every chunk and answers 413 the
moment the total goes past the cap, so an oversized upload is never held whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import BodyPartReader, web

from services.kit.problems import BadRequest, UnsupportedMediaType

from .errors import FileRefused, UploadTooLarge

CHUNK_BYTES = 64 * 1024
# Room for the multipart boundaries and part headers around the files themselves.
MULTIPART_OVERHEAD = 64 * 1024
FILE_FIELD = "file"


@dataclass(frozen=True)
class UploadedFile:
    """One file as received: the name the browser sent and its bytes (capped)."""

    filename: str
    data: bytes


def too_large(limit: int) -> UploadTooLarge:
    """The 413 of this service, in French, with the cap in megabytes."""
    megabytes = limit / (1024 * 1024)
    return UploadTooLarge(
        f"Les fichiers envoyés dépassent la taille autorisée ({megabytes:.0f} Mo au total). "
        "Réduisez-les (un scan en PDF ou une photo moins lourde) et réessayez."
    )


async def read_files(request: web.Request, *, limit: int, max_files: int) -> list[UploadedFile]:
    """The files of the `file` fields, or 413 / 415 / 422 before anything is stored."""
    declared = request.content_length
    if declared is not None and declared > limit + MULTIPART_OVERHEAD:
        raise too_large(limit)
    if request.content_type != "multipart/form-data":
        raise UnsupportedMediaType("Envoyez les fichiers en multipart/form-data.")
    try:
        return await _read_parts(request, limit=limit, max_files=max_files)
    except ValueError:
        # aiohttp's reader says so when the boundary is missing, absent from the body or
        # never closed: the client's mistake, not ours.
        raise BadRequest(
            "Le corps n'est pas un envoi multipart/form-data lisible (délimiteur absent ou "
            "envoi tronqué) : renvoyez le fichier."
        ) from None


async def _read_parts(request: web.Request, *, limit: int, max_files: int) -> list[UploadedFile]:
    reader = await request.multipart()
    files: list[UploadedFile] = []
    total = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise FileRefused("Les envois imbriqués ne sont pas acceptés.")
        if part.name != FILE_FIELD:
            await part.release()
            continue
        if part.filename is None:
            raise FileRefused("Le champ « file » doit contenir un fichier.")
        if len(files) >= max_files:
            raise FileRefused(f"Envoyez {max_files} fichiers au plus à la fois.")
        received = bytearray()
        while chunk := await part.read_chunk(CHUNK_BYTES):
            total += len(chunk)
            if total > limit:
                raise too_large(limit)
            received += chunk
        files.append(UploadedFile(part.filename, bytes(received)))
        del received
    if not files:
        raise FileRefused("Aucun fichier reçu : choisissez un fichier avant d'envoyer.")
    return files
