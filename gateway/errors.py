"""One place turns failures into answers: problem+json under `/api/`, French pages elsewhere.

A browser that opens an API address itself (a link to an invoice PDF, a document, the
family export) is a person, not a program: it gets the page too, with the same status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from services.kit.problems import Problem, problem_from_http_exception, problem_response

from .headers import csp_nonce, page_csp
from .i18n import translator_of
from .paths import is_api_path, is_navigation
from .proxy import StreamAborted
from .rendering import render

log = structlog.get_logger(__name__)

# Title and explanation shown to people, per status (French; translated by the catalog).
PAGE_ERRORS: dict[int, tuple[str, str]] = {
    400: ("Demande incorrecte", "La demande envoyée n'a pas pu être comprise."),
    401: ("Connexion nécessaire", "Connectez-vous pour accéder à cette page."),
    403: (
        "Accès refusé",
        "Vous n'avez pas accès à cette page, ou le formulaire a expiré. "
        "Rechargez la page et réessayez.",
    ),
    404: ("Page introuvable", "La page demandée n'existe pas ou a été déplacée."),
    405: ("Action impossible", "Cette action n'est pas possible sur cette page."),
    413: ("Envoi trop volumineux", "Le fichier ou le formulaire envoyé est trop volumineux."),
    429: (
        "Trop de demandes",
        "Vous avez fait beaucoup de demandes en peu de temps. "
        "Patientez un instant avant de réessayer.",
    ),
    500: (
        "Erreur inattendue",
        "Une erreur inattendue s'est produite. Réessayez dans quelques instants.",
    ),
    502: (
        "Service momentanément indisponible",
        "Un service du portail ne répond pas correctement. Réessayez dans quelques instants.",
    ),
    503: (
        "Service momentanément indisponible",
        "Un service du portail est momentanément indisponible. Réessayez dans quelques instants.",
    ),
    504: (
        "Service momentanément indisponible",
        "Un service du portail met trop de temps à répondre. Réessayez dans quelques instants.",
    ),
}
# A link to a file (an invoice PDF, a document, the export) that is refused. Whether it does
# not exist or belongs to another family is not said: one sentence for both.
NOT_YOURS = (
    "Document inaccessible",
    "Ce document n'existe pas ou ne vous est pas accessible.",
)
FILE_ERRORS: dict[int, tuple[str, str]] = {
    401: ("Connexion nécessaire", "Connectez-vous pour ouvrir ce document."),
    403: NOT_YOURS,
    404: NOT_YOURS,
    410: NOT_YOURS,
}


def wants_problem(request: web.Request) -> bool:
    """API callers get problem+json; people on pages, or opening an API address, a page."""
    if is_navigation(request):
        return False
    return is_api_path(request.path) or request.path in ("/readyz", "/healthz", "/metrics")


def page_error_texts(request: web.Request, status: int) -> tuple[str, str]:
    """The French title and sentence for `status` (a file's own for a refused API address)."""
    if is_api_path(request.path) and status in FILE_ERRORS:
        return FILE_ERRORS[status]
    return PAGE_ERRORS.get(status, PAGE_ERRORS[500])


def _whole_seconds(retry_after: str | None) -> int | None:
    """Retry-After as seconds (its date form, which no part of ours sends, says nothing)."""
    if retry_after is None or not retry_after.isascii() or not retry_after.isdigit():
        return None
    return int(retry_after)


async def render_error(request: web.Request, problem: Problem) -> web.Response:
    """The answer for `problem` on this request."""
    if wants_problem(request):
        return problem_response(problem, request.path)
    title, text = page_error_texts(request, problem.status)
    _ = translator_of(request)
    retry_after = _whole_seconds(problem.headers.get("Retry-After"))
    try:
        response = await render(
            request,
            "error.html",
            {
                "status": problem.status,
                "title": _(title),
                "text": _(text),
                "retry_after": retry_after,
            },
            status=problem.status,
        )
    except Exception:
        # The error page itself failed (a broken template): still answer, in plain French.
        log.exception("error_page_failed", status=problem.status)
        response = web.Response(
            status=problem.status, text=f"{title}. {text}", content_type="text/plain"
        )
    response.headers.update(problem.headers)
    if is_api_path(request.path):
        # The API's policy forbids every style and script: this one answer is a page.
        response.headers["Content-Security-Policy"] = page_csp(csp_nonce(request))
    return response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every failure below; an unexpected one is logged and answered 500."""
    try:
        return await handler(request)
    except StreamAborted:
        raise  # headers already sent: only cutting the connection tells the client
    except Problem as problem:
        return await render_error(request, problem)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return await render_error(request, problem_from_http_exception(exc))
    except Exception:
        log.exception("unhandled_error", path=request.path)
        return await render_error(request, Problem("An unexpected error occurred."))
