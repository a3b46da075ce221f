"""How much `listen --write` costs under a 64-byte flood: listen's receive rate with and without
the pcapng file, interleaved runs, medians.

Until the bench harness has a scenario for it, this is the measurement the README quotes:

    python scripts/bench_listen_write.py [--runs 5] [--seconds 2] [--json]

Rates swing with whatever else the machine runs; the CPU time listen spends per datagram
(user + system, from wait4) is the steadier figure, and both are printed.

Each run starts `udpscope listen 127.0.0.1:0 --format jsonl` (stdout to a file), floods it from
`udpscope send --count` (loopback only, bounded in count), stops it with SIGINT and counts the
`message` events it printed and the kernel drops it reported. The rate is messages / (last
message time - first). Receiver and sender are pinned to different CPUs when there are two.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "udpscope"]
PAYLOAD = "x" * 64


def pinned(argv: list[str], cpu: int) -> list[str]:
    if (os.cpu_count() or 1) >= 2 and os.path.exists("/usr/bin/taskset"):
        return ["taskset", "-c", str(cpu), *argv]
    return argv


def one_run(write: bool, count: int, workdir: Path) -> dict[str, float]:
    out = workdir / "listen.jsonl"
    cap = workdir / "flood.pcapng"
    argv = [*CLI, "listen", "127.0.0.1:0", "--format", "jsonl"]
    if write:
        argv += ["--write", str(cap)]
    env = dict(os.environ, PYTHONUNBUFFERED="")
    with out.open("w") as stdout:
        listener = subprocess.Popen(pinned(argv, 0), stdout=stdout, stderr=subprocess.DEVNULL,
                                    env=env)
        deadline = time.monotonic() + 10
        port = None
        while port is None and time.monotonic() < deadline:
            time.sleep(0.05)
            first = out.read_text().split("\n", 1)[0]
            if first.endswith("}"):
                port = json.loads(first)["port"]
        if port is None:
            listener.kill()
            raise RuntimeError("listen did not start")
        subprocess.run(pinned([*CLI, "send", "127.0.0.1", str(port), PAYLOAD, "--count",
                               str(count)], 1), capture_output=True, timeout=120, check=True)
        time.sleep(0.5)  # let listen print what the kernel still holds
        listener.send_signal(signal.SIGINT)
        _pid, status, usage = os.wait4(listener.pid, 0)  # its CPU time, not just the wall clock
        listener.returncode = os.waitstatus_to_exitcode(status)
    times = []
    drops = 0
    for line in out.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "message":
            times.append(event["time"])
        elif event["event"] == "close":
            drops = event.get("kernel_drops", 0)
    received = len(times)
    span = (times[-1] - times[0]) if received > 1 else float("nan")
    cpu = usage.ru_utime + usage.ru_stime
    result = {"received": received, "kernel_drops": drops, "rate": received / span if span else 0.0,
              "cpu_us": cpu / received * 1e6 if received else float("nan")}
    if write:
        result["file_bytes"] = cap.stat().st_size
    return result


def writer_only(count: int) -> float:
    """The writer alone, in process: datagrams/s for add_received + one flush per 256."""
    from udpscope.dgram import RemoteInfo
    from udpscope.files.pcapng_writer import PcapngWriter

    with open(os.devnull, "wb", buffering=0) as sink:
        writer = PcapngWriter(sink)
        batch = [(PAYLOAD.encode(), RemoteInfo("127.0.0.1", "IPv4", 40000, 64, "127.0.0.1", "lo",
                                               64, 1.7e9 + i * 1e-6)) for i in range(256)]
        local = ("127.0.0.1", 5000)
        started = time.perf_counter()
        for _ in range(count // 256):
            for payload, rinfo in batch:
                writer.add_received(payload, rinfo, local)
            writer.flush()
        return (count // 256 * 256) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=300_000, help="datagrams per run")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    runs: dict[str, list[dict[str, float]]] = {"plain": [], "write": []}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(ns.runs):
            for name in ("plain", "write"):
                runs[name].append(one_run(name == "write", ns.count, Path(tmp)))
    summary = {name: {"rate_median": statistics.median(r["rate"] for r in rs),
                      "cpu_us_median": statistics.median(r["cpu_us"] for r in rs),
                      "rates": [round(r["rate"]) for r in rs],
                      "received": [r["received"] for r in rs],
                      "kernel_drops": [r["kernel_drops"] for r in rs]} for name, rs in runs.items()}
    ratio = summary["write"]["rate_median"] / summary["plain"]["rate_median"]
    alone = statistics.median(writer_only(ns.count) for _ in range(3))
    if ns.json:
        print(json.dumps({"runs": summary, "write_over_plain": ratio, "writer_only": alone}))
        return 0
    for name, s in summary.items():
        print(f"listen {'--write' if name == 'write' else '(no file)':10s} "
              f"{s['rate_median'] / 1000:8.1f} k datagrams/s, {s['cpu_us_median']:6.1f} us CPU "
              f"per datagram (runs: {', '.join(f'{r / 1000:.0f}k' for r in s['rates'])})")
    print(f"--write keeps {ratio:.0%} of listen's receive rate (the bound: at least 67%)")
    print(f"the writer alone: {alone / 1e6:.2f} M datagrams/s ({1e6 / alone:.2f} us each, "
          "64-byte payloads, one flush per 256)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
