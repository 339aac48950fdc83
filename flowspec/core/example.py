"""A kind's declared example: a small, valid use of it, stated on its spec class.

Every node kind, transformer, conditioner and density lists its examples in the class
attribute ``examples``: the settings a user would write and what the kind is fed (each
input's shape and support, and a context where it takes one). They are plain data, so
declaring them costs the spec layer no torch. The contract tests
(``tests/test_contract_*.py``) read them from the registry and check every kind against
its own facts on them: round trips, log-determinants against autograd, supports, parameter
counts; a kind registered without an example fails there.

What ``inputs`` means depends on what the kind is:

- a node kind: its input ports, in order;
- a transformer: one port, whose support is where the values it is tried on are drawn;
- a conditioner: the input of the layer it serves in ``role`` (``coupling`` or
  ``autoregressive``; ``host`` holds that layer's other settings, such as a coupling's
  mask), or for the ``plain`` role two flat ports, the network's input and its output;
- a density: one port, the values it models (its event and their support), with the
  context it is given (none: an unconditional density).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flowspec.core.ports import PortInfo

__all__ = ["Example"]


@dataclass(frozen=True)
class Example:
    """Settings and inputs that make a small, valid use of a kind."""

    #: The kind's fields as a spec writes them, without ``kind``, ``in`` and ``context``.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: What the kind is fed (see the module docstring).
    inputs: tuple[PortInfo, ...] = (PortInfo((3,)),)
    #: The context port, for kinds that take one.
    context: PortInfo | None = None
    #: A few words naming what this example covers (``"image"``, ``"householder"``).
    label: str = ""
    #: Conditioners: the role the example plays (``coupling``, ``autoregressive``, ``plain``).
    role: str = ""
    #: Conditioners: the settings of the layer that hosts them (a coupling's ``mask``).
    host: Mapping[str, Any] = field(default_factory=dict)
