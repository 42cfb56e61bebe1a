"""Problems specific to bookings. Their `detail` is French: the pages show it as it is."""

from services.kit.problems import Conflict, NotFound, Problem


class ActivityNameTaken(Conflict):
    """Another activity already has this name."""

    slug = "activity-name-taken"
    title = "Activity name taken"


class CatalogueConflict(Conflict):
    """A catalogue change clashes with what exists (duplicate name, capacity below use)."""

    slug = "catalogue-conflict"
    title = "Catalogue conflict"


class ActivityNotFound(NotFound):
    """No such activity."""

    slug = "activity-not-found"


class PeriodNotFound(NotFound):
    """No such period for this activity."""

    slug = "period-not-found"


class GroupNotFound(NotFound):
    """No such group in this activity."""

    slug = "group-not-found"


class UnitNotFound(NotFound):
    """No such unit."""

    slug = "unit-not-found"


class ClosureNotFound(NotFound):
    """No such closed day."""

    slug = "closure-not-found"


class OpeningNotFound(NotFound):
    """No such opening."""

    slug = "opening-not-found"


class RegistrationNotFound(NotFound):
    """No such registration (or not the caller's: same answer)."""

    slug = "registration-not-found"


class PersonNotFound(NotFound):
    """The person is not a member of this family (or does not exist: same answer)."""

    slug = "person-not-found"


class RuleBroken(Problem):
    """A registration rule refuses the request; `detail` names the rule."""

    status, slug, title = 422, "rule-broken", "Request refused by a rule"


class RegistrationWindowClosed(RuleBroken):
    """Outside the period's registration window."""

    slug = "registration-window-closed"
    title = "Registration window closed"


class AgeNotEligible(RuleBroken):
    """The person's age fits no group, or not the chosen one."""

    slug = "age-not-eligible"
    title = "Age not eligible"


class DocumentsMissing(RuleBroken):
    """Required documents are missing."""

    slug = "documents-missing"
    title = "Documents missing"


class AlreadyRegistered(Conflict):
    """The person already has a pending or accepted registration for this period."""

    slug = "already-registered"
    title = "Already registered"


class GroupFull(Conflict):
    """The group has no registration place left for this period."""

    slug = "group-full"
    title = "Group full"


class WrongState(Conflict):
    """The registration is not in a state that allows this change."""

    slug = "wrong-state"
    title = "Wrong state"


class CheckUnavailable(Problem):
    """A service we must ask (families, documents) did not answer usably.

    424, not 503: bookings itself is fine. The gateway counts a service's 502/503/504 against
    that service's circuit breaker, so a 503 here would cut bookings off the whole portal
    whenever documents is down.
    """

    status, slug, title = 424, "check-unavailable", "Failed dependency"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "30"})
