"""French formats: postal codes, phone numbers, e-mails, dates, names (messages in French)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from email_validator import EmailNotValidError, validate_email

PARIS = ZoneInfo("Europe/Paris")
OLDEST_BIRTH_DATE = date(1900, 1, 1)

_POSTAL_CODE = re.compile(r"\d{5}")
_PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")
_NATIONAL_PHONE = re.compile(r"0[1-9]\d{8}")
# Overseas departments dial +262 692…, written 0692… at home: same ten digits as mainland.
_OVERSEAS_CODES = ("262", "269", "590", "594", "596")
_ALLOCATAIRE = re.compile(r"[0-9A-Z]{4,15}")


def today_in_paris() -> date:
    """Today's date where the structure is (business rules are decided in Europe/Paris)."""
    return datetime.now(PARIS).date()


# Joiners shape letters in some scripts and emoji; every other format character is invisible
# and can disguise what staff read (U+202E turns « TEST » into « TSET »).
_VISIBLE_FORMAT_CHARACTERS = frozenset("\u200c\u200d")


def clean_text(value: str) -> str:
    """Trim, collapse inner whitespace (tabs, line breaks); refuse other control characters and
    invisible format characters (direction overrides, zero-width spaces)."""
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value):
        raise ValueError("Caractères de contrôle interdits.")
    if any(unicodedata.category(c) == "Cf" and c not in _VISIBLE_FORMAT_CHARACTERS for c in value):
        raise ValueError("Caractères invisibles interdits (sens d'écriture, espaces sans largeur).")
    return " ".join(value.split())


def postal_code(value: str) -> str:
    """A French postal code: five digits (spaces tolerated), not starting with 00."""
    compact = value.replace(" ", "")
    if not _POSTAL_CODE.fullmatch(compact) or compact.startswith("00"):
        raise ValueError("Code postal invalide : 5 chiffres, par exemple 64240.")
    return compact


def phone(value: str) -> str:
    """A French phone number, normalised to `06 12 34 56 78`."""
    digits = _PHONE_SEPARATORS.sub("", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+33"):
        digits = "0" + digits[3:].removeprefix("0")
    elif digits.startswith("+") and digits[1:4] in _OVERSEAS_CODES:
        digits = "0" + digits[4:].removeprefix("0")
    if not _NATIONAL_PHONE.fullmatch(digits):
        raise ValueError("Numéro de téléphone invalide : 10 chiffres, par exemple 06 12 34 56 78.")
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def email(value: str) -> str:
    """An e-mail address, syntax checked (no DNS lookup), domain lower-cased."""
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError("Adresse électronique invalide, par exemple nom@exemple.fr.") from None


def allocataire_number(value: str) -> str:
    """A CAF or MSA allocataire number: 4 to 15 digits or capital letters."""
    compact = value.replace(" ", "").upper()
    if not _ALLOCATAIRE.fullmatch(compact):
        raise ValueError("Numéro d'allocataire invalide : 4 à 15 chiffres ou lettres.")
    return compact


def birth_date(value: date) -> date:
    """A birth date: not in the future, not before 1900."""
    if value > today_in_paris():
        raise ValueError("La date de naissance ne peut pas être dans le futur.")
    if value < OLDEST_BIRTH_DATE:
        raise ValueError("Date de naissance invalide : avant 1900.")
    return value


def past_date(value: date) -> date:
    """A date that has already happened (vaccinations, quotient certificates)."""
    if value > today_in_paris():
        raise ValueError("Cette date ne peut pas être dans le futur.")
    if value < OLDEST_BIRTH_DATE:
        raise ValueError("Date invalide : avant 1900.")
    return value
