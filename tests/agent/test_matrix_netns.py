"""`udpscope matrix` end to end on a switched LAN built from namespaces (tests/agent/bridge_net.py):
a bridge namespace and host namespaces, agents started with `ip netns exec {host} ...` (and
once over the real OpenSSH client to sshd daemons inside the namespaces). Faults are nftables
rules inside one host's namespace; nothing touches the machine's own interfaces.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agent import bridge_net as bn
from tests.netns import NetnsFactory, inside
from tests.waiting import wait_until

pytestmark = pytest.mark.netns

GROUP, PORT = "239.1.2.3", 5000
COUNT, RATE = 40, 200


@pytest.fixture
def lan(netns_factory: NetnsFactory) -> bn.BridgeNet:
    return bn.build(netns_factory, 4)


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def matrix(hosts: list[str], *args: str, via: str | None = None, fmt: str = "json",
           prefix: tuple[str, ...] = ()) -> tuple[int, Any, str]:
    argv = [*prefix, bn.VENV_UDPSCOPE, "matrix", *hosts, "--group", f"{GROUP}:{PORT}",
            "--via", via or bn.agent_template(), "--count", str(COUNT), "--rate", str(RATE),
            "--format", fmt, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=90, env=_env(),
                          check=False)
    out: Any = json.loads(proc.stdout) if fmt == "json" and proc.stdout.strip() else proc.stdout
    return proc.returncode, out, proc.stderr


def cells(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["from"], c["to"]): c for c in result["cells"]}


def hosts(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in result["hosts"]}


def _input_rule(ns: str, rule: str) -> None:
    bn.nft(ns, "table inet usc {\n chain input {\n  type filter hook input priority 0; "
               f"policy accept;\n  {rule}\n }}\n}}\n")


def test_healthy_grid(lan: bn.BridgeNet) -> None:
    rc, result, err = matrix(lan.hosts)
    assert rc == 0, err
    assert result["ok"] is True and result["group"] == f"{GROUP}:{PORT}"
    assert len(result["cells"]) == 12
    for cell in result["cells"]:
        for kind in ("multicast", "unicast"):
            path = cell[kind]
            assert (path["sent"], path["received"], path["loss_pct"]) == (COUNT, COUNT, 0.0), cell
            assert path["duplicates"] == 0
        assert cell["multicast"]["ttl"] == 1          # the default multicast TTL, as seen
        assert cell["multicast"]["delay_ms_avg"] is not None
    for i, name in enumerate(lan.hosts):
        host = hosts(result)[name]
        assert (host["address"], host["error"], host["flags"]) == (lan.address(i), None, [])
        assert host["address_seen"] is True           # learnt from its multicast probes


def test_healthy_ipv6_grid(lan: bn.BridgeNet) -> None:
    argv = [bn.VENV_UDPSCOPE, "matrix", *lan.hosts, "--group", "[ff15::1234]:5000", "--via",
            bn.agent_template(), "--count", "20", "--rate", "200", "--format", "json"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=90, env=_env(),
                          check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["group"] == "[ff15::1234]:5000" and len(result["cells"]) == 12
    assert all(c["multicast"]["received"] == 20 and c["unicast"]["received"] == 20
               for c in result["cells"])
    assert [h["address"] for h in result["hosts"]] == [lan.address6(i) for i in range(4)]


def test_loss_on_one_link_shows_as_loss_into_that_host(lan: bn.BridgeNet) -> None:
    lossy = lan.hosts[2]
    _input_rule(lossy, f"udp dport {PORT} numgen random mod 5 0 drop")    # 20 % in
    rc, result, err = matrix(lan.hosts)
    assert rc == 1, err
    assert result["ok"] is False
    dropped = sent = 0
    for (src, dst), cell in cells(result).items():
        for kind in ("multicast", "unicast"):
            path = cell[kind]
            if dst == lossy:
                dropped += path["lost"] + path["warmup_lost"]
                sent += path["sent"]
                assert path["lost"] > 0, (src, dst, kind, path)
            else:
                assert path["loss_pct"] == 0.0, (src, dst, kind, path)
    assert 0.08 < dropped / sent < 0.35, (dropped, sent)      # 20 % of 240 probes
    assert {"multicast-in", "unicast-in"} <= set(hosts(result)[lossy]["flags"])
    assert "multicast-only" not in hosts(result)[lossy]["flags"]


def test_group_dropped_on_one_host_flags_its_row_while_unicast_works(lan: bn.BridgeNet) -> None:
    deaf = lan.hosts[1]
    _input_rule(deaf, f"ip daddr {GROUP} udp dport {PORT} drop")
    rc, result, err = matrix(lan.hosts)
    assert rc == 1, err
    for (_src, dst), cell in cells(result).items():
        assert cell["unicast"]["loss_pct"] == 0.0
        assert cell["multicast"]["loss_pct"] == (100.0 if dst == deaf else 0.0)
    flagged = {name: h["flags"] for name, h in hosts(result).items() if h["flags"]}
    assert flagged == {deaf: ["multicast-in", "multicast-only"]}
    assert hosts(result)[deaf]["unicast_in_loss_pct"] == 0.0

    rc, text, err = matrix(lan.hosts, fmt="text")
    assert rc == 1, err
    marked = [line for line in text.splitlines() if "!!" in line]
    assert len(marked) == 1 and deaf in marked[0]
    assert "multicast fails where unicast works" in marked[0]
    assert text.rstrip().splitlines()[-1].startswith("result: NOT OK: 3 cells over --max-loss 0%")


def test_unreachable_host_is_reported_while_the_others_are_measured(lan: bn.BridgeNet) -> None:
    missing = f"usc-{os.getpid()}-missing"
    rc, result, err = matrix([*lan.hosts[:3], missing])
    assert rc == 1, err
    bad = hosts(result)[missing]
    assert "Cannot open network namespace" in bad["error"] and bad["state"] == "failed"
    for (src, dst), cell in cells(result).items():
        if missing in (src, dst):
            assert cell["multicast"]["loss_pct"] is None and cell["unicast"]["loss_pct"] is None
        else:
            assert cell["multicast"]["loss_pct"] == 0.0 and cell["unicast"]["loss_pct"] == 0.0
    assert all(hosts(result)[h]["error"] is None for h in lan.hosts[:3])


def test_a_hanging_host_cannot_eat_the_others_time(lan: bn.BridgeNet) -> None:
    # One "host" whose transport never answers (a blackholed ssh, say): --timeout still bounds
    # the run, and the others are measured in it.
    via = (f"sh -c 'case \"$0\" in *hang*) exec sleep 60;; esac; exec ip netns exec \"$0\" "
           f"{bn.VENV_UDPSCOPE} agent' {{host}}")
    began = time.monotonic()
    rc, result, err = matrix([*lan.hosts[:3], "usc-hang"], "--timeout", "8", via=via)
    assert time.monotonic() - began < 8 + 2
    assert rc == 1, err
    assert result["timed_out"] is False
    assert "no answer from the agent within" in hosts(result)["usc-hang"]["error"]
    for (src, dst), cell in cells(result).items():
        if "usc-hang" not in (src, dst):
            assert cell["multicast"]["loss_pct"] == 0.0 and cell["unicast"]["loss_pct"] == 0.0


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
    return found


def test_sigterm_stops_every_agent_and_leaves_no_membership(lan: bn.BridgeNet) -> None:
    argv = [bn.VENV_UDPSCOPE, "matrix", *lan.hosts, "--group", f"{GROUP}:{PORT}", "--via",
            bn.agent_template(), "--count", "3000", "--rate", "100", "--format", "json"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    try:
        wait_until(lambda: all(bn.memberships(ns, GROUP) for ns in lan.hosts), 30,
                   what="every host to join")
        agents = _children(proc.pid)
        assert len(agents) == len(lan.hosts)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        bn.kill_quietly(proc)
    assert proc.returncode == 1, err
    result = json.loads(out)
    assert result["interrupted"] is True and result["ok"] is False
    assert [pid for pid in agents if os.path.exists(f"/proc/{pid}")] == []
    assert {ns: bn.memberships(ns, GROUP) for ns in lan.hosts} == {ns: [] for ns in lan.hosts}


# ---- over the real OpenSSH client and sshd -----------------------------------------------------

def _sshd_config(tmp: Path, i: int, address: str) -> Path:
    cfg = tmp / f"sshd{i}.conf"
    cfg.write_text("\n".join([
        f"ListenAddress {address}:22", f"HostKey {tmp / 'host_key'}", f"PidFile {tmp}/sshd{i}.pid",
        f"AuthorizedKeysFile {tmp / 'authorized_keys'}", "StrictModes no",
        "PermitRootLogin prohibit-password", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "UsePAM no", "PrintMotd no", "LogLevel ERROR", ""]))
    return cfg


@contextlib.contextmanager
def _privsep_dir() -> Iterator[None]:
    made = not os.path.isdir("/run/sshd")
    if made:
        os.makedirs("/run/sshd", mode=0o755)
    try:
        yield
    finally:
        if made:
            with contextlib.suppress(OSError):
                os.rmdir("/run/sshd")


def test_matrix_over_real_openssh(netns_factory: NetnsFactory, tmp_path: Path) -> None:
    sshd = shutil.which("sshd") or "/usr/sbin/sshd"
    if not os.path.exists(sshd) or not shutil.which("ssh") or not shutil.which("ssh-keygen"):
        pytest.skip("OpenSSH (sshd, ssh, ssh-keygen) is not installed")
    net = bn.build(netns_factory, 4, control=True)
    assert net.control is not None
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / key)],
                       check=True, timeout=30)
    (tmp_path / "authorized_keys").write_text((tmp_path / "user_key.pub").read_text())
    daemons: list[subprocess.Popen[bytes]] = []
    with _privsep_dir():
        try:
            for i, ns in enumerate(net.hosts):
                cfg = _sshd_config(tmp_path, i, net.address(i))
                daemons.append(subprocess.Popen(["ip", "netns", "exec", ns, sshd, "-D", "-e",
                                                 "-f", str(cfg)], stderr=subprocess.PIPE))
            for i in range(len(net.hosts)):
                wait_until(lambda i=i: _accepts(net.control, net.address(i)), 15,
                           what=f"sshd {i}")
            via = ("ssh -T -o BatchMode=yes -o StrictHostKeyChecking=no "
                   "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "
                   f"-i {tmp_path / 'user_key'} {{host}} {bn.VENV_UDPSCOPE} agent")
            addresses = [net.address(i) for i in range(len(net.hosts))]
            rc, result, err = matrix(addresses, via=via,
                                     prefix=("ip", "netns", "exec", net.control))
        finally:
            for daemon in daemons:
                with contextlib.suppress(ProcessLookupError):
                    daemon.terminate()
                bn.kill_quietly(daemon)
    assert rc == 0, (err, result)
    assert result["ok"] is True and len(result["cells"]) == 12
    assert all(c["multicast"]["loss_pct"] == 0.0 and c["unicast"]["loss_pct"] == 0.0
               for c in result["cells"])
    assert [h["address"] for h in result["hosts"]] == addresses


def _accepts(ns: str | None, address: str) -> bool:
    assert ns is not None
    with inside(ns):
        try:
            with socket.create_connection((address, 22), timeout=0.5):
                return True
        except OSError:
            return False
