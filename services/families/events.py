"""Events this service emits (past tense, ids only beyond what a reader needs)."""

FAMILY_CREATED = "family.created"
