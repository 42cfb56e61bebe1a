"""What the reservations API accepts and returns (the planning, saves, staff lists, feeds)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from .schemas import ChangedSince, StaffDecision, _In

# A save holds at most this many changes; beyond it the whole save is refused (422) before
# anything is checked: a week of a whole family is far below it, a script gone wrong is not.
MAX_CHANGES = 200
MAX_PLANNING_DAYS = 42
Action = Literal["book", "cancel"]
ReservationState = Literal["requested", "confirmed", "waiting", "refused", "cancelled"]
AttendanceValue = Literal["present", "absent_justified", "absent_unjustified"]
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])$")

RESERVATION_LABELS = {
    "requested": "demande en attente",
    "confirmed": "réservé",
    "waiting": "en liste d'attente",
    "refused": "refusé",
    "cancelled": "annulé",
}
ATTENDANCE_LABELS = {
    "present": "présent",
    "absent_justified": "absent justifié",
    "absent_unjustified": "absent non justifié",
}


class Change(_In):
    """One cell of the planning: book or cancel `person_id` on `opening_id`."""

    person_id: str = Field(min_length=1, max_length=36)
    opening_id: str = Field(min_length=1, max_length=36)
    action: Action


class ChangeBatch(_In):
    """The unsaved changes of a planning, sent by ENREGISTRER."""

    changes: list[Change] = Field(min_length=1, max_length=MAX_CHANGES)
    # The same as the Idempotency-Key header, for callers that cannot set headers (pages).
    idempotency_key: str | None = Field(None, pattern=r"^[A-Za-z0-9_.:-]{1,100}$")


class ChangeResult(BaseModel):
    """What became of one change: applied (with the new state) or refused (with why)."""

    person_id: str
    opening_id: str
    action: Action
    ok: bool
    state: ReservationState | None = None
    label: str
    reason: str | None = None
    code: str | None = None
    reservation_id: str | None = None
    day: date | None = None
    unit_label: str | None = None
    activity_name: str | None = None


class SaveResult(BaseModel):
    """Every change's result, in the order sent, and the counts."""

    results: list[ChangeResult]
    applied: int
    refused: int


class RepeatRequest(_In):
    """Repeat one person's week: every week or one in two until a date, for several children."""

    person_id: str = Field(min_length=1, max_length=36)
    week_of: date
    until: date
    every: Literal[1, 2] = 1
    person_ids: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _order(self) -> RepeatRequest:
        if self.until < self.week_of:
            raise ValueError("until must not be before week_of")
        if (self.until - self.week_of).days > 370:
            raise ValueError("a repetition covers at most one year")
        return self


class PlanningQuery(_In):
    """The planning's range: `starts_on` (any day; weeks start on Monday) and `days`."""

    # Bounded: a range running past the calendar's last day (9999-12-31) cannot be built.
    starts_on: date | None = Field(
        None,
        ge=date(1900, 1, 1),
        le=date(9000, 12, 31),
        description="any day of the range; default: today's week in Paris (on Saturday and "
        "Sunday the following week), or today's month",
    )
    days: int = Field(7, ge=1, le=MAX_PLANNING_DAYS)
    view: Literal["week", "month"] = "week"


class Cell(BaseModel):
    """One (unit, day) of the planning and what may be done with it."""

    day: date
    opening_id: str | None = None
    reservation_id: str | None = None
    state: str
    label: str
    kind: Literal["possible", "booked"]
    bookable: bool = False
    cancellable: bool = False
    locked_reason: str | None = None
    modifiable_until: str | None = None
    remaining: int | None = None


class PlanningRow(BaseModel):
    """One unit of an activity, a cell per day."""

    unit_code: str
    unit_label: str
    # So that a page can flag two such ticks before saving; the save judges anyway.
    excludes: list[str] = Field(
        default_factory=list,
        description="Codes of this activity's units that cannot be booked the same day as "
        "this one (the incompatibilities read both ways).",
    )
    cells: list[Cell]


class PlanningActivity(BaseModel):
    """An activity the person is registered to, with its rows."""

    activity_id: str
    activity_name: str
    add_rule: str
    cancel_rule: str
    rows: list[PlanningRow]


class LegendEntry(BaseModel):
    """One state of the legend."""

    state: str
    label: str
    kind: Literal["possible", "booked"]


class Planning(BaseModel):
    """A person's planning over a range of days."""

    person_id: str
    person_name: str
    starts_on: date
    ends_on: date
    days: list[date]
    activities: list[PlanningActivity]
    legend: list[LegendEntry]
    max_changes: int = MAX_CHANGES


class ReservationRead(BaseModel):
    """A reservation, for staff lists and municipal reads."""

    id: str
    family_id: str
    person_id: str
    person_name: str
    activity_id: str
    activity_name: str
    opening_id: str
    group_name: str
    unit_code: str
    unit_label: str
    day: date
    state: ReservationState
    state_label: str
    attendance: AttendanceValue | None
    reason: str | None
    created_at: datetime
    updated_at: datetime


class ReservationList(BaseModel):
    """Reservations, oldest change first; a full page names the next one (`next_cursor`)."""

    items: list[ReservationRead]
    next_cursor: str | None = None


class ReservationQuery(ChangedSince):
    """Filters of the staff and municipal reads."""

    activity_id: str | None = Field(None, max_length=36)
    family_id: str | None = Field(None, max_length=36)
    person_id: str | None = Field(None, max_length=36)
    state: ReservationState | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    limit: int = Field(500, ge=1, le=5000)


ROSTER_SPANS = (1, 7)


class RosterQuery(_In):
    """A day or a week of an activity, optionally one group."""

    activity_id: str = Field(min_length=1, max_length=36)
    day: date
    days: int = 1
    group_id: str | None = Field(None, max_length=36)

    @field_validator("days")
    @classmethod
    def _a_day_or_a_week(cls, value: int) -> int:
        # The planning shows a day or a week: 3 days would be a view no page offers.
        if value not in ROSTER_SPANS:
            raise ValueError("days is 1 (one day) or 7 (a week)")
        return value


class RosterPerson(BaseModel):
    """Someone on an opening's list."""

    reservation_id: str
    person_id: str
    person_name: str
    family_id: str
    state: ReservationState
    state_label: str
    attendance: AttendanceValue | None


class RosterOpening(BaseModel):
    """An opening with who is booked and who waits."""

    opening_id: str
    day: date
    group_name: str
    unit_code: str
    unit_label: str
    capacity: int
    booked: int
    closed: bool
    booked_persons: list[RosterPerson]
    waiting: list[RosterPerson]


class Roster(BaseModel):
    """An activity's day or week."""

    activity_id: str
    activity_name: str
    starts_on: date
    ends_on: date
    openings: list[RosterOpening]


class AttendanceMark(_In):
    """Attendance of one confirmed reservation (None clears it)."""

    reservation_id: str = Field(min_length=1, max_length=36)
    attendance: AttendanceValue | None


class AttendanceBatch(_In):
    """Attendance taken for a list."""

    marks: list[AttendanceMark] = Field(min_length=1, max_length=500)


class AttendanceResult(BaseModel):
    """What became of each mark."""

    results: list[dict[str, str | bool]]


class ReservationDecision(StaffDecision):
    """Staff accept or refuse a pending reservation."""

    reservation_id: str = Field(min_length=1, max_length=36)


class ReservationDecisionBatch(_In):
    """Several decisions; each stands alone."""

    decisions: list[ReservationDecision] = Field(min_length=1, max_length=200)


class ReservationDecisionResult(BaseModel):
    """One decision's outcome."""

    reservation_id: str
    ok: bool
    state: ReservationState | None = None
    detail: str | None = None


class ReservationDecisionResults(BaseModel):
    """Every decision's outcome."""

    results: list[ReservationDecisionResult]


class ClosureCancellation(_In):
    """Close an activity on a day (strike, school closed) and cancel its reservations."""

    day: date
    reason: str = Field(min_length=1, max_length=200)


class ClosureCancellationResult(BaseModel):
    """How many reservations were cancelled and openings closed."""

    day: date
    cancelled: int
    openings_closed: int


class BillableLine(BaseModel):
    """A confirmed unit of a child on a day, with what happened (billing's contract)."""

    family_id: str
    person_id: str
    person_name: str
    activity_id: str
    activity_name: str
    unit: str
    date: date
    state: Literal["reserved", "present", "absent_justified", "absent_unjustified"]


class BillableLines(BaseModel):
    """The month's billable lines."""

    items: list[BillableLine]


class MonthQuery(_In):
    """`month=YYYY-MM`."""

    month: str

    @field_validator("month")
    @classmethod
    def _month(cls, value: str) -> str:
        # Year 0000 is no date, and 9999-12 has no following month to end the range.
        if not (match := _MONTH.match(value)) or not 0 < int(match[1]) < 9999:
            raise ValueError("month must be YYYY-MM")
        return value


class CalendarFeedRead(BaseModel):
    """A new private calendar link: shown once, stored hashed."""

    person_id: str
    path: str
    created_at: datetime
