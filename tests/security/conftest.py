"""The services' own test fixtures, reused by the sweep to make each service's real data."""

from __future__ import annotations

from tests.gateway.conftest import gateway, upstream  # noqa: F401
from tests.services.auth.conftest import auth_client  # noqa: F401
from tests.services.bookings.conftest import (  # noqa: F401
    _leave_no_pending_events,
    bookings,
    bookings_app,
    clock,
    stand_in,
)
from tests.services.documents.conftest import (  # noqa: F401
    documents,
    make_documents,
    members,
)
from tests.services.notifications.conftest import database  # noqa: F401
