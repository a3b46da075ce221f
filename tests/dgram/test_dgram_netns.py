"""Contract tests that need a private network namespace: a real EAGAIN from the kernel, and
broadcast on the namespace's own loopback.

On loopback the kernel frees a datagram's send-buffer charge while still inside sendto(), so
EAGAIN never happens there; a rate-limiting qdisc on the namespace's `lo` holds datagrams (and
their charge) long enough for a 4 KiB send buffer to fill. Broadcasts are sent only to
127.255.255.255 inside the throw-away namespace, never on the machine's interfaces.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess

import pytest

from tests.dgram.dgram_helpers import LOOPBACK
from tests.netns import REQUIRE_ENV, inside
from tests.support import EventRecorder
from tests.waiting import loop_turns, wait_for

pytestmark = pytest.mark.netns


def _tc(ns: str, *args: str) -> None:
    if shutil.which("tc") is None:
        reason = "the `tc` command (iproute2) is not installed"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    subprocess.run(
        ["ip", "netns", "exec", ns, "tc", *args], check=True, capture_output=True, timeout=30
    )


async def test_eagain_queues_datagrams_and_loses_none(netns, sockets, must_call, kind):
    _tc(
        netns,
        "qdisc",
        "add",
        "dev",
        "lo",
        "root",
        "tbf",
        "rate",
        "100mbit",
        "burst",
        "16kb",
        "latency",
        "1s",
    )
    total = 2000
    with inside(netns):
        receiver = await sockets.bound(kind, recv_buffer_size=4 * 1024 * 1024)
        got = EventRecorder(receiver)
        sender = await sockets.bound(kind, send_buffer_size=4096)
        sender.on("error", must_call(0, name="sender error listener"))
        results: list[tuple] = []
        port = receiver.address().port
        payload = b"." * 994
        for i in range(total):
            sender.send(
                [b"%06d" % i, payload],
                port,
                LOOPBACK[kind],
                lambda err, n: results.append((err, n)),
            )
        queued, queued_bytes = sender.get_send_queue_count(), sender.get_send_queue_size()
        assert queued > 0, "the kernel never said EAGAIN: nothing to test"
        assert queued_bytes == queued * 1000
        await got.wait("message", total, timeout=20)
        await wait_for(lambda: len(results) == total, what="all send callbacks")
        assert sender.get_send_queue_count() == 0
        assert sender.get_send_queue_size() == 0
        assert set(results) == {(None, 1000)}
        seqs = [int(args[0][:6]) for args in got.args_of("message")]
        assert seqs == list(range(total))


async def test_broadcast_needs_set_broadcast(netns, sockets, must_call):
    with inside(netns):
        receiver = await sockets.bound("udp4", address=None)  # 0.0.0.0: sees broadcasts
        got = EventRecorder(receiver)
        sender = await sockets.bound("udp4")
        port = receiver.address().port
        refused = must_call(1, name="send callback without SO_BROADCAST")
        sender.send(b"refused", port, "127.255.255.255", refused)
        err, sent = await refused.wait()
        assert sent is None
        assert err.code == "EACCES"
        assert err.errno == errno.EACCES
        assert err.syscall == "send"
        assert (err.address, err.port) == ("127.255.255.255", port)
        assert str(err) == f"send EACCES 127.255.255.255:{port}"

        sender.set_broadcast(True)
        delivered = must_call(1, name="send callback with SO_BROADCAST")
        sender.send(b"broadcast", port, "127.255.255.255", delivered)
        msg, _ = await got.wait("message")
        await delivered.wait()
        await loop_turns()
        assert msg == b"broadcast"
        assert got.count("message") == 1
        assert delivered.args == (None, 9)


async def test_broadcast_refused_without_callback_is_emitted(netns, sockets):
    with inside(netns):
        sender = await sockets.bound("udp4")
        rec = EventRecorder(sender, ("error",))
        sender.send(b"refused", 9, "127.255.255.255")
        err = (await rec.wait("error"))[0]
        assert err.code == "EACCES"
        assert (err.address, err.port) == ("127.255.255.255", 9)
