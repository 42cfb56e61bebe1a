"""Events this service emits (past-tense facts; each written in the transaction of its change).

`registration.*` events carry: registration_id, family_id, person_id, person_name,
activity_id, activity_name, period_id, period_name, group_name, state; `registration.refused`
adds `reason`, `registration.accepted` adds `automatic`.

Every event a person or system causes names it: `by` (the token's subject) and `by_role`
(`family`, `staff`, `service`; `Identity.acted`). An automatic acceptance and `reservation.promoted`
(a freed place given to the first waiting request) are `by_role: service` without `by`
(docs/events.md).
"""

ACTIVITY_CREATED = "activity.created"
REGISTRATION_REQUESTED = "registration.requested"
REGISTRATION_ACCEPTED = "registration.accepted"
REGISTRATION_REFUSED = "registration.refused"
REGISTRATION_CANCELLED = "registration.cancelled"

# `reservation.*` events carry: reservation_id, family_id, person_id, person_name,
# activity_id, activity_name, opening_id, date (ISO), unit (code), unit_name, state;
# `reservation.refused` adds `reason`; a cancellation for a closure adds `reason` and
# `by_structure: true`. `reservation.promoted`: a waiting request got a freed place.
RESERVATION_REQUESTED = "reservation.requested"
RESERVATION_CONFIRMED = "reservation.confirmed"
RESERVATION_REFUSED = "reservation.refused"
RESERVATION_CANCELLED = "reservation.cancelled"
RESERVATION_WAITLISTED = "reservation.waitlisted"
RESERVATION_PROMOTED = "reservation.promoted"
