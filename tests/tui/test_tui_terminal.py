"""The app as a terminal sees it: `python -m udpscope` on a pseudo-terminal.

- Fields typed in one burst through the real terminal driver arrive whole, and the datagram sent
  is exactly what was typed.
- SIGTERM and SIGHUP end the app the normal way: the terminal leaves the alternate screen and
  gets its modes back.
- Without a terminal the TUI refuses to start, points to `udpscope listen`, exits 2 and binds
  nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest

from tests.tui.pty_app import ROOT, PtyApp

START_TIMEOUT = 30.0
ALT_SCREEN_OFF = b"\x1b[?1049l"


@pytest.fixture
def pty_app():  # type: ignore[no-untyped-def]
    apps: list[PtyApp] = []

    def start(args: list[str], columns: int = 100, lines: int = 30) -> PtyApp:
        app = PtyApp(args, columns=columns, lines=lines)
        apps.append(app)
        app.start()
        app.wait_text("Live log", START_TIMEOUT)
        return app

    yield start
    for app in apps:
        app.close()


def test_a_burst_typed_through_the_terminal_sends_exactly_that(pty_app) -> None:  # type: ignore[no-untyped-def]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(30)  # generous: the suite runs on a shared, busy machine
        app = pty_app(["--bind", "127.0.0.1:0"])
        port = app.bound_port()
        # One write: the pane key, the host, Tab, the port, Tab twice (past the kind list) to
        # the payload, the text, Enter. Every key after "3" is for a field of the composer.
        app.write(f"3127.0.0.1\t{rx.getsockname()[1]}\t\tsent in one burst\r".encode())
        data, peer = rx.recvfrom(65536)
        assert data == b"sent in one burst"
        assert peer[1] == port
        app.write(b"\x11")  # ctrl+q
        assert app.wait_exit(15) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_termination_signal_restores_the_terminal(pty_app, sig: int) -> None:  # type: ignore[no-untyped-def]
    app = pty_app([])
    before = len(app.snapshot())
    assert app.proc is not None
    os.kill(app.proc.pid, sig)
    rc = app.wait_exit(15)
    assert rc == 128 + sig
    tail = app.snapshot()[before:]
    assert ALT_SCREEN_OFF in tail, "the alternate screen was not left"
    assert b"\x1b[?25h" in tail, "the cursor was not shown again"


def test_without_a_terminal_the_tui_refuses_and_binds_nothing() -> None:
    code = (
        "import sys\n"
        "from udpscope.cli.main import main\n"
        "rc = main(['--bind', '127.0.0.1:0'])\n"
        "print('rc', rc, 'tui' if 'udpscope.tui.app' in sys.modules else 'no-tui',\n"
        "      'engine' if 'udpscope.dgram' in sys.modules else 'no-engine')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    res = subprocess.run([sys.executable, "-c", code], stdin=subprocess.DEVNULL, capture_output=True,
                         cwd=ROOT, env=env, timeout=60)
    assert res.stdout.decode().split() == ["rc", "2", "no-tui", "no-engine"]
    err = res.stderr.decode()
    assert "needs a terminal" in err and "udpscope listen" in err
    assert "Traceback" not in err
    # And as users run it, through a pipe: exit 2, no escape sequence in the pipe.
    # (Nothing bound: the engine was never imported above, on the same path.)
    res = subprocess.run([sys.executable, "-m", "udpscope", "--bind", "127.0.0.1:0"],
                         stdin=subprocess.DEVNULL, capture_output=True, cwd=ROOT, env=env,
                         timeout=60)
    assert res.returncode == 2
    assert b"\x1b" not in res.stdout + res.stderr
