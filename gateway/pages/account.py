"""The account pages: first sign-in, sign-in, forgotten password, reset, password change,
the staff's authenticator enrolment, and the staff's account pages.

Every page asks the auth service (its API is described in services/auth/README.md) and
turns its problems into French messages; a link that no longer works gets a page that
offers a new one. Passwords and tokens only travel in POST bodies, never in URLs we
build, logs or redirects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import ClientError, web

from services.kit.problems import Forbidden, ServiceUnavailable

from ..calls import call_service, family_names
from ..clientip import client_ip
from ..formats import formats_of
from ..i18n import LANG_COOKIE, translator_of
from ..keys import GATEWAY_SETTINGS, SESSION, SESSIONS, UPSTREAM_CLIENT
from ..language_preference import remember_language_at_sign_in
from ..numbers import is_plain_number
from ..qr import qr_svg
from ..rendering import render
from ..session import (
    SignInRefused,
    delete_session_cookie,
    require_signed_in,
    require_staff_page,
    set_session_cookie,
)
from .home import local_path

MAX_FIELD = 1024  # auth refuses more anyway; this only bounds what we forward
MIN_LENGTH, MIN_DIGITS_ONLY, MAX_LENGTH = 12, 16, 256  # the rule, as auth applies it
WRONG_CREDENTIALS = "Adresse électronique ou mot de passe incorrect."
MISSING_FIELDS = "Saisissez votre adresse électronique et votre mot de passe."
NOT_THE_SAME = "Les deux mots de passe saisis ne sont pas identiques."
BROKEN_RULE = "Ce mot de passe ne respecte pas la règle."
NO_PASSWORD = "Saisissez le mot de passe que vous choisissez."  # noqa: S105 - a message
NO_CURRENT = "Saisissez votre mot de passe actuel."
# A password form's errors: a field's name → its messages; "" for the form as a whole.
PasswordErrors = dict[str, list[str]]
TOO_MANY = "Trop de tentatives. Réessayez dans {minutes} minute(s)."
STATES = {"invited": "Invité", "active": "Actif", "disabled": "Désactivé"}
KINDS = {"family": "Famille", "staff": "Agent"}
ROLES = {"agent": "agent", "administrator": "administrateur"}
RIGHTS = {"book": "Réserver", "invoices": "Factures", "edit": "Modifier"}
STAFF_ACTIONS = {
    "desactiver": ("disable", "Le compte est désactivé ; ses sessions sont fermées."),
    "reactiver": ("enable", "Le compte est réactivé."),
    "debloquer": ("unlock", "Les tentatives de connexion du compte sont remises à zéro."),
    "relancer": (
        "invitation",
        "Une nouvelle invitation est envoyée ; l'ancien lien ne marche plus.",
    ),
}

STAFF_NOTICES = {name: text for name, (_, text) in STAFF_ACTIONS.items()} | {
    "invite": "L'invitation est envoyée.",
    "famille-ajoutee": "La famille est ajoutée à ce compte existant.",
    # From staff_members.py (administrators' pages).
    "agent-invite": "L'invitation est envoyée : la personne crée son mot de passe, puis "
    "active la double authentification à sa première connexion.",
    "role-change": "Le rôle est changé ; il s'applique à la prochaine connexion de la personne.",
}


ACCOUNTS_PER_PAGE = 100  # auth's largest page
MAX_PAGE = 10_000  # auth refuses an offset past 1,000,000

# What `?refus=` may say on the accounts page (a key: an address cannot put its own words).
STAFF_REFUSALS = {
    "interdit": "Action refusée : personne ne désactive son propre compte, et seuls les "
    "administrateurs gèrent les comptes des agents.",
    "inconnu": "Ce compte n'existe pas.",
    "indisponible": "Le service des comptes n'a pas pu faire cette action ; réessayez.",
    "propre-role": "Vous ne pouvez pas changer votre propre rôle : demandez-le à un autre "
    "administrateur.",
    "pas-agent": "Seuls les comptes des agents ont un rôle.",
}


# ---- talking to auth -------------------------------------------------------------------


@dataclass
class AuthAnswer:
    """Auth's status, JSON body (or {}) and Retry-After."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    retry_after: str | None = None

    @property
    def problem(self) -> str:
        """The last part of a problem's `type` (e.g. `token-expired`), or ''."""
        return str(self.body.get("type", "")).rsplit("/", 1)[-1]

    def rule_messages(self) -> list[str]:
        """The French messages of a `weak-password` problem; [] for any other problem, whose
        messages (the schema's, in English) are not for a parent's eyes."""
        if self.problem != "weak-password":
            return []
        return [str(e.get("message", "")) for e in self.body.get("errors", []) if e.get("message")]


async def call_auth(
    request: web.Request,
    method: str,
    path: str,
    *,
    json: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    bearer: bool = False,
) -> AuthAnswer:
    """Call the auth service for this page; its 5xx and silence become a 503 page."""
    settings = request.app[GATEWAY_SETTINGS]
    sent = {"X-Forwarded-For": client_ip(request), **(headers or {})}
    if bearer:
        session = request.get(SESSION)
        if session is None or session.jwt is None:
            raise web.HTTPSeeOther("/connexion?" + urlencode({"suite": request.path_qs}))
        sent["Authorization"] = f"Bearer {session.jwt}"
    url = settings.service_urls()["auth"] + path
    try:
        async with request.app[UPSTREAM_CLIENT].request(
            method, url, json=json, params=params, headers=sent
        ) as response:
            if response.status >= 500:
                raise ServiceUnavailable("The sign-in service is unavailable.")
            try:
                body = await response.json(content_type=None) if response.status != 204 else {}
            except ValueError:
                body = {}
            return AuthAnswer(
                response.status,
                body if isinstance(body, dict) else {"items": body},
                response.headers.get("Retry-After"),
            )
    except (ClientError, TimeoutError):
        raise ServiceUnavailable("The sign-in service cannot be reached.") from None


async def _form(request: web.Request) -> dict[str, str]:
    form = await request.post()
    return {key: str(value)[:MAX_FIELD] for key, value in form.items() if isinstance(value, str)}


def _minutes(retry_after: str | None) -> int:
    try:
        return max(1, -(-int(retry_after or "60") // 60))
    except ValueError:
        return 1


def _too_many(request: web.Request, retry_after: str | None) -> str:
    return translator_of(request)(TOO_MANY, minutes=_minutes(retry_after))


def _rule_context() -> dict[str, int]:
    return {"min_length": MIN_LENGTH, "min_digits_only": MIN_DIGITS_ONLY, "max_length": MAX_LENGTH}


async def _not_the_same(request: web.Request, password: str) -> PasswordErrors:
    """Two entries that differ, and what the first breaks in the rule (auth's check, nothing
    stored): every error at once, rather than the rule's only once the two agree."""
    errors: PasswordErrors = {"password_confirm": [NOT_THE_SAME]}
    answer = await call_auth(request, "POST", "/password-rule", json={"password": password})
    breaks = answer.body.get("breaks") if answer.status == 200 else None
    messages = [str(b.get("message")) for b in breaks or [] if b.get("message")]
    return {"password": messages, **errors} if messages else errors


def _nothing_typed(password: str) -> PasswordErrors:
    """An empty password field, said before asking auth (whose schema refuses it in English)."""
    return {"password": [NO_PASSWORD]} if not password else {}


def _rule_errors(answer: AuthAnswer) -> PasswordErrors:
    return {"password": answer.rule_messages() or [BROKEN_RULE]}


# ---- first sign-in (the invitation link) -----------------------------------------------


async def first_signin_page(request: web.Request) -> web.StreamResponse:
    """GET /premiere-connexion?token=…: check the link, then ask for the password twice."""
    token = request.query.get("token", "")[:200]
    if not token:
        return await _link_problem(request, "invitation", "token-invalid", token)
    answer = await call_auth(request, "POST", "/invitations/check", json={"token": token})
    if answer.status != 200:
        return await _link_problem(request, "invitation", answer.problem, token)
    return await _first_signin_form(request, token, answer.body.get("email_hint", ""), {})


async def _first_signin_form(
    request: web.Request, token: str, email_hint: str, errors: PasswordErrors, status: int = 200
) -> web.Response:
    if not email_hint and errors:
        email_hint = await _email_hint(request, token)
    context = {
        "token": token,
        "email_hint": email_hint,
        "errors": errors,
        "page_url": "/premiere-connexion?" + urlencode({"token": token}),
        **_rule_context(),
    }
    return await render(request, "account/first_signin.html", context, status=status)


async def _email_hint(request: web.Request, token: str) -> str:
    """The invited account's masked address (« d***@… »), asked again after a refusal: the
    form does not carry it, and the page would otherwise stop saying whose password this is."""
    answer = await call_auth(request, "POST", "/invitations/check", json={"token": token})
    return str(answer.body.get("email_hint", "")) if answer.status == 200 else ""


async def first_signin(request: web.Request) -> web.StreamResponse:
    """POST /premiere-connexion: set the password, sign in, go to the dashboard."""
    form = await _form(request)
    token, password = form.get("token", ""), form.get("password", "")
    if empty := _nothing_typed(password):
        return await _first_signin_form(request, token, "", empty, status=422)
    if password != form.get("password_confirm", ""):
        errors = await _not_the_same(request, password)
        return await _first_signin_form(request, token, "", errors, status=400)
    answer = await call_auth(
        request, "POST", "/invitations/accept", json={"token": token, "password": password}
    )
    if answer.status == 422:
        return await _first_signin_form(request, token, "", _rule_errors(answer), status=422)
    if answer.status == 429:
        errors = {"": [_too_many(request, answer.retry_after)]}
        return await _first_signin_form(request, token, "", errors, status=429)
    if answer.status != 201:
        return await _link_problem(request, "invitation", answer.problem, token)
    if answer.body.get("mfa_enrolment_required"):
        return await _enrolment_page(request, str(answer.body.get("enrolment_token", "")))
    await _end_previous_session(request)
    response = web.HTTPSeeOther("/")
    set_session_cookie(request, response, str(answer.body["session"]["session_token"]))
    raise response


async def new_invitation_link(request: web.Request) -> web.StreamResponse:
    """POST /premiere-connexion/nouveau-lien: a new link by e-mail (same page whatever happens)."""
    form = await _form(request)
    await call_auth(request, "POST", "/invitations/renew", json={"token": form.get("token", "")})
    return await render(request, "account/link_sent.html", {"purpose": "invitation"})


async def _link_problem(
    request: web.Request, purpose: str, problem: str, token: str
) -> web.Response:
    kind = problem if problem in ("token-expired", "token-used") else "token-invalid"
    status = 410 if kind != "token-invalid" else 400
    context = {"purpose": purpose, "kind": kind, "token": token}
    return await render(request, "account/link_problem.html", context, status=status)


# ---- sign in, and the staff's authenticator --------------------------------------------


async def signin_page(request: web.Request) -> web.StreamResponse:
    """GET /connexion."""
    session = request.get(SESSION)
    if session is not None and session.jwt is not None:
        raise web.HTTPSeeOther("/")
    return await _signin_form(request, suite=request.query.get("suite", ""))


async def _signin_form(
    request: web.Request,
    *,
    suite: str,
    email: str = "",
    error: str | None = None,
    ask_code: bool = False,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> web.Response:
    context = {"suite": suite, "email": email, "error": error, "ask_code": ask_code}
    response = await render(request, "account/signin.html", context, status=status)
    response.headers.update(headers or {})
    return response


async def signin(request: web.Request) -> web.StreamResponse:
    """POST /connexion: a new session (the previous one revoked), or why not, in French."""
    form = await _form(request)
    email, password = form.get("email", "").strip(), form.get("password", "")
    code = form.get("totp_code", "").replace(" ", "")[:32] or None
    suite = local_path(form.get("suite") or None)
    if not email or not password:
        return await _signin_form(
            request, suite=suite, email=email, error=MISSING_FIELDS, ask_code=bool(code), status=400
        )
    try:
        signed_in = await request.app[SESSIONS].sign_in(
            email, password, code, client_ip=client_ip(request)
        )
    except SignInRefused as refused:
        problem = str(refused.problem.get("type", "")).rsplit("/", 1)[-1]
        if refused.status == 429:
            return await _signin_form(
                request,
                suite=suite,
                email=email,
                error=_too_many(request, refused.retry_after),
                status=429,
                headers={"Retry-After": refused.retry_after or "60"},
            )
        if problem == "mfa-required":
            message = (
                "Ce code n'est pas valable (ou a déjà servi)."
                if code
                # The password field comes back empty (a page never echoes a password).
                else "Saisissez de nouveau votre mot de passe, puis le code à 6 chiffres de "
                "votre application d'authentification."
            )
            return await _signin_form(
                request, suite=suite, email=email, error=message, ask_code=True, status=401
            )
        if problem == "mfa-enrolment-required":
            return await _enrolment_page(request, str(refused.problem.get("enrolment_token", "")))
        return await _signin_form(
            request, suite=suite, email=email, error=WRONG_CREDENTIALS, status=401
        )
    await _end_previous_session(request)
    await remember_language_at_sign_in(request, signed_in.jwt, request.cookies.get(LANG_COOKIE))
    response = web.HTTPSeeOther(suite)
    set_session_cookie(request, response, signed_in.session_token)
    raise response


async def _end_previous_session(request: web.Request) -> None:
    # A new session id at every sign-in: the old one is revoked, never reused.
    previous = request.get(SESSION)
    if previous is not None:
        await request.app[SESSIONS].sign_out(previous.token)


async def _enrolment_page(
    request: web.Request,
    enrolment_token: str,
    *,
    secret: str = "",
    otpauth_uri: str = "",
    error: str | None = None,
    status: int = 200,
    form_action: str = "/double-authentification",
) -> web.Response:
    if not secret:
        answer = await call_auth(
            request, "POST", "/mfa/enrolment", headers={"X-Enrolment-Token": enrolment_token}
        )
        if answer.status != 201:
            return await _link_problem(request, "enrolment", answer.problem, "")
        secret, otpauth_uri = answer.body["secret"], answer.body["otpauth_uri"]
    if not _is_totp_uri_of(otpauth_uri, secret):
        # After a wrong code both come back from the form: never draw or link anything else.
        otpauth_uri = ""
    _ = translator_of(request)
    qr_label = _("QR code à scanner avec l'application d'authentification")
    context = {
        "form_action": form_action,
        "enrolment_token": enrolment_token,
        "secret": secret,
        "grouped_secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "otpauth_uri": otpauth_uri,
        "qr_code": qr_svg(otpauth_uri, qr_label) if otpauth_uri else None,
        "error": error,
    }
    return await render(request, "account/mfa_enrol.html", context, status=status)


def _is_totp_uri_of(uri: str, secret: str) -> bool:
    """Whether `uri` is an authenticator link (`otpauth://totp/…`) carrying this secret."""
    return bool(secret) and uri.startswith("otpauth://totp/") and f"secret={secret}" in uri


async def confirm_enrolment(request: web.Request) -> web.StreamResponse:
    """POST /double-authentification: confirm the app's first code, show recovery codes."""
    form = await _form(request)
    token = form.get("enrolment_token", "")
    code = form.get("code", "").replace(" ", "")
    answer = await call_auth(
        request,
        "POST",
        "/mfa/enrolment/confirm",
        json={"code": code},
        headers={"X-Enrolment-Token": token},
    )
    if answer.status == 200:
        codes = answer.body.get("recovery_codes", [])
        context = {"recovery_codes": codes, "signed_in": False}
        return await render(request, "account/mfa_done.html", context)
    if answer.status == 422:
        return await _enrolment_page(
            request,
            token,
            secret=form.get("secret", ""),
            otpauth_uri=form.get("otpauth_uri", ""),
            error="Ce code ne correspond pas. Vérifiez l'heure du téléphone et réessayez.",
            status=422,
        )
    return await _link_problem(request, "enrolment", answer.problem, "")


# ---- forgotten password and reset ------------------------------------------------------


async def forgotten_page(request: web.Request) -> web.StreamResponse:
    """GET /mot-de-passe-oublie."""
    return await render(request, "account/forgotten.html", {"email": "", "error": None})


async def forgotten(request: web.Request) -> web.StreamResponse:
    """POST /mot-de-passe-oublie: the same answer whether the address has an account or not."""
    form = await _form(request)
    email = form.get("email", "").strip()
    answer = await call_auth(request, "POST", "/password-resets", json={"email": email})
    if answer.status == 422 or not email:
        context = {"email": email, "error": "Saisissez une adresse électronique valide."}
        return await render(request, "account/forgotten.html", context, status=422)
    if answer.status == 429:
        context = {"email": email, "error": _too_many(request, answer.retry_after)}
        return await render(request, "account/forgotten.html", context, status=429)
    return await render(request, "account/link_sent.html", {"purpose": "reset"})


async def reset_page(request: web.Request) -> web.StreamResponse:
    """GET /reinitialisation?token=…: check the link, then ask for the new password twice."""
    token = request.query.get("token", "")[:200]
    if not token:
        return await _link_problem(request, "reset", "token-invalid", token)
    answer = await call_auth(request, "POST", "/password-resets/check", json={"token": token})
    if answer.status != 200:
        return await _link_problem(request, "reset", answer.problem, token)
    return await _reset_form(request, token, {})


async def _reset_form(
    request: web.Request, token: str, errors: PasswordErrors, status: int = 200
) -> web.Response:
    context = {
        "token": token,
        "errors": errors,
        "page_url": "/reinitialisation?" + urlencode({"token": token}),
        **_rule_context(),
    }
    return await render(request, "account/reset.html", context, status=status)


async def reset(request: web.Request) -> web.StreamResponse:
    """POST /reinitialisation: the new password; every session of the account ends."""
    form = await _form(request)
    token, password = form.get("token", ""), form.get("password", "")
    if empty := _nothing_typed(password):
        return await _reset_form(request, token, empty, status=422)
    if password != form.get("password_confirm", ""):
        return await _reset_form(request, token, await _not_the_same(request, password), 400)
    answer = await call_auth(
        request, "POST", "/password-resets/confirm", json={"token": token, "password": password}
    )
    if answer.status == 422:
        return await _reset_form(request, token, _rule_errors(answer), status=422)
    if answer.status == 429:
        errors = {"": [_too_many(request, answer.retry_after)]}
        return await _reset_form(request, token, errors, status=429)
    if answer.status != 204:
        return await _link_problem(request, "reset", answer.problem, token)
    response = await render(request, "account/reset_done.html", {})
    if request.get(SESSION) is not None:
        delete_session_cookie(request, response)  # auth revoked it with all the others
    return response


# ---- change the password (signed in) ---------------------------------------------------


async def change_page(request: web.Request) -> web.StreamResponse:
    """GET /mot-de-passe."""
    await require_signed_in(request)
    return await _change_form(request, errors={}, done=False)


async def _change_form(
    request: web.Request, *, errors: PasswordErrors, done: bool, status: int = 200
) -> web.Response:
    context = {"errors": errors, "done": done, **_rule_context()}
    return await render(request, "account/change_password.html", context, status=status)


async def change(request: web.Request) -> web.StreamResponse:
    """POST /mot-de-passe: the current password, then the new one twice; other sessions end."""
    await require_signed_in(request)
    form = await _form(request)
    new = form.get("password", "")
    # In the form's order: the current password comes first.
    empty = ({"current": [NO_CURRENT]} if not form.get("current") else {}) | _nothing_typed(new)
    if empty:
        return await _change_form(request, errors=empty, done=False, status=422)
    if new != form.get("password_confirm", ""):
        errors = await _not_the_same(request, new)
        return await _change_form(request, errors=errors, done=False, status=400)
    session = request.get(SESSION)
    assert session is not None  # signed in
    answer = await call_auth(
        request,
        "POST",
        "/accounts/me/password",
        json={"current": form.get("current", ""), "new": new},
        headers={"X-Session-Token": session.token},
        bearer=True,
    )
    if answer.status == 204:
        return await _change_form(request, errors={}, done=True)
    if answer.status == 403:
        errors = {"current": ["Le mot de passe actuel n'est pas le bon."]}
        return await _change_form(request, errors=errors, done=False, status=403)
    if answer.status == 429:
        errors = {"": [_too_many(request, answer.retry_after)]}
        return await _change_form(request, errors=errors, done=False, status=429)
    return await _change_form(request, errors=_rule_errors(answer), done=False, status=422)


# ---- optional TOTP for one's own account -----------------------------------------------

SECURITY_NOTICES = {
    "desactivee": "La double authentification est désactivée.",
}


async def security_page(
    request: web.Request, *, error: str | None = None, status: int = 200
) -> web.StreamResponse:
    """GET /securite: whether a second factor protects the account; turn it on or off."""
    identity = await require_signed_in(request)
    answer = await call_auth(request, "GET", "/accounts/me", bearer=True)
    context = {
        "mfa_enabled": bool(answer.body.get("mfa_enabled")),
        "can_disable": identity.role == "family",
        "error": error,
        "notice": SECURITY_NOTICES.get(request.query.get("fait", "")),
    }
    return await render(request, "account/security.html", context, status=status)


async def security_get(request: web.Request) -> web.StreamResponse:
    """GET /securite."""
    return await security_page(request)


async def begin_totp(request: web.Request) -> web.StreamResponse:
    """POST /securite/activer: a new secret to add to the phone's app."""
    await require_signed_in(request)
    answer = await call_auth(request, "POST", "/accounts/me/totp", json={}, bearer=True)
    if answer.status != 201:
        raise web.HTTPSeeOther("/securite")
    return await _enrolment_page(
        request,
        "",
        secret=str(answer.body["secret"]),
        otpauth_uri=str(answer.body["otpauth_uri"]),
        form_action="/securite/confirmer",
    )


async def confirm_totp(request: web.Request) -> web.StreamResponse:
    """POST /securite/confirmer: the app's first code turns the second factor on."""
    await require_signed_in(request)
    form = await _form(request)
    code = form.get("code", "").replace(" ", "")
    answer = await call_auth(
        request, "POST", "/accounts/me/totp/confirm", json={"code": code}, bearer=True
    )
    if answer.status == 200:
        context = {"recovery_codes": answer.body.get("recovery_codes", []), "signed_in": True}
        return await render(request, "account/mfa_done.html", context)
    if answer.status == 422:
        return await _enrolment_page(
            request,
            "",
            secret=form.get("secret", ""),
            otpauth_uri=form.get("otpauth_uri", ""),
            error="Ce code ne correspond pas. Vérifiez l'heure du téléphone et réessayez.",
            status=422,
            form_action="/securite/confirmer",
        )
    raise web.HTTPSeeOther("/securite")


async def disable_totp(request: web.Request) -> web.StreamResponse:
    """POST /securite/desactiver: families may turn it off with their password."""
    await require_signed_in(request)
    form = await _form(request)
    answer = await call_auth(
        request,
        "POST",
        "/accounts/me/totp/disable",
        json={"password": form.get("password", "")},
        bearer=True,
    )
    if answer.status == 204:
        raise web.HTTPSeeOther("/securite?fait=desactivee")
    return await security_page(
        request, error="Le mot de passe n'est pas le bon.", status=answer.status
    )


# ---- staff: accounts -------------------------------------------------------------------


async def staff_accounts(request: web.Request) -> web.StreamResponse:
    """GET /agents/comptes: search accounts, see their state, act on them."""
    identity = await require_staff_page(request)
    q = request.query.get("q", "")[:254]
    state = request.query.get("etat", "")
    page = _page_number(request.query.get("page", ""))
    params = {"limit": str(ACCOUNTS_PER_PAGE), "offset": str((page - 1) * ACCOUNTS_PER_PAGE)}
    if q:
        params["q"] = q
    if state in STATES:
        params["state"] = state
    answer = await call_auth(request, "GET", "/accounts", params=params, bearer=True)
    if answer.status != 200:
        raise Forbidden("The account list is not available to this account.")
    items = answer.body.get("items", [])
    total = answer.body.get("total", 0)
    # A town has thousands of family accounts: the list showed the newest 100 and no more.
    filters = {k: v for k, v in (("q", q), ("etat", state)) if v}
    pages = {
        "current": page,
        "count": max(1, -(-total // ACCOUNTS_PER_PAGE)),
        "previous": urlencode({**filters, "page": page - 1}) if page > 1 else None,
        "next": urlencode({**filters, "page": page + 1})
        if page * ACCOUNTS_PER_PAGE < total
        else None,
    }
    context = {
        "accounts": [_account_row(request, a) for a in items],
        # Auth knows a family by its id: the agent needs its name (the families service's).
        "family_names": await family_names(
            request, (m["family_id"] for a in items for m in a.get("memberships") or [])
        ),
        "total": total,
        "pages": pages,
        "q": q,
        "state": state,
        "states": STATES,
        "kinds": KINDS,
        # Auth lets administrators only act on staff accounts: an agent is not offered
        # buttons that would end on « Accès refusé ».
        "manages_staff": "administrator" in identity.staff_roles,
        "notice": STAFF_NOTICES.get(request.query.get("fait", ""), None),
        "refusal": STAFF_REFUSALS.get(request.query.get("refus", ""), None),
        "me": identity.subject,
    }
    return await render(request, "account/staff_accounts.html", context)


def _page_number(value: str) -> int:
    """`?page=` as a page number from 1; anything else (typed, forged) is the first page.
    ASCII digits only, and few of them: int() refuses « ² » and more than 4,300 digits."""
    plain = is_plain_number(value) and len(value) <= len(str(MAX_PAGE))
    return int(value) if plain and 0 < int(value) <= MAX_PAGE else 1


def _account_row(request: web.Request, account: dict[str, Any]) -> dict[str, Any]:
    """An account as the list shows it: roles in French (translated by the template), last
    sign-in in Paris time, written in the page's language."""
    roles = [ROLES.get(role, role) for role in account.get("staff_roles") or []]
    last_login = formats_of(request).minute(account.get("last_login_at"))
    return {**account, "roles": roles, "last_login": last_login}


async def staff_action(request: web.Request) -> web.StreamResponse:
    """POST /agents/comptes/{account_id}/{action}: disable, enable, unlock, resend."""
    await require_staff_page(request)
    action = request.match_info["action"]
    if action not in STAFF_ACTIONS:
        raise web.HTTPNotFound()
    endpoint, _ = STAFF_ACTIONS[action]
    account_id = request.match_info["account_id"]
    answer = await call_auth(
        request, "POST", f"/accounts/{account_id}/{endpoint}", json={}, bearer=True
    )
    if answer.status not in (200, 201):
        # A refusal was the « Accès refusé… le formulaire a expiré » error page: the agent
        # could not tell a refused action from an expired form. The list says why instead.
        refusal = {403: "interdit", 404: "inconnu"}.get(answer.status, "indisponible")
        raise web.HTTPSeeOther("/agents/comptes?" + urlencode({"refus": refusal}))
    raise web.HTTPSeeOther("/agents/comptes?" + urlencode({"fait": action}))


async def invite_page(request: web.Request) -> web.StreamResponse:
    """GET /agents/comptes/inviter[?famille=<id>&courriel=<address>]: from a family's record,
    the form comes filled in with its id and address, and names the family."""
    await require_staff_page(request)
    values = {
        "family_id": request.query.get("famille", "")[:MAX_FIELD],
        "email": request.query.get("courriel", "")[:MAX_FIELD],
    }
    return await _invite_form(request, values, [])


async def _invite_form(
    request: web.Request, values: dict[str, str], errors: list[str], status: int = 200
) -> web.Response:
    family_id = values.get("family_id", "").strip()
    # The name tells the agent the id is the family they meant (none when it is no family's).
    names = await family_names(request, [family_id]) if family_id else {}
    context = {
        "values": values,
        "errors": errors,
        "rights": RIGHTS,
        "family_name": names.get(family_id),
    }
    return await render(request, "account/staff_invite.html", context, status=status)


async def _is_a_family(request: web.Request, family_id: str) -> bool:
    """Whether the families service knows this id as a family's (503 when it cannot say)."""
    reply = await call_service(request, "families", "GET", f"/families/{quote(family_id)}")
    if reply.ok:
        return True
    if reply.status in (400, 404, 422):
        return False
    raise ServiceUnavailable("The families service cannot check this family.")


async def invite(request: web.Request) -> web.StreamResponse:
    """POST /agents/comptes/inviter: an invitation e-mail for a family's account."""
    await require_staff_page(request)
    form = await request.post()
    values = {k: str(v)[:MAX_FIELD] for k, v in form.items() if k in ("email", "family_id")}
    rights = [str(v) for v in form.getall("rights", []) if str(v) in RIGHTS]
    body = {
        "email": values.get("email", "").strip(),
        "family_id": values.get("family_id", "").strip(),
    }
    # Auth cannot tell a family's id from any other id (a child's, an activity's): asked
    # first, the families service keeps an account from joining a family that is none.
    if body["family_id"] and not await _is_a_family(request, body["family_id"]):
        errors = ["L'identifiant de famille n'est pas valide."]
        return await _invite_form(request, values, errors, status=422)
    answer = await call_auth(
        request, "POST", "/invitations", json={**body, "rights": rights}, bearer=True
    )
    if answer.status == 201:
        raise web.HTTPSeeOther("/agents/comptes?" + urlencode({"fait": "invite"}))
    if answer.status == 200:
        raise web.HTTPSeeOther("/agents/comptes?" + urlencode({"fait": "famille-ajoutee"}))
    if answer.status == 409:
        errors = ["Ce compte existe déjà pour cette famille (ou c'est un compte d'agent)."]
    elif answer.status == 422:
        fields = {str(e.get("field", "")) for e in answer.body.get("errors", [])}
        errors = []
        if "email" in fields:
            errors.append("L'adresse électronique n'est pas valide.")
        if "family_id" in fields:
            errors.append("L'identifiant de famille n'est pas valide.")
        if "rights" in fields or not errors:
            errors.append("Vérifiez les droits choisis.")
    else:
        raise Forbidden("Inviting is not possible for this account.")
    return await _invite_form(request, values, errors, status=answer.status)


def register(app: web.Application) -> None:
    """Add the account pages."""
    app.router.add_get("/premiere-connexion", first_signin_page)
    app.router.add_post("/premiere-connexion", first_signin)
    app.router.add_post("/premiere-connexion/nouveau-lien", new_invitation_link)
    app.router.add_get("/connexion", signin_page)
    app.router.add_post("/connexion", signin)
    app.router.add_post("/double-authentification", confirm_enrolment)
    app.router.add_get("/mot-de-passe-oublie", forgotten_page)
    app.router.add_post("/mot-de-passe-oublie", forgotten)
    app.router.add_get("/reinitialisation", reset_page)
    app.router.add_post("/reinitialisation", reset)
    app.router.add_get("/mot-de-passe", change_page)
    app.router.add_post("/mot-de-passe", change)
    app.router.add_get("/securite", security_get)
    app.router.add_post("/securite/activer", begin_totp)
    app.router.add_post("/securite/confirmer", confirm_totp)
    app.router.add_post("/securite/desactiver", disable_totp)
    app.router.add_get("/agents/comptes", staff_accounts)
    app.router.add_get("/agents/comptes/inviter", invite_page)
    app.router.add_post("/agents/comptes/inviter", invite)
    app.router.add_post("/agents/comptes/{account_id}/{action}", staff_action)
