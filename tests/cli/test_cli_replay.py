"""`udpscope replay` on loopback: payloads in order, the recorded pace (and divided by --speed),
--max, --count, --to, a cut file, usage errors and a send that fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.clitools import CLI, run_cli
from tests.files import pcapgen as g
from tests.files.receiver import Receiver
from tests.netns import run_in

T0 = 1_700_000_200.0
GAPS = [0.0, 0.15, 0.30, 0.60, 0.65, 0.90]
PACE_TOLERANCE = 0.08  # seconds, per datagram, on a shared 2-core machine


def capture(tmp_path: Path, times: list[float], dst: str = "10.9.9.9", dport: int = 9999,
            name: str = "c.pcap") -> tuple[str, list[bytes]]:
    payloads = [f"datagram {i} ".encode() * (i + 1) for i in range(len(times))]
    records = [(T0 + t, g.ethernet(g.ipv4("10.9.9.1", dst, g.udp(4000 + i, dport, p)), 0x0800))
               for i, (t, p) in enumerate(zip(times, payloads, strict=True))]
    path = tmp_path / name
    path.write_bytes(g.pcap(records, 1))
    return str(path), payloads


def test_recorded_pace_and_order(tmp_path: Path) -> None:
    path, payloads = capture(tmp_path, GAPS)
    with Receiver(len(payloads)) as rx:
        res = run_cli("replay", path, "--to", f"127.0.0.1:{rx.port}")
        rx.wait()
    assert res.returncode == 0, res.stderr
    assert rx.payloads == payloads
    for got, want in zip(rx.offsets(), GAPS, strict=True):
        assert abs(got - want) < PACE_TOLERANCE, (rx.offsets(), GAPS)
    out = res.stdout.decode()
    assert f"replayed {len(payloads)} datagrams" in out and "c.pcap" in out


def test_speed_divides_the_gaps(tmp_path: Path) -> None:
    path, payloads = capture(tmp_path, [t * 2 for t in GAPS])
    with Receiver(len(payloads)) as rx:
        res = run_cli("replay", path, "--to", f"127.0.0.1:{rx.port}", "--speed", "4")
        rx.wait()
    assert res.returncode == 0, res.stderr
    assert rx.payloads == payloads
    for got, want in zip(rx.offsets(), [t * 2 / 4 for t in GAPS], strict=True):
        assert abs(got - want) < PACE_TOLERANCE, rx.offsets()


def test_max_ignores_the_gaps_and_count_limits(tmp_path: Path) -> None:
    path, payloads = capture(tmp_path, [i * 10.0 for i in range(400)])  # 4000 s recorded
    with Receiver(300) as rx:
        res = run_cli("replay", path, "--to", f"127.0.0.1:{rx.port}", "--max", "--count", "300")
        rx.wait()
    assert res.returncode == 0, res.stderr
    assert rx.payloads == payloads[:300]
    assert rx.offsets()[-1] < 5
    assert "replayed 300 datagrams" in res.stdout.decode()


def test_original_destination_is_used_without_to(tmp_path: Path) -> None:
    with Receiver(3) as rx:
        path, payloads = capture(tmp_path, [0, 0.01, 0.02], dst="127.0.0.1", dport=rx.port)
        res = run_cli("replay", path, "--max")
        rx.wait()
    assert res.returncode == 0, res.stderr
    assert rx.payloads == payloads


def test_cut_file_replays_the_complete_part_and_says_so(tmp_path: Path) -> None:
    path, payloads = capture(tmp_path, [0, 0.01, 0.02, 0.03])
    Path(path).write_bytes(Path(path).read_bytes()[:-5])
    with Receiver(3) as rx:
        res = run_cli("replay", path, "--to", f"127.0.0.1:{rx.port}", "--max")
        rx.wait()
    assert res.returncode == 0
    assert rx.payloads == payloads[:3]
    err = res.stderr.decode()
    assert "cut short" in err and "Traceback" not in err


def test_skipped_frames_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "m.pcap"
    tcp = g.ethernet(g.ipv4("10.0.0.1", "10.0.0.2", b"\0" * 20, proto=6), 0x0800)
    with Receiver(1) as rx:
        udp = g.ethernet(g.ipv4("10.0.0.1", "127.0.0.1", g.udp(1, rx.port, b"u")), 0x0800)
        path.write_bytes(g.pcap([(T0, tcp), (T0, udp), (T0, tcp)], 1))
        res = run_cli("replay", str(path), "--max")
        rx.wait()
    assert res.returncode == 0 and rx.payloads == [b"u"]
    assert "skipped 2 frames" in res.stdout.decode()
    assert "2 not UDP" in res.stderr.decode()


@pytest.mark.parametrize(("args", "last"), [
    (["replay", "{dir}/nope.pcap"], "argument FILE: not found"),
    (["replay", "{dir}/x.txt"], "argument FILE: not a pcap or pcapng capture"),
    (["replay", "{dir}/c.pcap", "--to", "127.0.0.1"], "argument --to:"),
    (["replay", "{dir}/c.pcap", "--speed", "0"], "argument --speed:"),
    (["replay", "{dir}/c.pcap", "--speed", "2", "--max"], "argument --max: not allowed with argument --speed"),
    (["replay", "{dir}/c.pcap", "--ttl", "300"], "argument --ttl:"),
    (["open", "{dir}/x.txt"], "argument FILE: not a pcap or pcapng capture"),
    (["open", "{dir}"], "argument FILE: is a directory"),
])
def test_usage_errors(tmp_path: Path, args: list[str], last: str) -> None:
    capture(tmp_path, [0])
    (tmp_path / "x.txt").write_text("hello\n")
    res = run_cli(*(a.format(dir=tmp_path) for a in args))
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert "Traceback" not in err
    assert last in err.strip().splitlines()[-1], err


def test_a_failed_send_exits_1(tmp_path: Path, netns: str) -> None:
    # A broadcast destination without --broadcast, in a namespace of our own holding only lo:
    # the kernel refuses (no route there) and nothing is sent anywhere.
    path, _ = capture(tmp_path, [0, 0.01], dst="255.255.255.255")
    res = run_in(netns, [*CLI, "replay", path, "--max"], check=False)
    assert res.returncode == 1, res.stderr
    errors = [line for line in res.stderr.splitlines() if ": error: send " in line]
    assert len(errors) == 1 and "Traceback" not in res.stderr  # the first error of its code
    assert "replayed 0 datagrams" in res.stdout and "2 failed" in res.stdout
