"""The stand-in of bookings' billable lines must say exactly what bookings says: the same
fields, the same states, validated by bookings' own schema (services/bookings)."""

from __future__ import annotations

from datetime import date

from services.billing.upstream import BillableLine as Consumed
from services.bookings.schemas_reservations import BillableLine as Produced
from services.bookings.schemas_reservations import BillableLines

from .conftest import BillableLinesStandIn


def test_billing_reads_exactly_the_fields_and_states_bookings_produces() -> None:
    assert set(Consumed.model_fields) == set(Produced.model_fields)
    consumed = Consumed.model_fields["state"].annotation
    produced = Produced.model_fields["state"].annotation
    assert consumed.__args__ == produced.__args__  # type: ignore[union-attr]


def test_the_stand_ins_lines_are_valid_for_bookings_schema_and_back() -> None:
    stand_in = BillableLinesStandIn()
    for state in ("reserved", "present", "absent_justified", "absent_unjustified"):
        stand_in.add("f", "p", "Léa", date(2026, 3, 2), state=state, unit="journee")
    document = BillableLines.model_validate({"items": stand_in.items}).model_dump(mode="json")
    assert [Consumed.model_validate(i).state for i in document["items"]] == [
        "reserved", "present", "absent_justified", "absent_unjustified",
    ]  # fmt: skip
