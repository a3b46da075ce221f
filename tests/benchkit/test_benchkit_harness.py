"""The wheel's bench machinery: peers account for every datagram, refuse non-loopback, never
outlive the bench; a new scenario joins a run through the scenario interface.

No speed is asserted anywhere (speed is shown by the bench's numbers, not by timed tests); what is
checked is that the numbers are computed from the right counts and that the plumbing is safe.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.waiting import wait_until
from udpscope.benchkit import blaster, report
from udpscope.benchkit.host import detect
from udpscope.benchkit.proc import Children, PeerError, python_argv
from udpscope.benchkit.receive import ENGINE_RECEIVER, Ratio, ReceiveScenario
from udpscope.benchkit.runner import Bench, Config
from udpscope.benchkit.scenario import Peer, ReceiverSpec
from udpscope.benchkit.stats import limits, paired, percentile, summarize
from udpscope.cli import bench


def _drain(sock: socket.socket, quiet: float = 0.3) -> int:
    sock.settimeout(quiet)
    n = 0
    while True:
        try:
            sock.recv(65536)
        except TimeoutError:
            return n
        n += 1


def test_paced_blaster_counts_exactly_what_it_sent() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        rx.bind(("127.0.0.1", 0))
        result = blaster.blast("127.0.0.1", rx.getsockname()[1], 64, 0.2, rate=5000)
        got = _drain(rx)
    assert result["sent"] == got > 0
    assert result["errors"] == 0
    assert result["method"] in ("gso", "sendmmsg", "sendto")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="UDP GSO is Linux-only")
def test_gso_datagrams_arrive_as_ordinary_datagrams_of_the_given_size() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx, \
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        rx.bind(("127.0.0.1", 0))
        tx.connect(rx.getsockname())
        name, shot, per_shot, primed = blaster.choose(tx, 100, "auto", limit=8)
        sent = primed + shot()
        sizes = []
        rx.settimeout(1)
        for _ in range(sent):
            sizes.append(len(rx.recv(65536)))
    assert per_shot == (8 if name != "sendto" else 1)
    assert sizes == [100] * sent


def test_gso_train_never_exceeds_the_udp_limit() -> None:
    assert blaster.segments_for(64) == 64
    assert blaster.segments_for(1200) * 1200 <= 65507
    assert blaster.segments_for(65507) == 1


@pytest.mark.parametrize("host", ["10.0.0.1", "8.8.8.8", "localhost", "224.0.0.1"])
def test_python_peers_refuse_anything_but_loopback(host: str) -> None:
    with pytest.raises(ValueError):
        blaster.blast(host, 9, 64, 0.1)
    for module, args in (("udpscope.benchkit.blaster", [host, "9", "64", "0.1"]),
                         ("udpscope.benchkit.sink", [host, "0", "100", "1"]),
                         ("udpscope.benchkit.engine_worker", ["recv", host, "0", "100", "1"]),
                         ("udpscope.benchkit.engine_worker",
                          ["send", host, "9", "64", "0.1", "connected"])):
        proc = subprocess.run(python_argv(module, *args), capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 2, (module, proc.stderr)
        assert "loopback" in proc.stderr or "127.0.0.1" in proc.stderr


def test_children_are_killed_when_the_block_ends() -> None:
    with Children() as kids:
        child = kids.start([sys.executable, "-c", "import time; print('READY 1 2', flush=True);"
                            " time.sleep(60)"], "sleeper", None)
        assert child.ready(30) == ["1", "2"]
        proc = child.proc
    assert proc.poll() is not None


def test_a_silent_child_times_out_with_its_stderr(tmp_path: Path) -> None:
    """The timeout's message carries what the child wrote to stderr (the reason it is silent)."""
    written = tmp_path / "stderr-written"
    with Children() as kids:
        child = kids.start([sys.executable, "-c", "import pathlib, sys, time;"
                            " sys.stderr.write('boom: no such group'); sys.stderr.flush();"
                            f" pathlib.Path({str(written)!r}).touch(); time.sleep(60)"],
                           "mute", None)
        wait_until(written.exists, 30, what="the child to write its stderr")
        t0 = time.monotonic()
        with pytest.raises(PeerError, match="mute: no answer within") as info:
            child.ready(0.5)
        assert time.monotonic() - t0 < 10
        assert "boom: no such group" in str(info.value)


def test_summaries_take_medians_and_name_the_limit() -> None:
    runs = [{"pps": p, "received": 10, "sent": 30, "loss": 20, "kernel_drops": 20,
             "window_s": 1.0, "cpu_s": c, "cpu_us": c / 10 * 1e6, "cpu_share": c,
             "sender_pps": 1e6} for p, c in ((100.0, 0.5), (300.0, 1.0), (200.0, 0.95))]
    s = summarize(runs + [{"error": "x"}], "receive")
    assert s["pps"] == 200.0 and s["ok"] == 3 and s["failed"] == 1
    assert s["spread"] == pytest.approx(1.0)
    assert any("kernel dropped 20 of 30" in n for n in s["limits"])
    assert not limits({"sent": 5, "loss": 0, "sender_pps": 5, "cpu_share": 1.0}, "receive")[0] \
        .startswith("sender saturated")
    r = paired([{"pps": 300.0, "cpu_us": 1.0}, {"pps": 100.0, "cpu_us": 2.0}],
               [{"pps": 100.0, "cpu_us": 2.0}, {"pps": 100.0, "cpu_us": 2.0}])
    assert r == {"rate": 2.0, "cpu_per_datagram": 0.75, "pairs": 2}
    assert summarize([{"error": "peer died"}], "send")["error"] == "peer died"
    assert percentile([4.0, 1.0, 3.0, 2.0], 0.5) == 2.5 and percentile([], 0.5) is None


def test_table_aligns_columns_and_numbers_carry_units() -> None:
    lines = report.table(["peer", "rate"], [["engine", "1.23 M/s"], ["node dgram", "371 k/s"]],
                         right={1})
    assert len({len(line) for line in lines}) == 1
    assert lines[1].endswith("1.23 M/s") and lines[2].endswith(" 371 k/s")
    assert report.si(1234567) == "1.23 M" and report.si(999) == "999"
    assert report.si(61234) == "61.2 k"


def test_smoke_json_run_has_the_documented_keys(capsys: pytest.CaptureFixture[str]) -> None:
    """The user's bench: the engine alone, receive and send, nothing from the harness."""
    assert bench.main(["--seconds", "0.5", "--repeat", "1", "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema"] == "udpscope-bench/1"
    assert {"config", "host", "sender", "receive", "send", "ratios", "notes",
            "elapsed_s"} <= data.keys()
    rx = data["receive"]["engine"]
    assert "error" not in rx, rx
    for key in ("pps", "received", "sent", "loss", "kernel_drops", "window_s", "cpu_us",
                "cpu_share", "spread", "limits", "runs"):
        assert key in rx
    run = rx["runs"][0]
    assert run["received"] > 0 and run["loss"] == run["sent"] - run["received"]
    if run["kernel_drops"] is not None:
        # loopback: what was sent and not received is what the kernel dropped (plus at most
        # what was still in flight when the count was read)
        assert abs(run["kernel_drops"] - run["loss"]) <= max(64, run["sent"] // 1000)
    for mode in ("unconnected", "connected"):
        tx = data["send"][mode]["engine"]
        assert "error" not in tx, tx
        for key in ("pps", "sent", "errors", "cpu_us", "sink_received", "sink_loss"):
            assert key in tx
        assert tx["sink_received"] + tx["sink_loss"] == tx["sent"] > 0
    assert data["host"]["loop"] in ("uvloop", "asyncio")
    assert list(data["receive"]) == ["engine"] and set(data["send"]["connected"]) == {"engine"}
    assert "tui" not in data and data["ratios"] == {}
    assert "node" not in data["host"] and "cc" not in data["host"]


def test_interleaving_reverses_every_other_round() -> None:
    from udpscope.benchkit.runner import interleaved

    assert interleaved("abc", 0) == ["a", "b", "c"]
    assert interleaved("abc", 1) == ["c", "b", "a"]
    assert interleaved("abc", 2) == ["a", "b", "c"]


def test_a_new_scenario_joins_a_run_and_gets_its_section_ratio_and_table() -> None:
    """The extension path bench/README.md describes: two receivers in a scenario of their own
    (here the engine twice, paced, so both see every datagram), a ratio, a titled table."""
    twin: Peer[ReceiverSpec] = Peer("twin", "engine again", ENGINE_RECEIVER.argv)
    toy = ReceiveScenario([ENGINE_RECEIVER, twin], key="toy", title="TOY  two engines",
                          ratios=[Ratio("twin", "engine", "twin / engine")], baseline="engine",
                          rate=2000.0, size=100)
    cfg = Config(seconds=0.3, repeat=2)
    order: list[str] = []
    with Bench(cfg, detect(pin=True), progress=order.append) as b:
        data = b.run([toy])
    assert order == ["toy 1/2: engine", "toy 1/2: twin", "toy 2/2: twin", "toy 2/2: engine"]
    for key in ("engine", "twin"):
        s = data["toy"][key]
        assert "error" not in s, s
        assert s["ok"] == 2 and s["loss"] == 0 and s["received"] == s["sent"] > 0
        assert all(r["sent"] == r["received"] for r in s["runs"])
    assert data["toy_sender"]["runs"] == 4
    # paced: a note about an unsaturated sender would be wrong here
    assert not any("Python sender reached only" in n for n in data["notes"])
    pair = data["ratios"]["toy_twin_vs_engine"]
    assert pair["pairs"] == 2 and pair["rate"] > 0
    text = report.render(data, [toy])
    assert "TOY  two engines" in text and "twin / engine:" in text
    row = next(line for line in text.splitlines() if line.lstrip().startswith("engine again"))
    assert "k/s" in row and "vs engine" in text

