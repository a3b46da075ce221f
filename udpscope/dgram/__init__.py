"""`udpscope.dgram`: Node.js `dgram` for asyncio — same names (snake_cased), same event semantics.

    from udpscope import dgram
    sock = dgram.create_socket("udp4", lambda msg, rinfo: print(msg, rinfo))
    sock.bind(41234)

docs/dgram.md is the contract. Never imports Textual (nor anything else of udpscope).

The names below load on first use (PEP 562): `from udpscope import dgram` costs nothing, so the
app draws its first frame before the engine (ctypes, the socket state machine) is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .aio import MessageIterator
    from .batch import Batch
    from .errors import DgramError, DgramRangeError, DgramTypeError
    from .events import EventEmitter
    from .receiver import set_drain_budget
    from .runtime import run
    from .socket import Socket, create_socket
    from .types import AddressInfo, RemoteInfo, SocketOptions

_HOME = {
    "AddressInfo": ".types",
    "Batch": ".batch",
    "DgramError": ".errors",
    "DgramRangeError": ".errors",
    "DgramTypeError": ".errors",
    "EventEmitter": ".events",
    "MessageIterator": ".aio",
    "RemoteInfo": ".types",
    "Socket": ".socket",
    "SocketOptions": ".types",
    "create_socket": ".socket",
    "run": ".runtime",
    "set_drain_budget": ".receiver",
}

__all__ = [
    "AddressInfo",
    "Batch",
    "DgramError",
    "DgramRangeError",
    "DgramTypeError",
    "EventEmitter",
    "MessageIterator",
    "RemoteInfo",
    "Socket",
    "SocketOptions",
    "create_socket",
    "run",
    "set_drain_budget",
]


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value  # once loaded, a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
