"""Problems specific to bookings."""

from services.kit.problems import Conflict


class ActivityNameTaken(Conflict):
    """Another activity already has this name."""

    slug = "activity-name-taken"
    title = "Activity name taken"
