"""Typed application keys of the documents service."""

from __future__ import annotations

from aiohttp import web

from .antivirus import Clamd
from .budget import MemoryBudget
from .config import DocumentsSettings
from .storage import Storage

DOCUMENTS_SETTINGS: web.AppKey[DocumentsSettings] = web.AppKey("documents_settings")
STORAGE: web.AppKey[Storage] = web.AppKey("storage")
# None when no clamd is configured: uploads are then visible to staff at once.
CLAMD: web.AppKey[Clamd | None] = web.AppKey("clamd")
UPLOAD_BUDGET: web.AppKey[MemoryBudget] = web.AppKey("upload_budget")
