"""Reads the curl recipes of docs/integration.md and runs them through a real gateway.

The guide's blocks are written for a shell; this runs the small part of curl and jq they
use, so that a path, a scope, a body or a field the guide gets wrong fails a test instead
of a town's integrator. Anything outside that part (an option, a jq filter, an unknown
variable) fails too: the guide must stay within what is checked.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
# A ```sh block, then (after a blank line) the ```json answer it documents, if any.
_BLOCK = re.compile(r"```sh\n(?P<shell>.*?)```\n(?:\n```json\n(?P<answer>.*?)```\n)?", re.S)
_CAPTURE = re.compile(r"^(?P<name>[A-Z_]+)=\$\((?P<curl>curl .*?) \| jq -r '?(?P<path>[^']+?)'?\)$")
_VARIABLE = re.compile(r"\$\{?([A-Z_]+)\}?")
_JQ_STEP = re.compile(r"\.([A-Za-z_]+)|\[(\d+)\]")


@dataclass
class Request:
    """One curl command: what it sends, and the variable its answer's field goes into."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    capture: tuple[str, str] | None = None  # (variable, jq path)


@dataclass
class Recipe:
    """A block of the guide: the scope its token needs, its commands, the answer shown."""

    title: str
    scope: str
    status: int
    commands: list[str]
    answer: Any = None
    requests: list[Request] = field(default_factory=list)


def recipes(text: str | None = None) -> list[Recipe]:
    """Every block of the guide that says which scope it needs, in the guide's order."""
    text = GUIDE.read_text(encoding="utf-8") if text is None else text
    found = []
    for match in _BLOCK.finditer(text):
        shell = match["shell"]
        scope = re.search(r"^# scope: (.+)$", shell, re.M)
        if scope is None:
            continue  # the values block: the test brings its own
        status = re.search(r"^# answers: (\d{3})$", shell, re.M)
        joined = re.sub(r"\\\n\s*", " ", shell)
        commands = [line for line in joined.splitlines() if line and not line.startswith("#")]
        answer = json.loads(match["answer"]) if match["answer"] else None
        heading = text.rfind("\n### ", 0, match.start())
        title = text[heading + 5 : text.find("\n", heading + 5)] if heading >= 0 else "guide"
        found.append(
            Recipe(title, scope[1].strip(), int(status[1]) if status else 200, commands, answer)
        )
    return found


def parse(command: str, values: dict[str, str]) -> Request:
    """The request a curl command line of the guide makes, its variables replaced."""
    capture = None
    matched = _CAPTURE.match(command)
    if matched:
        capture = (matched["name"], matched["path"])
        command = matched["curl"]
    expanded = _VARIABLE.sub(lambda m: values[m.group(1)], command)
    words = shlex.split(expanded)
    assert words[0] == "curl", command
    method, url, headers, data = "", "", {}, []
    position = 1
    while position < len(words):
        word = words[position]
        if word == "-s":
            pass
        elif word in ("-X", "-H", "-d", "-u"):
            position += 1
            value = words[position]
            if word == "-X":
                method = value
            elif word == "-H":
                name, _, header = value.partition(":")
                headers[name.strip()] = header.strip()
            elif word == "-d":
                data.append(value)
            else:
                headers["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif word.startswith("-"):
            raise AssertionError(f"curl option the guide's test does not know: {word}")
        else:
            assert not url, f"two URLs in {command}"
            url = word
        position += 1
    body = None
    if data:
        if headers.get("Content-Type") == "application/json":
            body = "".join(data).encode()
        else:
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
            body = "&".join(data).encode()
    return Request(method or ("POST" if data else "GET"), url, headers, body, capture)


def jq(document: Any, path: str) -> str:
    """`jq -r PATH` for the paths the guide uses (`.id`, `.items[0].id`)."""
    assert _JQ_STEP.sub("", path) == "", f"jq filter the guide's test does not know: {path}"
    value = document
    for name, index in _JQ_STEP.findall(path):
        value = value[name] if name else value[int(index)]
    return str(value)


def missing_fields(shown: Any, actual: Any, where: str = "") -> list[str]:
    """Fields the guide shows that the real answer lacks (and problem types that differ)."""
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{where or 'answer'}: an object in the guide, {type(actual).__name__} here"]
        problems = []
        for name, value in shown.items():
            if name not in actual:
                problems.append(f"{where}{name}")
            elif name == "type" and isinstance(value, str) and value.startswith("https://"):
                if value != actual[name]:
                    problems.append(f"{where}type: {value} in the guide, {actual[name]} here")
            else:
                problems.extend(missing_fields(value, actual[name], f"{where}{name}."))
        return problems
    if isinstance(shown, list) and shown:
        if not isinstance(actual, list) or not actual:
            return [f"{where or 'answer'}: items in the guide, none here"]
        return missing_fields(shown[0], actual[0], f"{where}[0].")
    return []
