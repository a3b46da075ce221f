"""`udpscope listen` as a real process on loopback: lines arrive through a pipe while it runs,
jsonl objects are exactly as documented, hostile payloads never reach the terminal raw, and
every way of ending (count, timeout, Ctrl-C, bind failure, closed pipe) has the right status."""

from __future__ import annotations

import json
import signal
import socket
import time
import unicodedata

import pytest

from tests.cli.clitools import Proc, listening_port
from tests.fixtures.hostile import HOSTILE
from tests.waiting import wait_until
from udpscope.hexdump import hexdump_lines
from udpscope.textsafe import unescape

REQUIRED = {"event", "time", "address", "family", "port", "size", "hex", "text"}
OPTIONAL = {"destination", "interface", "ttl", "timestamp"}
UNSAFE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not has_ipv6(), reason="no IPv6 loopback (::1) on this host")


def sender(family: int = socket.AF_INET) -> socket.socket:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
    return s


def terminal_safe_line(line: str) -> bool:
    return all(unicodedata.category(c) not in UNSAFE and (c == " " or unicodedata.category(c) != "Zs")
               for c in line)


def test_text_lines_flow_through_a_pipe_while_running() -> None:
    with Proc(["listen", "127.0.0.1:0", "--timeout", "20"]) as p, sender() as tx:
        port = listening_port(p.line())
        assert p.popen.poll() is None
        for i in range(3):
            tx.sendto(f"hello {i}".encode(), ("127.0.0.1", port))
            line = p.line()  # arrives while the process is still running: flushed per line
            assert p.popen.poll() is None
            assert f" from 127.0.0.1:{tx.getsockname()[1]} " in line
            assert line.endswith(f" 7 bytes: hello {i}")
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        assert p.rest() == ["closed"]
        assert "Traceback" not in p.stderr()


def test_jsonl_objects_are_exactly_as_documented() -> None:
    payloads = [b"hello", b"", b"\x00\xff\x80binary"]
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--count", str(len(payloads)),
               "--timeout", "20"]) as p, sender() as tx:
        first = p.json()
        assert first == {"event": "listening", "address": "127.0.0.1", "family": "IPv4",
                         "port": first["port"]}
        before = time.time()
        for data in payloads:
            tx.sendto(data, ("127.0.0.1", first["port"]))
        for data in payloads:
            obj = p.json()
            assert REQUIRED <= set(obj) <= REQUIRED | OPTIONAL, obj
            assert obj["event"] == "message"
            assert obj["address"] == "127.0.0.1" and obj["family"] == "IPv4"
            assert obj["port"] == tx.getsockname()[1]
            assert obj["size"] == len(data)
            assert bytes.fromhex(obj["hex"]) == data
            assert unescape(obj["text"]) == data and terminal_safe_line(obj["text"])
            assert before - 1 < obj["time"] < time.time() + 1
            for key in OPTIONAL & set(obj):
                assert obj[key] is not None
        assert p.json() == {"event": "close"}
        assert p.wait() == 0  # --count reached


def test_count_and_timeout_end_with_status_0() -> None:
    with Proc(["listen", "127.0.0.1:0", "--timeout", "0.5"]) as p:
        listening_port(p.line())
        start = time.monotonic()
        assert p.wait(timeout=15) == 0
        assert 0.3 < time.monotonic() - start < 10
        assert p.rest() == ["closed"]
    with Proc(["listen", "127.0.0.1:0", "--count", "2", "--timeout", "20"]) as p, sender() as tx:
        port = listening_port(p.line())
        for _ in range(2):
            tx.sendto(b"x", ("127.0.0.1", port))
        assert p.wait() == 0
        rest = p.rest()
        assert len(rest) == 3 and rest[-1] == "closed"


def test_hex_format_uses_the_hex_dump() -> None:
    data = b"hello\x00\x1b[31m\xff" * 3
    with Proc(["listen", "127.0.0.1:0", "--format", "hex", "--count", "1", "--timeout", "20"]) as p, \
            sender() as tx:
        port = listening_port(p.line())
        tx.sendto(data, ("127.0.0.1", port))
        assert p.wait() == 0
        rest = p.rest()
        assert rest[0].endswith(f"{len(data)} bytes")
        assert rest[1:-1] == ["  " + row for row in hexdump_lines(data)]
        assert rest[-1] == "closed"
    assert b"\x1b" not in b"".join(p.seen)


@pytest.mark.parametrize("fmt", ["text", "hex", "jsonl"])
def test_hostile_payloads_never_reach_the_terminal(fmt: str) -> None:
    with Proc(["listen", "127.0.0.1:0", "--format", fmt, "--count", str(len(HOSTILE)),
               "--timeout", "30"]) as p, sender() as tx:
        port = listening_port(p.line())
        for _, data in HOSTILE:
            tx.sendto(data, ("127.0.0.1", port))
        assert p.wait(timeout=30) == 0
        lines = p.rest()
    raw = b"".join(p.seen)
    for bad in (b"\x1b", b"\x07", b"\x00", b"\x7f", b"\x08", b"\r", "\u009b".encode(),
                "\u202e".encode(), "\u2028".encode(), "\u200b".encode()):
        assert bad not in raw
    assert all(terminal_safe_line(line) for line in lines)
    if fmt == "text":
        messages = [line for line in lines if " from 127.0.0.1:" in line]
        assert len(messages) == len(HOSTILE)
        for (name, data), line in zip(HOSTILE, messages, strict=True):
            size = f" {len(data)} byte{'' if len(data) == 1 else 's'}"
            if not data:
                assert line.endswith(size), name
            elif len(data) <= 2048:
                head, sep, shown = line.partition(size + ": ")
                assert sep, (name, line)
                assert unescape(shown) == data, name  # exact read-back from what was shown
            else:
                assert line.endswith(f"…(+{len(data) - 2048} bytes)"), name
    if fmt == "jsonl":
        got = [json.loads(line) for line in lines if '"message"' in line]
        assert [bytes.fromhex(o["hex"]) for o in got] == [d for _, d in HOSTILE]


def test_bind_failure_is_a_runtime_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with Proc(["listen", f"127.0.0.1:{port}"]) as p:
            assert p.wait() == 1
            err = p.stderr()
            assert "EADDRINUSE" in err and "Traceback" not in err
            assert p.rest() == ["closed"]
        with Proc(["listen", f"127.0.0.1:{port}", "--format", "jsonl"]) as p:
            assert p.wait() == 1
            events = [json.loads(line) for line in p.rest()]
            assert events[0]["event"] == "error" and events[0]["code"] == "EADDRINUSE"
            assert set(events[0]) == {"event", "code", "message"}
            assert str(port) in events[0]["message"]
            assert events[-1] == {"event": "close"}
            assert "EADDRINUSE" in p.stderr()


def test_ctrl_c_in_jsonl_closes_cleanly() -> None:
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl"]) as p:
        listening_port(p.line())
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        assert [json.loads(x) for x in p.rest()] == [{"event": "close"}]
        err = p.stderr()
        assert "Traceback" not in err and "KeyboardInterrupt" not in err


def test_closed_pipe_ends_quietly() -> None:
    with Proc(["listen", "127.0.0.1:0", "--timeout", "20"], reader=False) as p, sender() as tx:
        assert p.popen.stdout is not None
        port = listening_port(p.popen.stdout.readline().decode().strip())
        p.popen.stdout.close()  # like `udpscope listen 0 | head -1`

        def ended() -> bool:  # each look sends one more datagram: the write that finds no reader
            if p.popen.poll() is not None:
                return True
            tx.sendto(b"x", ("127.0.0.1", port))
            return False

        wait_until(ended, 10, what="listen to end on its closed stdout", interval=0.05)
        assert p.wait() == 0
        err = p.stderr()
        assert "Traceback" not in err and "BrokenPipe" not in err


@needs_ipv6
def test_ipv6_and_udp6() -> None:
    with Proc(["listen", "[::1]:0", "--format", "jsonl", "--count", "1", "--timeout", "20"]) as p, \
            sender(socket.AF_INET6) as tx:
        first = p.json()
        assert (first["address"], first["family"]) == ("::1", "IPv6")
        tx.sendto(b"six", ("::1", first["port"]))
        msg = p.json()
        assert (msg["address"], msg["family"], msg["hex"]) == ("::1", "IPv6", b"six".hex())
        assert p.wait() == 0
    with Proc(["listen", "--udp6", "0", "--count", "1", "--timeout", "20"]) as p, \
            sender(socket.AF_INET6) as tx:
        line = p.line()
        assert line.startswith("listening on [::]:") and line.endswith("(IPv6)")
        tx.sendto(b"x", ("::1", listening_port(line)))
        assert " from [::1]:" in p.line()
        assert p.wait() == 0


def test_without_multicast_isolation_it_still_listens(monkeypatch, capsys) -> None:
    """A kernel without IP_MULTICAST_ALL: listen says so on stderr and carries on."""
    import errno

    from udpscope.cli import main as cli_main
    from udpscope.dgram import handle

    def unsupported(sock, family, ipv6_only, flag):
        raise OSError(errno.ENOPROTOOPT, "Protocol not available")

    monkeypatch.setattr(handle, "apply_multicast_all", unsupported)
    assert cli_main.main(["listen", "127.0.0.1:0", "--timeout", "0.3"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("listening on 127.0.0.1:") and lines[-1] == "closed"
    assert "multicast isolation (IP_MULTICAST_ALL) is not available" in err
    assert "Traceback" not in err


def test_a_flood_is_accounted_for_kernel_drops_are_reported() -> None:
    """More than listen can print: what the kernel dropped is reported, and nothing else is lost."""
    sent = 30_000
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--timeout", "4"]) as p, \
            sender() as tx:
        port = listening_port(p.line())
        payload = b"f" * 1000
        for _ in range(sent):  # bounded burst to loopback, far faster than listen prints
            tx.sendto(payload, ("127.0.0.1", port))
        assert p.wait(timeout=20) == 0
        events = [json.loads(line) for line in p.rest()]
        received = sum(1 for e in events if e["event"] == "message")
        close = events[-1]
        assert close["event"] == "close"
        assert close.get("kernel_drops", 0) > 0, "the burst should overflow the receive buffer"
        assert received + close["kernel_drops"] == sent
        assert "dropped" in p.stderr()
