"""The TUI scenario: the real app headless under a flood and under a paced stream, and the
start-up of `python -m udpscope` on a pseudo-terminal.

Why it is measured once and not per repetition: each run is several seconds of key cycles
(every kind of key timed to the first frame that shows it), already many samples; the pty
start-up is repeated up to three times for a median. Every datagram is accounted for: sent =
received + kernel drops (+ "unaccounted", which must stay 0).
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from udpscope.benchkit.proc import Children, PeerError, child_setup, python_argv
from udpscope.benchkit.runner import IDLE_MS
from udpscope.benchkit.scenario import Scenario
from udpscope.benchkit.stats import median, percentile

if TYPE_CHECKING:
    from udpscope.benchkit.report import Symbols
    from udpscope.benchkit.runner import Bench, Config

TUI_WORKER = "bench.tui_worker"
STARTUP_TEXT = b"Live log"
PTY_STARTS = 3
_CSI = re.compile(rb"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b\][^\x07]*\x07")


class TuiScenario(Scenario):
    """The app under a flood (and at `rate`/s unless 0), then its start-up on a pty."""

    key = "tui"

    def __init__(self, seconds: float, rate: float) -> None:
        self.seconds = seconds
        self.rate = rate

    def estimate_s(self, cfg: Config) -> float:
        return (self.seconds + 3.5) * (1 + int(self.rate > 0)) + 2.5

    def finish(self, bench: Bench, report: dict[str, Any]) -> None:
        out: dict[str, Any] = {}
        out["flood"] = bench.attempt("tui: flood", lambda: self.once(bench, 0.0))
        if self.rate > 0:
            out["paced"] = bench.attempt(f"tui: paced {self.rate:g}/s",
                                         lambda: self.once(bench, self.rate))
        times: list[float] = []
        errors: list[str] = []
        for i in range(min(bench.cfg.repeat, PTY_STARTS)):
            bench.progress(f"tui: start-up on a pty {i + 1}")
            try:
                times.append(pty_startup_once(bench))
            except PeerError as exc:
                errors.append(str(exc))
            except (ImportError, OSError) as exc:  # no pty here
                errors.append(f"no pseudo-terminal: {exc}")
                break
        out["pty_startup"] = {"startup_s": median(times), "runs": times,
                              **({"error": errors[0]} if errors and not times else {})}
        report["tui"] = out
        flood = out.get("flood") or {}
        node = (report.get("receive") or {}).get("node") or {}
        if flood.get("ingest_pps") and node.get("pps"):
            # The TUI target: ingest under a flood vs Node's bare counting rate, same run.
            report["ratios"]["tui_ingest_vs_node_receive"] = {
                "rate": flood["ingest_pps"] / node["pps"]}

    def render(self, report: dict[str, Any], sym: Symbols) -> list[str]:
        from bench.tui_table import render_tui

        if "tui" not in report:
            return []
        return render_tui(report["tui"], report["config"], sym, report.get("ratios") or {})

    def once(self, bench: Bench, rate: float) -> dict[str, Any]:
        """The real app headless on the measured CPU, fed by the blaster on the other."""
        c = bench.cfg
        cpu_a, _ = bench.cpus()
        max_s = self.seconds + 20
        with Children() as kids:
            app = kids.start(python_argv(TUI_WORKER, c.host, bench.host.rcvbuf, IDLE_MS, max_s),
                             "tui worker", cpu_a, bench.env)
            port = int(app.ready(60)[0])
            tx = bench.blaster(kids, port, self.seconds, rate)
            sent = tx.read_json(self.seconds + 20)
            res = app.read_json(max_s + 30)
            tx.wait(5)
            app.wait(15)
        return summarize_tui(res, sent, rate)


def summarize_tui(res: dict[str, Any], sent: dict[str, Any], rate: float) -> dict[str, Any]:
    """One TUI run's numbers from the worker's result `res` and the sender's `sent`."""
    received = int(res.get("received", 0))
    drops = res.get("drops")
    key = res.get("key_ms") or []
    idle = res.get("key_idle_ms") or []
    window = float(res.get("window") or 0.0)
    cpu_s = float(res.get("cpu_s") or 0.0)
    return {
        "rate_limit": rate or None,
        "sent": int(sent["sent"]),
        "sender_pps": float(sent.get("pps") or 0.0),
        "ingest_pps": float(res.get("pps") or 0.0),
        "received": received,
        "kernel_drops": drops,
        "unaccounted": int(sent["sent"]) - received - int(drops or 0),
        "records": res.get("records"),
        "ring": res.get("ring"),
        "ring_size": res.get("ring_size"),
        "ring_evictions": res.get("evictions"),
        "rows": res.get("rows"),
        "window_s": window,
        "frames": res.get("frames"),
        "fps": (res.get("frames") or 0) / window if window > 0 else None,
        "cpu_s": cpu_s,
        "cpu_share": cpu_s / window if window > 0 else None,
        "cpu_us": cpu_s / received * 1e6 if received else None,
        "key_p50_ms": percentile(key, 0.5),
        "key_p95_ms": percentile(key, 0.95),
        "key_samples": len(key),
        "key_missed": res.get("key_missed", 0),
        "key_idle_p50_ms": percentile(idle, 0.5),
        "key_idle_p95_ms": percentile(idle, 0.95),
        "key_open_p50_ms": percentile(res.get("key_open_ms") or [], 0.5),
        "key_close_p50_ms": percentile(res.get("key_close_ms") or [], 0.5),
        "key_by_kind": by_kind(res.get("key_kind_ms") or {}, res.get("key_kind_missed") or {}),
        "key_idle_by_kind": by_kind(res.get("key_idle_kind_ms") or {},
                                    res.get("key_idle_kind_missed") or {}),
        "key_ms": key,
        "key_idle_ms": idle,
        "startup_s": res.get("startup_s"),
        "rss_before": res.get("rss_before"),
        "rss_imported": res.get("rss_imported"),
        "rss_ready": res.get("rss_ready"),
        "rss_after": res.get("rss_after"),
        "rss_peak": res.get("rss_peak"),
        "rcvbuf": res.get("rcvbuf"),
    }


def by_kind(samples: dict[str, list[float]], missed: dict[str, int]) -> dict[str, Any]:
    """Per kind of key (open, close, up, pageup, down, pagedown, pause, resume): p50/p95, n."""
    return {kind: {"p50_ms": percentile(v, 0.5), "p95_ms": percentile(v, 0.95), "n": len(v),
                   "missed": int(missed.get(kind, 0))}
            for kind, v in samples.items()}


def pty_startup_once(bench: Bench, timeout: float = 20.0) -> float:
    """Seconds from starting `python -m udpscope` on a 120x40 pty to its first drawn frame."""
    import fcntl  # POSIX only: imported here so that their absence is one run's error
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(bench.env)
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
    for name in ("TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
        env.pop(name, None)
    cpu_a, _ = bench.cpus()
    t0 = time.perf_counter()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "udpscope"], stdin=slave, stdout=slave,
                                stderr=slave, env=env, start_new_session=True,
                                close_fds=True, preexec_fn=child_setup(cpu_a))
    finally:
        os.close(slave)
    out = bytearray()
    try:
        deadline = t0 + timeout
        while STARTUP_TEXT not in _CSI.sub(b"", bytes(out)):
            left = deadline - time.perf_counter()
            if left <= 0 or proc.poll() is not None:
                raise PeerError("python -m udpscope drew no frame on a pty within "
                                f"{timeout:.0f} s")
            ready, _, _ = select.select([master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise PeerError("python -m udpscope closed the pty before drawing")
                out += chunk
        elapsed = time.perf_counter() - t0
        with contextlib.suppress(OSError):
            os.write(master, b"\x11")  # ctrl+q
        with contextlib.suppress(subprocess.TimeoutExpired):
            _drain_until_exit(master, proc, 5)
        return elapsed
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)
        os.close(master)


def _drain_until_exit(master: int, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while proc.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(proc.args, timeout)
        ready, _, _ = select.select([master], [], [], min(left, 0.1))
        if ready:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
    proc.wait(max(0.1, deadline - time.monotonic()))
