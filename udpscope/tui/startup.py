"""What the command line asks the app to open at start: `--bind` sockets and `--join` groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from udpscope.capture import SocketEntry
    from udpscope.tui.app import UdpscopeApp

__all__ = ["join_when_bound", "open_startup_sockets"]


def open_startup_sockets(app: UdpscopeApp) -> None:
    """Create the sockets `--bind` asked for and join `--join`'s groups (each once its socket is
    bound; a group without a socket of its family gets one on port 0), selecting the first."""
    if not (app.startup_binds or app.startup_joins):
        return
    from udpscope.tui.forms import SocketRequest

    entries = []
    for address, port in app.startup_binds:
        sock_type = "udp6" if app.udp6 or (address is not None and ":" in address) else "udp4"
        entry = app.create_socket(SocketRequest(type=sock_type, address=address, port=port))
        if entry is not None:
            entries.append(entry)
    for group, iface in app.startup_joins:
        family = "udp6" if ":" in group else "udp4"
        targets = [e for e in entries if e.type == family]
        if not targets:
            entry = app.create_socket(SocketRequest(type=family, port=0))
            if entry is None:
                continue
            entries.append(entry)
            targets = [entry]
        for entry in targets:
            join_when_bound(app, entry, group, iface)
    if entries:
        app.selected_socket = entries[0].id


def join_when_bound(app: UdpscopeApp, entry: SocketEntry, group: str, iface: str | None) -> None:
    """Join `group` (on `iface`, a name or address) with `entry`'s socket now if it is bound,
    else once it is; a failure is reported like any socket error."""

    def join() -> None:
        try:
            arg = None
            if iface:
                from udpscope.net.interfaces import resolve_interface

                arg = resolve_interface(iface, "udp6" if entry.type == "udp6" else "udp4").dgram_arg
            entry.sock.add_membership(group, arg)
        except Exception as exc:
            app.report_error(entry.id, exc)
            return
        if iface:
            from udpscope.workspace import JoinSpec

            app.note_join(entry, JoinSpec(group, iface))
        app.capture.note_joins(entry.id)

    if entry.state in ("bound", "connected"):
        join()
    else:
        entry.sock.once("listening", join)
