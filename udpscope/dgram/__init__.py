"""`udpscope.dgram`: Node.js `dgram` for asyncio — same names (snake_cased), same event semantics.

    from udpscope import dgram
    sock = dgram.create_socket("udp4", lambda msg, rinfo: print(msg, rinfo))
    sock.bind(41234)

docs/dgram.md is the contract. Never imports Textual (nor anything else of udpscope).
"""

from .aio import MessageIterator
from .batch import Batch
from .errors import DgramError, DgramRangeError, DgramTypeError
from .events import EventEmitter
from .receiver import set_drain_budget
from .runtime import run
from .socket import Socket, create_socket
from .types import AddressInfo, RemoteInfo, SocketOptions

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
