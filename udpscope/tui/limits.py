"""Staying usable near the process's limits: open files and address space.

Screens are imported when first opened (start-up is faster without them), but an import opens
files: with the file-descriptor limit reached (every socket takes one), opening the multicast
view used to fail to import its module and end the app with a traceback. So, once the first
frame is drawn, a background thread imports everything a later screen, dialog or error report
needs, and new sockets leave RESERVED_FDS descriptors free for the app itself (reading /proc,
a screenshot, a saved payload).

Under an address-space limit (`ulimit -v`) glibc's per-thread malloc arenas (64 MiB of address
space each) and 8 MiB thread stacks took most of the room before any datagram arrived; they are
made small when such a limit is set, before the app starts its threads, and OpenBLAS (loaded
with numpy for stream health) is held to one thread, whose buffer it could otherwise fail to
get and abort the process.

Under a flood the garbage collector's full collections walked every object the app had loaded
(modules, widgets: hundreds of thousands) about once a second, holding the event loop 40-70 ms
each time -- the slowest key presses. Once everything is loaded those objects are frozen (the
collector skips them; reference counting still frees them) and young collections run less often.
"""

from __future__ import annotations

import gc
import importlib
import os
import threading
from collections.abc import Callable

__all__ = [
    "LATER_MODULES",
    "RESERVED_FDS",
    "address_space_room",
    "fd_room",
    "fit_address_space",
    "fit_ring_budget",
    "preload_later_modules",
    "settle_collector",
]

RESERVED_FDS = 8
# Allocations (net) between young collections: Python's default is 700; under a flood that
# was ~80 collections a second, and each one's survivors moved on to the older generations.
YOUNG_COLLECTION_EVERY = 10_000
# Imported on first use by a screen, a dialog, the palette or Textual's own error report; the
# engine by the first socket (or key: the drain budget) unless a socket was opened at start.
LATER_MODULES = (
    "udpscope.dgram.socket",
    "udpscope.tui.widgets.compose",
    "udpscope.tui.widgets.options",
    "udpscope.tui.screens.stats",
    "udpscope.tui.screens.multicast",
    "udpscope.tui.mc_rows",
    "udpscope.tui.mc_checks",
    "udpscope.tui.mc_everywhere",
    "udpscope.tui.screens.hosts",
    "udpscope.tui.screens.host_dialog",
    "udpscope.tui.screens.detail",
    "udpscope.tui.screens.dialogs",
    "udpscope.tui.screens.everywhere",
    "udpscope.tui.screens.help",
    "udpscope.tui.screens.save",
    "udpscope.tui.screens.file_dialogs",
    "udpscope.tui.screens.responder",
    "udpscope.tui.screens.payloads",
    "udpscope.tui.session_actions",
    "udpscope.workspace.apply",
    "udpscope.tui.commands",
    "udpscope.tui.screens.stream_options",
    "udpscope.tui.streams_ui",
    "udpscope.tui.widgets.field_tree",
    "udpscope.hexdump",
    "udpscope.decode",
    "udpscope.health",
    "udpscope.capture.streams",
    "udpscope.net.interfaces",
    "udpscope.net.membership",
    "udpscope.net.checks",
    "udpscope.net.groups",
    "udpscope.net.querier",
    "udpscope.net.diagnose",
    "udpscope.net.firewall",
    "udpscope.net.joins",
    "textual.system_commands",
    "textual.widgets._sparkline",
    "rich.traceback",
)


def preload_later_modules(then: Callable[[], object] | None = None) -> threading.Thread:
    """Import LATER_MODULES in a daemon thread (the event loop keeps running meanwhile), then
    call `then` in that thread."""

    def load() -> None:
        for name in LATER_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S112 - a module that cannot load now is loaded on use
                continue
        if then is not None:
            then()

    thread = threading.Thread(target=load, name="udpscope-preload", daemon=True)
    thread.start()
    return thread


def settle_collector() -> None:
    """Freeze what is alive now (loaded for good), collect the young generation less often, and
    turn the collector on (the CLI starts with it off). For a process that is the app (the CLI),
    once its modules are loaded."""
    gc.freeze()  # no collection first: it would hold the app as long as the ones avoided
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, middle, old)
    gc.enable()


def fd_room() -> tuple[int, int] | None:
    """(descriptors open, the soft limit), or None where this cannot be known."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        used = len(os.listdir("/proc/self/fd")) - 1  # the listing's own descriptor
    except (ImportError, OSError, ValueError):
        return None
    if limit == resource.RLIM_INFINITY:
        return None
    return used, int(limit)


def fit_address_space() -> bool:
    """Under an address-space limit: one malloc arena and 1 MiB thread stacks. Call before any
    thread is started; returns True if a limit was found (and the settings applied)."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
    except (ImportError, OSError, ValueError):
        return False
    if limit == resource.RLIM_INFINITY:
        return False
    threading.stack_size(1 << 20)
    # numpy (stream health) loads OpenBLAS, which reserves a buffer per thread it starts and
    # aborts the process when that fails; the trackers use no BLAS: one thread is plenty.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        m_arena_max = -8  # glibc's mallopt parameter
        libc.mallopt(m_arena_max, 1)
    except (OSError, AttributeError):
        pass
    return True


RING_FLOOR = 4 << 20  # the history keeps at least this much, whatever the limit
APP_MARGIN = 64 << 20  # what the running app needs beyond its start: frames, sockets' buffers


def address_space_room() -> int | None:
    """Bytes of address space left under `ulimit -v`, or None when there is no such limit."""
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_AS)[0]
        if limit == resource.RLIM_INFINITY:
            return None
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (ImportError, OSError, ValueError, IndexError):
        return None
    return int(limit) - used


def fit_ring_budget(requested: int) -> tuple[int, str | None]:
    """The capture ring's byte budget under an address-space limit, and a notice if it shrank.

    Half of what is left after the app's own margin, never less than RING_FLOOR: a flood then
    evicts old datagrams (counted) instead of failing an allocation somewhere in the app.
    """
    room = address_space_room()
    if room is None:
        return requested, None
    budget = max(RING_FLOOR, (room - APP_MARGIN) // 2)
    if budget >= requested:
        return requested, None
    from udpscope.units import human_bytes

    return budget, (f"Memory limit (ulimit -v): the history keeps at most {human_bytes(budget)} "
                    "of datagrams; older ones are evicted and counted.")
