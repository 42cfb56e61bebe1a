"""Passwords: the rule (length and blocklist, CNIL 2022-100) and Argon2id hashing."""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from .config import AuthSettings

MIN_LENGTH = 12
# Twelve digits carry only ~40 bits; sixteen carry ~53, above CNIL's 50-bit floor (docs/auth.md).
MIN_DIGITS_ONLY_LENGTH = 16
MAX_LENGTH = 256
# Raw input is bounded before normalisation: NFKC can expand one character into many.
MAX_INPUT_LENGTH = 1024
BLOCKLIST_FILE = Path(__file__).parent / "data" / "common-passwords.txt"
_TRAILING_NOISE = "0123456789!?.*-_#@$€&+= "


def normalise(password: str) -> str:
    """NFKC, so that the same password typed on another keyboard or device still matches."""
    return unicodedata.normalize("NFKC", password)


@cache
def blocklist() -> frozenset[str]:
    """Common passwords and their stems, case-folded."""
    lines = BLOCKLIST_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


@dataclass(frozen=True)
class RuleBreak:
    """One broken part of the rule, with a stable code and a French message for pages."""

    code: str
    message: str


def check_rule(password: str, *, email: str = "") -> list[RuleBreak]:
    """What the password breaks in the rule; empty when it is acceptable."""
    if len(password) > MAX_INPUT_LENGTH:
        return [RuleBreak("too-long", f"{MAX_LENGTH} caractères au plus.")]
    value = normalise(password)
    breaks: list[RuleBreak] = []
    if len(value) < MIN_LENGTH:
        breaks.append(RuleBreak("too-short", f"Au moins {MIN_LENGTH} caractères."))
    elif value.isdigit() and len(value) < MIN_DIGITS_ONLY_LENGTH:
        breaks.append(
            RuleBreak(
                "digits-only",
                f"Avec seulement des chiffres, au moins {MIN_DIGITS_ONLY_LENGTH} caractères.",
            )
        )
    if len(value) > MAX_LENGTH:
        breaks.append(RuleBreak("too-long", f"{MAX_LENGTH} caractères au plus."))
    folded = value.casefold()
    if folded in blocklist() or folded.rstrip(_TRAILING_NOISE) in blocklist():
        breaks.append(RuleBreak("too-common", "Ce mot de passe est trop courant."))
    elif len(set(folded)) <= 2 and folded:
        breaks.append(RuleBreak("too-common", "Ce mot de passe est trop prévisible."))
    local = email.split("@", 1)[0].casefold()
    if len(local) >= 4 and local in folded:
        breaks.append(
            RuleBreak("personal", "Le mot de passe ne doit pas contenir votre adresse e-mail.")
        )
    return breaks


class Passwords:
    """Argon2id hashing with the configured cost; CPU work runs in threads."""

    def __init__(self, settings: AuthSettings) -> None:
        self.hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Verified when the e-mail is unknown, so that it costs the same time as a known one.
        self._dummy_hash = self.hasher.hash("dummy password never used by anyone")

    async def hash(self, password: str) -> str:
        """The Argon2id hash of the normalised password."""
        return await asyncio.to_thread(self.hasher.hash, normalise(password))

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` matches; with no stored hash, burns the same time and says no."""
        candidate = normalise(password[:MAX_INPUT_LENGTH])
        target = stored_hash or self._dummy_hash
        try:
            ok = await asyncio.to_thread(self.hasher.verify, target, candidate)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return ok and stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than today's."""
        return self.hasher.check_needs_rehash(stored_hash)
