"""What the bookings API accepts and returns; responses carry these fields and no others.

Datetimes sent without a zone are read as Europe/Paris local time; every datetime is
answered in UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .feed import Position
from .notice_rules import NoticeRule
from .workdays import as_utc

Validation = Literal["manual", "automatic"]
State = Literal["requested", "accepted", "refused", "cancelled"]
STATE_LABELS = {
    "requested": "demandée",
    "accepted": "acceptée",
    "refused": "refusée",
    "cancelled": "annulée",
}
_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")


def _has_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # PostgreSQL text cannot hold NUL: refuse it here as bad input, not as a 500 later.
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- catalogue -------------------------------------------------------------------------


class GroupCreate(_In):
    """An age group: ages in whole years at the period's first day, both bounds included."""

    name: str = Field(min_length=1, max_length=80, description='e.g. "maternelle"')
    min_age: int = Field(ge=0, le=25)
    max_age: int = Field(ge=0, le=25)
    capacity: int | None = Field(None, ge=0, le=10_000, description="registrations per period")

    @model_validator(mode="after")
    def _ages_in_order(self) -> GroupCreate:
        if self.max_age < self.min_age:
            raise ValueError("max_age must be at least min_age")
        return self


class GroupUpdate(_In):
    """Change a group's name, ages or capacity (null: unlimited); omitted fields stay.

    New ages apply to the registrations asked from now on; those already made stay.
    """

    name: str | None = Field(None, min_length=1, max_length=80)
    min_age: int | None = Field(None, ge=0, le=25)
    max_age: int | None = Field(None, ge=0, le=25)
    capacity: int | None = Field(None, ge=0, le=10_000)

    @model_validator(mode="after")
    def _something_sent(self) -> GroupUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, min_age, max_age, capacity")
        for field in ("name", "min_age", "max_age"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class GroupRead(_Out):
    """An age group."""

    id: str
    name: str
    min_age: int
    max_age: int
    capacity: int | None


class UnitCreate(_In):
    """A unit booked on a day, with its times and the units it excludes the same day."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description='e.g. "journee", "matin"')
    label: str = Field(min_length=1, max_length=80, description='e.g. "Après-midi"')
    starts_at: time | None = None
    ends_at: time | None = None
    excludes: list[str] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _times_in_order(self) -> UnitCreate:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.code in self.excludes:
            raise ValueError("a unit cannot exclude itself")
        return self


class UnitUpdate(_In):
    """Change a unit's label, times or incompatibilities; omitted fields stay.

    `excludes` replaces the unit's incompatibilities in both directions (a unit no longer
    listed no longer excludes this one either); the code never changes (reservations keep it).
    """

    label: str | None = Field(None, min_length=1, max_length=80)
    starts_at: time | None = None
    ends_at: time | None = None
    excludes: list[str] | None = Field(None, max_length=20)

    @model_validator(mode="after")
    def _something_sent(self) -> UnitUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one of label, starts_at, ends_at, excludes")
        for field in ("label", "excludes"):
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be null")
        return self


class UnitRead(_Out):
    """A unit."""

    id: str
    code: str
    label: str
    starts_at: time | None
    ends_at: time | None
    excludes: list[str]


class ActivityRules(_In):
    """Booking rules of an activity (all optional on update)."""

    validation: Validation = "manual"
    waiting_list: bool = False
    documents_required: bool = True
    add_notice: NoticeRule | None = None
    cancel_notice: NoticeRule | None = None


class ActivityCreate(ActivityRules):
    """A new activity with its groups and units (what a municipal import sends)."""

    name: str = Field(min_length=1, max_length=120, description='e.g. "ALSH Josta Leku"')
    description: str = Field("", max_length=2000)
    groups: list[GroupCreate] = Field(default_factory=list, max_length=20)
    units: list[UnitCreate] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _consistent(self) -> ActivityCreate:
        names = [g.name for g in self.groups]
        codes = [u.code for u in self.units]
        if len(set(names)) != len(names):
            raise ValueError("group names must be unique")
        if len(set(codes)) != len(codes):
            raise ValueError("unit codes must be unique")
        unknown = {c for u in self.units for c in u.excludes} - set(codes)
        if unknown:
            raise ValueError(f"excludes names unknown units: {', '.join(sorted(unknown))}")
        return self


class ActivityUpdate(_In):
    """Change an activity's name, description or rules; omitted fields stay."""

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2000)
    validation: Validation | None = None
    waiting_list: bool | None = None
    documents_required: bool | None = None
    add_notice: NoticeRule | None = None
    cancel_notice: NoticeRule | None = None


class ActivityRead(_Out):
    """An activity with its rules, groups and units."""

    id: str
    name: str
    description: str
    validation: Validation
    waiting_list: bool
    documents_required: bool
    add_notice: NoticeRule | None
    cancel_notice: NoticeRule | None
    groups: list[GroupRead]
    units: list[UnitRead]
    created_at: datetime


class ActivityList(BaseModel):
    """The catalogue."""

    items: list[ActivityRead]


class PeriodCreate(_In):
    """A period and its registration window (a datetime without zone is Paris time)."""

    name: str = Field(min_length=1, max_length=120, description='"Vacances de printemps 2027"')
    school_year: str = Field(description='"2026-2027"')
    starts_on: date
    ends_on: date
    registration_opens_at: datetime
    registration_closes_at: datetime

    @field_validator("school_year")
    @classmethod
    def _school_year(cls, value: str) -> str:
        match = _SCHOOL_YEAR.match(value)
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError('a school year reads "2026-2027"')
        return value

    @field_validator("registration_opens_at", "registration_closes_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @model_validator(mode="after")
    def _in_order(self) -> PeriodCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        if self.registration_closes_at <= self.registration_opens_at:
            raise ValueError("the registration window must close after it opens")
        if (self.ends_on - self.starts_on).days > 400:
            raise ValueError("a period lasts at most a school year")
        return self


class PeriodUpdate(_In):
    """Change a period's name, dates or registration window (Paris time when no zone is given).

    Only what is sent changes; the dates' and the window's order are judged on the merged
    result, and new dates must still cover the period's openings (409 otherwise).
    """

    name: str | None = Field(None, min_length=1, max_length=120)
    starts_on: date | None = None
    ends_on: date | None = None
    registration_opens_at: datetime | None = None
    registration_closes_at: datetime | None = None

    @field_validator("registration_opens_at", "registration_closes_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @model_validator(mode="after")
    def _something_sent(self) -> PeriodUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class PeriodRead(_Out):
    """A period; `registration_open` says whether its window is open now."""

    id: str
    activity_id: str
    name: str
    school_year: str
    starts_on: date
    ends_on: date
    registration_opens_at: datetime
    registration_closes_at: datetime
    registration_open: bool = False


class PeriodList(BaseModel):
    """Periods of an activity."""

    items: list[PeriodRead]


class ClosureCreate(_In):
    """Days an activity is closed; no opening is made on them."""

    days: list[date] = Field(min_length=1, max_length=366)
    reason: str = Field("", max_length=200)


class ClosureRead(_Out):
    """A closed day."""

    id: str
    day: date
    reason: str


class ClosureList(BaseModel):
    """Closed days of an activity."""

    items: list[ClosureRead]


class Removal(BaseModel):
    """What a deletion removed: the entry, and the unbooked openings that went with it."""

    id: str
    openings_removed: int = Field(0, description="openings without any reservation, removed too")


class ClosureRemoval(BaseModel):
    """A closed day opened again; openings closed that day stay closed until reopened."""

    id: str
    day: date
    closed_openings: int = Field(description="the activity's openings still closed that day")


class OpeningsBulkCreate(_In):
    """Open units for groups on the period's chosen weekdays, minus holidays and closures."""

    capacity: int = Field(ge=0, le=10_000)
    units: list[str] | None = Field(None, description="unit codes; default: all")
    groups: list[str] | None = Field(None, description="group names; default: all")
    weekdays: list[int] = Field(
        default_factory=lambda: [0, 1, 2, 3, 4], description="0 = lundi … 6 = dimanche"
    )
    starts_on: date | None = Field(None, description="default: the period's first day")
    ends_on: date | None = Field(None, description="default: the period's last day")

    @field_validator("weekdays")
    @classmethod
    def _weekdays(cls, value: list[int]) -> list[int]:
        if not value or any(d < 0 or d > 6 for d in value):
            raise ValueError("weekdays are numbers from 0 (lundi) to 6 (dimanche)")
        return sorted(set(value))


class SkippedDay(BaseModel):
    """A day of the range left without openings, and why."""

    day: date
    reason: str


class OpeningsBulkResult(BaseModel):
    """What a bulk creation did."""

    created: int
    already_there: int
    skipped: list[SkippedDay]


class OpeningUpdate(_In):
    """Change one opening."""

    capacity: int | None = Field(None, ge=0, le=10_000)
    closed: bool | None = None


class OpeningRead(BaseModel):
    """An opening with its unit and group named."""

    id: str
    activity_id: str
    period_id: str
    group_id: str
    group_name: str
    unit_id: str
    unit_code: str
    day: date
    capacity: int
    booked: int
    closed: bool


class OpeningList(BaseModel):
    """Openings, by day."""

    items: list[OpeningRead]


class OpeningQuery(_In):
    """Filters of the openings list."""

    activity_id: str | None = Field(None, max_length=36)
    period_id: str | None = Field(None, max_length=36)
    group_id: str | None = Field(None, max_length=36)
    starts_on: date | None = None
    ends_on: date | None = None


# --- the families' catalogue -------------------------------------------------------------


class CatalogueGroup(BaseModel):
    """A group as families see it: ages and, when limited, places left per open period."""

    id: str
    name: str
    min_age: int
    max_age: int


class CataloguePeriod(BaseModel):
    """A period whose registration window is open now."""

    id: str
    name: str
    school_year: str
    starts_on: date
    ends_on: date
    registration_closes_at: datetime


class CatalogueEntry(BaseModel):
    """An activity families may ask to register to now."""

    id: str
    name: str
    description: str
    validation: Validation
    documents_required: bool
    groups: list[CatalogueGroup]
    periods: list[CataloguePeriod]


class Catalogue(BaseModel):
    """Activities with at least one period open for registration now."""

    items: list[CatalogueEntry]


# --- registrations -----------------------------------------------------------------------


class RegistrationCreate(_In):
    """A family's request: this member, to this activity, for this period (group optional)."""

    person_id: str = Field(min_length=1, max_length=36)
    activity_id: str = Field(min_length=1, max_length=36)
    period_id: str = Field(min_length=1, max_length=36)
    group_id: str | None = Field(
        None, max_length=36, description="default: the group matching the age"
    )


class RegistrationRead(BaseModel):
    """A registration, with the names the screens show."""

    id: str
    family_id: str
    person_id: str
    person_name: str
    activity_id: str
    activity_name: str
    period_id: str
    period_name: str
    school_year: str
    group_id: str
    group_name: str
    state: State
    state_label: str
    refusal_reason: str | None
    created_at: datetime
    decided_at: datetime | None
    updated_at: datetime


class RegistrationList(BaseModel):
    """Registrations, newest first for families, oldest change first for `since` reads (a
    full page of those names the next one: `next_cursor`)."""

    items: list[RegistrationRead]
    next_cursor: str | None = None


class FamilyRegistrationQuery(_In):
    """Filters of "Mes inscriptions"."""

    person_id: str | None = Field(None, max_length=36)
    activity_id: str | None = Field(None, max_length=36)
    period_id: str | None = Field(None, max_length=36)
    state: State | None = None
    school_year: str | None = Field(None, max_length=9)


class ChangedSince(_In):
    """A municipal read's page: rows changed at or after `since` (UTC), from `cursor` on."""

    since: datetime | None = None
    cursor: str | None = Field(None, max_length=200)

    @field_validator("since")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @field_validator("cursor")
    @classmethod
    def _ours(cls, value: str | None) -> str | None:
        if value is not None:
            Position.decode(value)
        return value


class RegistrationQuery(FamilyRegistrationQuery, ChangedSince):
    """Filters of the staff queue and of municipal reads."""

    family_id: str | None = Field(None, max_length=36)
    limit: int = Field(100, ge=1, le=500)


class RefusalCreate(_In):
    """Why staff refuse; the family reads it."""

    reason: str = Field(min_length=1, max_length=500)


class StaffDecision(_In):
    """Staff accept or refuse something a family asked; a refusal says why."""

    decision: Literal["accept", "refuse"]
    reason: str | None = Field(None, max_length=500)

    @model_validator(mode="after")
    def _refusal_has_reason(self) -> StaffDecision:
        if self.decision == "refuse" and not (self.reason and self.reason.strip()):
            raise ValueError("a refusal needs a reason")
        return self


class Decision(StaffDecision):
    """One decision of a batch of registration requests."""

    registration_id: str = Field(min_length=1, max_length=36)


class DecisionBatch(_In):
    """Several decisions; each one stands alone (its own transaction)."""

    decisions: list[Decision] = Field(min_length=1, max_length=200)


class DecisionResult(BaseModel):
    """What became of one decision."""

    registration_id: str
    ok: bool
    state: State | None = None
    detail: str | None = None


class DecisionBatchResult(BaseModel):
    """Results in the order sent."""

    results: list[DecisionResult]
