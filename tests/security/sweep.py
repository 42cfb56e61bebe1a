"""The ownership sweep: every operation of a service's OpenAPI document, called as family A's
parent with family B's ids (promise 18), as a parent on staff routes, and anonymously.

The document decides what is called, so a route added tomorrow is swept without anyone
writing a test for it; a route the sweep cannot call must be allow-listed with a reason.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

Client = TestClient[web.Request, web.Application]
METHODS = ("get", "post", "put", "patch", "delete")
# How the services document the routes families may not use: "(staff)", "(staff, or
# families:write)", "(administrators)", "Staff's inbox"…; or a `staff` tag, or a /staff/ path.
STAFF_SUMMARY = re.compile(r"\((staff|administrators)\b|finance department|staff queue|^Staff's")
# A parent's token answers a foreign or staff-only id with one of these, nothing else: a 422
# would mean the body was judged before the caller, a 409 that the resource was reached.
REFUSED = (403, 404)
# A snapshot keeps what B holds, not when it was read.
VOLATILE_KEYS = {"exported_at", "generated_at", "now"}


@dataclass(frozen=True)
class Operation:
    """One method on one path of the document."""

    method: str
    path: str
    spec: dict[str, Any]

    @property
    def name(self) -> str:
        """`METHOD /path`, the key of the tables below."""
        return f"{self.method.upper()} {self.path}"

    @property
    def path_params(self) -> list[str]:
        """The path's parameters, in order."""
        return re.findall(r"{(\w+)}", self.path)

    @property
    def public(self) -> bool:
        """Documented without a bearer token."""
        return not self.spec.get("security")

    @property
    def staff_only(self) -> bool:
        """Documented as a route of the structure's staff or administrators."""
        summary = self.spec.get("summary", "")
        return (
            bool(STAFF_SUMMARY.search(summary))
            or any("staff" in tag for tag in self.spec.get("tags", ()))
            or self.path.startswith("/staff/")
        )


def operations(document: Mapping[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI document."""
    return [
        Operation(method, path, spec)
        for path, item in document["paths"].items()
        for method, spec in item.items()
        if method in METHODS
    ]


@dataclass
class Target:
    """A running service, who calls it, family B's ids and what the document cannot tell."""

    name: str
    client: Client
    staff: dict[str, str]
    parent_a: dict[str, str]
    parent_b: dict[str, str]
    family_a: str
    family_b: str
    # B's resource per parameter name (path, query or body field): family_id, person_id, …
    ids_b: dict[str, str]
    # Operations the sweep does not call, each with why (public, the caller's own, catalogue).
    allowed: dict[str, str]
    # Ids of the structure's own things (activities, document types…) that every family uses.
    shared_ids: frozenset[str] = frozenset()
    # Bodies the schema alone cannot make valid, by operation name.
    bodies: dict[str, Any] = field(default_factory=dict)
    # Optional query parameters naming an id that an operation must be sent (by name).
    query_ids: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Batches that answer each item on its own: a foreign id in an item is refused there
    # (200 with nothing applied) instead of failing the whole batch with 404.
    batches: dict[str, str] = field(default_factory=dict)
    # Staff routes whose summary does not say so (the document's words are preferred).
    staff_routes: frozenset[str] = frozenset()
    # Operations whose control call (B's own parent or staff with B's ids) cannot succeed.
    no_control: dict[str, str] = field(default_factory=dict)
    # Extra reads of B's data as staff, compared before and after (besides the export).
    reads_b: list[str] = field(default_factory=list)
    # A multipart body for upload operations: (bytes, content type).
    multipart: Callable[[], tuple[bytes, str]] | None = None


@dataclass
class Finding:
    """An answer the sweep did not accept."""

    operation: str
    caller: str
    url: str
    status: int
    expected: str
    body: str

    def __str__(self) -> str:
        return (
            f"{self.operation} as {self.caller}: {self.status} (expected {self.expected})"
            f" at {self.url}\n    {self.body[:300]}"
        )


@dataclass
class Report:
    """What the sweep called and found, per operation."""

    swept: dict[str, list[str]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def _schema(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            choices = [s for s in schema[combined] if s.get("type") != "null"]
            return _schema(document, choices[0])
    return schema


def example(
    document: Mapping[str, Any], schema: Mapping[str, Any], ids: Mapping[str, str], name: str = ""
) -> Any:
    """A small value valid for `schema`: required fields only, ids taken from `ids`."""
    schema = _schema(document, schema)
    if name in ids:
        return ids[name]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            key: example(document, properties.get(key, {}), ids, key)
            for key in schema.get("required", ())
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [example(document, schema.get("items", {}), ids, name) for _ in range(count)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(float(schema.get("minimum", 1)), 1.0)
    if kind == "boolean":
        return True
    formats = {
        "uuid": str(uuid.uuid4()),
        "date": "2027-04-20",
        "date-time": "2027-04-20T08:00:00+00:00",
        "email": "sweep@example.org",
        "time": "08:30",
    }
    if schema.get("format") in formats:
        return formats[schema["format"]]
    if name.endswith("_id"):
        return str(uuid.uuid4())
    return "x" * max(int(schema.get("minLength", 1)), 1)


class Sweep:
    """Calls one service's operations as the tables of its `Target` say."""

    def __init__(self, target: Target, document: Mapping[str, Any]) -> None:
        self.target = target
        self.document = document
        self.report = Report()

    @property
    def ids_in_a(self) -> dict[str, str]:
        """B's ids under A's own family id."""
        return {**self.target.ids_b, "family_id": self.target.family_a}

    def takes_owned_ids(self, operation: Operation) -> bool:
        """Whether the request carries an id of B's own besides the family's."""
        owned = set(self.target.ids_b) - self.target.shared_ids - {"family_id"}
        recorder = _Recorder(self.target.ids_b)
        self.query(operation, recorder)
        content = operation.spec.get("requestBody", {}).get("content", {})
        if "application/json" in content and operation.name not in self.target.bodies:
            example(self.document, content["application/json"]["schema"], recorder)
        used = set(operation.path_params) | recorder.used
        body = self.target.bodies.get(operation.name)
        if body is not None:
            used |= {k for k in owned if self.target.ids_b[k] in json.dumps(body)}
        return "family_id" in operation.path_params and bool(used & owned)

    def staff_only(self, operation: Operation) -> bool:
        """Documented as staff's, or listed as such by the target."""
        return operation.staff_only or operation.name in self.target.staff_routes

    def url(self, operation: Operation, ids: Mapping[str, str]) -> str:
        """The operation's path with `ids` (a random UUID for a kind B holds none of)."""
        path = operation.path
        for param in operation.path_params:
            path = path.replace("{" + param + "}", ids.get(param, str(uuid.uuid4())))
        return path

    def query(self, operation: Operation, ids: Mapping[str, str]) -> dict[str, str]:
        """The required query parameters, and the optional ids the target names, filled."""
        optional = self.target.query_ids.get(operation.name, ())
        return {
            p["name"]: str(example(self.document, p.get("schema", {}), ids, p["name"]))
            for p in operation.spec.get("parameters", ())
            if p["in"] == "query" and (p.get("required") or p["name"] in optional)
        }

    def request_body(self, operation: Operation, ids: Mapping[str, str]) -> dict[str, Any]:
        """Keyword arguments of the request carrying a minimal valid body, if one is taken."""
        if operation.name in self.target.bodies:
            return {"json": self.target.bodies[operation.name]}
        content = operation.spec.get("requestBody", {}).get("content", {})
        if "multipart/form-data" in content and self.target.multipart:
            data, content_type = self.target.multipart()
            return {"data": data, "headers": {"Content-Type": content_type}}
        if "application/json" in content:
            schema = content["application/json"]["schema"]
            return {"json": example(self.document, schema, ids)}
        return {}

    async def call(
        self, operation: Operation, headers: Mapping[str, str] | None, ids: Mapping[str, str]
    ) -> tuple[str, int, str]:
        """Send the operation; (url, status, the start of the body)."""
        url = self.url(operation, ids)
        body = self.request_body(operation, ids)
        merged = {**(headers or {}), **body.pop("headers", {})}
        response = await self.target.client.request(
            operation.method.upper(),
            url,
            params=self.query(operation, ids),
            headers=merged,
            allow_redirects=False,
            **body,
        )
        return url, response.status, (await response.read()).decode(errors="replace")

    def expect(
        self, operation: Operation, caller: str, answer: tuple[str, int, str], allowed: tuple
    ) -> None:
        url, status, body = answer
        self.report.swept.setdefault(operation.name, []).append(f"{caller}:{status}")
        if status not in allowed:
            expected = "/".join(str(s) for s in allowed)
            self.report.findings.append(
                Finding(operation.name, caller, url, status, expected, body)
            )

    async def sweep_operation(self, operation: Operation) -> None:
        """The calls one operation gets, and what each must answer."""
        target = self.target
        await self._anonymous(operation)
        staff_only = self.staff_only(operation)
        if operation.path_params:
            foreign = await self.call(operation, target.parent_a, target.ids_b)
            # A family's route answers a foreign id with 404; the structure's routes may
            # refuse a parent before looking the id up (403).
            family_route = "family_id" in operation.path_params
            allowed = (404,) if family_route and not staff_only else REFUSED
            self.expect(operation, "parent A with B's ids", foreign, allowed)
            # And exactly like ids that exist nowhere: nothing tells B's ids exist.
            missing = await self.call(operation, target.parent_a, {})
            self.expect(operation, "parent A with unknown ids", missing, (foreign[1],))
            if self.takes_owned_ids(operation):
                # A's own family with B's person, invoice, thread…: the mix-up a check on
                # the family id alone lets through (the calendar link's gap).
                mixed = await self.call(operation, target.parent_a, self.ids_in_a)
                caller = "parent A, own family, B's other ids"
                if operation.name in target.batches and _nothing_applied(mixed[2]):
                    self.report.swept[operation.name].append(f"{caller}:{mixed[1]} (refused)")
                else:
                    self.expect(operation, caller, mixed, allowed)
            await self._control(operation)
        else:
            answer = await self.call(operation, target.parent_a, target.ids_b)
            self.expect(operation, "parent A on a staff route", answer, REFUSED)
        if staff_only:
            # Even about its own family, a parent stays off the structure's routes.
            own = await self.call(operation, target.parent_b, target.ids_b)
            self.expect(operation, "parent B on a staff route", own, REFUSED)

    async def _anonymous(self, operation: Operation) -> None:
        answer = await self.call(operation, None, self.target.ids_b)
        self.expect(operation, "anonymous", answer, (401,))

    async def _control(self, operation: Operation) -> None:
        """B's own parent (or staff on a staff route) reads with B's ids: the ids are real.

        Without it, a 404 could come from an id that exists nowhere; only reads are
        replayed, writes would change what the sweep then compares.
        """
        target = self.target
        if operation.method != "get" or operation.name in target.no_control:
            return
        missing = [p for p in operation.path_params if p not in target.ids_b]
        assert not missing, (
            f"{target.name}: no B resource for {missing} of {operation.name}: seed one or "
            "list the operation in no_control with a reason"
        )
        for caller, headers in (("parent B", target.parent_b), ("staff", target.staff)):
            url, status, body = await self.call(operation, headers, target.ids_b)
            if 200 <= status < 300:
                self.report.swept[operation.name].append(f"{caller}:{status}")
                return
        self.report.findings.append(
            Finding(operation.name, "parent B, then staff", url, status, "2xx", body)
        )

    async def snapshot(self) -> list[Any]:
        """B's data as staff read it: the RGPD export and the target's extra reads."""
        target = self.target
        reads = [f"/families/{target.family_b}/export", *target.reads_b]
        seen = []
        for path in reads:
            response = await target.client.get(path, headers=target.staff)
            assert response.status == 200, (path, response.status, await response.text())
            if response.content_type == "application/json":
                seen.append(_without_volatile(await response.json()))
            else:
                seen.append(await response.read())
        return seen

    async def run(self) -> Report:
        """Sweep every operation; B's data compared before and after."""
        before = await self.snapshot()
        target = self.target
        listed = set(target.allowed) | target.staff_routes
        unknown = listed - {o.name for o in operations(self.document)}
        assert not unknown, f"{target.name}: the tables name no such operation: {sorted(unknown)}"
        to_sweep = [o for o in operations(self.document) if o.name not in target.allowed]
        # A route the sweep has no rule for fails the test: it is never skipped in silence.
        unruled = [
            o.name for o in to_sweep if o.public or not (o.path_params or self.staff_only(o))
        ]
        assert not unruled, (
            f"{target.name}: public, or without an id and not documented as staff-only: "
            f"{unruled}; allow-list each with a reason, or list it as a staff route"
        )
        self.report.skipped = {o: target.allowed[o] for o in target.allowed}
        for operation in to_sweep:
            await self.sweep_operation(operation)
        after = await self.snapshot()
        assert after == before, f"{self.target.name}: family B's data changed during the sweep"
        return self.report


def _nothing_applied(body: str) -> bool:
    """A batch's answer where no item went through (no `"ok": true`, `applied` 0)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return False
    results = answer.get("results") if isinstance(answer, dict) else None
    return (
        isinstance(results, list)
        and answer.get("applied", 0) == 0
        and not any(item.get("ok") for item in results)
    )


class _Recorder(dict):  # type: ignore[type-arg]
    """The ids a request was built with."""

    def __init__(self, ids: Mapping[str, str]) -> None:
        super().__init__(ids)
        self.used: set[str] = set()

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        if found:
            self.used.add(str(key))
        return found


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


async def sweep(target: Target, document: Mapping[str, Any] | None = None) -> Report:
    """Sweep a service from its served document; fail with every finding at once."""
    if document is None:
        served = await target.client.get("/openapi.json")
        assert served.status == 200
        document = await served.json()
    report = await Sweep(target, document).run()
    print(f"\n{target.name}: {len(report.swept)} operations swept, {len(report.skipped)} skipped")
    for name, answers in report.swept.items():
        print(f"  {name}: {', '.join(answers)}")
    assert not report.findings, f"{target.name}:\n" + "\n".join(map(str, report.findings))
    return report
