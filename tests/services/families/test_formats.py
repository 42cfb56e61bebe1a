"""French formats, checked as pure functions (the API tests check the wiring)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.families import formats


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("0612345678", "06 12 34 56 78"),
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("06-12-34-56-78", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("+33 (0)6 12 34 56 78", "06 12 34 56 78"),
        ("0033612345678", "06 12 34 56 78"),
        ("05 59 29 00 00", "05 59 29 00 00"),
        ("+262 692 12 34 56", "06 92 12 34 56"),
    ],
)
def test_french_phone_numbers_are_normalised(given: str, expected: str) -> None:
    assert formats.phone(given) == expected


@pytest.mark.parametrize(
    "given", ["12345", "0012345678", "06123456789", "+44 20 7946 0958", "06 12 34 56 7a", ""]
)
def test_other_phone_numbers_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="Numéro de téléphone invalide"):
        formats.phone(given)


@pytest.mark.parametrize(("given", "expected"), [("64240", "64240"), ("64 240", "64240")])
def test_postal_codes_have_five_digits(given: str, expected: str) -> None:
    assert formats.postal_code(given) == expected


@pytest.mark.parametrize("given", ["6424", "642400", "6424A", "00100", "AB123"])
def test_bad_postal_codes_are_refused(given: str) -> None:
    with pytest.raises(ValueError, match="Code postal invalide"):
        formats.postal_code(given)


def test_a_birth_date_in_the_future_is_refused() -> None:
    tomorrow = formats.today_in_paris() + timedelta(days=1)
    with pytest.raises(ValueError, match="futur"):
        formats.birth_date(tomorrow)
    assert formats.birth_date(formats.today_in_paris()) == formats.today_in_paris()


def test_emails_are_checked_without_dns() -> None:
    assert formats.email(" Parent@Exemple.FR ") == "Parent@exemple.fr"
    with pytest.raises(ValueError, match="Adresse électronique invalide"):
        formats.email("parent@@exemple")


def test_control_characters_are_refused_and_spaces_collapsed() -> None:
    assert formats.clean_text("  École   Jean\tVerdun ") == "École Jean Verdun"
    with pytest.raises(ValueError):
        formats.clean_text("a\x00b")
