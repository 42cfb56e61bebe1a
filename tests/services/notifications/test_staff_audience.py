"""A staff member's e-mail speaks of the agents' space (header, footer, wording), where its
link leads; a family's keeps the Espace Famille. Rendered from the real templates, and the
kind comes from auth's own events."""

from __future__ import annotations

import pytest

from services.notifications.emails import render

from .factories import SETTINGS

LINK = "https://portail.example.org/page"


def rendered(template: str, language: str, **data: object) -> str:
    email = render(template, settings=SETTINGS, language=language, data=data, link=LINK)
    return email.subject + email.text + email.html


@pytest.mark.parametrize("template", ["password_reset", "password_changed", "invitation"])
def test_a_staff_account_s_e_mail_names_the_agents_space(template: str) -> None:
    staff = rendered(template, "fr", kind="staff")
    family = rendered(template, "fr", kind="family")

    assert "Espace des agents" in staff and "espace des agents du portail famille" in staff
    assert "Espace Famille" not in staff
    assert "Espace Famille" in family and "agents" not in family


def test_the_staff_only_e_mails_name_the_agents_space_in_both_languages() -> None:
    digest = {"total": 1, "lines": [{"label": "Documents à valider", "count": 1}]}
    french = rendered("staff_digest", "fr", **digest)
    english = rendered("staff_digest", "en", **digest)

    assert "Ouvrir l'espace des agents" in french and "Espace des agents" in french
    assert "Open the staff area" in english and "Staff area" in english
    # (The subject keeps its « [Family portal] » tag: it names the software the mail is from.)
    assert f"{SETTINGS.org_name} — Staff area" in english


def test_a_staff_password_e_mail_in_english_names_the_staff_area() -> None:
    email = rendered("password_reset", "en", kind="staff")

    assert "your staff area account" in email and "your family portal account" not in email
