"""What the app does for "save log", "workspace: save", responders and read-only sockets.

Kept out of app.py (which wires keys, screens and the tick) and imported when first used, so
none of it is on the start-up path. The rules it follows:

- files are written off the event loop: the log is snapshotted at once (`log_export`) and
  written in a worker thread, the workspace read back from the kernel on the loop (a few
  getsockopt calls) and written in a thread; the receiver never waits for a disk.
- the outcome is one notification (count and path, or the reason), never a traceback.
- a socket that stands for a capture file (`udpscope open`) is read-only: actions on it get one
  plain warning (repeats within a few seconds are not shown again), not an error per press.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime
from typing import TYPE_CHECKING

from udpscope.capture import SocketEntry
from udpscope.textsafe import safe_text
from udpscope.tui.log_export import LogSnapshot, row_count, take_snapshot, write_snapshot

if TYPE_CHECKING:
    from udpscope.tui.app import UdpscopeApp
    from udpscope.tui.screens.file_dialogs import SaveLogRequest
    from udpscope.workspace import Workspace

__all__ = ["FILE_STATE", "default_log_path", "open_responder", "open_save_log",
           "open_save_workspace", "refuse_read_only", "workspace_summary", "write_workspace"]

FILE_STATE = "file"  # the state of a socket that stands for a capture file (files.source)
DEFAULT_WORKSPACE = "udpscope-workspace.toml"
REPEAT_QUIET = 4.0  # seconds in which the same warning is not shown again


# ---- read-only sockets ---------------------------------------------------------------------


def refuse_read_only(app: UdpscopeApp, entry: SocketEntry, what: str) -> bool:
    """True (and one warning) if ``entry`` stands for a capture file, which ``what`` (e.g.
    "bind") cannot act on; False for a real socket."""
    if entry.state != FILE_STATE:
        return False
    source = safe_text(entry.label or "a capture file", 80)
    text = (f"Socket #{entry.id} is read-only: its datagrams come from {source} (there is no OS "
            f"socket), so it cannot {what}. Press n for a socket of your own.")
    now = time.monotonic()
    last = app.recent_warnings.get(text)
    if last is None or now - last > REPEAT_QUIET:
        app.recent_warnings[text] = now
        app.notify(text, title="Read-only", severity="warning", markup=False)
    return True


# ---- save log ------------------------------------------------------------------------------


def default_log_path(app: UdpscopeApp) -> str:
    """A path that failed last time (to correct it), else ``udpscope-YYYYmmdd-HHMMSS.pcapng``
    (the capture's clock) in the folder of the last save, or the current one."""
    if app.failed_log_path:
        return app.failed_log_path
    stamp = datetime.fromtimestamp(app.capture.clock(), app.tz).strftime("%Y%m%d-%H%M%S")
    name = f"udpscope-{stamp}.pcapng"
    return os.path.join(os.path.dirname(app.last_saved_log[0]), name) if app.last_saved_log else name


def open_save_log(app: UdpscopeApp) -> None:
    """Ask where to save the log (and which rows), then save it in a worker thread."""
    from udpscope.tui.screens.file_dialogs import SaveLogDialog

    log = app.main_screen.message_log
    all_rows = row_count(app.capture.ring.chunks_after(log.cleared_at))
    filter_text = log.filter_text if log.predicate is not None else ""

    def done(request: SaveLogRequest | None) -> None:
        if request is not None:
            save_log(app, request)

    app.push_screen(SaveLogDialog(default_log_path(app), all_rows, len(log.rows), filter_text), done)


def save_log(app: UdpscopeApp, request: SaveLogRequest) -> None:
    """Snapshot the rows now (on the loop: O(chunks)) and write them in a worker thread."""
    log = app.main_screen.message_log
    locals_ = app.known_locals()
    if request.shown_only:
        snapshot = take_snapshot(log.rows, 0, locals_)
    else:
        snapshot = take_snapshot(app.capture.ring, log.cleared_at, locals_)
    app.failed_log_path = None
    app.run_worker(_write_log(app, snapshot, request.path), group="save-log",
                   description="save the log as pcapng")


async def _write_log(app: UdpscopeApp, snapshot: LogSnapshot, path: str) -> None:
    shown = safe_text(path, 200)
    app.saves_running += 1
    try:
        result = await asyncio.to_thread(write_snapshot, snapshot, path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        app.failed_log_path = path  # offered again, to be corrected
        app.notify(f"The log was not saved to {shown}: {safe_text(reason, 200)}",
                   title="Save log", severity="error", markup=False)
        return
    finally:
        app.saves_running -= 1
    text = f"Saved {result.written} datagram{'s' if result.written != 1 else ''} to {shown}"
    if result.skipped:
        text += (f" ({result.skipped} row{'s' if result.skipped != 1 else ''} left out: "
                 "socket events and failed sends are not datagrams)")
    app.last_saved_log = (path, result.written)
    app.notify(text, title="Save log", markup=False)


# ---- workspaces ----------------------------------------------------------------------------


def workspace_summary(workspace: Workspace, left_out: int) -> str:
    """``"2 sockets (1 closed or unbound left out), 3 rules, 1 saved payload"``."""
    def count(n: int, word: str) -> str:
        return f"{n} {word}" + ("" if n == 1 else "s")

    rules = sum(len(s.respond) for s in workspace.sockets)
    joins = sum(len(s.joins) for s in workspace.sockets)
    text = count(len(workspace.sockets), "socket")
    if left_out:
        text += f" ({left_out} closed, unbound or read-only left out)"
    return f"{text}, {count(joins, 'join')}, {count(rules, 'rule')}, " \
           f"{count(len(workspace.payloads), 'saved payload')}"


def _snapshot(app: UdpscopeApp) -> tuple[Workspace, int]:
    workspace = app.session.snapshot()
    return workspace, len(app.capture.sockets) - len(workspace.sockets)


def open_save_workspace(app: UdpscopeApp) -> None:
    """Ask where to save the session as a workspace (default: the opened one); the dialog
    saves it."""
    from udpscope.tui.screens.file_dialogs import SaveWorkspaceDialog

    workspace, left_out = _snapshot(app)
    opened = app.workspace_path
    app.push_screen(SaveWorkspaceDialog(opened or DEFAULT_WORKSPACE,
                                        os.path.abspath(opened) if opened else None,
                                        "saves " + workspace_summary(workspace, left_out)))


async def write_workspace(app: UdpscopeApp, path: str) -> str | None:
    """Read the session back (options from the kernel) and write it to ``path`` in a thread.

    Returns:
        None when saved (a notification says what and where), else the reason, one line.
    """
    from udpscope.workspace import save_workspace

    try:
        workspace, left_out = _snapshot(app)
        await asyncio.to_thread(save_workspace, workspace, path)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"not saved: {safe_text(reason, 200)}"
    app.workspace_path = path
    app.notify(f"Saved {workspace_summary(workspace, left_out)} to {safe_text(path, 200)}",
               title="Workspace", markup=False)
    return None


# ---- responders ----------------------------------------------------------------------------


def open_responder(app: UdpscopeApp, entry: SocketEntry) -> None:
    """The responder rules of ``entry`` (a real, open socket)."""
    if refuse_read_only(app, entry, "answer datagrams"):
        return
    if entry.state == "closed":
        app.notify(f"Socket #{entry.id} is closed: a responder needs an open socket.",
                   title="Responder", severity="warning")
        return
    from udpscope.tui.screens.responder import ResponderDialog

    app.push_screen(ResponderDialog(entry.id))
