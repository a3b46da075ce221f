"""Hostile standard streams and inputs (issue 16, items 3, 5 and 11): a FIFO as `--file`, closed,
full or broken stdout/stderr, a 100 MB `--stdin`, a closed stdin, SIGHUP. Each ends with a short
message and the right exit status — never a hang, a traceback or an abort."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.clitools import CLI, REPO, Proc, cli_env, listening_port


def run_shell(script: str, *, input: bytes | None = None,
              timeout: float = 20) -> subprocess.CompletedProcess[bytes]:
    """Run ``script`` in bash with "$@" = the udpscope command line (for >&- and friends)."""
    return subprocess.run(["bash", "-c", script, "udpscope", *CLI], input=input,
                          capture_output=True, timeout=timeout, env=cli_env(), cwd=REPO,
                          check=False)


def no_crash(proc: subprocess.CompletedProcess[bytes]) -> str:
    err = proc.stderr.decode(errors="replace")
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {err}"
    assert "Traceback" not in err and "NoneType" not in err, err
    return err


@pytest.fixture
def receiver():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(5)
        yield s


# ---- item 3: a FIFO is not a payload file ------------------------------------------------------

def test_send_file_fifo_is_refused_at_once(tmp_path: Path, receiver: socket.socket) -> None:
    fifo = tmp_path / "payload.fifo"
    os.mkfifo(fifo)
    port = receiver.getsockname()[1]
    started = time.monotonic()
    proc = subprocess.run([*CLI, "send", "127.0.0.1", str(port), "--file", str(fifo)],
                          capture_output=True, timeout=15, env=cli_env(), cwd=REPO, check=False)
    assert time.monotonic() - started < 10
    err = no_crash(proc)
    assert proc.returncode == 2
    last = err.strip().splitlines()[-1]
    assert "--file" in last and "regular file" in last, err


# ---- item 5: closed, full or broken standard streams ------------------------------------------

def test_send_with_stdout_closed(receiver: socket.socket) -> None:
    port = receiver.getsockname()[1]
    proc = run_shell(f'exec "$@" send 127.0.0.1 {port} hello >&-')
    err = no_crash(proc)
    assert proc.returncode == 1
    assert "standard output" in err and len(err.strip().splitlines()) == 1, err
    assert receiver.recv(100) == b"hello"  # the send itself happened; only the report failed


def test_listen_with_stdout_closed_fails_instead_of_aborting() -> None:
    proc = run_shell('exec "$@" listen 127.0.0.1:0 --timeout 10 >&-')
    err = no_crash(proc)
    assert proc.returncode == 1
    assert "standard output" in err, err


def test_send_to_a_full_stdout(receiver: socket.socket) -> None:
    port = receiver.getsockname()[1]
    proc = run_shell(f'exec "$@" send 127.0.0.1 {port} hello >/dev/full')
    err = no_crash(proc)
    assert proc.returncode == 1
    assert "No space left" in err and len(err.strip().splitlines()) == 1, err


def test_listen_to_a_full_stdout_does_not_exit_0() -> None:
    proc = run_shell('exec "$@" listen 127.0.0.1:0 --timeout 10 >/dev/full')
    err = no_crash(proc)
    assert proc.returncode == 1
    assert "No space left" in err, err


def test_usage_error_with_stderr_closed_keeps_its_status() -> None:
    proc = run_shell('exec "$@" send 127.0.0.1 5000 x --ttl 300 2>&-')
    no_crash(proc)
    assert proc.returncode == 2


def test_runtime_error_with_stderr_closed_keeps_its_status() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        proc = run_shell(f'exec "$@" listen 127.0.0.1:{busy.getsockname()[1]} 2>&-')
    no_crash(proc)
    assert proc.returncode == 1


# ---- item 11: messages for stdin, SIGHUP ------------------------------------------------------

def test_stdin_of_100_mb_gets_a_correct_short_message() -> None:
    proc = run_shell('head -c 100000000 /dev/zero | "$@" send 127.0.0.1 5000 --stdin', timeout=60)
    err = no_crash(proc)
    assert proc.returncode == 2
    last = err.strip().splitlines()[-1]
    assert "--stdin" in last and "more than the 65507 a UDP/IPv4" in last, err
    assert "65508" not in err  # it read 65508 bytes to know; the input was 100 MB


def test_stdin_closed_gets_a_clear_message() -> None:
    proc = run_shell('exec "$@" send 127.0.0.1 5000 --stdin <&-')
    err = no_crash(proc)
    assert proc.returncode == 2
    last = err.strip().splitlines()[-1]
    assert "--stdin" in last and "standard input is closed" in last, err


@pytest.mark.parametrize("fmt", ["text", "jsonl"])
def test_listen_sighup_closes_like_sigterm(fmt: str) -> None:
    with Proc(["listen", "127.0.0.1:0", "--format", fmt, "--timeout", "20"]) as p:
        first = p.line()
        assert (listening_port(first) if fmt == "text" else json.loads(first)["port"]) > 0
        p.signal(signal.SIGHUP)
        assert p.wait() == 0
        rest = p.rest()
        assert rest == (["closed"] if fmt == "text" else ['{"event": "close"}'])
        assert "Traceback" not in p.stderr()
