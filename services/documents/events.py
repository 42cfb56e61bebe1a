"""Events this service emits (past tense; ids and what an e-mail needs, never file contents)."""

DOCUMENT_SUBMITTED = "document.submitted"  # visible to staff (antivirus passed, when configured)
DOCUMENT_ACCEPTED = "document.accepted"
DOCUMENT_REFUSED = "document.refused"  # by staff, or by the antivirus
# A waiting copy the family sent again before staff decided: out of the staff queue.
DOCUMENT_REPLACED = "document.replaced"
DOCUMENT_DOWNLOADED = "document.downloaded"  # who opened a file (journal of sensitive access)
FAMILY_EXPORTED = "family.exported"  # the RGPD export read (`part`: documents), for the journal
