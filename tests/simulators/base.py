"""What every gateway simulator shares: the hub's ``ServiceSimulator`` (``hub.testing``).

A loopback HTTP server in a thread with a request log and scripted failures,
the same base a plugin author's gateway simulator is built on; the names
below are the ones this folder's simulators were written with.
"""

from __future__ import annotations

from hub.testing import ServiceSimulator as Simulator
from hub.testing import SimulatedRequest as Request
from hub.testing import SimulatedResponse as Response

__all__ = ["Request", "Response", "Simulator"]
