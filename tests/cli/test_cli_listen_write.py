"""`listen --write`: the pcapng holds exactly the datagrams `listen` reported — after SIGTERM
too, and with replies marked as sent — and a file that cannot be written is a usage error."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from tests.cli.clitools import Proc, run_cli
from tests.files.tools import tshark_fields
from tests.waiting import wait_until
from udpscope.files.capture_file import read_capture


def sender() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(5)
    return s


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_killed_listen_leaves_every_reported_datagram(tmp_path: Path, sig: int) -> None:
    path = tmp_path / "cap.pcapng"
    payloads = [f"datagram {i}".encode() * (1 + i % 7) for i in range(200)]
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--write", str(path),
               "--timeout", "60"]) as p, sender() as tx:
        port = p.json()["port"]
        reported = []
        for data in payloads:
            tx.sendto(data, ("127.0.0.1", port))
        for _ in payloads:
            reported.append(p.json())
        p.signal(sig)  # while the file is open: no clean --count end
        assert p.wait() == 0
        assert json.loads(p.rest()[-1]) == {"event": "close"}
    assert [bytes.fromhex(r["hex"]) for r in reported] == payloads
    datagrams, summary = read_capture(path)
    assert [d.payload for d in datagrams] == payloads
    assert not summary.truncated and summary.damaged is None
    for d, r in zip(datagrams, reported, strict=True):
        assert (d.source, d.sport, d.destination, d.dport) == ("127.0.0.1", r["port"], "127.0.0.1", port)
        assert abs(d.time - r["timestamp"]) < 1e-6 and d.interface == "lo" and d.ttl == r["ttl"]
    rows = tshark_fields(str(path), "udp.payload", "frame.interface_name")
    assert len(rows) == len(payloads) and {r[1] for r in rows} == {"lo"}


def test_file_is_flushed_while_listen_runs(tmp_path: Path) -> None:
    path = tmp_path / "live.pcapng"
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--write", str(path),
               "--timeout", "30"]) as p, sender() as tx:
        port = p.json()["port"]
        for i in range(3):
            tx.sendto(b"live %d" % i, ("127.0.0.1", port))
            p.json()
        # Still running: what was reported is already on disk (a kill -9 would keep it).
        def on_disk() -> list[bytes] | None:
            got = [d.payload for d in read_capture(path)[0]]
            return got if len(got) >= 3 else None

        got = wait_until(on_disk, what="three datagrams in the file while listen runs")
        assert got == [b"live 0", b"live 1", b"live 2"]
        assert p.popen.poll() is None
        p.signal(signal.SIGTERM)
        assert p.wait() == 0


def test_count_stops_the_file_at_what_was_reported(tmp_path: Path) -> None:
    path = tmp_path / "count.pcapng"
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--write", str(path), "--count", "5",
               "--timeout", "30"]) as p, sender() as tx:
        port = p.json()["port"]
        for i in range(50):  # more than --count, in one burst
            tx.sendto(b"n%d" % i, ("127.0.0.1", port))
        assert p.wait() == 0
        messages = [json.loads(x) for x in p.rest() if '"message"' in x]
    assert len(messages) == 5
    assert [d.payload for d in read_capture(path)[0]] == [bytes.fromhex(m["hex"]) for m in messages]


def test_replies_are_written_as_sent(tmp_path: Path) -> None:
    path = tmp_path / "reply.pcapng"
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--write", str(path),
               "--respond", "text:ping=>text:pong", "--count", "2", "--timeout", "30"]) as p, \
            sender() as tx:
        port = p.json()["port"]
        peer = tx.getsockname()[1]
        tx.sendto(b"ping", ("127.0.0.1", port))
        assert tx.recv(100) == b"pong"
        tx.sendto(b"other", ("127.0.0.1", port))
        assert p.wait() == 0
    datagrams, _ = read_capture(path)
    assert [(d.payload, d.outbound) for d in datagrams] == [(b"ping", False), (b"pong", True),
                                                            (b"other", False)]
    pong = datagrams[1]
    assert (pong.sport, pong.destination, pong.dport) == (port, "127.0.0.1", peer)
    rows = tshark_fields(str(path), "frame.comment", "frame.packet_flags_direction")
    assert [r[0] for r in rows] == ["", "sent by udpscope", ""]


@pytest.mark.parametrize(("target", "reason"), [
    ("{dir}/missing/x.pcapng", "No such file or directory"),
    ("{dir}", "Is a directory"),
    ("/dev/null", "not a regular file"),
])
def test_unwritable_file_is_a_usage_error(tmp_path: Path, target: str, reason: str) -> None:
    res = run_cli("listen", "127.0.0.1:0", "--write", target.format(dir=tmp_path), "--timeout", "5")
    err = res.stderr.decode()
    assert res.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert "argument --write" in last and reason in last and "Traceback" not in err
