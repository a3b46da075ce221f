"""Contract tests: process lifetime with `dgram.run` (Node's "the process stays alive while a
referenced socket is open"), ref/unref, and the no-argument lifecycle listeners.

`dgram.run` starts its own event loop, so these are plain synchronous tests, each bounded by a
pytest-timeout: a `run` that never returns fails instead of hanging the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time

import pytest

from udpscope import dgram

pytestmark = pytest.mark.timeout(10)


def test_run_returns_the_coroutine_result():
    async def main() -> int:
        await asyncio.sleep(0)
        return 42

    assert dgram.run(main()) == 42


def test_run_raises_the_coroutine_exception():
    async def main() -> None:
        await asyncio.sleep(0)
        raise LookupError("from main")

    with pytest.raises(LookupError, match="from main"):
        dgram.run(main())


def test_run_waits_for_a_referenced_bound_socket_to_close():
    log: list[str] = []

    async def main() -> str:
        sock = dgram.create_socket("udp4")
        sock.on("close", lambda: log.append("close"))
        await sock.bind_async(0, "127.0.0.1")
        asyncio.get_running_loop().call_later(0.2, sock.close)
        log.append("main done")
        return "result"

    started = time.monotonic()
    assert dgram.run(main()) == "result"
    log.append("run returned")
    assert log == ["main done", "close", "run returned"]
    assert time.monotonic() - started >= 0.15


def test_run_waits_until_the_socket_closes_after_a_message():
    log: list[object] = []

    async def main() -> str:
        loop = asyncio.get_running_loop()
        receiver = dgram.create_socket("udp4")

        def on_message(msg: bytes, rinfo: dgram.RemoteInfo) -> None:
            log.append(("message", msg))
            receiver.close()

        receiver.on("message", on_message)
        receiver.on("close", lambda: log.append("receiver close"))
        port = (await receiver.bind_async(0, "127.0.0.1")).port
        sender = dgram.create_socket("udp4")
        sender.on("close", lambda: log.append("sender close"))

        def send_later() -> None:
            sender.send(b"late", port, "127.0.0.1", lambda err, n: sender.close())

        loop.call_later(0.1, send_later)
        log.append("main done")
        return "ok"

    assert dgram.run(main()) == "ok"
    log.append("run returned")
    assert log[0] == "main done"
    assert log[-1] == "run returned"
    assert sorted(map(str, log[1:-1])) == sorted(
        map(str, [("message", b"late"), "receiver close", "sender close"])
    )
    assert log.index(("message", b"late")) < log.index("receiver close")


def test_run_waits_for_a_socket_that_is_still_binding():
    log: list[str] = []

    async def main() -> None:
        sock = dgram.create_socket("udp4")

        def on_listening() -> None:
            log.append("listening")
            sock.close()

        sock.on("listening", on_listening)
        sock.on("close", lambda: log.append("close"))
        sock.bind(0, "127.0.0.1")
        log.append("main done")

    assert dgram.run(main()) is None
    assert log == ["main done", "listening", "close"]


def test_run_waits_for_an_implicit_bind_by_send():
    log: list[object] = []

    async def main() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.bind(("127.0.0.1", 0))
            port = peer.getsockname()[1]
        sock = dgram.create_socket("udp4")
        sock.on("listening", lambda: log.append("listening"))
        sock.on("close", lambda: log.append("close"))
        sock.send(b"x", port, "127.0.0.1", lambda err, n: (log.append(n), sock.close()))

    dgram.run(main())
    assert log == ["listening", 1, "close"]


def test_unbound_socket_does_not_keep_run_alive():
    sockets: list[dgram.Socket] = []

    async def main() -> None:
        sock = dgram.create_socket("udp4")
        sock.on("message", lambda msg, rinfo: None)
        sockets.append(sock)

    started = time.monotonic()
    dgram.run(main())
    assert time.monotonic() - started < 2
    assert sockets[0].state == "unbound"


def test_run_returns_promptly_when_the_socket_is_unrefd():
    sockets: list[dgram.Socket] = []

    async def main() -> str:
        sock = dgram.create_socket("udp4")
        sockets.append(sock)
        await sock.bind_async(0, "127.0.0.1")
        assert sock.unref() is sock
        assert sock.unref() is sock  # idempotent
        return "done"

    started = time.monotonic()
    assert dgram.run(main()) == "done"
    assert time.monotonic() - started < 2
    assert sockets[0].state == "bound"  # still open: unref only stops it keeping run alive
    with contextlib.suppress(Exception):
        sockets[0].close()


def test_unref_before_bind_also_lets_run_return():
    sockets: list[dgram.Socket] = []

    async def main() -> None:
        sock = dgram.create_socket("udp4").unref()
        sockets.append(sock)
        await sock.bind_async(0, "127.0.0.1")

    started = time.monotonic()
    dgram.run(main())
    assert time.monotonic() - started < 2
    assert sockets[0].state == "bound"
    with contextlib.suppress(Exception):
        sockets[0].close()


def test_ref_undoes_unref():
    log: list[str] = []

    async def main() -> None:
        sock = dgram.create_socket("udp4")
        sock.on("close", lambda: log.append("close"))
        await sock.bind_async(0, "127.0.0.1")
        assert sock.unref() is sock
        assert sock.ref() is sock
        assert sock.ref() is sock  # idempotent
        asyncio.get_running_loop().call_later(0.2, sock.close)
        log.append("main done")

    dgram.run(main())
    log.append("run returned")
    assert log == ["main done", "close", "run returned"]


def test_lifecycle_listeners_get_no_arguments_inside_run():
    records: list[tuple[str, tuple]] = []

    async def main() -> None:
        receiver = dgram.create_socket("udp4")
        port = (await receiver.bind_async(0, "127.0.0.1")).port
        sock = dgram.create_socket("udp4")
        for event in ("listening", "connect", "close"):
            sock.on(event, lambda *args, event=event: records.append((event, args)))

        def on_message(msg: bytes, rinfo: dgram.RemoteInfo) -> None:
            records.append(("received", (msg,)))
            receiver.close()
            sock.close(lambda *args: records.append(("close callback", args)))

        def on_connected(*args: object) -> None:
            records.append(("connect callback", args))
            sock.send(b"hi")

        receiver.on("message", on_message)
        sock.bind(0, "127.0.0.1", lambda *args: records.append(("bind callback", args)))
        sock.connect(port, "127.0.0.1", on_connected)

    dgram.run(main())
    assert records == [
        ("listening", ()),
        ("bind callback", ()),
        ("connect", ()),
        ("connect callback", ()),
        ("received", (b"hi",)),
        ("close", ()),
        ("close callback", ()),
    ]


@pytest.mark.parametrize("main_waits", [False, True], ids=["main-returned", "main-running"])
def test_error_without_listener_ends_run_with_it(main_waits):
    # As an uncaught 'error' ends a Node process, run() raises it: whether main has already
    # returned (the socket was still binding) or is still running when the error comes.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]

        async def main() -> None:
            dgram.create_socket("udp4").bind(port, "127.0.0.1")
            if main_waits:
                await asyncio.sleep(5)

        started = time.monotonic()
        with pytest.raises(dgram.DgramError) as info:
            dgram.run(main())
    assert info.value.code == "EADDRINUSE"
    assert time.monotonic() - started < 4  # the error ended run, not main finishing


@pytest.mark.skipif(bool(os.environ.get("UDPSCOPE_NO_UVLOOP")), reason="uvloop disabled by env")
def test_run_uses_uvloop_where_installed():
    uvloop = pytest.importorskip("uvloop")

    async def main() -> type:
        return type(asyncio.get_running_loop())

    assert issubclass(dgram.run(main()), uvloop.Loop)


def test_run_hands_a_failed_connect_to_a_callback_written_for_success():
    """`def on_connect(err=None)` serves both outcomes (Node calls cb() or cb(err)); run()
    returns with the real error delivered, not a TypeError about the callback's arguments."""
    got: list[object] = []

    def lookup(host: str, family: int, callback) -> None:
        callback(socket.gaierror(socket.EAI_NONAME, "Name or service not known"))

    async def main() -> None:
        sock = dgram.create_socket(dgram.SocketOptions("udp4", lookup=lookup))

        def on_connect(err: BaseException | None = None) -> None:
            got.append(err)
            sock.close()

        sock.connect(9, "nowhere.invalid", on_connect)

    dgram.run(main())
    assert [getattr(err, "code", err) for err in got] == ["ENOTFOUND"]
