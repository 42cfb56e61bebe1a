"""Server-rendered pages: the Jinja environment and the context every page shares."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from yarl import URL

from services.kit.typography import french_html

from .csrf import CSRF_FIELD, csrf_token
from .formats import formats_of
from .headers import csp_nonce
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, translator_of
from .keys import GATEWAY_SETTINGS, LANGUAGE
from .menu import MENU, is_current, menu_for
from .service_messages import message_text
from .session import current_claims, current_identity

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
STATIC_ROUTE = "static"


def setup_templates(app: web.Application) -> None:
    """Jinja with autoescaping, templates from `gateway/templates/`, static files versioned."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # append_version: the URL changes with the content, so browsers may cache static files.
    app.router.add_static("/static/", STATIC_DIR, name=STATIC_ROUTE, append_version=True)


def static_url(request: web.Request, filename: str) -> str:
    """The versioned URL of a static file."""
    return str(request.app.router[STATIC_ROUTE].url_for(filename=filename))


def _has_page(app: web.Application, path: str) -> bool:
    """Whether `path` is a route of this app that answers GET (not a 404 or a 405). Matched on
    the routes' own descriptions: the request being answered has read its form, and aiohttp
    cannot clone it to ask its router."""
    for resource in app.router.resources():
        info = resource.get_info()
        if "path" in info:
            matched = info["path"] == path
        elif "pattern" in info:
            matched = info["pattern"].fullmatch(path) is not None
        else:  # static files: no page
            continue
        if matched and any(route.method in ("GET", "*") for route in resource):
            return True
    return False


async def page_address(request: web.Request) -> URL:
    """The address that shows this page again by GET. A page answering a form (POST) has none
    of its own — its address answers 405 by GET (« /reservations/enregistrer »), or a link
    page without its token (« /premiere-connexion ») — so: the page the form was sent from,
    as the same-origin Referer says, else the dashboard."""
    if request.method in ("GET", "HEAD"):
        return request.rel_url
    allowed = request.app[GATEWAY_SETTINGS].allowed_origins
    try:
        referer = URL(request.headers.get("Referer", ""))
        ours = referer.is_absolute() and str(referer.origin()) in allowed
    except ValueError:  # a Referer that is no URL: nothing to go back to
        ours = False
    if ours and _has_page(request.app, referer.path):
        return referer.relative()
    return URL("/")


async def shell_context(request: web.Request) -> dict[str, Any]:
    """What the base layout needs: language, menu, identity, CSRF token, CSP nonce, and the
    page language's formats (`euros`, `date_text`, `day_text`, `minute_text`, `spoken_day`)
    and `said`."""
    language = request.get(LANGUAGE, DEFAULT_LANGUAGE)
    formats = formats_of(request)
    other = next(code for code in LANGUAGES if code != language)
    identity = await current_identity(request)
    return {
        "_": translator_of(request),
        "lang": language,
        "switch_language_url": str((await page_address(request)).update_query(lang=other)),
        "switch_language_code": other,
        "menu": menu_for(identity.role, identity.staff_roles) if identity else MENU,
        "is_current": lambda entry: is_current(entry, request.path),
        "path": request.path,
        "org_name": request.app[GATEWAY_SETTINGS].org_name,
        "identity": identity,
        "claims": await current_claims(request),
        "csrf_field": CSRF_FIELD,
        "csrf_token": csrf_token(request),
        "csp_nonce": csp_nonce(request),
        "static": lambda filename: static_url(request, filename),
        "euros": formats.euros,
        "date_text": formats.date_text,
        "day_text": formats.day,
        "minute_text": formats.minute,
        "spoken_day": formats.spoken_day,
        # A service's French sentence (a refusal, a planning cell's reason) in the page's
        # language when the catalog knows it or its template (service_messages.py).
        "said": lambda message: message_text(request, message) if message else "",
    }


async def render(
    request: web.Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    """Render a page of the web app with the shell's context; a French page with French
    typography (`services.kit.typography.french_html`: no line break before « : » or inside
    « », on the templates' own text and the data alike)."""
    full = await shell_context(request)
    full.update(context or {})
    if page_url := full.get("page_url"):
        # The page's own address by GET, given by a page that answers its form again and
        # again (« /premiere-connexion » keeps its token there, not in the Referer).
        other = full["switch_language_code"]
        full["switch_language_url"] = str(URL(page_url).update_query(lang=other))
    page = aiohttp_jinja2.render_string(template, request, full)
    if full["lang"] == "fr":
        page = french_html(page)
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
