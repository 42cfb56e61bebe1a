"""Problems specific to documents."""

from services.kit.problems import NotFound


class DocumentNotFound(NotFound):
    """No document with this id is visible to the caller."""

    slug = "document-not-found"
    title = "Document not found"
