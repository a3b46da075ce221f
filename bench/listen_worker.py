"""`udpscope listen` as a measured receiver, with or without `--write FILE.pcapng`.

The real command in a child process (same interpreter, inheriting this worker's CPU pinning),
its stdout (jsonl) going to a temporary file so no reader competes with it for the CPU. The
worker speaks the receivers' protocol (see `udpscope/benchkit/engine_worker.py`): `READY <port>
<rcvbuf>` once listen says where it listens, then one JSON line when no output has grown for
IDLE_MS (or MAX_S passed): `received` (message events printed), `window` (first to last
message's time), `pps`, `cpu_s` (listen's own user + system CPU, from wait4), `drops` (its close
event's kernel_drops) and, with --write, `file_bytes` and `file_ok` (the pcapng holds every
reported datagram).

    python -m bench.listen_worker HOST RCVBUF IDLE_MS MAX_S plain|write
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from udpscope.benchkit import LOOPBACK, finish

TICK = 0.01


def measure(host: str, idle_s: float, max_s: float, write: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="udpscope-listen-bench-") as tmp:
        out = Path(tmp) / "listen.jsonl"
        cap = Path(tmp) / "flood.pcapng"
        bind = f"[{host}]:0" if ":" in host else f"{host}:0"
        argv = [sys.executable, "-m", "udpscope", "listen", bind, "--format", "jsonl",
                "--timeout", str(max_s + 10)]
        if write:
            argv += ["--write", str(cap)]
        with out.open("w") as stdout:
            child = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.DEVNULL)
        try:
            port = _listening_port(out, child)
            print(f"READY {port} 0", flush=True)
            started = time.perf_counter()
            size, changed = 0, started
            while True:
                time.sleep(TICK)
                now = time.perf_counter()
                grown = out.stat().st_size
                if grown != size:
                    size, changed = grown, now
                if (size and now - changed >= idle_s) or now - started >= max_s:
                    break
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)
            _pid, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
        times: list[float] = []
        drops = 0
        for line in out.read_text().splitlines():
            event = json.loads(line)
            if event["event"] == "message":
                times.append(event["time"])
            elif event["event"] == "close":
                drops = event.get("kernel_drops", 0)
        window = times[-1] - times[0] if len(times) > 1 else 0.0
        result: dict[str, Any] = {
            "received": len(times), "window": window,
            "pps": len(times) / window if window > 0 else 0.0,
            "cpu_s": usage.ru_utime + usage.ru_stime, "drops": drops, "exit": child.returncode}
        if write:
            from udpscope.files.capture_file import read_capture

            datagrams, summary = read_capture(cap)
            result["file_bytes"] = cap.stat().st_size
            result["file_ok"] = len(datagrams) == len(times) and not summary.truncated
        return result


def _listening_port(out: Path, child: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        first = out.read_text().split("\n", 1)[0]
        if first.endswith("}"):
            return int(json.loads(first)["port"])
        if child.poll() is not None:
            break
        time.sleep(TICK)
    raise RuntimeError("udpscope listen did not start")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 5 and args[0] in LOOPBACK and args[4] in ("plain", "write"):
        return finish("listen_worker", lambda: measure(
            args[0], float(args[2]) / 1000, min(float(args[3]), 60.0), args[4] == "write"))
    print("usage: listen_worker HOST RCVBUF IDLE_MS MAX_S plain|write (HOST: 127.0.0.1 or ::1)",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
