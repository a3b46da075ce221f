"""`udpscope send` as a real process to a loopback receiver: byte-exact payloads from every
source, even pacing, probes, options that really reach the socket, and honest exit codes."""

from __future__ import annotations

import signal
import socket
import struct
import time

import pytest

from tests.cli.clitools import Proc, run_cli
from tests.cli.test_cli_listen import needs_ipv6
from udpscope.probe import HEADER_SIZE, decode_probe

IP_RECVTTL = getattr(socket, "IP_RECVTTL", 12)  # Linux value; Python 3.11 lacks the constant


@pytest.fixture
def rx():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(("127.0.0.1", 0))
    s.settimeout(10)
    yield s
    s.close()


def recv_all(s: socket.socket, n: int) -> list[bytes]:
    return [s.recv(70000) for _ in range(n)]


def assert_nothing_more(s: socket.socket) -> None:
    s.settimeout(0.2)
    with pytest.raises(TimeoutError):
        s.recv(70000)


@pytest.mark.parametrize(
    ("args", "stdin", "expected"),
    [
        (["hello"], None, b"hello"),
        (["h\u00e9llo \u20ac"], None, "h\u00e9llo \u20ac".encode()),
        ([], None, b""),
        (["--hex", "00 ff 80 7f"], None, b"\x00\xff\x80\x7f"),
        (["--stdin"], b"\x00line1\nline2\r\n\xff", b"\x00line1\nline2\r\n\xff"),
        (["--stdin"], b"", b""),
    ],
    ids=["text", "utf8", "empty", "hex", "stdin", "empty-stdin"],
)
def test_payload_sources_are_byte_exact(rx, args, stdin, expected) -> None:
    port = rx.getsockname()[1]
    res = run_cli("send", "127.0.0.1", str(port), *args, input=stdin)
    assert res.returncode == 0, res.stderr
    assert recv_all(rx, 1) == [expected]
    assert_nothing_more(rx)
    n = len(expected)
    assert res.stdout.decode() == f"sent {n} byte{'' if n == 1 else 's'} to 127.0.0.1:{port}\n"


def test_file_payloads(rx, tmp_path) -> None:
    port = rx.getsockname()[1]
    for data in (bytes(range(256)) * 3, b"", bytes(range(256)) * 255 + bytes(range(227))):
        f = tmp_path / "p.bin"
        f.write_bytes(data)
        res = run_cli("send", "127.0.0.1", str(port), "--file", str(f))
        assert res.returncode == 0, res.stderr
        assert recv_all(rx, 1) == [data]


def test_undecodable_argv_bytes_are_sent_as_they_are(rx) -> None:
    res = run_cli("send", "127.0.0.1", str(rx.getsockname()[1]), b"a\xffb\x80")
    assert res.returncode == 0, res.stderr
    assert recv_all(rx, 1) == [b"a\xffb\x80"]


def test_count_prints_a_summary(rx) -> None:
    port = rx.getsockname()[1]
    res = run_cli("send", "127.0.0.1", str(port), "abcde", "--count", "5")
    assert res.returncode == 0, res.stderr
    assert recv_all(rx, 5) == [b"abcde"] * 5
    assert_nothing_more(rx)
    out = res.stdout.decode().strip()
    assert out.startswith(f"sent 5 of 5 datagrams (25 bytes) to 127.0.0.1:{port} in ")


def test_rate_paces_evenly(rx) -> None:
    port = rx.getsockname()[1]
    with Proc(["send", "127.0.0.1", str(port), "tick", "--count", "8", "--rate", "20"]):
        arrivals = []
        for _ in range(8):
            rx.recv(100)
            arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # 50 ms apart: no burst (unpaced sends arrive microseconds apart) ...
    assert min(gaps) > 0.02, gaps
    # ... and no drift: absolute deadlines keep the total at 7 intervals
    assert 0.30 < arrivals[-1] - arrivals[0] < 0.60, gaps


def test_probe_datagrams(rx) -> None:
    before = time.time()
    res = run_cli("send", "127.0.0.1", str(rx.getsockname()[1]), "tail", "--probe", "--count", "3")
    assert res.returncode == 0, res.stderr
    probes = [(decode_probe(d), d) for d in recv_all(rx, 3)]
    assert [p.seq for p, _ in probes] == [0, 1, 2]
    assert len({p.stream for p, _ in probes}) == 1
    for p, d in probes:
        assert before - 1 < p.send_time < time.time() + 1
        assert d[HEADER_SIZE:] == b"tail"


def test_ttl_reaches_the_socket(rx) -> None:
    rx.setsockopt(socket.IPPROTO_IP, IP_RECVTTL, 1)
    res = run_cli("send", "127.0.0.1", str(rx.getsockname()[1]), "x", "--ttl", "7")
    assert res.returncode == 0, res.stderr
    data, ancdata, _flags, _addr = rx.recvmsg(100, socket.CMSG_SPACE(4))
    ttls = [struct.unpack("i", cdata[:4])[0] for level, kind, cdata in ancdata
            if level == socket.IPPROTO_IP and kind == socket.IP_TTL]
    assert data == b"x" and ttls == [7]


def test_ctrl_c_stops_a_paced_send_quietly(rx) -> None:
    port = rx.getsockname()[1]
    with Proc(["send", "127.0.0.1", str(port), "x", "--count", "1000", "--rate", "10"]) as p:
        rx.recv(10)
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        summary = p.rest()
        assert len(summary) == 1 and summary[0].startswith("sent ")
        assert " of 1000 datagrams " in summary[0]
        err = p.stderr()
        assert "Traceback" not in err and "KeyboardInterrupt" not in err


@needs_ipv6
def test_ipv6_send_max_size(tmp_path) -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as rx6:
        rx6.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        rx6.bind(("::1", 0))
        rx6.settimeout(10)
        f = tmp_path / "max6.bin"
        data = bytes(range(256)) * 255 + bytes(range(247))  # 65527
        f.write_bytes(data)
        res = run_cli("send", "::1", str(rx6.getsockname()[1]), "--file", str(f))
        assert res.returncode == 0, res.stderr
        assert rx6.recv(70000) == data
        assert res.stdout.decode().endswith(f"to [::1]:{rx6.getsockname()[1]}\n")


def test_send_failure_exits_1(veth_pair) -> None:
    """In namespaces of our own: a broadcast without --broadcast fails with EACCES."""
    res = run_cli("send", veth_pair.broadcast, "9", "x", ns=veth_pair.a.ns)
    err = res.stderr.decode()
    assert res.returncode == 1, err
    assert "EACCES" in err and "Traceback" not in err
    assert err.splitlines()[0] == f"udpscope send: error: send EACCES {veth_pair.broadcast}:9"
    assert "sent 0 of 1 datagram" in res.stdout.decode()


def test_broadcast_flag(veth_pair) -> None:
    b = veth_pair.b
    with Proc(["listen", "0.0.0.0:0", "--format", "jsonl", "--count", "1", "--timeout", "20"],
              ns=b.ns) as p:
        port = p.json()["port"]
        res = run_cli("send", veth_pair.broadcast, str(port), "bcast", "--broadcast", ns=veth_pair.a.ns)
        assert res.returncode == 0, res.stderr
        msg = p.json()
        assert msg["address"] == veth_pair.a.v4 and bytes.fromhex(msg["hex"]) == b"bcast"
        assert msg.get("destination", veth_pair.broadcast) == veth_pair.broadcast
        assert p.wait() == 0


def test_host_name(rx) -> None:
    try:
        socket.getaddrinfo("localhost", None, socket.AF_INET)
    except OSError:
        pytest.skip("localhost does not resolve to IPv4 here")
    port = rx.getsockname()[1]
    res = run_cli("send", "localhost", str(port), "by name")
    assert res.returncode == 0, res.stderr
    assert recv_all(rx, 1) == [b"by name"]
    assert res.stdout.decode() == f"sent 7 bytes to localhost:{port}\n"
