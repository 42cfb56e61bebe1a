"""Events this service emits (past tense, ids only beyond what a reader needs)."""

FAMILY_CREATED = "family.created"
FAMILY_UPDATED = "family.updated"
PERSON_CREATED = "person.created"
PERSON_UPDATED = "person.updated"
# The change-request life cycle: the notifications service mails the family on the
# acceptance and the refusal (exactly one e-mail each, thanks to the outbox).
CHANGE_REQUESTED = "family.change_requested"
CHANGE_ACCEPTED = "family.change_accepted"
CHANGE_REFUSED = "family.change_refused"
CHANGE_WITHDRAWN = "family.change_withdrawn"
# Sensitive access, for the journal (RGPD): who exported a family's data, never the data.
FAMILY_EXPORTED = "family.exported"
