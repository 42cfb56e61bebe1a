"""What the notifications API accepts and returns; responses carry these fields and no others."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.kit.bodies import MAX_PAGE_SIZE

DEFAULT_PAGE_SIZE = 20


class PageQuery(BaseModel):
    """`?page=&page_size=`; a larger page size is capped at 100 rather than refused."""

    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1)

    @field_validator("page_size")
    @classmethod
    def _cap(cls, value: int) -> int:
        return min(value, MAX_PAGE_SIZE)


class JournalQuery(PageQuery):
    """A page of the journal, optionally within [since, until) — the week or month filters."""

    since: AwareDatetime | None = None
    until: AwareDatetime | None = None


class JournalPerson(BaseModel):
    """Who acted on a line, or whose account it concerns. A family's account is named by its
    id, and by its address while it belongs to the family; the town's software by its role
    only; an agent by the role only to a family (it never learns which agent), by its id and
    address (when known) to staff."""

    role: Literal["family", "staff", "service"]
    account_id: str | None = None
    email: str | None = None


class JournalEntryRead(BaseModel):
    """One line of "Historique de mes actions"."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    event_type: str
    occurred_at: datetime
    account_id: str | None
    summary: dict[str, Any]
    # Who did it (None: the event does not say); `account`: the family account an auth line
    # is about (a failed sign-in names the account, not who typed the password).
    by: JournalPerson | None = None
    account: JournalPerson | None = None


class JournalPage(BaseModel):
    """A page of a family's journal, newest first."""

    items: list[JournalEntryRead]
    page: int
    page_size: int
    total: int


class Tile(BaseModel):
    """A dashboard tile's figure."""

    count: int


class DashboardRead(BaseModel):
    """The tiles this service fills on "Mon tableau de bord", and the current news."""

    historique: Tile
    contact: Tile
    news: list[NewsItem] = Field(default_factory=list)


class StaffWaitingRead(BaseModel):
    """What waits for staff this morning: the staff home page's figures."""

    famille: int = Field(0, description="Family change requests not yet decided")
    inscription: int = Field(0, description="Registration requests not yet decided")
    reservation: int = Field(0, description="Reservation requests not yet decided")
    document: int = Field(0, description="Submitted documents not yet checked")
    messages: int = Field(0, description="Contact threads whose last post is the family's")


class DeadLetterRead(BaseModel):
    """A message the consumer could not handle."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    received_at: datetime
    reason: str
    raw: Any


class DeadLetterPage(BaseModel):
    """A page of dead letters, newest first."""

    items: list[DeadLetterRead]
    page: int
    page_size: int
    total: int


# --- e-mails -------------------------------------------------------------------------------


class EmailQuery(PageQuery):
    """`?state=pending|sent|failed`, all states when absent."""

    state: Literal["pending", "sent", "failed"] | None = None


class EmailRead(BaseModel):
    """One e-mail of the log (staff): never its body, which may hold a sign-in link."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    template: str
    category: str
    family_id: str | None
    recipient: str
    subject: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None


class EmailPage(BaseModel):
    """A page of the e-mail log, newest first."""

    items: list[EmailRead]
    page: int
    page_size: int
    total: int


class PreferenceRead(BaseModel):
    """One optional category of e-mails and the family's choice."""

    category: str
    label: str
    enabled: bool


class PreferencesRead(BaseModel):
    """The optional e-mails a family may turn off (security and decisions always go)."""

    categories: list[PreferenceRead]


class PreferencesUpdate(BaseModel):
    """`{"categories": {"factures": false}}`: the categories to change."""

    model_config = ConfigDict(extra="forbid")

    categories: dict[str, bool] = Field(max_length=20)


# --- contact -------------------------------------------------------------------------------

SHORT = 200


class RecipientRead(BaseModel):
    """Someone families may write to; the address only for staff (see `RecipientStaffRead`)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str


class RecipientStaffRead(RecipientRead):
    """A recipient as staff configure it."""

    email: str
    active: bool
    position: int


class RecipientList(BaseModel):
    """Recipients in the order staff chose."""

    items: list[RecipientStaffRead] | list[RecipientRead]


class RecipientWrite(BaseModel):
    """Create or change a recipient (staff)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120)
    email: EmailStr
    active: bool = True
    position: int = Field(0, ge=0, le=1000)


class ChallengeRead(BaseModel):
    """The captcha to solve: an ALTCHA challenge, or hCaptcha's site key."""

    kind: Literal["altcha", "hcaptcha"]
    algorithm: str | None = None
    challenge: str | None = None
    maxnumber: int | None = None
    salt: str | None = None
    signature: str | None = None
    sitekey: str | None = None


class ContactMessageCreate(BaseModel):
    """The contact form. Sizes beyond the configured limits are refused by the service."""

    model_config = ConfigDict(extra="forbid")

    recipient_id: str = Field(min_length=1, max_length=36)
    subject: str = Field(min_length=1, max_length=500)
    body: str = Field(min_length=1, max_length=50_000)
    # The solved ALTCHA payload (base64 JSON) or the hCaptcha token.
    captcha: str | None = Field(None, max_length=10_000)

    @field_validator("subject", "body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class ReplyCreate(BaseModel):
    """A reply in a thread."""

    model_config = ConfigDict(extra="forbid")

    body: str = Field(min_length=1, max_length=50_000)

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class PostRead(BaseModel):
    """One post of a thread."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    author_role: str
    body: str
    created_at: datetime


class MessageSummary(BaseModel):
    """A thread in a list."""

    id: str
    family_id: str
    recipient_id: str
    recipient_name: str
    subject: str
    state: str
    created_at: datetime
    last_activity_at: datetime


class MessagePage(BaseModel):
    """A page of threads, newest activity first."""

    items: list[MessageSummary]
    page: int
    page_size: int
    total: int


class MessageQuery(PageQuery):
    """`?state=open|answered` for staff's inbox."""

    state: Literal["open", "answered"] | None = None


class ThreadRead(MessageSummary):
    """A thread and its posts, oldest first."""

    posts: list[PostRead]


# --- news ----------------------------------------------------------------------------------


class NewsWrite(BaseModel):
    """Publish or change a news (staff)."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=SHORT)
    text: str = Field(min_length=1, max_length=5000)
    visible_from: AwareDatetime
    visible_until: AwareDatetime | None = None
    activity_id: str | None = Field(None, min_length=1, max_length=36)


class NewsRead(BaseModel):
    """A news as staff see it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    text: str
    visible_from: datetime
    visible_until: datetime | None
    activity_id: str | None


class NewsList(BaseModel):
    """Every news, newest first."""

    items: list[NewsRead]


class NewsItem(BaseModel):
    """A news on the dashboard."""

    title: str
    text: str
