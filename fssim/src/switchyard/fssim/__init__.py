"""fssim: a FreeSWITCH double that speaks ESL and mod_xml_curl as FreeSWITCH 1.10 does.

It never imports a Switchyard service; tests, benchmarks and ``switchyard
up`` drive it through :class:`~switchyard.fssim.node.Node` (in process) or
its HTTP control port.
"""

from switchyard.fssim.behaviour import Behaviour
from switchyard.fssim.node import Node
from switchyard.fssim.simulator import Simulator

__all__ = ["Behaviour", "Node", "Simulator"]
