"""Units of one activity that cannot be booked the same day by the same person.

A unit lists the codes it excludes (`Unit.excludes`); the rule is read symmetrically
(journée excludes matin ⇒ matin excludes journée), by the save's judge and by the planning
alike, so that a cell the planning offers is one the save accepts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def excluded(
    code_a: str, excludes_a: Iterable[str], code_b: str, excludes_b: Iterable[str]
) -> bool:
    """Whether two units of one activity exclude each other (read symmetrically)."""
    return code_a != code_b and (code_b in excludes_a or code_a in excludes_b)


def both_ways(excludes: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """For each unit code of an activity, every code it cannot share a day with."""
    result: dict[str, set[str]] = {code: set() for code in excludes}
    for code, codes in excludes.items():
        for other in codes:
            if other != code and other in result:
                result[code].add(other)
                result[other].add(code)
    return result
