"""udpscope: a terminal app and library for debugging UDP services and multicast groups."""

__version__ = "0.1.0"
