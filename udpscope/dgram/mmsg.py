"""Batched receive (`recvmmsg`) reached through ctypes, without a compiler.

A system call per datagram is most of what receiving costs; one `recvmmsg` fetches up to `SLOTS`
datagrams, so that cost is shared. The buffers are allocated once
per thread and reused: every drain copies each payload out into its own `bytes` before returning,
so nothing that a listener keeps points into them.

Header fields are read and written through flat integer memoryviews over the `mmsghdr` array
(attribute access on ctypes structures is much slower). Layout (x86-64 / aarch64, LP64):
`struct mmsghdr` is 64 bytes: msghdr {name ptr @0, namelen u32 @8, iov ptr @16, iovlen @24,
control ptr @32, controllen @40, flags i32 @48}, msg_len u32 @56.

`available()` is False where the call or the layout is not what this module expects; the
engine then falls back to one `recvfrom` per datagram. (Sending batches with UDP segmentation
offload instead, see sender.py: one plain `sendmsg` carries a whole run of datagrams.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import mmap
import socket
import struct
import sys
import threading
from collections.abc import Callable

SLOTS = 256
SLOT_SIZE = 65536
NAME_SIZE = 28  # sockaddr_in6
CONTROL_SIZE = 256
MSG_DONTWAIT = 0x40

_HDR = 64
_Q_PER_HDR = _HDR // 8
_I_PER_HDR = _HDR // 4



def _no_recvmmsg(*args: object) -> int:
    raise OSError(38, "recvmmsg is not available")  # ENOSYS; callers check available() first


_recvmmsg: Callable[..., int] = _no_recvmmsg


@functools.cache
def libc() -> ctypes.CDLL:
    """The C library, loaded once (find_library runs a subprocess); raises OSError if missing."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _load() -> bool:
    global _recvmmsg
    if not sys.platform.startswith("linux") or ctypes.sizeof(ctypes.c_void_p) != 8:
        return False
    try:
        recv = libc().recvmmsg
    except (OSError, AttributeError):
        return False
    recv.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    recv.restype = ctypes.c_int
    _recvmmsg = recv
    return True


_AVAILABLE = _load()


def available() -> bool:
    return _AVAILABLE


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class RecvBatch:
    """Buffers for one `recvmmsg` call of up to SLOTS datagrams (payload, peer, control)."""

    def __init__(self) -> None:
        # Anonymous memory: pages are only backed once the kernel writes a datagram into them
        # (a ctypes array would be zero-filled, i.e. all 16 MiB resident at once).
        self._payload_map = mmap.mmap(-1, SLOT_SIZE * SLOTS)
        self.payload = (ctypes.c_char * (SLOT_SIZE * SLOTS)).from_buffer(self._payload_map)
        self.names = (ctypes.c_char * (NAME_SIZE * SLOTS))()
        self.control = (ctypes.c_char * (CONTROL_SIZE * SLOTS))()
        self.iovs = (_Iovec * SLOTS)()
        self.headers = (ctypes.c_char * (_HDR * SLOTS))()
        self.address = ctypes.addressof(self.headers)
        self.control_view = memoryview(self.control).cast("B")
        self.control_ints = self.control_view.cast("I")
        self.control_words = self.control_view.cast("Q")
        raw = memoryview(self.headers).cast("B")
        self.q = raw.cast("Q")
        self.u = raw.cast("I")
        payload_base = ctypes.addressof(self.payload)
        name_base = ctypes.addressof(self.names)
        control_base = ctypes.addressof(self.control)
        q = self.q
        for i in range(SLOTS):
            self.iovs[i].base = payload_base + i * SLOT_SIZE
            self.iovs[i].len = SLOT_SIZE
            q[i * _Q_PER_HDR + 0] = name_base + i * NAME_SIZE
            q[i * _Q_PER_HDR + 2] = ctypes.addressof(self.iovs[i])
            q[i * _Q_PER_HDR + 3] = 1
            q[i * _Q_PER_HDR + 4] = 0
            q[i * _Q_PER_HDR + 5] = 0
            self.u[i * _I_PER_HDR + 2] = NAME_SIZE
        self._control_base = control_base
        self.control_enabled = False
        self.names_v6 = True
        self._layouts: dict[tuple[int, ...], struct.Struct] = {}
        self._control_layouts: dict[tuple[int, ...], struct.Struct] = {}
        # The kernel shrinks msg_namelen and msg_controllen in the headers it fills: re-arming
        # them copies these pristine headers back, one memmove instead of a loop per slot.
        self._pristine = {False: bytes(self.headers)}
        self.set_control(True)
        self._pristine[True] = bytes(self.headers)
        self.set_control(False)

    def set_control(self, enabled: bool, count: int = SLOTS) -> None:
        """Point (or not) each header at its control buffer; the kernel shrinks controllen."""
        q = self.q
        base = self._control_base
        self.control_enabled = enabled
        for i in range(count):
            q[i * _Q_PER_HDR + 4] = base + i * CONTROL_SIZE if enabled else 0
            q[i * _Q_PER_HDR + 5] = CONTROL_SIZE if enabled else 0

    def reset_names(self, count: int = SLOTS) -> None:
        u = self.u
        for i in range(count):
            u[i * _I_PER_HDR + 2] = NAME_SIZE

    def prepare(self, metadata: bool, v6: bool) -> None:
        """Make the shared buffers fit this socket: control on or off, peer names long enough.

        The kernel shrinks each used `msg_namelen` to the peer's size (16 for IPv4, 28 for
        IPv6): harmless while one family reads, so names are only reset when the family changes.
        """
        if self.control_enabled != metadata:
            self.set_control(metadata)
        if v6 and not self.names_v6:
            self.reset_names()
        self.names_v6 = v6

    def payloads(self, count: int) -> tuple[bytes, ...]:
        """The `count` received payloads as bytes, cut out by one cached Struct per size pattern."""
        sizes = _SIZES.unpack_from(self.headers)[:count]
        return _cutter(self._layouts, sizes, SLOT_SIZE).unpack_from(self.payload)

    def raw_addresses(self, at: int, v6: bool, count: int) -> set[bytes]:
        """The distinct raw addresses found at byte `at` of the first `count` control buffers.

        Read as integer columns of the control area (one strided view per 4 or 8 bytes), so a
        batch costs a few C-level passes, not a slice per datagram. `at` must be aligned (cmsg
        data is 8-byte aligned: IPv4's ipi_addr at +8, IPv6's ipi6_addr at +0).
        """
        if v6:
            words = self.control_words
            step = CONTROL_SIZE // 8
            first = words[at // 8 :: step][:count]
            second = words[at // 8 + 1 :: step][:count]
            return {a.to_bytes(8, sys.byteorder) + b.to_bytes(8, sys.byteorder)
                    for a, b in set(zip(first, second, strict=True))}
        column = self.control_ints[at // 4 :: CONTROL_SIZE // 4][:count]
        return {v.to_bytes(4, sys.byteorder) for v in set(column)}

    def controls(self, lengths: tuple[int, ...]) -> tuple[bytes, ...]:
        """Each datagram's control buffer as bytes (`lengths` from `control_lengths`), then the
        headers re-armed for the next call."""
        out = _cutter(self._control_layouts, lengths, CONTROL_SIZE).unpack_from(self.control)
        self.rearm(len(lengths))
        return out

    def rearm(self, count: int) -> None:
        """Restore the first `count` headers (name and control lengths) for the next call."""
        ctypes.memmove(self.address, self._pristine[self.control_enabled], _HDR * count)

    def keys_v4(self) -> tuple[bytes, ...]:
        """Port and address bytes of each peer (sockaddr_in[2:8]): a cache key per peer."""
        return _KEYS_V4.unpack_from(self.names)

    def keys_v6(self) -> tuple[bytes, ...]:
        return _KEYS_V6.unpack_from(self.names)

    def control_lengths(self, count: int = SLOTS) -> tuple[int, ...]:
        """How many control bytes the kernel wrote for each of the first `count` datagrams."""
        return _CONTROL_LENGTHS.unpack_from(self.headers)[:count]

    def receive(self, fd: int) -> int:
        """Fill up to SLOTS datagrams; returns the count, 0 when none is waiting, or -errno."""
        count = _recvmmsg(fd, self.address, SLOTS, MSG_DONTWAIT, None)
        if count < 0:
            return -ctypes.get_errno()
        return count


def _cutter(cache: dict[tuple[int, ...], struct.Struct], lengths: tuple[int, ...],
            stride: int) -> struct.Struct:
    """A Struct that cuts `lengths[i]` bytes out of each `stride`-byte slot, cached per pattern."""
    layout = cache.get(lengths)
    if layout is None:
        if len(cache) > 256:
            cache.clear()
        fmt = "".join(f"{n}s{stride - n}x" for n in lengths[:-1])
        layout = cache[lengths] = struct.Struct(f"{fmt}{lengths[-1]}s")
    return layout


_SIZES = struct.Struct("56xI4x" * SLOTS)
_CONTROL_LENGTHS = struct.Struct("40xQ16x" * SLOTS)
_KEYS_V4 = struct.Struct(f"2x6s{NAME_SIZE - 8}x" * SLOTS)
_KEYS_V6 = struct.Struct(f"{NAME_SIZE}s" * SLOTS)

_local = threading.local()


def recv_batch() -> RecvBatch:
    """The calling thread's receive buffers (one drain runs at a time per thread)."""
    batch = getattr(_local, "recv", None)
    if batch is None:
        batch = _local.recv = RecvBatch()
    return batch


# ------------------------------------------------------------------ peer addresses
_SIN = struct.Struct("!H4s")


def peer_v4(raw: bytes) -> tuple[str, int]:
    """(address, port) of a sockaddr_in's bytes [2:8]."""
    port, packed = _SIN.unpack(raw)
    return socket.inet_ntop(socket.AF_INET, packed), port


def peer_v6(raw: bytes, scope_name: Callable[[int], str]) -> tuple[str, int]:
    """(address, port) of a sockaddr_in6's bytes [0:28], a scope as `%name` (Node's spelling)."""
    port = int.from_bytes(raw[2:4], "big")
    address = socket.inet_ntop(socket.AF_INET6, raw[8:24])
    scope = int.from_bytes(raw[24:28], sys.byteorder)
    if scope:
        address = f"{address}%{scope_name(scope)}"
    return address, port


def scope_ids(keys: tuple[bytes, ...]) -> set[int]:
    """The non-zero scope ids among sockaddr_in6 peer keys (link-local peers)."""
    first = keys[0]
    distinct = (first,) if keys.count(first) == len(keys) else set(keys)
    scopes = {int.from_bytes(key[24:28], sys.byteorder) for key in distinct}
    scopes.discard(0)
    return scopes
