"""The `listen --write` bench worker: loopback only, and a short real run accounts for every
datagram (printed by the real `udpscope listen` and, with --write, in its pcapng file)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.cli.clitools import REPO, cli_env


def test_refuses_anything_but_loopback() -> None:
    res = subprocess.run([sys.executable, "-m", "bench.listen_worker", "10.0.0.1", "0", "200", "5",
                          "plain"], capture_output=True, text=True, timeout=30, cwd=REPO,
                         env=cli_env(), check=False)
    assert res.returncode == 2 and "127.0.0.1 or ::1" in res.stderr


@pytest.mark.parametrize("mode", ["plain", "write"])
def test_a_short_run_counts_every_datagram(mode: str) -> None:
    worker = subprocess.Popen([sys.executable, "-m", "bench.listen_worker", "127.0.0.1", "0",
                               "300", "20", mode], stdout=subprocess.PIPE, text=True, cwd=REPO,
                              env=cli_env())
    try:
        assert worker.stdout is not None
        ready = worker.stdout.readline().split()
        assert ready[0] == "READY"
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for i in range(300):
                tx.sendto(b"%03d" % i, ("127.0.0.1", int(ready[1])))
        result = json.loads(worker.stdout.readline())
    finally:
        worker.wait(30)
    assert worker.returncode == 0
    assert result["received"] + result["drops"] == 300 and result["received"] > 0
    assert result["exit"] == 0 and result["cpu_s"] > 0
    if mode == "write":
        assert result["file_ok"] is True and result["file_bytes"] > 300 * 32
