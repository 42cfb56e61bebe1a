"""Why a message cannot be handled; such a message becomes a dead letter, never an HTTP error."""


class UnhandledEvent(Exception):
    """A message the consumer refuses: malformed envelope or an event type it does not know."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
