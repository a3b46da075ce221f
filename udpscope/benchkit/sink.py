"""A draining receiver for the send measurements: it must never be what limits the sender.

Why recvmmsg through ctypes: a sink that pays Python work per datagram could be slower than the
sender under test and turn a send measurement into a receive one. Here one call fetches up to 64
datagrams and nothing is done per datagram; the sender's side (the loopback delivery work, which
Linux does on the sending CPU) is what gets measured. Falls back to `recv_into` off Linux.

Same protocol as every receiving peer: prints `READY <port> <rcvbuf>`, then one JSON line once
no datagram has arrived for IDLE_MS (after the first one) or MAX_S passed.

    python -m udpscope.benchkit.sink HOST RCVBUF IDLE_MS MAX_S
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import socket
import struct
import sys
import time

from udpscope.benchkit import LOOPBACK
from udpscope.benchkit.mmsg import MSG_WAITFORONE, Batch, function

SLOTS = 64
SLOT = 65536
SO_MEMINFO = 55
SK_MEMINFO_DROPS = 8
POLL_S = 0.01


def kernel_drops(sock: socket.socket) -> int | None:
    """SO_MEMINFO's drop counter for this socket (Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, SO_MEMINFO, 36)
        return struct.unpack_from("@9I", raw)[SK_MEMINFO_DROPS]
    except (OSError, struct.error):
        return None


def open_receiver(host: str, rcvbuf: int) -> socket.socket:
    """A socket bound to host:0 with the biggest receive buffer the kernel allows us."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    if rcvbuf > 0:
        with contextlib.suppress(OSError):  # keep the default buffer
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((host, 0))
    return sock


def drain(sock: socket.socket, idle_s: float, max_s: float) -> dict[str, object]:
    recvmmsg = function("recvmmsg")
    batch = Batch(SLOTS, SLOT) if recvmmsg is not None else None
    buf = bytearray(SLOT)
    fd = sock.fileno()
    count = nbytes = 0
    perf = time.perf_counter
    t0 = perf()
    cpu0 = time.process_time()
    first = last = 0.0
    if batch is not None:
        # A blocking fd with SO_RCVTIMEO: recvmmsg sleeps until data or the poll interval.
        # (settimeout would make the fd non-blocking and turn this loop into a busy spin.)
        sock.setblocking(True)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                        struct.pack("@ll", 0, int(POLL_S * 1e6)))
    else:
        sock.settimeout(POLL_S)
    while True:
        if batch is not None:
            n = recvmmsg(fd, batch.address, SLOTS, MSG_WAITFORONE, None)
            if n > 0:
                got = n
                nbytes += batch.lengths(n)
            else:
                got = 0
                err = ctypes.get_errno()
                if n < 0 and err not in (11, 4):  # EAGAIN (timeout), EINTR
                    raise OSError(err, os.strerror(err))
        else:
            try:
                nbytes += sock.recv_into(buf)
                got = 1
            except (TimeoutError, BlockingIOError, InterruptedError):
                got = 0
        now = perf()
        if got:
            if count == 0:
                first = now
            count += got
            last = now
        elif (count and now - last >= idle_s) or now - t0 >= max_s:
            break
    cpu = time.process_time() - cpu0
    window = last - first
    return {"received": count, "bytes": nbytes, "window": window,
            "pps": count / window if window > 0 else 0.0, "cpu_s": cpu,
            "drops": kernel_drops(sock),
            "method": "recvmmsg" if batch is not None else "recv"}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 4 or args[0] not in LOOPBACK:
        print("usage: sink 127.0.0.1|::1 RCVBUF IDLE_MS MAX_S (loopback only)", file=sys.stderr)
        return 2
    host, rcvbuf, idle_ms, max_s = args[0], int(args[1]), float(args[2]), float(args[3])
    sock = open_receiver(host, rcvbuf)
    try:
        got = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        print(f"READY {sock.getsockname()[1]} {got}", flush=True)
        result = drain(sock, idle_ms / 1000, min(max_s, 60.0))
        result["rcvbuf"] = got
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
