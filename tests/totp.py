"""TOTP codes for the tests, made away from the edge of a 30-second step.

A code of the previous step (the window's edge, which tests use to keep the current code
for a later sign-in) made at 29.9 s and checked at 30.1 s is two steps old and refused:
near the end of a step, the step is waited out first.
"""

from __future__ import annotations

import time

import pyotp

STEP_SECONDS = 30
MARGIN_SECONDS = 2.0


def code_at(secret: str, offset_steps: int) -> str:
    """The code of the step `offset_steps` away from now, valid for at least 2 s more."""
    left_in_step = STEP_SECONDS - time.time() % STEP_SECONDS
    if left_in_step < MARGIN_SECONDS:
        time.sleep(left_in_step + 0.05)
    return pyotp.TOTP(secret).at(time.time() + STEP_SECONDS * offset_steps)


def previous_code(secret: str) -> str:
    """The previous step's code (accepted, and leaves the current one unused)."""
    return code_at(secret, -1)
