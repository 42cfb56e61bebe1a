"""An offline PayFiP: the same SOAP calls, a payment page, notifications (dev and tests only)."""

from .app import SIMULATOR, SimulatorState, create_simulator

__all__ = ["SIMULATOR", "SimulatorState", "create_simulator"]
