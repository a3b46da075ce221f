"""The developer harness in `bench/`: Node and C peers, the TUI under a flood, and the hand-over
from `udpscope bench`. Short real runs on loopback, bounded in time; no speed is asserted."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

import bench.cli as harness
from bench import tui_worker
from bench.cli import ROOT
from bench.frames import covers
from bench.reference import PEERS, build_c, find_cc
from bench.tui import TuiScenario
from udpscope.benchkit.host import detect
from udpscope.benchkit.proc import child_env, python_argv
from udpscope.benchkit.report import render
from udpscope.benchkit.runner import Bench
from udpscope.cli import bench as user_bench
from udpscope.cli.main import main as cli_main

NODE = shutil.which("node")


def _plan(*argv: str) -> tuple[list[Any], list[str]]:
    cfg = harness.config_from(user_bench.build_parser().parse_args(list(argv)))
    with Bench(cfg, detect(pin=False)) as b:
        scenarios = harness.plan(cfg, b.host, b)
        return scenarios, b.notes


def test_plan_builds_the_scenarios_the_options_ask_for(monkeypatch: pytest.MonkeyPatch) -> None:
    scenarios, _ = _plan("--only", "send,tui")
    assert [s.key for s in scenarios] == ["send", "tui"]
    monkeypatch.setattr(harness, "find_node", lambda: (None, None))
    scenarios, notes = _plan("--compare")
    assert [s.key for s in scenarios] == ["receive", "send"]
    assert [p.key for p in scenarios[0].peers] == ["engine"]
    assert "Node comparison skipped: `node` is not on PATH" in notes
    monkeypatch.setattr(harness, "find_node", lambda: ("/usr/bin/node", "v0"))
    scenarios, notes = _plan("--compare")
    assert [p.key for p in scenarios[0].peers] == ["engine", "node"]
    assert [p.key for p in scenarios[1].peers] == ["engine", "node"]
    assert not notes or "Node" not in " ".join(notes)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("script", ["recv.js", "send.js"])
def test_node_peers_refuse_anything_but_loopback(script: str) -> None:
    assert NODE is not None
    proc = subprocess.run([NODE, str(PEERS / script), "10.0.0.1", "9", "64", "0.1"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "loopback only" in proc.stderr


@pytest.mark.skipif(find_cc() is None, reason="no C compiler")
def test_c_ceiling_compiles_into_a_temp_dir_that_is_removed() -> None:
    with Bench(harness.HarnessConfig(), detect(pin=False)) as b:
        binary, why = build_c(find_cc(), b.host.linux, b.temp_dir())
        assert binary is not None, why
        proc = subprocess.run([binary, "10.0.0.1", "0", "100", "1"], capture_output=True,
                              text=True, timeout=30)
        assert proc.returncode == 2 and "loopback only" in proc.stderr
    assert not os.path.exists(binary)


def test_c_ceiling_without_a_compiler_is_a_note() -> None:
    assert build_c(None, True, "/nonexistent") == (
        None, "C ceiling skipped: no C compiler (cc, gcc or clang) on PATH")
    assert build_c("cc", False, "/nonexistent")[1] == (
        "C ceiling skipped: its recvmmsg counter is Linux-only")


def test_the_tui_worker_refuses_anything_but_loopback() -> None:
    proc = subprocess.run(python_argv("bench.tui_worker", "10.0.0.1", "0", "100", "1"),
                          capture_output=True, text=True, timeout=60,
                          env=child_env(pythonpath=[str(ROOT)]), cwd="/")
    assert proc.returncode == 2, proc.stderr
    assert "loopback only" in proc.stderr


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_compare_measures_node_beside_the_engine(capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["--compare", "--only", "receive", "--seconds", "0.3", "--repeat", "1",
                         "--json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["receive"]) == {"engine", "node"}
    for peer in ("engine", "node"):
        run = data["receive"][peer]["runs"][0]
        assert "error" not in run, run
        assert run["received"] > 0 and run["loss"] == run["sent"] - run["received"]
    assert data["ratios"]["receive_engine_vs_node"]["pairs"] == 1
    assert data["host"]["node"].startswith("v") and data["config"]["compare"] is True


def test_udpscope_bench_tui_hands_over_and_accounts_for_every_datagram(
        capfd: pytest.CaptureFixture[str]) -> None:
    """`udpscope bench --only tui` from this checkout runs the harness (in a child process)."""
    assert cli_main(["bench", "--only", "tui", "--tui-seconds", "0.5", "--tui-rate", "2000",
                     "--repeat", "1", "--json", "-q"]) == 0
    data = json.loads(capfd.readouterr().out)
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
    tui_scenario = TuiScenario(0.5, 2000)
    text = render(data, [tui_scenario])
    assert "space: pause" in text and "page up" in text
    assert "tui_ingest_vs_node_receive" not in data["ratios"]  # no Node run: no ratio
    data["ratios"]["tui_ingest_vs_node_receive"] = {"rate": 1.48}
    line = next(x for x in render(data, [tui_scenario]).splitlines()
                if "vs Node's bare receive" in x)
    assert "1.48" in line


def test_a_frame_shows_a_line_only_if_its_update_covers_that_line() -> None:
    from textual.geometry import Region

    line = Region(10, 5, 20, 1)
    full = type("LayoutUpdate", (), {})()  # a full update has no spans: every line is redrawn
    partial = type("ChopsUpdate", (), {"spans": [(4, 0, 120), (5, 0, 8), (6, 10, 30)]})()
    assert covers(full, line)
    assert not covers(partial, line)  # line 5 redrawn only left of the region
    partial.spans.append((5, 29, 40))
    assert covers(partial, line)
    assert not covers(full, None)  # the change is not on screen: no frame shows it
