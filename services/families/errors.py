"""Problems specific to families."""

from services.kit.problems import NotFound


class FamilyNotFound(NotFound):
    """No family with this id is visible to the caller (foreign ids answer the same)."""

    slug = "family-not-found"
    title = "Family not found"
