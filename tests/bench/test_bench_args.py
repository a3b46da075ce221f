"""`udpscope bench` options: loopback only, bounded values, clear usage errors (no speed asserted)."""

from __future__ import annotations

import pytest

from udpscope.benchkit.measure import Config
from udpscope.cli import bench
from udpscope.cli.main import main as cli_main


def parse(*argv: str) -> Config:
    return bench.config_from(bench.build_parser().parse_args(list(argv)))


def test_defaults_stay_within_the_time_budget() -> None:
    cfg = parse()
    assert (cfg.seconds, cfg.repeat, cfg.size, cfg.host) == (1.0, 3, 64, "127.0.0.1")
    assert cfg.receive and cfg.send and not (cfg.compare or cfg.c_ceiling or cfg.tui)
    assert cfg.estimate_s() < 30


def test_options_map_to_the_config() -> None:
    cfg = parse("--udp6", "--seconds", "0.5", "--repeat", "5", "--size", "1200", "--compare",
                "--c-ceiling", "--tui", "--tui-seconds", "2", "--tui-rate", "0", "--loop",
                "asyncio", "--no-pin")
    assert cfg.host == "::1" and cfg.seconds == 0.5 and cfg.repeat == 5 and cfg.size == 1200
    assert cfg.compare and cfg.c_ceiling and cfg.tui and cfg.tui_seconds == 2
    assert cfg.tui_rate == 0 and cfg.loop == "asyncio" and not cfg.pin
    assert parse("--host", "::1").host == "::1"
    only = parse("--only", "send,tui")
    assert (only.receive, only.send, only.tui) == (False, True, True)


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
        (["--only", "receive,bogus"], "choose from receive, send, tui"),
        (["--loop", "trio"], "invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(argv: list[str], message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    assert cli_main(["bench", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_help_documents_the_json_keys(capsys) -> None:  # type: ignore[no-untyped-def]
    assert bench.main(["--help"]) == 0
    out = capsys.readouterr().out
    for key in ("--compare", "--c-ceiling", "--tui", "--json", "cpu_us", "kernel_drops",
                "key_p50_ms", "rss_peak", "ratios", "127.0.0.1 and ::1"):
        assert key in out
