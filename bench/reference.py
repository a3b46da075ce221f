"""The reference peers: Node's dgram (what users would otherwise pick) and a C recvmmsg counter
(the practical ceiling), as `Peer`s for the receive and send scenarios.

Why Node and C and not only the engine: a rate alone does not say whether it is good; the same
loop measured with Node's dgram seconds apart, and with a C loop that only counts, does. Both
programs live in `peers/` next to this module, refuse any host but 127.0.0.1 / ::1 and bound
themselves in time and count. The C one is compiled into a temporary directory per run.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from udpscope.benchkit.scenario import Peer, ReceiverSpec, SenderSpec

NODE_BATCH = 64
PEERS = Path(__file__).resolve().parent / "peers"


def find_node() -> tuple[str | None, str | None]:
    """(path of `node`, its version) or (None, None) when it is missing or does not run."""
    node = shutil.which("node")
    if not node:
        return None, None
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None, None
    return node, version


def find_cc() -> str | None:
    """A C compiler on PATH (cc, gcc or clang), or None."""
    return shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")


def node_receiver(node: str) -> Peer[ReceiverSpec]:
    """`node peers/recv.js`: a dgram `message` listener that keeps each payload."""
    script = str(PEERS / "recv.js")
    return Peer("node", "node dgram", lambda s: [
        node, script, s.host, str(s.rcvbuf), str(s.idle_ms), str(s.max_s)])


def node_sender(node: str) -> Peer[SenderSpec]:
    """`node peers/send.js`: 64 dgram send() calls per event-loop turn (setImmediate)."""
    script = str(PEERS / "send.js")
    return Peer("node", "node dgram", lambda s: [
        node, script, s.host, str(s.port), str(s.size), str(s.seconds), s.mode, str(NODE_BATCH)])


def c_receiver(binary: str) -> Peer[ReceiverSpec]:
    """The compiled `peers/recv.c`: recvmmsg, 64 at a time, counting only."""
    return Peer("c", "C recvmmsg", lambda s: [
        binary, s.host, str(s.rcvbuf), str(s.idle_ms), str(s.max_s)])


def build_c(cc: str | None, linux: bool, out_dir: str) -> tuple[str | None, str | None]:
    """Compile `peers/recv.c` into `out_dir`: (binary, None), or (None, why it was skipped)."""
    if not linux:
        return None, "C ceiling skipped: its recvmmsg counter is Linux-only"
    if not cc:
        return None, "C ceiling skipped: no C compiler (cc, gcc or clang) on PATH"
    binary = Path(out_dir) / "recv"
    try:
        proc = subprocess.run([cc, "-O2", "-o", str(binary), str(PEERS / "recv.c")],
                              capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"C ceiling skipped: compiling failed ({exc})"
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["?"])[0][:200]
        return None, f"C ceiling skipped: {cc} failed: {first}"
    return str(binary), None
