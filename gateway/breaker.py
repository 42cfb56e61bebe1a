"""A circuit breaker per service: stop calling a service that keeps failing, probe it later.

State lives in the process: each gateway replica learns on its own (a shared state in Redis
would cost a round trip on every call to protect against something a replica learns in
`failure_threshold` calls anyway).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


class BreakerState(StrEnum):
    """closed: calls go through; open: calls are refused; half-open: one probe goes through."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class CircuitBreaker:
    """Opens after `failure_threshold` consecutive failures; one probe after `reset_seconds`."""

    name: str
    failure_threshold: int = 5
    reset_seconds: float = 10.0
    clock: Callable[[], float] = time.monotonic
    state: BreakerState = BreakerState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    _probe_in_flight: bool = field(default=False, repr=False)

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one probe at a time may."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self.clock() - self.opened_at < self.reset_seconds:
                return False
            self.state = BreakerState.HALF_OPEN
        if self._probe_in_flight:
            return False
        self._probe_in_flight = True
        return True

    def retry_after(self) -> int:
        """Whole seconds until a probe will be allowed (at least 1)."""
        remaining = self.reset_seconds - (self.clock() - self.opened_at)
        return max(1, int(remaining + 0.999))

    def record_success(self) -> None:
        """A call succeeded: close the circuit."""
        self.state = BreakerState.CLOSED
        self.failures = 0
        self._probe_in_flight = False

    def record_failure(self) -> None:
        """A call failed: count it; a failed probe or too many failures (re)open the circuit."""
        self._probe_in_flight = False
        self.failures += 1
        if self.state is BreakerState.HALF_OPEN or self.failures >= self.failure_threshold:
            self.state = BreakerState.OPEN
            self.opened_at = self.clock()

    def release(self) -> None:
        """A call ended without telling anything about the service (e.g. the client left)."""
        self._probe_in_flight = False


class Breakers:
    """One breaker per service name, created on first use with the same thresholds."""

    def __init__(self, failure_threshold: int, reset_seconds: float) -> None:
        self._failure_threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._breakers: dict[str, CircuitBreaker] = {}

    def __getitem__(self, name: str) -> CircuitBreaker:
        breaker = self._breakers.get(name)
        if breaker is None:
            breaker = CircuitBreaker(name, self._failure_threshold, self._reset_seconds)
            self._breakers[name] = breaker
        return breaker

    def states(self) -> dict[str, str]:
        """The state of every breaker seen so far."""
        return {name: breaker.state.value for name, breaker in self._breakers.items()}
