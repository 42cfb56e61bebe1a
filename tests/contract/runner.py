"""Schemathesis against a running service: generated requests, checked against its document.

Each operation of the document gets `max_examples` generated requests (positive and negative
data, derandomized so that a run is reproducible), each sent with one of the given identities
and, half the time, with path ids that exist (so that generation reaches past the 404s).
A request fails when the answer is a 5xx, has an undocumented status or content type, or a
body outside its documented schema.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class ContractReport:
    """What a run sent and what it found."""

    operations: int = 0
    examples: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One paragraph per failing operation (empty when none failed)."""
        return "\n\n".join(f"{name}:\n{message}" for name, message in self.failures.items())


def run_contract(
    document: dict[str, Any],
    base_url: str,
    identities: Mapping[str, Mapping[str, str]],
    *,
    known_ids: Mapping[str, str],
    max_examples: int,
    skip: Mapping[str, str] | None = None,
) -> ContractReport:
    """Run every operation of `document` against `base_url`; never raises on a failure."""
    schema = schemathesis.openapi.from_dict(document)
    report = ContractReport()
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        name = f"{operation.method.upper()} {operation.path}"
        if name in (skip or {}):
            continue
        report.operations += 1
        message = _run_operation(
            operation, base_url, identities, known_ids, max_examples, session, report
        )
        if message:
            report.failures[name] = message
    return report


def _run_operation(
    operation: Any,
    base_url: str,
    identities: Mapping[str, Mapping[str, str]],
    known_ids: Mapping[str, str],
    max_examples: int,
    session: requests.Session,
    report: ContractReport,
) -> str:
    names = [p["name"] for p in operation.definition.raw.get("parameters", []) if p["in"] == "path"]
    known = {name: known_ids[name] for name in names if name in known_ids}
    strategies = [
        operation.as_strategy(mode, path_parameters=fixed)
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
        for fixed in ({}, known)
    ]

    @hypothesis.settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        # A failure is reported as found: shrinking would cost time for a smaller example only.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @hypothesis.given(case=st.one_of(strategies), who=st.sampled_from(sorted(identities)))
    def check(case: schemathesis.Case, who: str) -> None:
        report.examples += 1
        response = case.call(base_url=base_url, session=session, headers=dict(identities[who]))
        report.statuses[response.status_code] = report.statuses.get(response.status_code, 0) + 1
        case.validate_response(response, checks=CHECKS, headers=dict(identities[who]))

    try:
        check()
    except FailureGroup as exc:
        return str(exc)
    except Exception as exc:  # a generation error is a finding too (a document it cannot use)
        return f"{type(exc).__name__}: {exc}"
    return ""
