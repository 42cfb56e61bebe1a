"""Problems specific to families."""

from services.kit.problems import Conflict, NotFound


class FamilyNotFound(NotFound):
    """No family with this id is visible to the caller (foreign ids answer the same)."""

    slug = "family-not-found"
    title = "Family not found"


class PersonNotFound(NotFound):
    """No person with this id in this family (a person of another family answers the same)."""

    slug = "person-not-found"
    title = "Person not found"


class ChangeRequestNotFound(NotFound):
    """No change request with this id visible to the caller."""

    slug = "change-request-not-found"
    title = "Change request not found"


class StaleVersion(Conflict):
    """The record changed since the caller read it: reload, never overwrite silently."""

    slug = "stale-version"
    title = "The record changed meanwhile"


class PendingRequestConflict(Conflict):
    """Another pending request already touches one of these fields."""

    slug = "pending-request-conflict"
    title = "A pending request touches the same fields"


class ChangedSinceRequest(Conflict):
    """The fields of a request changed after it was made; accepting would overwrite them."""

    slug = "changed-since-request"
    title = "The record changed since the request"


class RequestAlreadyDecided(Conflict):
    """The request is no longer pending (decided or withdrawn)."""

    slug = "request-not-pending"
    title = "The request is no longer pending"
