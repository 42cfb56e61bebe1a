"""The inbox page of the SMTP catcher: every e-mail the dev portal sent, readable in a browser."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from .mailstore import MailStore

MAIL_STORE: web.AppKey[MailStore] = web.AppKey("mail_store", MailStore)
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("templates", jinja2.Environment)
PARIS = ZoneInfo("Europe/Paris")
# A message's HTML is someone else's markup: shown in a sandboxed frame, with no script,
# no form and no request to anywhere.
_HTML_PART_HEADERS = {
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    ),
    "X-Content-Type-Options": "nosniff",
}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _paris(value: datetime) -> str:
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def _render(request: web.Request, template: str, **context: object) -> web.Response:
    page = request.app[TEMPLATES].get_template(template).render(**context)
    return web.Response(text=page, content_type="text/html", headers=_PAGE_HEADERS)


async def inbox(request: web.Request) -> web.Response:
    """GET /: the list of messages, newest first."""
    store = request.app[MAIL_STORE]
    return _render(request, "inbox.html", messages=store.all(), directory=store.directory)


async def message(request: web.Request) -> web.Response:
    """GET /messages/{id}: one message, its headers and its text."""
    found = request.app[MAIL_STORE].get(request.match_info["id"])
    if found is None:
        raise web.HTTPNotFound(text="Message introuvable.")
    return _render(
        request,
        "message.html",
        m=found,
        text=found.body("plain"),
        html=found.body("html"),
        attachments=found.attachments(),
    )


async def message_html(request: web.Request) -> web.Response:
    """GET /messages/{id}/html: the HTML part alone, for the sandboxed frame."""
    found = request.app[MAIL_STORE].get(request.match_info["id"])
    html = found.body("html") if found else None
    if html is None:
        raise web.HTTPNotFound(text="Pas de partie HTML.")
    return web.Response(text=html, content_type="text/html", headers=_HTML_PART_HEADERS)


async def message_raw(request: web.Request) -> web.Response:
    """GET /messages/{id}/raw: the stored file, as a download."""
    message_id = request.match_info["id"]
    raw = request.app[MAIL_STORE].raw(message_id)
    if raw is None:
        raise web.HTTPNotFound(text="Message introuvable.")
    return web.Response(
        body=raw,
        content_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="{message_id}.eml"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def healthz(_request: web.Request) -> web.Response:
    """GET /healthz: the inbox answers."""
    return web.json_response({"status": "ok"})


def create_inbox_app(store: MailStore) -> web.Application:
    """The inbox application reading `store`."""
    app = web.Application()
    app[MAIL_STORE] = store
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
    )
    environment.filters["paris"] = _paris
    app[TEMPLATES] = environment
    app.router.add_get("/", inbox)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/messages/{id}", message)
    app.router.add_get("/messages/{id}/html", message_html)
    app.router.add_get("/messages/{id}/raw", message_raw)
    return app
