"""The runner: which process runs where, in what order, and what one run's numbers mean.

Why this shape: an absolute rate from one run on a shared machine says little, so every run is
made in fresh processes with the measured one on one CPU and its counterpart on another, the
scenarios' repetitions are interleaved (round i of every scenario, then round i + 1), and a
measurement that fails becomes that run's error instead of ending the bench. Every datagram is
accounted for: a receiver's loss is what the sender sent minus what it received (on loopback
exactly the kernel's receive-buffer drops, which the engine also reads back with SO_MEMINFO).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from udpscope.benchkit.host import HostInfo
from udpscope.benchkit.proc import Child, Children, PeerError, child_env, python_argv
from udpscope.benchkit.scenario import Peer, ReceiverSpec, Scenario, SenderSpec

SCHEMA = "udpscope-bench/1"
IDLE_MS = 300
BLASTER = "udpscope.benchkit.blaster"
SINK = "udpscope.benchkit.sink"

Progress = Callable[[str], None]
# The receiving worker protocol's own keys; anything else a worker prints is its own.
_WORKER_KEYS = {"received", "bytes", "window", "pps", "cpu_s", "rcvbuf", "drops", "kept",
                "errors", "loop"}


@dataclass
class Config:
    """What to measure and how; the CLI fills this from its options (a harness may extend it)."""

    seconds: float = 1.0
    repeat: int = 3
    size: int = 64
    host: str = "127.0.0.1"
    receive: bool = True
    send: bool = True
    loop: str = "auto"
    pin: bool = True


class Bench:
    """Runs scenarios; use as a context manager (it owns temp dirs that scenarios ask for)."""

    def __init__(self, cfg: Config, host: HostInfo, progress: Progress | None = None, *,
                 pythonpath: Sequence[str] = ()) -> None:
        """`pythonpath`: entries the workers need on PYTHONPATH (a harness's checkout)."""
        self.cfg = cfg
        self.host = host
        self.progress = progress or (lambda msg: None)
        self.notes: list[str] = list(host.notes)
        self._stack = contextlib.ExitStack()
        env_extra = {"UDPSCOPE_NO_UVLOOP": "1"} if host.loop == "asyncio" else {}
        self.env = child_env(env_extra, pythonpath)

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def temp_dir(self) -> str:
        """A fresh temporary directory, removed when the bench ends."""
        return self._stack.enter_context(tempfile.TemporaryDirectory(prefix="udpscope-bench-"))

    def cpus(self) -> tuple[int | None, int | None]:
        """(CPU of the measured process, CPU of its peer); None where not pinned."""
        pinned = self.host.pinned
        return (pinned[0], pinned[1]) if pinned else (None, None)

    # ---- building blocks for scenarios ------------------------------------------------------

    def blaster(self, kids: Children, port: int, seconds: float, rate: float = 0.0,
                size: int | None = None, payload: str = "plain") -> Child:
        """Start the Python sender at host:port on the peer CPU (saturating, or paced at `rate`;
        `payload` a kind from benchkit.payloads: plain bytes, or a real RTP stream)."""
        argv = python_argv(BLASTER, self.cfg.host, port, size or self.cfg.size, seconds)
        if rate > 0:
            argv += ["--rate", str(rate)]
        if payload != "plain":
            argv += ["--payload", payload]
        return kids.start(argv, "sender (python blaster)", self.cpus()[1], self.env)

    def receive_once(self, peer: Peer[ReceiverSpec], senders: list[dict[str, Any]] | None = None,
                     *, rate: float = 0.0, size: int | None = None,
                     payload: str = "plain") -> dict[str, Any]:
        """One receive run: `peer` on the measured CPU, the blaster on the other.

        The blaster's own result is appended to `senders` (for the sender's summary).
        Raises PeerError (or OSError, ValueError) when a process fails; see `attempt`.
        """
        c = self.cfg
        cpu_a, _ = self.cpus()
        max_s = c.seconds + 15
        spec = ReceiverSpec(c.host, self.host.rcvbuf, IDLE_MS, max_s)
        with Children() as kids:
            rx = kids.start(peer.argv(spec), f"{peer.key} receiver", cpu_a, self.env)
            port = int(rx.ready(30)[0])
            tx = self.blaster(kids, port, c.seconds, rate, size, payload)
            sent = tx.read_json(c.seconds + 20)
            got = rx.read_json(max_s + 5)
            tx.wait(5)
            rx.wait(5)
        if senders is not None:
            senders.append(sent)
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
            # what a scenario's own worker adds (e.g. what a tracker counted), kept as given
            **({"worker": extra} if (extra := {k: v for k, v in got.items()
                                               if k not in _WORKER_KEYS}) else {}),
        }

    def send_once(self, peer: Peer[SenderSpec], mode: str) -> dict[str, Any]:
        """One send run: `peer` sending on the measured CPU, the draining sink on the other."""
        c = self.cfg
        cpu_a, cpu_b = self.cpus()
        max_s = c.seconds + 15
        with Children() as kids:
            sink = kids.start(python_argv(SINK, c.host, self.host.rcvbuf, IDLE_MS, max_s),
                              "sink", cpu_b, self.env)
            port = int(sink.ready(30)[0])
            spec = SenderSpec(c.host, port, c.size, c.seconds, mode)
            tx = kids.start(peer.argv(spec), f"{peer.key} sender", cpu_a, self.env)
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

    def attempt(self, label: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Show `label` as progress and run `fn`; a failure becomes {"error": "..."}."""
        self.progress(label)
        try:
            return fn()
        except PeerError as exc:
            return {"error": str(exc)}
        except (OSError, ValueError, KeyError, TypeError) as exc:  # a peer's odd answer, a
            return {"error": f"{type(exc).__name__}: {exc}"}      # missing OS facility

    # ---- the whole run ----------------------------------------------------------------------

    def run(self, scenarios: Sequence[Scenario]) -> dict[str, Any]:
        """Every scenario, rounds interleaved; a JSON-ready dict (see `udpscope bench --help`)."""
        started = time.perf_counter()
        for scenario in scenarios:
            scenario.prepare(self)
        for i in range(self.cfg.repeat):
            for scenario in scenarios:
                scenario.round(self, i)
        report: dict[str, Any] = {"schema": SCHEMA, "config": asdict(self.cfg),
                                  "host": self.host.as_dict(), "ratios": {}}
        for scenario in scenarios:
            scenario.finish(self, report)
        report["notes"] = self.notes
        report["elapsed_s"] = time.perf_counter() - started
        return report


def interleaved(items: Sequence[Any], index: int) -> list[Any]:
    """`items` in order on even repetitions, reversed on odd ones (drift hits each side alike)."""
    return list(items) if index % 2 == 0 else list(reversed(items))
