"""The command palette (ctrl+p): udpscope's commands, its own themes, and a screenshot that lands.

Textual's default palette offers ~20 built-in themes beside udpscope's three and a Screenshot
command that writes to a Downloads folder which may not exist. Here the palette lists the
commands of the app, namespaced (`socket: …`, `log: …`, `streams: …`, `group: …`, `payload: …`,
`workspace: …`, `view: …`, `theme: …`), only the themes
udpscope loaded (shipped and the user's), and a screenshot saved where it can be: the current
directory, else the user's Pictures or home, else the temporary directory, with the path shown.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    from textual.screen import Screen

    from udpscope.tui.app import UdpscopeApp


def palette_commands(app: UdpscopeApp, screen: Screen) -> Iterator[SystemCommand]:
    """Everything the palette offers on ``screen``."""
    yield SystemCommand("socket: new", "Create a socket (udp4/udp6, options, bind)", app.action_new_socket)
    yield SystemCommand("socket: bind", "Bind the selected socket", app.action_bind_socket)
    yield SystemCommand("socket: connect", "Connect the selected socket to a peer", app.action_connect_socket)
    yield SystemCommand("socket: disconnect", "Disconnect the selected socket", app.action_disconnect_socket)
    yield SystemCommand("socket: close", "Close the selected socket", app.action_close_socket)
    yield SystemCommand("socket: forget", "Close and remove the selected socket from the list",
                        app.action_forget_socket)
    yield SystemCommand("streams: sequence field / A/B", "Follow a sequence field in the selected "
                        "socket's payloads, and merge its A/B lines", app.action_stream_options)
    yield SystemCommand("socket: responder", "Rules that answer the selected socket's datagrams (r)",
                        app.main_screen.action_responder)
    yield SystemCommand("log: clear", "Clear the live log", partial(app.action_log, "clear"))
    yield SystemCommand("log: pause", "Pause / resume the live log", partial(app.action_log, "pause"))
    yield SystemCommand("log: follow", "Jump to the newest row and follow", partial(app.action_log, "follow"))
    yield SystemCommand("log: save", "Save the log (all, or what the filter shows) as pcapng (w)",
                        partial(_on_main, app, app.main_screen.action_save_log))
    yield SystemCommand("payload: saved", "Saved payloads: fill the composer, send, save, delete (^o)",
                        partial(_on_main, app, app.main_screen.open_payloads))
    yield SystemCommand("workspace: save", "Save sockets, options, joins, rules and saved payloads "
                        "to a workspace file", partial(_save_workspace, app))
    yield SystemCommand("view: main", "Sockets, composer and live log", partial(app.action_pane, "log"))
    yield SystemCommand("view: stats", "Counters, rates, stream health and per-group statistics",
                        partial(app.switch_mode, "stats"))
    yield SystemCommand("view: multicast", "Interfaces, queriers, joins, why no traffic?",
                        partial(app.switch_mode, "multicast"))
    yield SystemCommand("group: join everywhere",
                        "Join a group on every multicast-capable interface with the selected "
                        "socket and count where its traffic arrives", app.action_join_everywhere)
    yield SystemCommand("group: leave everywhere", "Leave the group joined everywhere",
                        app.action_leave_everywhere)
    yield SystemCommand("view: hosts", "Agents on many hosts: who hears whom, live",
                        partial(app.switch_mode, "hosts"))
    yield SystemCommand("view: help", "Every key", app.action_help)
    for name in sorted(app.theme_names):
        yield SystemCommand(f"theme: {name}", f"Switch to the {name} theme",
                            partial(app.set_theme_safely, name))
    yield SystemCommand("screenshot", "Save an SVG picture of the screen (the path is shown)",
                        lambda: app.set_timer(0.1, partial(save_screenshot, app)))
    if screen.maximized is not None:
        yield SystemCommand("minimize", "Restore the maximized pane", screen.action_minimize)
    elif screen.focused is not None and screen.focused.allow_maximize:
        yield SystemCommand("maximize", "Give the focused pane the whole screen", screen.action_maximize)
    yield SystemCommand("quit", "Quit udpscope (ctrl+q)", app.action_quit)


def _on_main(app: UdpscopeApp, action: Callable[[], object]) -> None:
    """Run a main-screen action from any view (the main screen is shown first)."""
    if app.current_mode != "main":
        app.switch_mode("main")
    action()


def _save_workspace(app: UdpscopeApp) -> None:
    from udpscope.tui.session_actions import open_save_workspace

    open_save_workspace(app)


def screenshot_dirs() -> list[Path]:
    """Where a screenshot may go, best first."""
    dirs = [Path.cwd()]
    try:
        from platformdirs import user_pictures_dir

        dirs.append(Path(user_pictures_dir()))
    except Exception:
        pass
    dirs += [Path.home(), Path(tempfile.gettempdir())]
    return dirs


def save_screenshot(app: UdpscopeApp) -> Path | None:
    """Save an SVG of the screen in the first writable place; notify where (or why not)."""
    last_error = "no writable folder"
    for folder in screenshot_dirs():
        try:
            if not (folder.is_dir() and os.access(folder, os.W_OK)):
                continue
            path = Path(app.save_screenshot(path=str(folder)))
        except Exception as exc:
            last_error = f"{folder}: {exc}"
            continue
        app.notify(f"Screenshot saved to {safe_text(str(path), 200)}", title="Screenshot",
                   markup=False)
        return path
    app.notify(f"Screenshot not saved: {safe_text(last_error, 200)}", title="Screenshot",
               severity="error", markup=False)
    return None
