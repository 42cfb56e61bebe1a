"""Events this service emits."""

DOCUMENT_SUBMITTED = "document.submitted"
