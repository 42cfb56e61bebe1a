"""TOTP (RFC 6238) second factor and recovery codes: each code works once."""

from __future__ import annotations

import re
import secrets
import time

import pyotp

from .crypto import digest

ISSUER = "Portail Famille"
VALID_WINDOW = 1  # one 30-second step either side, for clocks that drift a little
RECOVERY_CODE_COUNT = 10
_TOTP_SHAPE = re.compile(r"^\d{6}$")
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def is_totp_shape(code: str) -> bool:
    """Six digits."""
    return bool(_TOTP_SHAPE.match(code))


def matching_step(secret: str, code: str, *, at: float | None = None) -> int | None:
    """The time step `code` is valid for (within the window), or None."""
    if not is_totp_shape(code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes of 12 characters (~59 bits each), shown once, grouped for reading."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
    return codes


def recovery_digest(code: str) -> str:
    """How a recovery code is stored and looked up (dashes and case ignored)."""
    return digest(code.replace("-", "").replace(" ", "").casefold())
