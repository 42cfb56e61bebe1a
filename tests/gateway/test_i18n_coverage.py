"""English coverage of the account, families, billing, notifications and documents pages.

Two checks. Statically, every French text these templates and page modules hand to the
translator (`_("…")`, `_.plural(…)`, the labels and messages the modules pass to templates
that translate them) must have an English entry, with the same `{placeholders}`. Then, through
the real gateway (real families service, the auth contract played by a stand-in), each page
rendered in English must show no French words outside the data it displays.
"""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import jinja2
import pytest
from aiohttp import web
from jinja2 import nodes
from sqlalchemy import text

from gateway.i18n import load_catalogs
from gateway.rendering import TEMPLATES_DIR
from portail.demo import DEMO_CONTACT_RECIPIENTS
from services.kit.field_labels import ENGLISH_CATALOG as ENGLISH_FIELD_LABELS
from services.kit.keys import DATABASE
from services.notifications.seed import DEMO_NEWS_TEXT, DEMO_NEWS_TITLE
from tests import support
from tests.browser import PHONE, SCREENSHOTS, chromium, requires_chromium, sign_in_on_page
from tests.queue.conftest import create_migrated_database
from tests.services.documents.conftest import TABLES as DOCUMENT_TABLES

from .conftest import same_origin
from .fakes import PASSWORD, FakeAuth

GATEWAY = Path(TEMPLATES_DIR).parent
CATALOGS = GATEWAY / "i18n"
AREAS = ("account", "families", "billing", "notifications", "documents")

# ---- static: the msgids of an area ----------------------------------------------------

# Codes, not text: identifiers, field names, widget names, CSS-ish tokens, acronyms, file
# `accept` lists (`.jpg,.jpeg,image/jpeg`), time zones (`Europe/Paris`), regular expressions.
CODE = re.compile(r"[a-z0-9_.\-/,]*|[A-Z0-9]{1,4}|[A-Z][a-z]+/[A-Za-z_]+|\^.*\$")


def _is_text(value: str) -> bool:
    return bool(value.strip()) and not CODE.fullmatch(value) and re.search(r"[a-zà-ÿ]", value)


def _template_msgids(path: Path) -> set[str]:
    """Constant arguments of `_()` and `_.plural()`, and literal labels looped into `_(x)`."""
    tree = jinja2.Environment().parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for call in tree.find_all(nodes.Call):
        callee = call.node
        is_translate = isinstance(callee, nodes.Name) and callee.name == "_"
        is_plural = (
            isinstance(callee, nodes.Getattr)
            and isinstance(callee.node, nodes.Name)
            and callee.node.name == "_"
            and callee.attr == "plural"
        )
        if is_translate or is_plural:
            for arg in call.args[: 2 if is_plural else 1]:
                if isinstance(arg, nodes.Const) and isinstance(arg.value, str):
                    found.add(arg.value)
    # `{% for code, label in (("a", "Texte"), …) %}…{{ _(label) }}`: the literal labels.
    for loop in tree.find_all(nodes.For):
        if not isinstance(loop.iter, nodes.Tuple | nodes.List):
            continue
        translated = {
            call.args[0].name
            for call in loop.find_all(nodes.Call)
            if isinstance(call.node, nodes.Name)
            and call.node.name == "_"
            and call.args
            and isinstance(call.args[0], nodes.Name)
        }
        targets = loop.target.items if isinstance(loop.target, nodes.Tuple) else [loop.target]
        for position, target in enumerate(targets):
            if not (isinstance(target, nodes.Name) and target.name in translated):
                continue
            for item in loop.iter.items:
                value = item.items[position] if isinstance(item, nodes.Tuple) else item
                if isinstance(value, nodes.Const) and isinstance(value.value, str):
                    found.add(value.value)
    return found


def _strings(node: ast.AST) -> Iterator[str]:
    """String constants under `node`, skipping f-strings (not catalog keys) and dict keys."""
    if isinstance(node, ast.JoinedStr):
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
        return
    if isinstance(node, ast.Dict):
        for value in node.values:
            yield from _strings(value)
        return
    for child in ast.iter_child_nodes(node):
        yield from _strings(child)


def _module_msgids(path: Path) -> set[str]:
    """The French texts a page module shows: its UPPERCASE tables and the prose in its code.

    Problems raised (`raise …("…")`) are English details for logs and APIs, never shown to
    people (the error page has its own text); docstrings and subscripts are not shown either.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise | ast.Subscript | ast.Assert | ast.JoinedStr):
            skipped.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                skipped.add(id(body[0].value))
        if isinstance(node, ast.Compare):  # `"modifié" in general`: a test, not a text shown
            skipped.update(id(n) for n in ast.walk(node))
    for statement in tree.body:
        targets = []
        if isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        if targets and all(t.isupper() for t in targets) and statement.value is not None:
            found.update(s for s in _strings(statement.value) if _is_text(s))
    for node in ast.walk(tree):
        # `translator_of(request)("{number} transmise…", number=…)` or `_("semaine du …")`
        # with a translator `_` in hand: a key whatever its start.
        if (
            isinstance(node, ast.Call)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "_")
                or (
                    isinstance(node.func, ast.Call)
                    and isinstance(node.func.func, ast.Name)
                    and node.func.func.id == "translator_of"
                )
            )
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.add(node.args[0].value)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if (
                    isinstance(inner, ast.Constant)
                    and isinstance(inner.value, str)
                    and id(inner) not in skipped
                    and re.match(r"[A-ZÀ-Ý]", inner.value)
                    and " " in inner.value
                ):
                    found.add(inner.value)
    return found


def _service_texts(area: str) -> set[str]:
    """French texts the services send that these pages translate: a closed list each.

    The families pages translate the field labels of the families catalogue; the account
    pages translate auth's password-rule messages (the rule's numbers are fixed); the billing
    pages, the payment methods' names. Notifications and documents pages show no service
    text through the translator.
    """
    if area in ("notifications", "documents"):
        return set()
    if area == "billing":
        from services.billing.payment_methods import METHOD_LABELS

        return set(METHOD_LABELS.values())
    if area == "families":
        from services.families.fields import FAMILY_FIELDS, PERSON_FIELDS

        return {spec.label for spec in FAMILY_FIELDS + PERSON_FIELDS}
    from services.auth.passwords import check_rule

    tries = [("court", ""), ("12345678901234", ""), ("ab" * 150, ""), ("azertyuiop123", "")]
    tries.append(("jeanne.dupont et son chat", "jeanne.dupont@example.org"))
    return {b.message for password, email in tries for b in check_rule(password, email=email)}


def area_msgids(area: str) -> set[str]:
    """Every French text of an area's templates and page module, and the services' it shows."""
    found = _module_msgids(GATEWAY / "pages" / f"{area}.py") | _service_texts(area)
    for template in sorted((GATEWAY / "templates" / area).glob("*.html")):
        found |= _template_msgids(template)
    return found


def english() -> dict[str, str]:
    return dict(load_catalogs()["en"]._catalog)  # the merged catalog, as the app loads it


@pytest.mark.parametrize("area", AREAS)
def test_every_french_text_of_the_area_has_an_english_entry(area: str) -> None:
    msgids = area_msgids(area)
    assert len(msgids) > 30, "the extraction found (almost) nothing: it is broken"
    missing = sorted(m for m in msgids if m not in english())
    assert not missing, f"{len(missing)} texts without English:\n" + "\n".join(missing)


@pytest.mark.parametrize("area", AREAS)
def test_translations_keep_the_placeholders(area: str) -> None:
    catalog = english()
    fields = re.compile(r"\{(\w*)\}")
    wrong = [
        (m, catalog[m])
        for m in sorted(area_msgids(area))
        if m in catalog and set(fields.findall(m)) != set(fields.findall(catalog[m]))
    ]
    assert not wrong


def test_an_area_catalog_does_not_redefine_another_catalogs_text() -> None:
    """Catalogs are merged in name order: a text translated twice differently depends on it."""
    import json

    shared = [ENGLISH_FIELD_LABELS]  # merged first: the field labels the e-mails share
    files = shared + sorted(CATALOGS.glob("en.json")) + sorted(CATALOGS.glob("en.*.json"))
    seen: dict[str, tuple[str, str]] = {}
    clashes = []
    for path in files:
        for french, english_text in json.loads(path.read_text(encoding="utf-8")).items():
            if french in seen and seen[french][1] != english_text:
                clashes.append((french, seen[french], (path.name, english_text)))
            seen.setdefault(french, (path.name, english_text))
    ours = {f"en.{area}.json" for area in AREAS} | {ENGLISH_FIELD_LABELS.name}
    assert not [c for c in clashes if c[1][0] in ours or c[2][0] in ours]


def test_the_extraction_sees_the_kinds_of_text_it_must() -> None:
    """A template literal, a looped label, a module table, a message in code, a plural."""
    account, families = area_msgids("account"), area_msgids("families")
    assert "Mot de passe oublié ?" in account  # _("…") in a template
    assert "Renvoyer l'invitation" in account  # a literal label looped into _(label)
    assert "Invité" in account  # a module table
    assert "Ce mot de passe ne respecte pas la règle." in account  # a message in code
    assert "Avis d'imposition" in families and "Autre" in families  # choice labels
    assert "Aucune modification à enregistrer." in families
    assert "Reserved to the structure's staff." not in account  # a raised problem's detail
    assert "Bearer " not in account and "Modifier {name}" in families  # f-strings: not keys
    assert "Ce mot de passe est trop courant." in account  # auth's rule message
    assert "Téléphone du médecin" in families  # a field label of the families service
    billing = area_msgids("billing")
    notifications, documents = area_msgids("notifications"), area_msgids("documents")
    assert "Virement" in billing and "Relevé de compte" in billing
    assert "{number} transmise au Trésor Public." in billing  # translator_of(request)(…)
    assert "Europe/Paris" not in billing and not any(m.startswith("^") for m in billing)
    assert "Compte désactivé" in notifications and "décembre" in notifications
    assert "{weekday} {day} à {hour}" in notifications and "motif : {reason}" in notifications
    assert "« {title} » créé : ajoutez maintenant son fichier." in documents
    assert ".pdf,application/pdf" not in documents


# ---- rendered: the pages in English --------------------------------------------------

PARENT, AGENT = "parent@example.org", "agent@example.org"
# Names kept as they are in English (institutions), taken out like the page's data.
NAMES = ("Trésor Public",)
# French words and signs that have no business in an English page.
FRENCH = re.compile(
    r"[àâçéèêëîïôûùœ«»]|\b(?:le|la|les|des|du|de|et|votre|vos|une?|pour|est|sont|aux?|mes|"
    r"mon|ma|ce|cette|ou|sur|avec|dans|pas|ne|famille|personnes?|enregistrer|modifier|"
    r"annuler|oui|non|demandes?|champs?|motif|compte)\b",
    re.IGNORECASE,
)


@dataclass
class PortalAuth(FakeAuth):
    """The session contract, staff accounts, and the two account reads the pages make."""

    staff: set[str] = field(default_factory=set)

    def token(self, email: str) -> str:
        if email in self.staff:
            return self.signer.token(subject=email, role="staff", ttl=self.expires_in)
        return super().token(email)

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_get("/accounts/me", self._me)
        app.router.add_get("/accounts", self._accounts)
        return app

    async def _me(self, request: web.Request) -> web.Response:
        return web.json_response({"mfa_enabled": False})

    async def _accounts(self, request: web.Request) -> web.Response:
        items = [
            {"id": "a1", "email": PARENT, "kind": "family", "state": "active", "throttled": True,
             "memberships": [{"family_id": "f1"}], "staff_roles": [],
             "last_login_at": "2026-11-02T08:30:00Z"},
            {"id": "a2", "email": "new@example.org", "kind": "family", "state": "invited",
             "throttled": False, "memberships": [], "staff_roles": [], "last_login_at": None},
            {"id": "a3", "email": AGENT, "kind": "staff", "state": "disabled",
             "throttled": False, "memberships": [], "staff_roles": ["agent"],
             "last_login_at": None},
        ]  # fmt: skip
        return web.json_response({"items": items, "total": len(items)})


class VisibleText(HTMLParser):
    """What a person reads or hears: text, titles and labels, except `lang="fr"` parts."""

    SPOKEN = ("aria-label", "title", "placeholder", "alt", "data-label")

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if self._skip or tag in ("script", "style") or values.get("lang") == "fr":
            if tag not in ("input", "br", "link", "meta", "img"):
                self._skip.append(tag)
            return
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")
        self.parts.extend(v or "" for k, v in attrs if k in self.SPOKEN)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def french_left(html: str, data: tuple[str, ...]) -> list[str]:
    """The pieces of visible text that still look French (the page's data taken out)."""
    reader = VisibleText()
    reader.feed(html)
    left = []
    for part in reader.parts:
        text = " ".join(part.split())
        for value in (*data, *NAMES):
            text = text.replace(value, " ")
        if FRENCH.search(text):
            left.append(text)
    return left


async def _visitor(gateway, services: dict[str, str], auth: PortalAuth, email: str | None):  # type: ignore[no-untyped-def]
    client = await gateway(services)
    if email is not None:
        signed = await client.post(
            "/connexion?lang=en",
            data={"email": email, "password": PASSWORD},
            headers=same_origin(client),
            allow_redirects=False,
        )
        assert signed.status == 303, await signed.text()
    return client


async def _english(client, path: str, status: int = 200) -> str:  # type: ignore[no-untyped-def]
    joiner = "&" if "?" in path else "?"
    response = await client.get(f"{path}{joiner}lang=en")
    html = await response.text()
    assert response.status == status, (path, html[:500])
    assert '<html lang="en">' in html
    return html


@pytest.fixture
async def families_database() -> AsyncIterator[str]:
    """A migrated families database of these tests' own, dropped at the end.

    The pages list families and requests by the database's content (a search, the queue):
    in the run's shared database, the households other tests left (« FAMILLE DE TEST AUTH »)
    would read as French text left on an English page.
    """
    label = f"i18n{uuid.uuid4().hex[:6]}"
    yield await create_migrated_database(label, "families")
    await support.drop_database(support.database_name(label))


@pytest.fixture
async def portal(gateway, upstream, service_client, signer, families_database):  # type: ignore[no-untyped-def]
    """The real families service with a household, a child and a pending request; visitors."""
    families = await service_client("families", database_url=families_database)
    staff = signer.headers(role="staff")
    created = await families.post(
        "/families",
        json={"name": "TEST", "address": "1 Main Street", "postal_code": "64240",
              "city": "Hasparren", "phone": "05 59 29 00 00",
              "email": f"{uuid.uuid4().hex[:8]}@example.org"},
        headers=staff,
    )  # fmt: skip
    assert created.status == 201, await created.text()
    family = await created.json()
    child = await families.post(
        f"/families/{family['id']}/persons",
        json={"role": "child", "first_name": "Alex", "last_name": "Smith"},
        headers=staff,
    )
    assert child.status == 201, await child.text()
    person = await child.json()
    asked = await families.post(
        f"/families/{family['id']}/requests",
        json={"target": "family", "version": family["version"],
              "changes": {"phone": "06 11 22 33 44"}},
        headers=signer.headers(families=[family["id"]]),
    )  # fmt: skip
    assert asked.status == 201, await asked.text()
    auth = PortalAuth(signer, accounts={PARENT: [family["id"]], AGENT: []}, staff={AGENT})
    auth_server = await upstream(auth.app())
    services = {"auth": auth_server.url, "families": str(families.make_url("")).rstrip("/")}
    yield {
        "family": family,
        "person": person,
        "anonymous": await _visitor(gateway, services, auth, None),
        "parent": await _visitor(gateway, services, auth, PARENT),
        "agent": await _visitor(gateway, services, auth, AGENT),
        "data": ("Mairie de Hasparren", family["email"], "Hasparren"),
        "services": services,
        "auth": auth,
    }
    await families.close()  # its outbox relay stops before its database goes


async def test_the_account_and_families_pages_read_in_english(portal: dict[str, Any]) -> None:
    family_id, person_id = portal["family"]["id"], portal["person"]["id"]
    pages = {
        "anonymous": [
            ("/connexion", 200),
            ("/mot-de-passe-oublie", 200),
            ("/premiere-connexion", 400),
            ("/reinitialisation", 400),
        ],
        "parent": [
            ("/famille", 200),
            ("/famille?ok=enregistre", 200),
            (f"/famille/personnes/{person_id}", 200),
            ("/famille/modifier", 200),
            (f"/famille/personnes/{person_id}/modifier", 200),
            ("/mot-de-passe", 200),
            ("/securite", 200),
        ],
        "agent": [
            ("/agents/demandes", 200),
            ("/agents/familles?q=TEST", 200),
            ("/agents/familles?q=T", 200),
            (f"/agents/familles/{family_id}", 200),
            (f"/agents/familles/{family_id}/modifier", 200),
            (f"/agents/familles/{family_id}/personnes/{person_id}/modifier", 200),
            ("/agents/familles/nouvelle", 200),
            ("/agents/champs", 200),
            ("/agents/comptes", 200),
            ("/agents/comptes/inviter", 200),
        ],
    }
    left: dict[str, list[str]] = {}
    for visitor, paths in pages.items():
        for path, status in paths:
            html = await _english(portal[visitor], path, status)
            if found := french_left(html, portal["data"]):
                left[path] = found
    wrong = await portal["anonymous"].post(
        "/connexion?lang=en",
        data={"email": PARENT, "password": "not the password"},
        headers=same_origin(portal["anonymous"]),
    )
    assert wrong.status == 401
    if found := french_left(await wrong.text(), portal["data"]):
        left["POST /connexion"] = found
    assert not left, "\n".join(f"{path}: {texts}" for path, texts in left.items())


@pytest.fixture
async def whole_portal(portal, gateway, service_client, signer) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The same household and visitors, with the real billing, notifications, documents."""
    services = dict(portal["services"])
    clients = {}
    for name, settings in (
        ("billing", {}),
        ("notifications", {"email_relay_enabled": False, "captcha_max_number": 5000}),
        ("documents", {}),
    ):
        clients[name] = await service_client(name, **settings)
        services[name] = str(clients[name].make_url("")).rstrip("/")
    # The run's documents database is shared too: types and publications other tests left
    # (« Photocopie des vaccinations ») would read as French text left on English pages.
    async with clients["documents"].app[DATABASE].transaction() as session:
        await session.execute(text(f"TRUNCATE {DOCUMENT_TABLES} CASCADE"))
    # Two people the contact form offers (names are the structure's data: they stay French).
    recipients = ("Accueil de loisirs", "Service Enfance")
    for position, name in enumerate(recipients):
        added = await clients["notifications"].post(
            "/contact-recipients",
            json={"name": name, "email": f"r{position}@example.org", "position": position},
            headers=signer.headers(role="staff"),
        )
        assert added.status == 201, await added.text()
    visitors = {
        who: await _visitor(gateway, services, portal["auth"], email)
        for who, email in (("anonymous", None), ("parent", PARENT), ("agent", AGENT))
    }
    # The run's notifications database is shared: other tests may have seeded the demo's
    # recipients and news, which are data too.
    shared = (*(name for name, _ in DEMO_CONTACT_RECIPIENTS), DEMO_NEWS_TITLE, DEMO_NEWS_TEXT)
    return (
        portal
        | visitors
        | {
            "data": (*portal["data"], *recipients, *shared),
            "notifications_database": clients["notifications"].app[DATABASE],
        }
    )


# What people wrote into the shared notifications database: staff lists show every family's.
WRITTEN_IN_NOTIFICATIONS = text(
    "SELECT subject FROM contact_messages UNION ALL SELECT body FROM contact_posts"
    " UNION ALL SELECT title FROM news UNION ALL SELECT text FROM news"
    " UNION ALL SELECT name FROM contact_recipients"
)


async def written_by_people(database: Any) -> tuple[str, ...]:
    """The messages, news and names other tests of this run left (read just before a page:
    the other worker's tests keep writing). Their French is data, not our interface."""
    async with database.sessions() as session:
        values = (await session.scalars(WRITTEN_IN_NOTIFICATIONS)).all()
    # The longest first, so that a short one does not cut a longer one it is part of.
    return tuple(sorted({" ".join(v.split()) for v in values if v}, key=len, reverse=True))


async def test_the_billing_notifications_and_documents_pages_read_in_english(
    whole_portal: dict[str, Any],
) -> None:
    family_id = whole_portal["family"]["id"]
    pages = {
        "anonymous": [("/documentation", 200)],
        "parent": [
            ("/factures", 200),
            ("/factures?vue=soldees", 200),
            ("/historique", 200),
            ("/historique?mois=2026-08", 200),
            ("/contact", 200),
            ("/courriels", 200),
            ("/documents", 200),
            ("/documentation", 200),
        ],
        "agent": [
            ("/agents/facturation", 200),
            ("/agents/factures", 200),
            (f"/agents/factures?famille={family_id}", 200),
            (f"/agents/familles/{family_id}/historique", 200),
            ("/agents/messages", 200),
            ("/agents/destinataires", 200),
            ("/agents/actualites", 200),
            ("/agents/courriels", 200),
            ("/agents/lettres-mortes", 200),
            ("/agents/documents", 200),
            ("/agents/types-documents", 200),
            ("/agents/documentation", 200),
        ],
    }
    left: dict[str, list[str]] = {}
    for visitor, paths in pages.items():
        for path, status in paths:
            data = (
                *await written_by_people(whole_portal["notifications_database"]),
                *whole_portal["data"],
            )
            html = await _english(whole_portal[visitor], path, status)
            if found := french_left(html, data):
                left[path] = found
    assert not left, "\n".join(f"{path}: {texts}" for path, texts in left.items())


def test_the_french_detector_sees_french_and_spares_english() -> None:
    assert french_left("<p>Votre demande a été retirée.</p>", ())
    assert french_left('<button aria-label="Modifier la famille">x</button>', ())
    assert not french_left("<p>Your request has been withdrawn.</p>", ())
    assert not french_left('<a lang="fr" href="?lang=fr">Français</a>', ())
    assert not french_left("<p>Mairie de Hasparren</p>", ("Mairie de Hasparren",))


@pytest.mark.browser
@requires_chromium
async def test_a_parent_signs_in_and_reads_my_family_in_english_on_a_phone(
    portal: dict[str, Any],
) -> None:
    """Screenshots for people to look at: /tmp/gateway-en-signin.png, /tmp/gateway-en-family.png."""
    base = str(portal["anonymous"].make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        await page.goto(f"{base}/connexion?lang=en")
        assert await page.locator("h1").inner_text() != "Connexion"
        await page.screenshot(path=str(SCREENSHOTS / "gateway-en-signin.png"), full_page=True)
        await page.fill("#email", PARENT)
        await page.fill("#password", PASSWORD)
        await page.click("button[type=submit].button")
        await page.goto(f"{base}/famille")  # the `lang` cookie keeps English
        assert await page.locator("h1").inner_text() == "My family"
        await page.screenshot(path=str(SCREENSHOTS / "gateway-en-family.png"), full_page=True)
        assert not french_left(await page.content(), portal["data"])


def test_dates_of_the_notifications_pages_follow_the_language() -> None:
    """The journal's and messages' moments and the period filter, built in code, in English."""
    from datetime import date

    from gateway.pages.notifications import period_of, when

    en = load_catalogs()["en"]
    assert when("2026-11-28T17:05:00+00:00", en) == "Saturday 28 November 2026 at 18:05"
    assert when("2026-11-28T17:05:00+00:00") == "samedi 28/11/2026 à 18:05"
    today = date(2026, 11, 28)
    assert (
        period_of({"semaine": "2026-W48"}, today, en)[2]
        == "week from 23 November 2026 to 29 November 2026"
    )
    assert period_of({"mois": "2026-08"}, today, en)[2] == "August 2026"
    assert period_of({"mois": "2026-08"}, today)[2] == "août 2026"


@pytest.mark.browser
@requires_chromium
async def test_a_parent_reads_invoices_and_the_contact_form_in_english_on_a_phone(
    whole_portal: dict[str, Any],
) -> None:
    """Screenshots to look at: /tmp/gateway-en-invoices.png, /tmp/gateway-en-contact.png."""
    base = str(whole_portal["anonymous"].make_url("")).rstrip("/")
    async with chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True)
        await sign_in_on_page(page, base, PARENT, PASSWORD, lang="en")
        for path, title, shot in (
            ("/factures", "My invoices", "gateway-en-invoices.png"),
            ("/contact", "Contact the structure", "gateway-en-contact.png"),
        ):
            await page.goto(f"{base}{path}")  # the `lang` cookie keeps English
            assert await page.locator("h1").inner_text() == title
            await page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
            assert not french_left(await page.content(), whole_portal["data"])
