"""The engine and the headless layers never import Textual.

Why: the engine is a library (`udpscope.dgram`) and `udpscope listen`/`send` are pipe tools; loading
Textual there costs start-up time and drags a UI dependency into code that has no screen. Each
check runs in a fresh interpreter so nothing imported by the test process can hide an import.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.tui.pty_app import ROOT

CHECK = textwrap.dedent(
    """
    import sys
    {body}
    loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
    assert not loaded, "textual imported: " + ", ".join(loaded[:5])
    assert "udpscope.tui" not in sys.modules, "udpscope.tui imported"
    print("OK")
    """
)


def run_check(body: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHECK.format(body=textwrap.dedent(body).strip())],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), (
        proc.stdout + proc.stderr
    )


@pytest.mark.parametrize(
    "module",
    [
        "udpscope.dgram",
        "udpscope.dgram.socket",
        "udpscope.dgram.receiver",
        "udpscope.dgram.core",
        "udpscope.dgram.handle",
        "udpscope.dgram.cmsg",
        "udpscope.dgram.runtime",
        "udpscope.capture",
        "udpscope.textsafe",
        "udpscope.hexdump",
        "udpscope.payload",
        "udpscope.addresses",
        "udpscope.probe",
        "udpscope.net.interfaces",
        "udpscope.net.membership",
        "udpscope.net.groups",
        "udpscope.net.checks",
        "udpscope.net.hints",
        "udpscope.cli.main",
        "udpscope.cli.listen",
        "udpscope.cli.listen_streams",
        "udpscope.cli.send",
        "udpscope.decode",
        "udpscope.health",
    ],
)
def test_module_does_not_import_textual(module: str) -> None:
    run_check(f"import {module}")


def test_engine_in_use_does_not_import_textual() -> None:
    """Not just importing: a bound socket, a datagram to itself, close, all under dgram.run."""
    run_check(
        """
        from udpscope import dgram

        async def main():
            sock = dgram.create_socket({"type": "udp4", "metadata": True})
            info = await sock.bind_async(0, "127.0.0.1")
            got = sock.messages()
            await sock.send_async(b"x", info.port, "127.0.0.1")
            async for msg, rinfo in got:
                assert msg == b"x" and rinfo.destination == "127.0.0.1"
                break
            sock.close()

        dgram.run(main())
        """
    )


@pytest.mark.parametrize("argv", [["--help"], ["listen", "--help"], ["send", "--help"]])
def test_cli_help_does_not_import_textual(argv: list[str]) -> None:
    run_check(
        f"""
        import contextlib, io
        from udpscope.cli.main import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            rc = main({argv!r})
        assert rc == 0 and "usage: udpscope" in out.getvalue(), (rc, out.getvalue())
        """
    )


def test_cli_listen_and_send_do_not_import_textual() -> None:
    """`udpscope listen` receives a datagram and `udpscope send` sends one, without Textual."""
    run_check(
        """
        import contextlib, io, re, socket, threading
        from udpscope.cli.main import main

        class Lines(io.StringIO):
            # Signals the moment `listen` reports its port: no polling.
            bound = threading.Event()
            port = 0

            def write(self, text):
                found = re.search(r"listening on 127\\.0\\.0\\.1:(\\d+)", text)
                if found:
                    Lines.port = int(found.group(1))
                    Lines.bound.set()
                return super().write(text)

        def sender():
            assert Lines.bound.wait(20), "listen never reported its port"
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(b"hello-listen", ("127.0.0.1", Lines.port))

        t = threading.Thread(target=sender)
        t.start()
        out = Lines()
        with contextlib.redirect_stdout(out):
            rc = main(["listen", "127.0.0.1:0", "--count", "1", "--timeout", "20"])
        t.join(20)
        assert rc == 0 and "hello-listen" in out.getvalue(), (rc, out.getvalue())

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
            sink.bind(("127.0.0.1", 0))
            sink.settimeout(20)
            with contextlib.redirect_stdout(io.StringIO()):
                rc = main(["send", "127.0.0.1", str(sink.getsockname()[1]), "hello-send"])
            assert rc == 0 and sink.recv(100) == b"hello-send"
        """
    )


def test_the_check_notices_textual() -> None:
    """The checker itself fails when Textual does get imported."""
    with pytest.raises(AssertionError, match="textual imported"):
        run_check("import udpscope.tui.app")
