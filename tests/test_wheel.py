"""The wheel holds only what users run: the package, no C or JavaScript, no developer harness.

Built for real (hatchling, no network: `--no-build-isolation`) into a temporary directory, and
its file list read back; skipped with the reason when the build backend is not installed.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    pytest.importorskip("hatchling", reason="the build backend (hatchling, in the test extras) "
                        "is not installed: the wheel cannot be built offline")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (wheel,) = out.glob("udpscope-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_the_wheel_carries_no_c_or_javascript(wheel_files: list[str]) -> None:
    foreign = [f for f in wheel_files if f.endswith((".c", ".h", ".js", ".mjs", ".ts"))]
    assert not foreign, foreign


def test_the_wheel_carries_no_developer_harness(wheel_files: list[str]) -> None:
    assert not [f for f in wheel_files if f.startswith(("bench/", "tests/", "scripts/"))]
    assert not [f for f in wheel_files if "tui_worker" in f or "/peers/" in f]
    assert "udpscope/benchkit/measure.py" not in wheel_files


def test_the_wheel_carries_the_user_bench(wheel_files: list[str]) -> None:
    for name in ("udpscope/cli/bench.py", "udpscope/benchkit/__init__.py",
                 "udpscope/benchkit/runner.py", "udpscope/benchkit/engine_worker.py",
                 "udpscope/benchkit/blaster.py", "udpscope/benchkit/sink.py",
                 "udpscope/benchkit/report.py", "udpscope/__main__.py"):
        assert name in wheel_files
    assert {f.split("/")[0] for f in wheel_files} == {"udpscope", *(
        f.split("/")[0] for f in wheel_files if ".dist-info/" in f)}
