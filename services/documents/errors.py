"""Problems specific to documents; their `detail` is French because pages show it as is."""

from services.kit.problems import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    ValidationFailed,
)


class DocumentNotFound(NotFound):
    """No document with this id is visible to the caller."""

    slug = "document-not-found"
    title = "Document not found"


class DocumentTypeNotFound(NotFound):
    """No such document type (or not an active one, for families)."""

    slug = "document-type-not-found"
    title = "Document type not found"


class PersonNotInFamily(NotFound):
    """The person named is not a member of this family (a foreign child answers the same)."""

    slug = "person-not-found"
    title = "Person not found"


class FileRefused(ValidationFailed):
    """An uploaded file failed a check: empty, wrong type, hostile content, bad name."""

    slug = "file-refused"
    title = "File refused"


class UploadTooLarge(PayloadTooLarge):
    """The upload is larger than the service accepts; refused while reading."""

    slug = "upload-too-large"
    title = "Upload too large"


class StorageUnavailable(ServiceUnavailable):
    """S3 could not be reached; nothing was recorded."""

    slug = "storage-unavailable"
    title = "Storage unavailable"


class MembersUnavailable(ServiceUnavailable):
    """The family's members could not be read from the families service."""

    slug = "members-unavailable"
    title = "Family members unavailable"


class NotReviewable(Conflict):
    """The submission is not waiting for a decision (already decided, or still scanned)."""

    slug = "not-reviewable"
    title = "Not reviewable"


class DuplicateDocumentType(Conflict):
    """Another document type has this name."""

    slug = "duplicate-document-type"
    title = "Duplicate document type"
