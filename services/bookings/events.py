"""Events this service emits (past-tense facts; each written in the transaction of its change).

`registration.*` events carry: registration_id, family_id, person_id, person_name,
activity_id, activity_name, period_id, period_name, group_name, state; `registration.refused`
adds `reason`, `registration.accepted` adds `automatic`.
"""

ACTIVITY_CREATED = "activity.created"
REGISTRATION_REQUESTED = "registration.requested"
REGISTRATION_ACCEPTED = "registration.accepted"
REGISTRATION_REFUSED = "registration.refused"
REGISTRATION_CANCELLED = "registration.cancelled"
