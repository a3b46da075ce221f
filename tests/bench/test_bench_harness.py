"""The bench harness: peers account for every datagram, refuse non-loopback, never outlive it.

No speed is asserted anywhere (speed is shown by the bench's numbers, not by timed tests); what is
checked is that the numbers are computed from the right counts and that the plumbing is safe.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time

import pytest

from udpscope.benchkit import blaster, report, tui_worker
from udpscope.benchkit.measure import Bench, Config, detect, limits, paired, summarize
from udpscope.benchkit.proc import Children, PeerError, python_argv
from udpscope.cli import bench

NODE = shutil.which("node")


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
    for module, args in (("blaster", [host, "9", "64", "0.1"]),
                         ("sink", [host, "0", "100", "1"]),
                         ("engine_worker", ["recv", host, "0", "100", "1"]),
                         ("tui_worker", [host, "0", "100", "1"])):
        proc = subprocess.run(python_argv(module, *args), capture_output=True, text=True,
                              timeout=30)
        assert proc.returncode == 2, (module, proc.stderr)
        assert "loopback" in proc.stderr or "127.0.0.1" in proc.stderr


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("script", ["recv.js", "send.js"])
def test_node_peers_refuse_anything_but_loopback(script: str) -> None:
    from importlib import resources

    path = resources.files("udpscope.benchkit").joinpath("peers", script)
    with resources.as_file(path) as p:
        proc = subprocess.run([NODE, str(p), "10.0.0.1", "9", "64", "0.1"],
                              capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "loopback only" in proc.stderr


def test_children_are_killed_when_the_block_ends() -> None:
    with Children() as kids:
        child = kids.start([sys.executable, "-c", "import time; print('READY 1 2', flush=True);"
                            " time.sleep(60)"], "sleeper", None)
        assert child.ready(30) == ["1", "2"]
        proc = child.proc
    assert proc.poll() is not None


def test_a_silent_child_times_out_with_its_stderr() -> None:
    with Children() as kids:
        child = kids.start([sys.executable, "-c", "import sys, time; sys.stderr.write('boom');"
                            " sys.stderr.flush(); time.sleep(60)"], "mute", None)
        t0 = time.monotonic()
        with pytest.raises(PeerError, match="mute: no answer within"):
            child.ready(0.5)
        assert time.monotonic() - t0 < 10


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


def test_table_aligns_columns_and_numbers_carry_units() -> None:
    lines = report.table(["peer", "rate"], [["engine", "1.23 M/s"], ["node dgram", "371 k/s"]],
                         right={1})
    assert len({len(line) for line in lines}) == 1
    assert lines[1].endswith("1.23 M/s") and lines[2].endswith(" 371 k/s")
    assert report.si(1234567) == "1.23 M" and report.si(999) == "999"
    assert report.si(61234) == "61.2 k"


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                    reason="no C compiler")
def test_c_ceiling_compiles_into_a_temp_dir_that_is_removed() -> None:
    cfg = Config(c_ceiling=True, seconds=0.2, repeat=1)
    with Bench(cfg, detect(cfg)) as b:
        binary = b.build_c()
        assert binary is not None
        proc = subprocess.run([binary, "10.0.0.1", "0", "100", "1"], capture_output=True,
                              text=True, timeout=30)
        assert proc.returncode == 2 and "loopback only" in proc.stderr
    assert not __import__("os").path.exists(binary)


def test_smoke_json_run_has_the_documented_keys(capsys) -> None:  # type: ignore[no-untyped-def]
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


def test_smoke_tui_run_accounts_for_every_datagram(capsys) -> None:  # type: ignore[no-untyped-def]
    assert bench.main(["--only", "tui", "--tui-seconds", "0.5", "--tui-rate", "2000",
                       "--repeat", "1", "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    tui = data["tui"]
    for variant in ("flood", "paced"):
        v = tui[variant]
        assert "error" not in v, v
        for key in ("ingest_pps", "received", "kernel_drops", "rows", "ring", "ring_evictions",
                    "key_p50_ms", "key_p95_ms", "rss_before", "rss_after", "rss_peak",
                    "startup_s", "fps"):
            assert key in v
        assert v["unaccounted"] == 0
        assert v["received"] > 0 and v["startup_s"] > 0
        assert v["rss_peak"] >= v["rss_after"] > v["rss_before"] > 0
        assert v["key_idle_p50_ms"] is not None
        # every kind of key is timed on its own, idle and under load, and seen at least idle
        assert set(v["key_by_kind"]) == set(v["key_idle_by_kind"]) == set(tui_worker.CYCLE)
        for kind, k in v["key_idle_by_kind"].items():
            assert k["n"] >= 1 and k["p50_ms"] is not None, (kind, k)
            assert k["n"] + k["missed"] == tui_worker.IDLE_PRESSES, (kind, k)
        flood_n = sum(k["n"] for k in v["key_by_kind"].values())
        assert flood_n == v["key_samples"] == len(v["key_ms"])
        assert sum(k["missed"] for k in v["key_by_kind"].values()) == v["key_missed"]
    assert tui["paced"]["kernel_drops"] == 0 and tui["paced"]["received"] == tui["paced"]["sent"]
    assert tui["pty_startup"]["startup_s"] is not None
    assert "space: pause" in report.render(data) and "page up" in report.render(data)
    assert "tui_ingest_vs_node_receive" not in data["ratios"]  # no Node run: no ratio
    data["ratios"]["tui_ingest_vs_node_receive"] = {"rate": 1.48}
    line = next(x for x in report.render(data).splitlines() if "vs Node's bare receive" in x)
    assert "1.48" in line


def test_a_frame_shows_a_line_only_if_its_update_covers_that_line() -> None:
    from textual.geometry import Region

    line = Region(10, 5, 20, 1)
    full = type("LayoutUpdate", (), {})()  # a full update has no spans: every line is redrawn
    partial = type("ChopsUpdate", (), {"spans": [(4, 0, 120), (5, 0, 8), (6, 10, 30)]})()
    assert tui_worker._covers(full, line)
    assert not tui_worker._covers(partial, line)  # line 5 redrawn only left of the region
    partial.spans.append((5, 29, 40))
    assert tui_worker._covers(partial, line)
    assert not tui_worker._covers(full, None)  # the change is not on screen: no frame shows it
