"""The measurements: which processes run where, in what order, and what a run's numbers mean.

Why this order and shape: the machines this runs on are shared and noisy, so an absolute rate from
one run says little. Every comparison is made inside one invocation, with the peers interleaved
(engine, Node, C, then C, Node, engine on the next repetition, so drift hits both sides alike),
each run in fresh processes with the measured one on one CPU and its counterpart on another, and
results reported as medians with the spread beside them. Ratios are medians of the per-repetition
ratios (pairs measured seconds apart), not ratios of medians.

Every datagram is accounted for: a receiver's loss is what the sender sent minus what it received
(on loopback that is exactly the kernel's receive-buffer drops, which the engine and the C peer
also read back with SO_MEMINFO).
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from udpscope.benchkit.proc import (
    Child,
    Children,
    PeerError,
    child_env,
    pinning_cpus,
    python_argv,
)
from udpscope.benchkit.report import si

SCHEMA = "udpscope-bench/1"
IDLE_MS = 300
DEFAULT_RCVBUF = 4 * 1024 * 1024
SATURATING_PPS = 1_000_000
BUSY_SHARE = 0.85
STARTUP_TEXT = b"Live log"

Progress = Callable[[str], None]


@dataclass
class Config:
    """What to measure; the CLI fills this from its options."""

    seconds: float = 1.0
    repeat: int = 3
    size: int = 64
    host: str = "127.0.0.1"
    receive: bool = True
    send: bool = True
    compare: bool = False
    c_ceiling: bool = False
    tui: bool = False
    tui_seconds: float = 3.0
    tui_rate: float = 20_000.0
    loop: str = "auto"
    pin: bool = True

    def estimate_s(self) -> float:
        """Rough wall time of the whole run (process start-up and idle tails included)."""
        per = self.seconds + 0.7
        n = 0
        if self.receive:
            n += 1 + int(self.compare) + int(self.c_ceiling)
        if self.send:
            n += 2 * (1 + int(self.compare))
        total = n * per * self.repeat
        if self.tui:
            total += (self.tui_seconds + 3.5) * (1 + int(self.tui_rate > 0)) + 2.5
        return total


@dataclass
class HostInfo:
    """What the numbers depend on, reported with them."""

    system: str
    release: str
    machine: str
    cpus: int
    pinned: tuple[int, int] | None
    python: str
    loop: str
    node: str | None
    node_version: str | None
    cc: str | None
    rmem_max: int | None
    rcvbuf: int
    notes: list[str] = field(default_factory=list)
    busy_before: dict[int, float] = field(default_factory=dict)

    @property
    def linux(self) -> bool:
        return self.system == "Linux"


def _read_int(path: str) -> int | None:
    try:
        return int(Path(path).read_text().strip())
    except (OSError, ValueError):
        return None


def cpu_busy(sample_s: float = 0.3) -> dict[int, float]:
    """Share of each CPU that was busy (not idle/iowait) over a short sample (Linux /proc/stat)."""

    def snap() -> dict[int, tuple[int, int]]:
        out: dict[int, tuple[int, int]] = {}
        try:
            lines = Path("/proc/stat").read_text().splitlines()
        except OSError:
            return out
        for line in lines:
            name, _, rest = line.partition(" ")
            if name.startswith("cpu") and name[3:].isdigit():
                vals = [int(v) for v in rest.split()]
                idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
                out[int(name[3:])] = (sum(vals[:8]), idle)
        return out

    a = snap()
    if not a:
        return {}
    time.sleep(sample_s)
    b = snap()
    busy: dict[int, float] = {}
    for cpu, (total, idle) in b.items():
        if cpu in a:
            dt = total - a[cpu][0]
            di = idle - a[cpu][1]
            busy[cpu] = max(0.0, min(1.0, (dt - di) / dt)) if dt > 0 else 0.0
    return busy


def has_uvloop() -> bool:
    """Whether uvloop can be imported here (it is optional)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def detect(cfg: Config) -> HostInfo:
    """Look at the machine: CPUs to pin to, Node, a C compiler, the receive-buffer limit."""
    notes: list[str] = []
    system = platform.system()
    if system != "Linux":
        notes.append(f"not Linux ({system}): no UDP GSO, recvmmsg or CPU pinning here, so the "
                     "sender may not saturate a receiver; numbers are indicative only")
    pinned = pinning_cpus() if cfg.pin else None
    if cfg.pin and pinned is None:
        notes.append("cannot pin processes to two CPUs here: peers share CPUs with the measured "
                     "process")
    if cfg.loop == "asyncio":
        loop = "asyncio"
    elif cfg.loop == "uvloop" or (has_uvloop() and not os.environ.get("UDPSCOPE_NO_UVLOOP")):
        loop = "uvloop"
    else:
        loop = "asyncio"
    node = shutil.which("node") if cfg.compare else None
    node_version = None
    if node:
        try:
            node_version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                          timeout=10).stdout.strip() or None
        except (OSError, subprocess.SubprocessError):
            node = None
    cc = None
    if cfg.c_ceiling:
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    rmem_max = _read_int("/proc/sys/net/core/rmem_max")
    rcvbuf = min(rmem_max, 64 * 1024 * 1024) if rmem_max else DEFAULT_RCVBUF
    busy = cpu_busy()
    for cpu in pinned or ():
        if busy.get(cpu, 0.0) > 0.25:
            notes.append(f"CPU {cpu} was {100 * busy[cpu]:.0f}% busy with other work before the "
                         "run: the processes pinned there share it, so rates drop; ratios hold")
    return HostInfo(system, platform.release(), platform.machine(), os.cpu_count() or 1,
                    pinned, platform.python_version(), loop, node, node_version, cc,
                    rmem_max, rcvbuf, notes, busy)


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values: list[float]) -> float | None:
    """(max - min) / median: how much the repetitions disagree."""
    values = [v for v in values if v is not None]
    if len(values) < 2:
        return None
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else None


def _peer_file(name: str) -> Any:
    return resources.files("udpscope.benchkit").joinpath("peers", name)


class Bench:
    """Runs the configured measurements; use as a context manager (temp files, children)."""

    def __init__(self, cfg: Config, host: HostInfo, progress: Progress | None = None) -> None:
        self.cfg = cfg
        self.host = host
        self.progress = progress or (lambda msg: None)
        self.notes: list[str] = list(host.notes)
        self._stack = contextlib.ExitStack()
        self._c_binary: str | None = None
        self._node_peers: dict[str, str] = {}
        env_extra = {"UDPSCOPE_NO_UVLOOP": "1"} if host.loop == "asyncio" else {}
        self.env = child_env(env_extra)
        self.senders: list[dict[str, Any]] = []

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    # ---- peers -----------------------------------------------------------------------------

    def _cpus(self) -> tuple[int | None, int | None]:
        pinned = self.host.pinned
        return (pinned[0], pinned[1]) if pinned else (None, None)

    def _node_script(self, name: str) -> str:
        if name not in self._node_peers:
            path = self._stack.enter_context(resources.as_file(_peer_file(name)))
            self._node_peers[name] = str(path)
        return self._node_peers[name]

    def build_c(self) -> str | None:
        """Compile the C receive counter into a temp dir; None (and a note) when impossible."""
        if self._c_binary is not None:
            return self._c_binary
        if not self.host.linux:
            self.notes.append("C ceiling skipped: its recvmmsg counter is Linux-only")
            return None
        if not self.host.cc:
            self.notes.append("C ceiling skipped: no C compiler (cc, gcc or clang) on PATH")
            return None
        tmp = self._stack.enter_context(tempfile.TemporaryDirectory(prefix="udpscope-bench-"))
        source = Path(tmp) / "recv.c"
        source.write_bytes(_peer_file("recv.c").read_bytes())
        binary = Path(tmp) / "recv"
        try:
            proc = subprocess.run([self.host.cc, "-O2", "-o", str(binary), str(source)],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            self.notes.append(f"C ceiling skipped: compiling failed ({exc})")
            return None
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["?"])[0][:200]
            self.notes.append(f"C ceiling skipped: {self.host.cc} failed: {first}")
            return None
        self._c_binary = str(binary)
        return self._c_binary

    def _receiver_argv(self, peer: str, max_s: float) -> list[str]:
        h, rcvbuf = self.cfg.host, self.host.rcvbuf
        if peer == "engine":
            return python_argv("engine_worker", "recv", h, rcvbuf, IDLE_MS, max_s)
        if peer == "node":
            assert self.host.node
            return [self.host.node, self._node_script("recv.js"), h, str(rcvbuf), str(IDLE_MS),
                    str(max_s)]
        if peer == "c":
            assert self._c_binary
            return [self._c_binary, h, str(rcvbuf), str(IDLE_MS), str(max_s)]
        raise ValueError(peer)

    def _sender_argv(self, peer: str, port: int, mode: str) -> list[str]:
        c = self.cfg
        if peer == "engine":
            return python_argv("engine_worker", "send", c.host, port, c.size, c.seconds, mode)
        if peer == "node":
            assert self.host.node
            return [self.host.node, self._node_script("send.js"), c.host, str(port), str(c.size),
                    str(c.seconds), mode, "64"]
        raise ValueError(peer)

    def _blaster(self, kids: Children, port: int, seconds: float, rate: float = 0.0) -> Child:
        argv = python_argv("blaster", self.cfg.host, port, self.cfg.size, seconds)
        if rate > 0:
            argv += ["--rate", str(rate)]
        return kids.start(argv, "sender (python blaster)", self._cpus()[1], self.env)

    # ---- one run of each kind --------------------------------------------------------------

    def receive_once(self, peer: str) -> dict[str, Any]:
        """One receive run: `peer` on CPU a, the saturating blaster on CPU b."""
        c = self.cfg
        cpu_a, _ = self._cpus()
        max_s = c.seconds + 15
        with Children() as kids:
            rx = kids.start(self._receiver_argv(peer, max_s), f"{peer} receiver", cpu_a, self.env)
            port = int(rx.ready(30)[0])
            tx = self._blaster(kids, port, c.seconds)
            sent = tx.read_json(c.seconds + 20)
            got = rx.read_json(max_s + 5)
            tx.wait(5)
            rx.wait(5)
        self.senders.append(sent)
        received = int(got.get("received", 0))
        window = float(got.get("window") or 0.0)
        cpu_s = float(got.get("cpu_s") or 0.0)
        loss = max(0, int(sent["sent"]) - received)
        drops = got.get("drops")
        return {
            "pps": float(got.get("pps") or 0.0),
            "received": received,
            "sent": int(sent["sent"]),
            "loss": loss,
            "kernel_drops": None if drops is None or drops < 0 else int(drops),
            "window_s": window,
            "cpu_s": cpu_s,
            "cpu_us": cpu_s / received * 1e6 if received else None,
            "cpu_share": cpu_s / window if window > 0 else None,
            "rcvbuf": got.get("rcvbuf"),
            "sender_pps": float(sent.get("pps") or 0.0),
            "sender_method": sent.get("method"),
            **({"loop": got["loop"]} if "loop" in got else {}),
        }

    def send_once(self, peer: str, mode: str) -> dict[str, Any]:
        """One send run: `peer` sending on CPU a, the draining sink on CPU b."""
        c = self.cfg
        cpu_a, cpu_b = self._cpus()
        max_s = c.seconds + 15
        with Children() as kids:
            sink = kids.start(python_argv("sink", c.host, self.host.rcvbuf, IDLE_MS, max_s),
                              "sink", cpu_b, self.env)
            port = int(sink.ready(30)[0])
            tx = kids.start(self._sender_argv(peer, port, mode), f"{peer} sender", cpu_a, self.env)
            res = tx.read_json(c.seconds + 30)
            got = sink.read_json(max_s + 5)
            tx.wait(5)
            sink.wait(5)
        sent = int(res.get("sent", 0))
        elapsed = float(res.get("elapsed") or 0.0)
        cpu_s = float(res.get("cpu_s") or 0.0)
        received = int(got.get("received", 0))
        return {
            "pps": float(res.get("pps") or 0.0),
            "sent": sent,
            "errors": int(res.get("errors") or 0),
            "elapsed_s": elapsed,
            "cpu_s": cpu_s,
            "cpu_us": cpu_s / sent * 1e6 if sent else None,
            "cpu_share": cpu_s / elapsed if elapsed > 0 else None,
            "sink_received": received,
            "sink_loss": max(0, sent - received),
            **({"loop": res["loop"]} if "loop" in res else {}),
        }

    def tui_once(self, rate: float) -> dict[str, Any]:
        """The real app headless on CPU a, fed by the blaster on CPU b (flood or paced)."""
        c = self.cfg
        cpu_a, _ = self._cpus()
        max_s = c.tui_seconds + 20
        with Children() as kids:
            app = kids.start(python_argv("tui_worker", c.host, self.host.rcvbuf, IDLE_MS, max_s),
                             "tui worker", cpu_a, self.env)
            port = int(app.ready(60)[0])
            tx = self._blaster(kids, port, c.tui_seconds, rate)
            sent = tx.read_json(c.tui_seconds + 20)
            res = app.read_json(max_s + 30)
            tx.wait(5)
            app.wait(15)
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
            "key_p50_ms": _pct(key, 0.5),
            "key_p95_ms": _pct(key, 0.95),
            "key_samples": len(key),
            "key_missed": res.get("key_missed", 0),
            "key_idle_p50_ms": _pct(idle, 0.5),
            "key_idle_p95_ms": _pct(idle, 0.95),
            "key_open_p50_ms": _pct(res.get("key_open_ms") or [], 0.5),
            "key_close_p50_ms": _pct(res.get("key_close_ms") or [], 0.5),
            "key_by_kind": _by_kind(res.get("key_kind_ms") or {}, res.get("key_kind_missed") or {}),
            "key_idle_by_kind": _by_kind(res.get("key_idle_kind_ms") or {},
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

    def pty_startup_once(self, timeout: float = 20.0) -> float:
        """Seconds from starting `python -m udpscope` on a 120x40 pty to its first drawn frame."""
        import fcntl
        import pty
        import struct
        import termios

        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        env = dict(self.env)
        env.update(TERM="xterm-256color", COLUMNS="120", LINES="40")
        for name in ("TEXTUAL", "TEXTUAL_DRIVER", "NO_COLOR"):
            env.pop(name, None)
        cpu_a, _ = self._cpus()
        from udpscope.benchkit.proc import _child_setup

        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen([sys.executable, "-m", "udpscope"], stdin=slave, stdout=slave,
                                    stderr=slave, env=env, start_new_session=True,
                                    close_fds=True, preexec_fn=_child_setup(cpu_a))
        finally:
            os.close(slave)
        out = bytearray()
        try:
            deadline = t0 + timeout
            while STARTUP_TEXT not in _strip_csi(bytes(out)):
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

    # ---- the whole run ---------------------------------------------------------------------

    def _attempt(self, label: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        self.progress(label)
        try:
            return fn()
        except PeerError as exc:
            return {"error": str(exc)}
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a peer's odd answer, a
            return {"error": f"{type(exc).__name__}: {exc}"}      # missing OS facility

    def run(self) -> dict[str, Any]:
        """Everything the config asks for; a JSON-ready dict (see `udpscope bench --help`)."""
        c = self.cfg
        started = time.perf_counter()
        recv_peers = ["engine"]
        send_peers = ["engine"]
        if c.compare:
            if self.host.node:
                recv_peers.append("node")
                send_peers.append("node")
            else:
                self.notes.append("Node comparison skipped: `node` is not on PATH")
        if c.c_ceiling and c.receive and self.build_c():
            recv_peers.append("c")
        recv_runs: dict[str, list[dict[str, Any]]] = {p: [] for p in recv_peers}
        send_runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            m: {p: [] for p in send_peers} for m in ("unconnected", "connected")}
        for i in range(c.repeat):
            order = recv_peers if i % 2 == 0 else list(reversed(recv_peers))
            tag = f"{i + 1}/{c.repeat}"
            if c.receive:
                for peer in order:
                    recv_runs[peer].append(self._attempt(
                        f"receive {tag}: {peer}", lambda p=peer: self.receive_once(p)))
            if c.send:
                sorder = send_peers if i % 2 == 0 else list(reversed(send_peers))
                for mode in ("unconnected", "connected"):
                    for peer in sorder:
                        send_runs[mode][peer].append(self._attempt(
                            f"send {mode} {tag}: {peer}",
                            lambda p=peer, m=mode: self.send_once(p, m)))
        report: dict[str, Any] = {"schema": SCHEMA, "config": asdict(c),
                                  "host": self._host_dict()}
        if c.receive:
            report["receive"] = {p: summarize(runs, "receive") for p, runs in recv_runs.items()}
            report["sender"] = self._sender_summary()
        if c.send:
            report["send"] = {m: {p: summarize(runs, "send") for p, runs in by_peer.items()}
                              for m, by_peer in send_runs.items()}
        report["ratios"] = self._ratios(recv_runs, send_runs)
        if c.tui:
            report["tui"] = self._tui()
            flood = report["tui"].get("flood") or {}
            node = (report.get("receive") or {}).get("node") or {}
            if flood.get("ingest_pps") and node.get("pps"):
                # The TUI target: ingest under a flood vs Node's bare counting rate, same run.
                report["ratios"]["tui_ingest_vs_node_receive"] = {
                    "rate": flood["ingest_pps"] / node["pps"]}
        report["notes"] = self.notes
        report["elapsed_s"] = time.perf_counter() - started
        return report

    def _tui(self) -> dict[str, Any]:
        c = self.cfg
        out: dict[str, Any] = {}
        out["flood"] = self._attempt("tui: flood", lambda: self.tui_once(0.0))
        if c.tui_rate > 0:
            out["paced"] = self._attempt(f"tui: paced {c.tui_rate:g}/s",
                                         lambda: self.tui_once(c.tui_rate))
        times: list[float] = []
        errors: list[str] = []
        for i in range(min(c.repeat, 3)):
            self.progress(f"tui: start-up on a pty {i + 1}")
            try:
                times.append(self.pty_startup_once())
            except PeerError as exc:
                errors.append(str(exc))
            except (ImportError, OSError) as exc:  # no pty here
                errors.append(f"no pseudo-terminal: {exc}")
                break
        out["pty_startup"] = {"startup_s": median(times), "runs": times,
                              **({"error": errors[0]} if errors and not times else {})}
        return out

    def _sender_summary(self) -> dict[str, Any]:
        pps = [float(s.get("pps") or 0) for s in self.senders]
        methods = sorted({str(s.get("method")) for s in self.senders})
        segments = sorted({int(s.get("segments") or 1) for s in self.senders})
        out = {"pps": median(pps), "method": "/".join(methods) or None,
               "segments": segments[-1] if segments else None, "runs": len(pps)}
        if pps and (median(pps) or 0) < SATURATING_PPS:
            self.notes.append(
                f"the Python sender reached only {median(pps) or 0:,.0f} datagrams/s (< 1M/s): "
                "receivers that dropped nothing were limited by the sender, not by themselves")
        return out

    def _host_dict(self) -> dict[str, Any]:
        h = self.host
        return {"system": h.system, "release": h.release, "machine": h.machine, "cpus": h.cpus,
                "pinned": list(h.pinned) if h.pinned else None, "python": h.python,
                "loop": h.loop, "node": h.node_version, "cc": h.cc, "rmem_max": h.rmem_max,
                "rcvbuf_requested": h.rcvbuf,
                "busy_before": {str(k): v for k, v in sorted(h.busy_before.items())}}

    def _ratios(self, recv_runs: dict[str, list[dict[str, Any]]],
                send_runs: dict[str, dict[str, list[dict[str, Any]]]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.cfg.receive:
            for a, b in (("engine", "node"), ("engine", "c"), ("c", "node")):
                if a in recv_runs and b in recv_runs:
                    out[f"receive_{a}_vs_{b}"] = paired(recv_runs[a], recv_runs[b])
        if self.cfg.send:
            for mode, by_peer in send_runs.items():
                if "node" in by_peer:
                    out[f"send_{mode}_engine_vs_node"] = paired(by_peer["engine"], by_peer["node"])
        return out


def _by_kind(samples: dict[str, list[float]], missed: dict[str, int]) -> dict[str, Any]:
    """Per kind of key (open, close, up, pageup, down, pagedown, pause, resume): p50/p95, n."""
    return {kind: {"p50_ms": _pct(v, 0.5), "p95_ms": _pct(v, 0.95), "n": len(v),
                   "missed": int(missed.get(kind, 0))}
            for kind, v in samples.items()}


def _pct(values: list[float], q: float) -> float | None:
    from udpscope.benchkit.tui_worker import percentile

    return percentile(list(values), q)


def paired(a_runs: list[dict[str, Any]], b_runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median over repetitions of a/b for the rate and for CPU per datagram."""
    rate: list[float] = []
    cpu: list[float] = []
    for a, b in zip(a_runs, b_runs, strict=False):
        if a.get("pps") and b.get("pps"):
            rate.append(a["pps"] / b["pps"])
        if a.get("cpu_us") and b.get("cpu_us"):
            cpu.append(a["cpu_us"] / b["cpu_us"])
    return {"rate": median(rate), "cpu_per_datagram": median(cpu), "pairs": len(rate)}


RECEIVE_KEYS = ("pps", "received", "sent", "loss", "kernel_drops", "window_s", "cpu_s", "cpu_us",
                "cpu_share", "sender_pps")
SEND_KEYS = ("pps", "sent", "errors", "elapsed_s", "cpu_s", "cpu_us", "cpu_share",
             "sink_received", "sink_loss")


def summarize(runs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    """Medians of the successful runs, their spread, and what limited them."""
    ok = [r for r in runs if "error" not in r]
    out: dict[str, Any] = {"runs": runs, "ok": len(ok)}
    if not ok:
        out["error"] = runs[0]["error"] if runs else "not run"
        out["limits"] = []
        return out
    keys = RECEIVE_KEYS if kind == "receive" else SEND_KEYS
    for key in keys:
        values = [r[key] for r in ok if r.get(key) is not None]
        out[key] = median(values) if values else None
    out["spread"] = spread([r["pps"] for r in ok])
    if len(ok) < len(runs):
        out["failed"] = len(runs) - len(ok)
    out["limits"] = limits(out, kind)
    return out


def limits(s: dict[str, Any], kind: str) -> list[str]:
    """Short plain-language reasons a summary's rate is what it is."""
    notes: list[str] = []
    share = s.get("cpu_share")
    if kind == "receive":
        sent, loss = s.get("sent") or 0, s.get("loss") or 0
        if loss > 0:
            notes.append(f"sender saturated receiver: kernel dropped {si(loss)} of {si(sent)}")
        else:
            notes.append("NOT saturated (nothing dropped): this is the sender's rate "
                         f"({si(s.get('sender_pps') or 0)}/s), not the receiver's limit")
    else:
        if share is not None and share >= BUSY_SHARE:
            notes.append(f"CPU-bound in the sender ({100 * share:.0f}% of a CPU)")
        if s.get("sink_loss"):
            notes.append(f"the sink fell behind and dropped {si(s['sink_loss'])} (the send rate "
                         "is still the sender's)")
        if s.get("errors"):
            notes.append(f"{s['errors']:.0f} send errors")
    if share is not None and share < BUSY_SHARE:
        notes.append(f"got only {100 * share:.0f}% of its CPU (shared with other work)")
    return notes


_CSI = re.compile(rb"\x1b\[[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]|\x1b\][^\x07]*\x07")


def _strip_csi(data: bytes) -> bytes:
    return _CSI.sub(b"", data)


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
