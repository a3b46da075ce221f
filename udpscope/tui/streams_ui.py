"""Stream health's two hooks into the app: the sequence-field / A/B dialog flow, and saying a new
mDNS/SSDP finding once, wherever the user is (pane 5 lists them, with their usual causes).

Kept out of app.py so the app stays wiring. Light to import: the dialog and the form are
imported when the user asks for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    from udpscope.capture import SocketEntry
    from udpscope.tui.app import UdpscopeApp
    from udpscope.tui.streamforms import StreamOptionsRequest

__all__ = ["announce_findings", "ask_stream_options"]


def ask_stream_options(app: UdpscopeApp, entry: SocketEntry) -> None:
    """Ask for `entry`'s sequence field and A/B arbitration (showing what is set), then apply
    them; a failure is reported as the socket's error, never raised."""
    from udpscope.tui.screens.stream_options import StreamOptionsDialog

    settings = entry.streams.settings() if entry.streams is not None else {}

    def done(req: StreamOptionsRequest | None) -> None:
        if req is None or entry.id not in app.capture.sockets:
            return
        try:
            app.capture.set_stream_options(entry.id, req.seq, req.arbitrate)
        except Exception as exc:  # validated already: a surprise is reported, not raised
            app.report_error(entry.id, exc)
            return
        app.notify(f"Socket #{entry.id}: {req.describe()}; its stream tracking starts over.",
                   title="Streams", markup=False)

    app.push_screen(StreamOptionsDialog(entry.id, settings.get("seq") or "",
                                        bool(settings.get("arbitrate"))), done)


def announce_findings(app: UdpscopeApp, seen: set[tuple[int, str]]) -> None:
    """Notify each warning not yet in `seen` (by socket and finding id) and add it there."""
    now = app.capture.clock()
    for entry in app.capture.entries():
        streams = entry.streams
        if streams is None:
            continue
        for finding in streams.findings(now):
            key = (entry.id, finding.id)
            if key in seen or finding.severity == "info":
                continue
            seen.add(key)
            app.notify(f"#{entry.id}: {safe_text(finding.title, 200)}\n5 Stats says why.",
                       title="Discovery", severity="warning", markup=False)
