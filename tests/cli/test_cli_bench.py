"""`udpscope bench` options: loopback only, bounded values, clear usage errors (no speed asserted),
and the developer options handed to the source checkout's harness or refused with directions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

import udpscope
from udpscope.benchkit.runner import Config
from udpscope.cli import bench
from udpscope.cli.main import main as cli_main

ROOT = Path(__file__).resolve().parents[2]


def parse(*argv: str) -> Config:
    return bench.config_from(bench.build_parser().parse_args(list(argv)))


def test_defaults_stay_within_the_time_budget() -> None:
    from udpscope.benchkit.receive import ENGINE_RECEIVER, ReceiveScenario
    from udpscope.benchkit.send import ENGINE_SENDER, SendScenario

    cfg = parse()
    assert (cfg.seconds, cfg.repeat, cfg.size, cfg.host) == (1.0, 3, 64, "127.0.0.1")
    assert cfg.receive and cfg.send
    scenarios = [ReceiveScenario([ENGINE_RECEIVER]), SendScenario([ENGINE_SENDER])]
    assert sum(s.estimate_s(cfg) for s in scenarios) < 30


def test_options_map_to_the_config() -> None:
    cfg = parse("--udp6", "--seconds", "0.5", "--repeat", "5", "--size", "1200", "--loop",
                "asyncio", "--no-pin")
    assert cfg.host == "::1" and cfg.seconds == 0.5 and cfg.repeat == 5 and cfg.size == 1200
    assert cfg.loop == "asyncio" and not cfg.pin
    assert parse("--host", "::1").host == "::1"
    only = parse("--only", "send")
    assert (only.receive, only.send) == (False, True)


def test_the_harness_reads_the_same_options() -> None:
    from bench.cli import config_from

    ns = bench.build_parser().parse_args(
        ["--compare", "--c-ceiling", "--tui", "--tui-seconds", "2", "--tui-rate", "0",
         "--only", "send,tui", "--repeat", "5"])
    cfg = config_from(ns)
    assert cfg.compare and cfg.c_ceiling and cfg.tui and cfg.tui_seconds == 2
    assert cfg.tui_rate == 0 and cfg.repeat == 5 and (cfg.receive, cfg.send) == (False, True)
    assert config_from(bench.build_parser().parse_args(["--only", "tui"])).tui


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--host", "10.0.0.1"], "only 127.0.0.1 or ::1"),
        (["--host", "127.0.0.2"], "only 127.0.0.1 or ::1"),
        (["--host", "localhost"], "only 127.0.0.1 or ::1"),
        (["--host", "::1", "--udp6"], "not allowed with"),
        (["--seconds", "100"], "at most 10"),
        (["--seconds", "0"], "at least 0.2"),
        (["--repeat", "0"], "out of range"),
        (["--size", "70000"], "out of range"),
        (["--tui-rate", "-5"], "tui-rate"),
        (["--compare", "--tui-seconds", "60"], "tui-seconds"),
        (["--only", "receive,bogus"], "choose from receive, send, tui"),
        (["--loop", "trio"], "invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], message: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err.strip().splitlines()[-1]
    assert "Traceback" not in err


def test_help_documents_the_json_keys_and_the_harness(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--help"]) == 0
    out = capsys.readouterr().out
    for key in ("--compare", "--c-ceiling", "--tui", "--json", "cpu_us", "kernel_drops",
                "key_p50_ms", "rss_peak", "ratios", "127.0.0.1 and ::1", "source checkout",
                "python -m bench"):
        assert key in out


@pytest.mark.parametrize(("argv", "named"), [
    (["--compare", "--repeat", "5"], "--compare"),
    (["--c-ceiling"], "--c-ceiling"),
    (["--tui", "--compare"], "--compare"),
    (["--only", "receive,tui"], "--only"),
])
def test_developer_options_without_a_checkout_say_how_to_run_them(
        argv: list[str], named: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(bench, "find_checkout", lambda: None)
    monkeypatch.setattr(bench, "delegate", lambda *a: pytest.fail("must not delegate"))
    assert bench.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert lines[-1] == f"udpscope bench: error: argument {named}: " + (
        "tui " if named == "--only" else "") + "needs a udpscope source checkout"
    assert f"python -m bench {' '.join(argv)}" in captured.err
    assert "pip install -e ." in captured.err


def test_the_user_bench_runs_without_the_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain `udpscope bench` never looks for a checkout (it needs nothing but the wheel)."""
    monkeypatch.setattr(bench, "find_checkout", lambda: pytest.fail("must not look"))
    ran: list[argparse.Namespace] = []

    def run(ns: argparse.Namespace) -> int:
        ran.append(ns)
        return 0

    monkeypatch.setattr(bench, "run", run)
    assert bench.main(["--only", "send", "--repeat", "1"]) == 0
    assert len(ran) == 1 and bench.developer_options(ran[0]) == []


def test_developer_options_are_handed_over_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], Path]] = []

    def delegate(argv: list[str], root: Path) -> int:
        calls.append((argv, root))
        return 7

    monkeypatch.setattr(bench, "delegate", delegate)
    argv = ["--compare", "--c-ceiling", "--tui", "--repeat", "5"]
    assert bench.main(argv) == 7
    assert calls == [(argv, ROOT)]  # this checkout (the package was imported from it)


def test_a_checkout_is_a_udpscope_project_with_the_harness(tmp_path: Path) -> None:
    assert bench.is_checkout(ROOT)
    assert not bench.is_checkout(tmp_path)
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "__main__.py").write_text("")
    assert not bench.is_checkout(tmp_path)  # no pyproject: a stray folder named bench
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "other"\n')
    assert not bench.is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text("not toml [")
    assert not bench.is_checkout(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "udpscope"\n')
    assert bench.is_checkout(tmp_path)


def test_the_checkout_is_found_beside_the_package_or_in_the_cwd(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert bench.find_checkout() == ROOT
    site = tmp_path / "site-packages" / "udpscope"
    site.mkdir(parents=True)
    monkeypatch.setattr(udpscope, "__file__", str(site / "__init__.py"))  # an installed wheel
    monkeypatch.chdir(tmp_path)
    assert bench.find_checkout() is None
    monkeypatch.chdir(ROOT)
    assert bench.find_checkout() == ROOT


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX exit statuses")
def test_delegate_passes_the_exit_status_through(tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """`delegate` runs `python -m bench ARGS` in the checkout with it first on the path."""
    fake = tmp_path / "bench"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "__main__.py").write_text(
        "import sys, os\nprint('harness', sys.argv[1:], os.getcwd())\nraise SystemExit(3)\n")
    assert bench.delegate(["--compare", "--repeat", "2"], tmp_path) == 3
    assert capfd.readouterr().out.strip() == f"harness ['--compare', '--repeat', '2'] {tmp_path}"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_an_interrupt_is_passed_on_to_a_harness_that_did_not_get_it() -> None:
    """A SIGINT sent to `udpscope bench` alone reaches the harness, which stops its peers."""
    import subprocess

    code = ("import signal, sys, time\n"
            "signal.signal(signal.SIGINT, lambda *a: sys.exit(130))\n"
            "print('ready', flush=True)\n"
            "time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        bench._stop(proc)
        assert proc.returncode == 130  # it stopped on the passed-on SIGINT, not by SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
