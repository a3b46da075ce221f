"""The engine as the measured peer: one fresh, pinned interpreter per run.

Why a separate process per run: the numbers must describe the engine, not what the bench did
before (heap size, imported modules, a warmed or fragmented allocator). Each worker does what a
user's program would do through the public `udpscope.dgram` API, and nothing else:

- `recv`: a `message` listener that keeps each payload (counts it, sums sizes, appends it to a
  bounded deque) — what any real consumer does at least. Protocol as the Node and C receivers:
  `READY <port> <rcvbuf>`, then one JSON line IDLE_MS after the last datagram (or at MAX_S).
- `send`: 64 `send()` calls per event-loop turn, then `await asyncio.sleep(0)`, like the Node
  sender does with `setImmediate`; a last send with a callback marks the end (sends complete in
  order), so `elapsed` covers every datagram handed to the engine.

    python -m udpscope.benchkit.engine_worker recv HOST RCVBUF IDLE_MS MAX_S
    python -m udpscope.benchkit.engine_worker send HOST PORT SIZE SECONDS connected|unconnected
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from udpscope import dgram
from udpscope.benchkit import LOOPBACK, finish

TICK = 0.01
KEEP = 1024
BATCH = 64
COUNT_CAP = 200_000_000
MAX_SECONDS = 30.0


def _loop_name() -> str:
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"


@dataclass(frozen=True)
class IdleRun:
    """How a receiver run ended: `last`, the perf_counter time the last datagram arrived (to
    within half a tick), the CPU seconds spent, the receive buffer and the kernel's drops."""

    last: float
    cpu_s: float
    rcvbuf: int
    drops: int


async def receive_until_idle(sock: dgram.Socket, host: str, received: Callable[[], int],
                             idle_s: float, max_s: float) -> IdleRun:
    """Bind `sock` on `host` (port 0), say READY with its port and buffer, and let its listeners
    count until `received()` has not grown for `idle_s` (or `max_s` passed); then close it."""
    perf = time.perf_counter
    await sock.bind_async(0, host)
    got = sock.get_recv_buffer_size()
    t0 = perf()
    cpu0 = time.process_time()
    print(f"READY {sock.address().port} {got}", flush=True)
    seen = 0
    changed = t0
    while True:
        await asyncio.sleep(TICK)
        now = perf()
        count = received()
        if count != seen:
            seen = count
            changed = now
        if (count and now - changed >= idle_s) or now - t0 >= max_s:
            break
    cpu = time.process_time() - cpu0
    drops = sock.get_kernel_drops()
    sock.close()
    # The last datagram arrived within (changed - TICK, changed]: take the midpoint.
    return IdleRun(changed - TICK / 2, cpu, got, drops)


async def receive(host: str, rcvbuf: int, idle_s: float, max_s: float) -> dict[str, Any]:
    sock_type = "udp6" if ":" in host else "udp4"
    options = dgram.SocketOptions(type=sock_type, recv_buffer_size=rcvbuf or None)
    sock = dgram.create_socket(options)
    kept: deque[bytes] = deque(maxlen=KEEP)
    keep = kept.append
    count = 0
    nbytes = 0
    first = 0.0
    perf = time.perf_counter

    def on_message(msg: bytes, rinfo: Any) -> None:
        nonlocal count, nbytes, first
        if count == 0:
            first = perf()
        count += 1
        nbytes += len(msg)
        keep(msg)

    errors: list[str] = []
    sock.on("message", on_message)
    sock.on("error", lambda err: errors.append(str(err)))
    run = await receive_until_idle(sock, host, lambda: count, idle_s, max_s)
    window = run.last - first if count else 0.0
    return {"received": count, "bytes": nbytes, "window": window,
            "pps": count / window if window > 0 else 0.0, "cpu_s": run.cpu_s,
            "rcvbuf": run.rcvbuf, "drops": run.drops, "kept": len(kept), "errors": errors[:3],
            "loop": _loop_name()}


async def send(host: str, port: int, size: int, seconds: float,
               connected: bool) -> dict[str, Any]:
    sock_type = "udp6" if ":" in host else "udp4"
    sock = dgram.create_socket(sock_type)
    errors = 0

    def on_error(err: BaseException) -> None:
        nonlocal errors
        errors += 1

    sock.on("error", on_error)
    await sock.bind_async(0, host)
    if connected:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def connected_cb(*_: object) -> None:
            if not done.done():
                done.set_result(None)

        sock.connect(port, host, connected_cb)
        await asyncio.wait_for(done, 5)
    buf = bytes([0x5A]) * size
    seconds = min(seconds, MAX_SECONDS)
    perf = time.perf_counter
    sent = 0
    cpu0 = time.process_time()
    t0 = perf()
    send_one = sock.send
    if connected:
        while perf() - t0 < seconds and sent < COUNT_CAP:
            for _ in range(BATCH):
                send_one(buf)
            sent += BATCH
            await asyncio.sleep(0)
    else:
        while perf() - t0 < seconds and sent < COUNT_CAP:
            for _ in range(BATCH):
                send_one(buf, port, host)
            sent += BATCH
            await asyncio.sleep(0)
    finished = asyncio.get_running_loop().create_future()

    def last(err: BaseException | None, nbytes: int | None) -> None:
        if not finished.done():
            finished.set_result(err)

    if connected:
        send_one(buf, last)
    else:
        send_one(buf, port, host, last)
    sent += 1
    err = await asyncio.wait_for(finished, 10)
    elapsed = perf() - t0
    cpu = time.process_time() - cpu0
    if err is not None:
        errors += 1
    sock.close()
    return {"sent": sent, "errors": errors, "elapsed": elapsed,
            "pps": sent / elapsed if elapsed > 0 else 0.0, "cpu_s": cpu, "loop": _loop_name()}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 5 and args[0] == "recv" and args[1] in LOOPBACK:
        return finish("engine_worker", lambda: dgram.run(
            receive(args[1], int(args[2]), float(args[3]) / 1000, min(float(args[4]), 60.0))))
    if len(args) == 6 and args[0] == "send" and args[1] in LOOPBACK:
        return finish("engine_worker", lambda: dgram.run(
            send(args[1], int(args[2]), int(args[3]), float(args[4]), args[5] == "connected")))
    print("usage: engine_worker recv HOST RCVBUF IDLE_MS MAX_S | "
          "send HOST PORT SIZE SECONDS connected|unconnected (HOST: 127.0.0.1 or ::1)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
