"""The README's « Trying it » commands work as a new user copies them.

Found following the README: the enrolment page shows the secret in groups of four
(« XTCJ HCM7 CB4W … »), and the README's pyotp command, given it as shown, failed with
« Non-base32 digit found »; the API recipe used `$TOKEN` without saying where it came from; and
nothing said how to run or check a portal on other ports (`make run` has no offset, `make status`
asks the default ports).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pyotp

README = Path(__file__).resolve().parents[2] / "README.md"


def trying_it() -> str:
    """The « Trying it » section of the README."""
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Trying it") : text.index("\n## ", text.index("## Trying it") + 1)]


def grouped(secret: str) -> str:
    """The secret as the enrolment page shows it (`gateway/pages/account.py`)."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def test_the_totp_command_gives_the_code_of_the_secret_as_the_page_shows_it() -> None:
    command = re.search(r'`uv run python -c "(import pyotp;[^"]+)"`', trying_it())
    assert command, "no pyotp command in « Trying it »"
    secret = pyotp.random_base32()
    code = command.group(1).replace("SECRET", grouped(secret))

    # The interpreter of this test run is the one `uv run python` starts.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )

    assert result.returncode == 0, result.stderr
    totp = pyotp.TOTP(secret)
    assert result.stdout.strip() in {totp.now(), totp.at(time.time() - 30)}


def test_the_commands_for_a_portal_on_other_ports_exist_as_written() -> None:
    commands = re.findall(r"`uv run (portail \w+) --port-offset N`", trying_it())
    assert sorted(commands) == ["portail run", "portail status"], commands
    for command in commands:
        result = subprocess.run(
            [sys.executable, "-c", "from portail.cli import main; main()",
             command.split()[1], "--help"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 0 and "--port-offset" in result.stdout, result


def test_the_api_recipe_sets_the_token_it_sends() -> None:
    recipe = re.search(r"```sh\n(.*?)```", trying_it(), re.S)
    assert recipe, "no shell recipe in « Trying it »"
    lines = recipe.group(1)
    assert "TOKEN=" in lines, "the recipe uses $TOKEN without setting it"
    assert lines.index("TOKEN=") < lines.index("Bearer $TOKEN")
    assert "access_token" in lines
