"""Events this service emits."""

ACTIVITY_CREATED = "activity.created"
