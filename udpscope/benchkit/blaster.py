"""A saturating loopback sender in pure Python: users have Python and Node, not a C compiler.

Why GSO: a receiver that does real work per datagram can only be measured against a sender that
out-runs it, and one `sendto` per datagram from Python tops out below what the engine receives.
With UDP segmentation offload (`UDP_SEGMENT`, Linux >= 4.18) one `send` of n*size bytes leaves as
n ordinary datagrams, so the interpreter pays one call per 64 datagrams and the kernel does the
rest. Fallbacks, in order: `sendmmsg` via ctypes (64 per call), then `send` per datagram.

Loopback only, bounded by time (<= 30 s) and by a hard count cap. Prints one JSON line.
`--payload rtp|rtp-ts` sends a real RTP stream (see payloads.py) instead of a fixed pattern;
then the sendmmsg path (one shared buffer) is not used.

    python -m udpscope.benchkit.blaster HOST PORT SIZE SECONDS [--rate PPS] [--method M]
                                        [--payload plain|rtp|rtp-ts]
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import json
import os
import socket
import sys
import time
from collections.abc import Callable

from udpscope.benchkit import LOOPBACK
from udpscope.benchkit.mmsg import Batch, function
from udpscope.benchkit.payloads import KINDS, Payloads

SOL_UDP = 17
UDP_SEGMENT = 103
MAX_SEGMENTS = 64
MAX_GSO_BYTES = 65507
MAX_SECONDS = 30.0
COUNT_CAP = 200_000_000
_TRANSIENT = (errno.ENOBUFS, errno.EAGAIN, errno.ECONNREFUSED, errno.EINTR)


def segments_for(size: int, limit: int = MAX_SEGMENTS) -> int:
    """Datagrams per GSO send: at most `limit` (<= 64) and at most 65507 bytes in all."""
    return max(1, min(limit, MAX_SEGMENTS, MAX_GSO_BYTES // max(size, 1)))


Shot = Callable[[], int]


def _gso(sock: socket.socket, size: int, n: int,
         payloads: Payloads | None = None) -> tuple[Shot, int, int] | None:
    if n < 2 or not sys.platform.startswith("linux"):
        return None
    try:
        sock.setsockopt(SOL_UDP, UDP_SEGMENT, size)
    except OSError:
        return None
    send = sock.send
    if payloads is None or payloads.kind == "plain":
        buf = bytes((i * 7 + 1) & 0xFF for i in range(size)) * n

        def shot() -> int:
            send(buf)
            return n
    else:
        train = payloads.train

        def shot() -> int:
            try:
                send(train(n))
            except OSError:
                payloads.rewind(n)   # not sent: the stream's numbers must not skip
                raise
            return n

    try:
        primed = shot()  # the kernel may still refuse at send time (no GSO on this path)
    except OSError as exc:
        if exc.errno not in _TRANSIENT:
            sock.setsockopt(SOL_UDP, UDP_SEGMENT, 0)
            return None
        primed = 0
    return shot, n, primed


def _mmsg(sock: socket.socket, size: int, n: int) -> tuple[Shot, int, int] | None:
    sendmmsg = function("sendmmsg")
    if sendmmsg is None or n < 2:
        return None
    batch = Batch(n, size, shared=bytes(size))
    fd = sock.fileno()
    address = batch.address

    def shot() -> int:
        r = sendmmsg(fd, address, n, 0)
        if r < 0:
            e = ctypes.get_errno()
            raise OSError(e, os.strerror(e))
        return r

    shot.batch = batch  # type: ignore[attr-defined]  # keep the buffers alive
    return shot, n, 0


def _plain(sock: socket.socket, size: int,
           payloads: Payloads | None = None) -> tuple[Shot, int, int]:
    send = sock.send
    if payloads is not None and payloads.kind != "plain":
        train = payloads.train
        stream = payloads

        def varying() -> int:
            try:
                send(train(1))
            except OSError:
                stream.rewind(1)
                raise
            return 1

        return varying, 1, 0
    buf = bytes(size)

    def shot() -> int:
        send(buf)
        return 1

    return shot, 1, 0


def choose(sock: socket.socket, size: int, method: str = "auto",
           limit: int = MAX_SEGMENTS,
           payloads: Payloads | None = None) -> tuple[str, Shot, int, int]:
    """The fastest send path that works here (or the one asked for).

    Returns (name, shot, datagrams per shot, datagrams already sent while probing the path).
    A changing payload (`payloads` of an RTP kind) skips sendmmsg, whose buffer is shared.
    """
    n = segments_for(size, limit)
    varying = payloads is not None and payloads.kind != "plain"
    if method in ("auto", "gso"):
        got = _gso(sock, size, n, payloads)
        if got is not None:
            return "gso", *got
        if method == "gso":
            raise OSError(errno.ENOPROTOOPT, "UDP GSO (UDP_SEGMENT) is not available")
    if method in ("auto", "sendmmsg") and not varying:
        got = _mmsg(sock, size, n)
        if got is not None:
            return "sendmmsg", *got
        if method == "sendmmsg":
            raise OSError(errno.ENOSYS, "sendmmsg is not available")
    return "sendto", *_plain(sock, size, payloads)


def blast(host: str, port: int, size: int, seconds: float, rate: float = 0.0,
          method: str = "auto", payload: str = "plain") -> dict[str, object]:
    """Send `size`-byte datagrams to host:port for `seconds` (optionally paced at `rate`/s).

    Paced sending goes out in small bursts (about one per millisecond), not whole GSO trains.
    `payload` is a kind from payloads.KINDS.
    """
    if host not in LOOPBACK:
        raise ValueError("loopback only (127.0.0.1 or ::1)")
    seconds = min(max(seconds, 0.0), MAX_SECONDS)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    limit = MAX_SEGMENTS if rate <= 0 else max(1, min(MAX_SEGMENTS, int(rate / 1000)))
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.connect((host, port))
        name, shot, per_shot, primed = choose(sock, size, method, limit,
                                              Payloads(payload, size))
        sent = primed
        errors = 0
        perf = time.perf_counter
        sleep = time.sleep
        cpu0 = time.process_time()
        t0 = perf()
        end = t0 + seconds
        now = t0
        while now < end and sent < COUNT_CAP:
            if rate > 0:
                due = t0 + sent / rate
                if due > now:
                    sleep(min(due - now, 0.002))
                    now = perf()
                    continue
            for _ in range(1 if rate > 0 else 8):
                try:
                    sent += shot()
                except OSError as exc:
                    if exc.errno not in _TRANSIENT:
                        raise
                    errors += 1
            now = perf()
        elapsed = perf() - t0
        cpu = time.process_time() - cpu0
    finally:
        sock.close()
    return {"sent": sent, "errors": errors, "elapsed": elapsed,
            "pps": sent / elapsed if elapsed > 0 else 0.0, "cpu_s": cpu,
            "method": name, "segments": per_shot, "payload": payload}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="blaster")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("size", type=int)
    p.add_argument("seconds", type=float)
    p.add_argument("--rate", type=float, default=0.0)
    p.add_argument("--method", choices=["auto", "gso", "sendmmsg", "sendto"], default="auto")
    p.add_argument("--payload", choices=KINDS, default="plain")
    a = p.parse_args(argv)
    if a.host not in LOOPBACK:
        print("blaster: loopback only (127.0.0.1 or ::1)", file=sys.stderr)
        return 2
    try:
        result = blast(a.host, a.port, a.size, a.seconds, a.rate, a.method, a.payload)
    except (OSError, ValueError) as exc:
        print(f"blaster: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
