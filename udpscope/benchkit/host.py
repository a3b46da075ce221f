"""What the numbers depend on: the machine, the CPUs the peers are pinned to, the event loop.

Why it is looked at and reported: a rate means little without the CPU it ran on, how busy that
CPU already was, the receive-buffer limit and the event loop; the report prints all of them
next to the numbers, and warns when other work was already using the CPUs it pins to.
"""

from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from udpscope.benchkit.proc import pinning_cpus

DEFAULT_RCVBUF = 4 * 1024 * 1024
MAX_RCVBUF = 64 * 1024 * 1024
BUSY_BEFORE = 0.25


@dataclass
class HostInfo:
    """The machine as the bench found it; `extra` holds what a harness adds (e.g. Node's version)."""

    system: str
    release: str
    machine: str
    cpus: int
    pinned: tuple[int, int] | None
    python: str
    loop: str
    rmem_max: int | None
    rcvbuf: int
    notes: list[str] = field(default_factory=list)
    busy_before: dict[int, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def linux(self) -> bool:
        """Whether this is Linux (UDP GSO, recvmmsg and CPU pinning exist only there)."""
        return self.system == "Linux"

    def as_dict(self) -> dict[str, Any]:
        """The report's `host` object."""
        return {"system": self.system, "release": self.release, "machine": self.machine,
                "cpus": self.cpus, "pinned": list(self.pinned) if self.pinned else None,
                "python": self.python, "loop": self.loop, **self.extra,
                "rmem_max": self.rmem_max, "rcvbuf_requested": self.rcvbuf,
                "busy_before": {str(k): v for k, v in sorted(self.busy_before.items())}}


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


def detect(loop: str = "auto", pin: bool = True) -> HostInfo:
    """Look at the machine: CPUs to pin to, the event loop, the receive-buffer limit.

    `loop` is "auto" (uvloop where installed), "asyncio" or "uvloop"; `pin` asks for two CPUs.
    """
    notes: list[str] = []
    system = platform.system()
    if system != "Linux":
        notes.append(f"not Linux ({system}): no UDP GSO, recvmmsg or CPU pinning here, so the "
                     "sender may not saturate a receiver; numbers are indicative only")
    pinned = pinning_cpus() if pin else None
    if pin and pinned is None:
        notes.append("cannot pin processes to two CPUs here: peers share CPUs with the measured "
                     "process")
    if loop == "asyncio":
        chosen = "asyncio"
    elif loop == "uvloop" or (has_uvloop() and not os.environ.get("UDPSCOPE_NO_UVLOOP")):
        chosen = "uvloop"
    else:
        chosen = "asyncio"
    rmem_max = _read_int("/proc/sys/net/core/rmem_max")
    rcvbuf = min(rmem_max, MAX_RCVBUF) if rmem_max else DEFAULT_RCVBUF
    busy = cpu_busy()
    for cpu in pinned or ():
        if busy.get(cpu, 0.0) > BUSY_BEFORE:
            notes.append(f"CPU {cpu} was {100 * busy[cpu]:.0f}% busy with other work before the "
                         "run: the processes pinned there share it, so rates drop; ratios hold")
    return HostInfo(system, platform.release(), platform.machine(), os.cpu_count() or 1,
                    pinned, platform.python_version(), chosen, rmem_max, rcvbuf, notes, busy)
