"""Stream-health tracking as the measured peer: the engine's `batch` listener feeding a
HealthBook, or the tracker alone in one process.

Why both: the receive run says whether udpscope keeps up with a real stream on one core
without kernel drops (next to Node's bare receive rate); the in-process run says what the
tracking itself costs per datagram, with no socket in the way.

- `recv HOST RCVBUF IDLE_MS MAX_S KIND`: the engine_worker protocol (`READY <port> <rcvbuf>`,
  one JSON line IDLE_MS after the last datagram). KIND `rtp` or `mpegts` feeds every batch to a
  HealthBook (RTP, or RTP + MPEG-TS); `none` only counts batches (the same listener without
  tracking). Every datagram of a batch gets the batch's read time: the tracker's work does not
  depend on the values, and per-datagram kernel times would add the engine's metadata cost.
- `track KIND SECONDS`: feed batches of 256 datagrams of a built stream (benchkit.payloads)
  for SECONDS; prints datagrams tracked per CPU-second (the rate on one core).

    python -m bench.health_worker recv 127.0.0.1 0 300 16 rtp
    python -m bench.health_worker track mpegts 1
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from udpscope import dgram
from udpscope.benchkit import LOOPBACK, finish
from udpscope.benchkit.engine_worker import receive_until_idle
from udpscope.benchkit.payloads import Payloads
from udpscope.health import HealthBook

BATCH = 256
KINDS = {"none": None, "rtp": ("rtp", 172), "mpegts": ("rtp-ts", 1328)}
MAX_SECONDS = 30.0


def _book(kind: str) -> HealthBook | None:
    if kind == "none":
        return None
    return HealthBook(rtp=True, mpegts=kind == "mpegts", kernel_drops_base=0)


def _tracked(book: HealthBook | None) -> dict[str, Any]:
    if book is None:
        return {}
    out: dict[str, Any] = {}
    for s in book.streams():
        out[f"{s.kind}_packets"] = s.packets
        out[f"{s.kind}_lost"] = s.lost
        if s.kind == "mpegts":
            out["cc_errors"] = s.details["cc_errors"]
    return out


async def receive(host: str, rcvbuf: int, idle_s: float, max_s: float,
                  kind: str) -> dict[str, Any]:
    sock_type = "udp6" if ":" in host else "udp4"
    sock = dgram.create_socket(dgram.SocketOptions(type=sock_type,
                                                   recv_buffer_size=rcvbuf or None))
    book = _book(kind)
    count = 0
    nbytes = 0
    first = 0.0
    perf = time.perf_counter
    clock = time.time
    local: tuple[str, int] = (host, 0)  # the port is known once bound
    source: list[tuple[str, int]] = []

    def on_batch(batch: Any) -> None:
        nonlocal count, nbytes, first, local
        payloads = batch.payloads
        n = len(payloads)
        if count == 0:
            first = perf()
            info = batch.rinfo(0)
            source.append((info[0], info[2]))
            local = (host, sock.address().port)
        count += n
        nbytes += batch.total_bytes()
        if book is not None:
            book.feed(source[0], local, payloads, np.full(n, clock()))

    errors: list[str] = []
    sock.on("batch", on_batch)
    sock.on("error", lambda err: errors.append(str(err)))
    run = await receive_until_idle(sock, host, lambda: count, idle_s, max_s)
    window = run.last - first if count else 0.0
    return {"received": count, "bytes": nbytes, "window": window,
            "pps": count / window if window > 0 else 0.0, "cpu_s": run.cpu_s,
            "rcvbuf": run.rcvbuf, "drops": run.drops, "errors": errors[:3], "kind": kind,
            **_tracked(book)}


def track(kind: str, seconds: float) -> dict[str, Any]:
    """Feed a built stream batch by batch for `seconds`; only the feeding is timed (in CPU
    time, so other processes on a shared machine do not count against it)."""
    payload, size = KINDS[kind] or ("rtp", 172)
    stream = Payloads(payload, size)
    book = HealthBook(rtp=True, mpegts=kind == "mpegts")
    source, destination = ("127.0.0.1", 40000), ("127.0.0.1", 5004)
    fed = 0
    cpu = 0.0
    clock = time.process_time
    end = time.perf_counter() + min(seconds, MAX_SECONDS)
    while time.perf_counter() < end:
        train = stream.train(BATCH)
        batch = [train[i * size:(i + 1) * size] for i in range(BATCH)]
        times = np.full(BATCH, time.time())
        c0 = clock()
        book.feed(source, destination, batch, times)
        cpu += clock() - c0
        fed += BATCH
    return {"tracked": fed, "cpu_s": cpu, "pps": fed / cpu if cpu > 0 else 0.0,
            "cpu_us": cpu / fed * 1e6 if fed else None, "size": size, "kind": kind,
            **_tracked(book)}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 6 and args[0] == "recv" and args[1] in LOOPBACK and args[5] in KINDS:
        return finish("health_worker", lambda: dgram.run(receive(
            args[1], int(args[2]), float(args[3]) / 1000, min(float(args[4]), 60.0), args[5])))
    if len(args) == 3 and args[0] == "track" and args[1] in ("rtp", "mpegts"):
        return finish("health_worker", lambda: track(args[1], float(args[2])))
    print("usage: health_worker recv HOST RCVBUF IDLE_MS MAX_S none|rtp|mpegts | "
          "track rtp|mpegts SECONDS (HOST: 127.0.0.1 or ::1, loopback only)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
