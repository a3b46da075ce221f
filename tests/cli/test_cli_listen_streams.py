"""`listen --decode`, `--seq`, `--arbitrate` and the `stream` events, as a real process on
loopback (127.0.0.1 only): protocol and sanitised info on each message, stream summaries with
exact counts before `close`, per-datagram kernel receive times, usage errors that name the
argument. Output goes through a pipe without PYTHONUNBUFFERED (clitools), so every line must
be flushed to arrive."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import pytest

from tests.cli.clitools import Proc, listening_port, run_cli
from tests.streams.build import MSEARCH, rtp, ts_packet
from udpscope import probe as probes
from udpscope.textsafe import is_terminal_safe


@contextmanager
def sender() -> Iterator[socket.socket]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield s
    finally:
        s.close()


def events(p: Proc) -> list[dict]:
    return [json.loads(line) for line in p.rest(timeout=20)]


def test_decode_names_each_datagram_in_jsonl_and_text() -> None:
    query = dns.message.make_query("example.org", "A").to_wire()
    probe = probes.encode_probe(0, time.time(), size=50)
    cases = [(MSEARCH, "ssdp", "M-SEARCH ST ssdp:all MX 2"),
             (rtp(9, 0, pt=0, payload=b"x" * 20), "rtp", "PT 0 PCMU seq 9 ts 0 ssrc 0x12345678"),
             (query, "dns", "query A example.org"),
             (probe, "probe", "probe stream 0 seq 0 (50 bytes)"),
             (b"\x01\x02 nothing", "data", "10 bytes")]
    with Proc(["listen", "127.0.0.1:0", "--decode", "--format", "jsonl", "--count",
               str(len(cases)), "--timeout", "20"]) as p, sender() as tx:
        port = p.json()["port"]
        for data, _proto, _info in cases:
            tx.sendto(data, ("127.0.0.1", port))
        for data, proto, info in cases:
            msg = p.json()
            assert (msg["event"], msg["proto"], msg["info"]) == ("message", proto, info)
            assert bytes.fromhex(msg["hex"]) == data
        assert p.wait() == 0
    with Proc(["listen", "127.0.0.1:0", "--decode", "--count", "1", "--timeout", "20"]) as p, \
            sender() as tx:
        port = listening_port(p.line())
        tx.sendto(MSEARCH, ("127.0.0.1", port))
        line = p.line()
        assert " 94 bytes [ssdp: M-SEARCH ST ssdp:all MX 2]: M-SEARCH * HTTP/1.1\\r\\n" in line
        assert p.wait() == 0


def test_decoded_info_is_sanitised() -> None:
    hostile = MSEARCH.replace(b"ssdp:all", b"\x1b]0;pwned\x07\xe2\x80\xae")
    with Proc(["listen", "127.0.0.1:0", "--decode", "--count", "1", "--timeout", "20"]) as p, \
            sender() as tx:
        port = listening_port(p.line())
        tx.sendto(hostile, ("127.0.0.1", port))
        line = p.line()
        assert "[ssdp: M-SEARCH ST \\e]0;pwned\\x07\\u202e MX 2]" in line
        assert is_terminal_safe(line)
        assert p.wait() == 0
    assert b"\x1b" not in b"".join(p.seen)


def rtp_with_faults() -> tuple[list[bytes], dict[str, int]]:
    """RTP carrying TS: 3 RTP packets lost, 1 duplicated, 2 swapped, across the 16-bit wrap;
    and one TS continuity break (7 TS packets missing before the packetiser)."""
    order = list(range(65500, 65536)) + list(range(0, 164))     # 200 numbers across the wrap
    for gone in (65510, 3, 100):
        order.remove(gone)
    order.insert(order.index(50) + 1, 50)                         # a duplicate
    i = order.index(70)
    order[i], order[i + 1] = order[i + 1], order[i]               # 71 before 70
    cc = 0
    packets = []
    for s in order:
        if s == 120:
            cc += 7                                               # a TS-level gap
        tsp = b"".join(ts_packet(0x100, (cc + k) % 16, b"v") for k in range(7))
        cc += 7
        packets.append(rtp(s, s * 3000, ssrc=0xC0FFEE, pt=33, payload=tsp))
    return packets, {"packets": 198, "lost": 3, "duplicates": 1, "reordered": 1}


def send_paced(p: Proc, tx: socket.socket, port: int, packets: list[bytes], jsonl: bool) -> None:
    """Send in groups of 20, each after the listener printed the last: no receive-buffer
    overflow however slow the machine (kernel drops are tested elsewhere)."""
    for i in range(0, len(packets), 20):
        group = packets[i:i + 20]
        for data in group:
            tx.sendto(data, ("127.0.0.1", port))
        for _ in group:
            line = p.line()
            assert (json.loads(line)["event"] == "message") if jsonl else " from " in line


def test_rtp_and_mpegts_stream_events_with_exact_counts() -> None:
    packets, expected = rtp_with_faults()
    with Proc(["listen", "127.0.0.1:0", "--decode", "--format", "jsonl", "--count",
               str(len(packets)), "--timeout", "60"]) as p, sender() as tx:
        port = p.json()["port"]
        src = f"127.0.0.1:{tx.getsockname()[1]}"
        send_paced(p, tx, port, packets, jsonl=True)
        assert p.wait(timeout=30) == 0
        got = events(p)
    assert [e["event"] for e in got] == ["stream", "stream", "close"]
    rtp_event, ts_event, close = got
    assert rtp_event["kind"] == "rtp"
    assert {k: rtp_event[k] for k in expected} == expected
    assert (rtp_event["source"], rtp_event["destination"]) == (src, f"127.0.0.1:{port}")
    assert rtp_event["ssrc"] == 0xC0FFEE and isinstance(rtp_event["jitter_ms"], float)
    assert rtp_event["kernel_drops"] == 0 and "kernel_drops" not in close
    assert ts_event["kind"] == "mpegts" and ts_event["reordered"] is None
    # the RTP losses and the duplicate do not break TS continuity here (the TS was numbered
    # as sent); the one TS-level gap does: one CC error, 7 TS packets missing
    assert (ts_event["packets"], ts_event["lost"], ts_event["cc_errors"]) == (7 * 198, 7, 1)
    assert ts_event["pids"] == 1 and ts_event["pcr_pids"] == []


def test_stream_text_lines_before_closed() -> None:
    packets, _expected = rtp_with_faults()
    with Proc(["listen", "127.0.0.1:0", "--decode", "--count", str(len(packets)), "--timeout",
               "60"]) as p, sender() as tx:
        port = listening_port(p.line())
        src = tx.getsockname()[1]
        send_paced(p, tx, port, packets, jsonl=False)
        assert p.wait(timeout=30) == 0
        lines = p.rest()
    assert len(lines) == 3 and lines[-1] == "closed"
    rtp_line, ts_line = lines[0], lines[1]
    assert rtp_line.startswith(f"stream rtp 127.0.0.1:{src} -> 127.0.0.1:{port}"
                               f" ssrc 0x00c0ffee pt 33: 198 packets, 3 lost, 1 duplicate, "
                               f"1 reordered, jitter ")
    assert rtp_line.endswith(" ms, carries MPEG-TS")
    assert ts_line.startswith(f"stream mpegts 127.0.0.1:{src} -> 127.0.0.1:{port}: "
                              f"1386 TS packets, 7 lost, 0 duplicates, 1 CC error, 1 PID, "
                              f"PAT missing, PMT missing, ")
    assert ts_line.endswith(" Mbit/s")


def test_kernel_drops_are_reported_beside_the_stream() -> None:
    seqs = list(range(3000))
    payload = b"x" * 1200
    with Proc(["listen", "127.0.0.1:0", "--seq", "0:4", "--format", "jsonl", "--timeout",
               "60"]) as p, sender() as tx:
        port = p.json()["port"]
        os.kill(p.popen.pid, signal.SIGSTOP)       # let the receive buffer overflow
        try:
            for s in seqs:
                tx.sendto(struct.pack("!I", s) + payload, ("127.0.0.1", port))
        finally:
            os.kill(p.popen.pid, signal.SIGCONT)
        # Read what got through; every 10 datagrams send one more number after the flood, so
        # one of them arrives once the buffer drains, then stop.
        received = sentinel = 0
        while True:
            obj = p.json()
            assert obj["event"] == "message"
            received += 1
            if int(obj["hex"][:8], 16) >= len(seqs):
                break
            if received % 10 == 0:
                tx.sendto(struct.pack("!I", len(seqs) + sentinel) + payload, ("127.0.0.1", port))
                sentinel += 1
        p.signal(signal.SIGINT)
        assert p.wait(timeout=30) == 0
        got = events(p)
    stream = next(e for e in got if e["event"] == "stream")
    close = got[-1]
    assert close["event"] == "close" and close["kernel_drops"] > 0
    assert stream["kernel_drops"] == close["kernel_drops"]
    assert stream["lost"] > 0


def test_seq_field_stream_and_count_limit() -> None:
    seqs = [1, 2, 3, 5, 6, 6, 8, 7, 9, 10, 11, 12]
    with Proc(["listen", "127.0.0.1:0", "--seq", "2:4", "--format", "jsonl", "--count", "10",
               "--timeout", "20"]) as p, sender() as tx:
        port = p.json()["port"]
        for s in seqs:
            tx.sendto(b"hd" + struct.pack("!I", s) + b"body", ("127.0.0.1", port))
        assert p.wait() == 0
        got = events(p)
    (stream,) = [e for e in got if e["event"] == "stream"]
    # only the 10 datagrams --count printed are counted: 1..9 with 4 lost, 6 twice, 7 late
    assert {k: stream[k] for k in ("kind", "packets", "lost", "duplicates", "reordered",
                                   "seq")} == {"kind": "seq", "packets": 10, "lost": 1,
                                               "duplicates": 1, "reordered": 1, "seq": "2:4"}
    assert got[-1] == {"event": "close"}


def test_arbitrate_two_lines_loss_per_line_and_after_merge() -> None:
    a_gaps, b_gaps = {5, 6, 40}, {6, 20, 21, 22}
    with Proc(["listen", "127.0.0.1:0", "--seq", "0:8:le", "--arbitrate", "--format", "jsonl",
               "--timeout", "20"]) as p, sender() as line_a, sender() as line_b:
        port = p.json()["port"]
        a = f"127.0.0.1:{line_a.getsockname()[1]}"
        b = f"127.0.0.1:{line_b.getsockname()[1]}"
        sent = 0
        for s in range(60):
            for tx, gaps in ((line_a, a_gaps), (line_b, b_gaps)):
                if s not in gaps:
                    tx.sendto(struct.pack("<Q", s) + b"tick", ("127.0.0.1", port))
                    sent += 1
        for _ in range(sent):
            assert p.json()["event"] == "message"
        p.signal(signal.SIGINT)
        assert p.wait() == 0
        got = events(p)
    streams = {(e["kind"], e["source"]): e for e in got if e["event"] == "stream"}
    assert streams[("seq", a)]["lost"] == 3 and streams[("seq", b)]["lost"] == 4
    merged = streams[("arbitrated", None)]
    assert merged["lost"] == 1                      # 6 arrived on neither line
    assert merged["packets"] == sent and merged["seq"] == "0:8:le"
    assert merged["destination"] == f"127.0.0.1:{port}"
    assert sorted((ln["source"], ln["lost"]) for ln in merged["lines"]) == sorted(
        [(a, 3), (b, 4)])


def test_probe_streams_are_summarised_without_flags() -> None:
    with Proc(["listen", "127.0.0.1:0", "--count", "4", "--timeout", "20"]) as p:
        port = listening_port(p.line())
        res = run_cli("send", "127.0.0.1", str(port), "--probe", "--count", "4", "--rate", "200")
        assert res.returncode == 0, res.stderr
        assert p.wait() == 0
        lines = p.rest()
    (summary,) = [ln for ln in lines if ln.startswith("stream probe ")]
    assert ": 4 packets, 0 lost, 0 duplicates, 0 reordered, delay " in summary
    assert summary.endswith(" ms avg") and lines[-1] == "closed"


def test_text_shows_each_datagrams_kernel_receive_time_not_the_batchs() -> None:
    with Proc(["listen", "127.0.0.1:0", "--count", "3", "--timeout", "20"]) as p, \
            sender() as tx:
        port = listening_port(p.line())
        os.kill(p.popen.pid, signal.SIGSTOP)       # the three datagrams queue up in the kernel
        try:
            for i in range(3):
                tx.sendto(f"burst {i}".encode(), ("127.0.0.1", port))
                time.sleep(0.15)                   # spacing the kernel stamps, not a wait
        finally:
            os.kill(p.popen.pid, signal.SIGCONT)
        lines = [p.line() for _ in range(3)]       # now read in one batch
        assert p.wait() == 0

    def seconds(line: str) -> float:
        h, m, s = line.split()[0].split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    gaps = [seconds(b) - seconds(a) for a, b in zip(lines, lines[1:], strict=False)]
    assert all(0.1 < g < 1.0 for g in gaps), (gaps, lines)


@pytest.mark.parametrize(("argv", "expected"), [
    (["--seq", "4"], "argument --seq: expected OFFSET:WIDTH[:be|le], got '4'"),
    (["--seq", "4:3"], "argument --seq: width 3 must be 1, 2, 4 or 8 bytes"),
    (["--seq", "x:2"], "argument --seq: offset 'x' is not a number"),
    (["--seq", "0:2:middle"], "argument --seq: byte order 'middle' must be be or le"),
    (["--seq", "70000:2"], "argument --seq: offset 70000 out of range 0..65535"),
    (["--arbitrate"], "argument --arbitrate: needs --seq OFFSET:WIDTH"),
])
def test_usage_errors_name_the_argument(argv: list[str], expected: str) -> None:
    res = run_cli("listen", "127.0.0.1:0", *argv)
    err = res.stderr.decode()
    assert res.returncode == 2 and res.stdout == b"" and "Traceback" not in err
    assert expected in err.rstrip("\n").splitlines()[-1]


def test_random_payloads_never_break_decode_or_health() -> None:
    rng = random.Random(7)
    payloads = [rng.randbytes(rng.randrange(0, 400)) for _ in range(150)]
    payloads += [bytes([0x80]) + rng.randbytes(30) for _ in range(50)]    # RTP-looking noise
    with Proc(["listen", "127.0.0.1:0", "--decode", "--seq", "1:2", "--arbitrate", "--format",
               "jsonl", "--count", str(len(payloads)), "--timeout", "30"]) as p, sender() as tx:
        port = p.json()["port"]
        for data in payloads:
            tx.sendto(data, ("127.0.0.1", port))
        assert p.wait(timeout=30) == 0
        got = events(p)
    assert "Traceback" not in p.stderr()
    assert sum(e["event"] == "message" for e in got) == len(payloads)
    assert all(is_terminal_safe(e["info"]) for e in got if e["event"] == "message")
    assert got[-1]["event"] == "close"
    assert not any(e["event"] == "stream" and e["kind"] == "rtp" for e in got)


def test_plain_listen_loads_neither_numpy_nor_the_decoders() -> None:
    """A plain `listen` starts as fast as before: health and decoding load when needed."""
    code = ("import sys; from udpscope.cli.main import main; "
            "rc = main(['listen', '127.0.0.1:0', '--timeout', '0.2']); "
            "print(sorted(m for m in ('numpy', 'dns', 'udpscope.decode', 'udpscope.health') "
            "if m in sys.modules))")
    import subprocess
    import sys

    from tests.cli.clitools import REPO, cli_env
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30,
                          env=cli_env(), cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines()[-1] == "[]"


def test_the_seq_field_is_echoed_as_given_but_made_safe() -> None:
    with Proc(["listen", "127.0.0.1:0", "--seq", "0:2:\x1b", "--count", "1"]) as p:
        assert p.wait() == 2
    err = p.stderr()
    assert "\x1b" not in err and "argument --seq: byte order" in err
    with Proc(["listen", "127.0.0.1:0", "--seq", "0\t:2", "--count", "2", "--timeout",
               "20"]) as p, sender() as tx:
        port = listening_port(p.line())
        for s in (1, 3):
            tx.sendto(struct.pack("!H", s), ("127.0.0.1", port))
        assert p.wait() == 0
        lines = p.rest()
    (stream,) = [ln for ln in lines if ln.startswith("stream seq ")]
    assert "(seq 0\\t:2): 2 packets, 1 lost" in stream
    assert all(is_terminal_safe(ln) for ln in lines)
