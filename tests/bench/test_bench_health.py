"""The stream-health scenarios of the developer harness: the RTP payloads the sender makes are
a real stream (numbers and continuity counters advance, wrap), the health worker refuses
non-loopback and accounts for every datagram, and a short paced run fills the report's health
sections. No speed is asserted."""

from __future__ import annotations

import socket
import subprocess
import sys

import numpy as np
import pytest

import bench.cli as harness
from bench.cli import ROOT
from bench.health import BATCH_ONLY, RTP_HEALTH, TS_HEALTH, TrackScenario
from udpscope.benchkit import blaster
from udpscope.benchkit.host import detect
from udpscope.benchkit.payloads import Payloads
from udpscope.benchkit.proc import child_env
from udpscope.benchkit.receive import ReceiveScenario
from udpscope.benchkit.report import render
from udpscope.benchkit.runner import Bench, Config
from udpscope.cli import bench as user_bench
from udpscope.decode import decode
from udpscope.health import HealthBook


@pytest.mark.parametrize(("kind", "size"), [("rtp", 172), ("rtp-ts", 1328)])
def test_payloads_are_a_continuous_stream_across_the_16_bit_wrap(kind: str, size: int) -> None:
    stream = Payloads(kind, size)
    book = HealthBook(rtp=True, mpegts=True)
    for n in (64, 1, 37) * 700:            # 71,400 datagrams: the sequence wraps once
        train = stream.train(n)
        assert len(train) == n * size
        book.feed(("127.0.0.1", 1), ("127.0.0.1", 2),
                  [train[i * size:(i + 1) * size] for i in range(n)], np.zeros(n))
    found = {s.kind: s for s in book.streams()}
    assert (found["rtp"].packets, found["rtp"].lost, found["rtp"].duplicates) == (71_400, 0, 0)
    if kind == "rtp-ts":
        assert found["mpegts"].details["cc_errors"] == 0
        assert found["mpegts"].packets == 7 * 71_400
    first = Payloads(kind, size).train(1)
    assert decode(first).proto == "rtp"
    with pytest.raises(ValueError):
        Payloads("rtp-ts", 1000)


def test_blaster_sends_the_rtp_stream_in_order() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        rx.bind(("127.0.0.1", 0))
        result = blaster.blast("127.0.0.1", rx.getsockname()[1], 172, 0.2, rate=2000,
                               payload="rtp")
        rx.settimeout(0.5)
        seqs = []
        try:
            while True:
                seqs.append(int.from_bytes(rx.recv(2048)[2:4], "big"))
        except TimeoutError:
            pass
    assert result["payload"] == "rtp" and result["sent"] == len(seqs) > 0
    assert seqs == list(range(len(seqs)))


@pytest.mark.parametrize("host", ["10.0.0.1", "8.8.8.8", "localhost"])
def test_health_worker_refuses_anything_but_loopback(host: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.health_worker", "recv", host, "0", "100",
                           "1", "rtp"], capture_output=True, timeout=30, cwd=ROOT,
                          env=child_env({}, [str(ROOT)]), check=False)
    assert proc.returncode == 2 and b"loopback only" in proc.stderr


def test_a_short_paced_run_fills_the_health_sections() -> None:
    rtp = ReceiveScenario([BATCH_ONLY, RTP_HEALTH], key="health_rtp", title="HEALTH RTP  test",
                          baseline="batch", size=172, payload="rtp", rate=3000.0)
    ts = ReceiveScenario([TS_HEALTH], key="health_ts", title="HEALTH TS  test", size=1328,
                         payload="rtp-ts", rate=2000.0)
    track = TrackScenario()
    with Bench(Config(seconds=0.3, repeat=1), detect(pin=True), pythonpath=[str(ROOT)]) as b:
        data = b.run([rtp, ts, track])
    for section, key in (("health_rtp", "batch"), ("health_rtp", "rtp"), ("health_ts", "mpegts")):
        s = data[section][key]
        assert "error" not in s, s
        assert s["loss"] == 0 and s["received"] == s["sent"] > 0
    (run,) = data["health_rtp"]["rtp"]["runs"]
    assert run["worker"]["rtp_packets"] == run["received"] and run["worker"]["rtp_lost"] == 0
    (run,) = data["health_ts"]["mpegts"]["runs"]
    assert run["worker"]["mpegts_packets"] == 7 * run["received"]
    assert run["worker"]["cc_errors"] == 0
    for kind in ("rtp", "mpegts"):
        s = data["health_track"][kind]
        assert "error" not in s, s
        assert s["pps"] > 0 and s["lost"] == 0 and s["cc_errors"] == 0
    text = render(data, [rtp, ts, track])
    assert "HEALTH RTP  test" in text and "engine + RTP health" in text
    assert "TRACK  stream health alone" in text and "MPEG-TS over RTP" in text


def test_health_option_plans_the_scenarios_and_is_a_developer_option() -> None:
    ns = user_bench.build_parser().parse_args(["--only", "health"])
    cfg = harness.config_from(ns)
    with Bench(cfg, detect(pin=False)) as b:
        keys = [s.key for s in harness.plan(cfg, b.host, b)]
    assert keys == ["health_rtp", "health_ts", "health_track"]
    assert user_bench.developer_options(user_bench.build_parser().parse_args(["--health"])) == [
        "--health"]
