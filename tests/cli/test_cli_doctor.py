"""`udpscope doctor` against a real snooping switch: a Linux bridge with its querier, in
namespaces the tests create (tests/snooping.py). Queries come every 3 s, so a watch of a few
seconds sees them. Nothing here joins a group outside those namespaces: the usage tests fail
before any socket is opened."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests import netns as N
from tests import snooping as S
from tests.cli.clitools import CLI, Proc, cli_env, run_cli
from tests.waiting import wait_until
from udpscope.net import membership

GROUP = "239.1.2.3"


def doctor_json(ns: str, *args: str, timeout: float = 60) -> tuple[int, dict]:
    res = run_cli("doctor", *args, "--format", "json", ns=ns, timeout=timeout)
    assert res.returncode in (0, 1), res.stderr
    lines = res.stdout.decode().splitlines()
    assert len(lines) == 1, res.stdout   # one JSON object, nothing else on stdout
    return res.returncode, json.loads(lines[0])


def ids(report: dict) -> dict[str, str]:
    return {f["id"]: f["severity"] for f in report["findings"]}


def test_querier_address_version_and_interval_ipv4_and_mld(netns_factory) -> None:
    with N._setup():
        try:
            lab = S.build(netns_factory, mld_version=2)
        except N.NetnsError as e:   # a kernel whose bridge has no MLD querier settings
            pytest.skip(f"bridge without mcast_mld_version: {e}")
    # both watches run at once: each needs two queries (3 s apart) for an observed interval
    with Proc(["doctor", "ff15::1234@eth0", "--watch", "7", "--format", "json"], ns=lab.rx) as p6:
        code, report = doctor_json(lab.rx, f"{GROUP}@eth0", "--watch", "7", "--port", "5000")
        code6 = p6.wait(30)
        report6 = json.loads(p6.line())
    assert code == 0, report
    q = report["querier"]
    assert q["address"] == lab.bridge_v4 and q["version"] == 3
    assert 2.0 <= q["interval_s"] <= 4.5 and q["interval_source"] == "observed"
    assert q["advertised_interval_s"] == 3.0 and q["max_response_s"] == 1.0
    assert 0 <= q["last_seen_s"] <= 4.5
    assert q["last_report_s"] is not None   # our own IGMPv3 report was heard
    assert report["group"] == GROUP and report["interface"] == "eth0" and report["port"] == 5000
    assert report["source"] is None and report["datagrams"] == 0 and report["senders"] == []
    assert 6.5 <= report["watched_s"] < 10
    assert ids(report) == {"no-traffic": "warning"} and report["ok"] is True

    assert code6 == 0, report6
    q6 = report6["querier"]
    assert q6["address"].startswith("fe80::") and q6["version"] == 2
    assert 2.0 <= q6["interval_s"] <= 4.5
    assert "no-querier" not in ids(report6)


def test_text_report_names_the_querier(lab) -> None:
    res = run_cli("doctor", f"{GROUP}@eth0", "--watch", "4", ns=lab.rx, timeout=60)
    out = res.stdout.decode()
    assert res.returncode == 0, res.stderr
    assert out.startswith(f"udpscope doctor: {GROUP} on eth0, watched 4.0 s\n")
    assert f"  querier:  {lab.bridge_v4}, IGMPv3" in out
    assert out.rstrip().endswith("result: ok (0 errors, 0 warnings)")


def test_querier_off_is_no_querier(netns_factory) -> None:
    with N._setup():
        lab = S.build(netns_factory, querier=False)
    # no @IFACE: the join goes where the route for the group points (224.0.0.0/4 dev eth0)
    code, report = doctor_json(lab.rx, GROUP, "--watch", "3")
    assert code == 0 and report["ok"] is True
    assert report["interface"] == "eth0" and report["interface_chosen_by"] == "route"
    assert report["querier"] is None
    assert ids(report)["no-querier"] == "warning"
    assert "querier-unobservable" not in ids(report)
    detail = next(f for f in report["findings"] if f["id"] == "no-querier")["detail"]
    assert "260 s" in detail and "snooping" in detail


def test_igmpv2_querier_shows_version_2(netns_factory) -> None:
    with N._setup():
        lab = S.build(netns_factory, igmp_version=2)
    # with a source-specific join (run at the same time), v2 is a problem worth a warning
    with Proc(["doctor", "232.1.2.3@eth0", "--source", lab.tx_v4, "--watch", "4", "--format",
               "json"], ns=lab.rx) as ssm:
        code, report = doctor_json(lab.rx, f"{GROUP}@eth0", "--watch", "4")
        assert ssm.wait(30) == 0
        ssm_report = ssm.json()
    assert code == 0
    assert report["querier"]["version"] == 2 and report["querier"]["address"] == lab.bridge_v4
    assert ids(report).get("querier-version") == "info"
    assert ids(ssm_report).get("querier-version") == "warning"


@pytest.mark.parametrize("tool", ["nft", "iptables"])
def test_firewall_dropping_igmp_is_flagged(lab, tool) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    if tool == "nft":
        script = ("add table inet t\n"
                  "add chain inet t in { type filter hook input priority 0; }\n"
                  "add rule inet t in meta l4proto igmp drop\n")
        subprocess.run(["ip", "netns", "exec", lab.rx, "nft", "-f", "-"], input=script,
                       text=True, check=True, timeout=30)
    else:
        N.run_in(lab.rx, ["iptables", "-A", "INPUT", "-p", "igmp", "-j", "DROP"])
    code, report = doctor_json(lab.rx, f"{GROUP}@eth0", "--watch", "4")
    assert code == 1 and report["ok"] is False
    found = {f["id"]: f for f in report["findings"]}
    assert found["igmp-filtered"]["severity"] == "error"
    assert "IGMP queries arriving on eth0: dropped by" in found["igmp-filtered"]["detail"]
    assert "accept" in found["igmp-filtered"]["fix"].lower()
    # the queries die in the firewall, before the raw socket: no querier is seen
    assert report["querier"] is None and "no-querier" in found


def test_rp_filter_dropping_the_sender(lab) -> None:
    other = "10.99." + lab.prefix.split(".")[2] + ".1"   # on no network of the receiver
    N._ip("-n", lab.tx, "addr", "add", f"{other}/24", "dev", "eth0")
    for key in ("all", "eth0"):
        N.write_sysctl(lab.rx, f"net.ipv4.conf.{key}.rp_filter", 1)
    with N.inside(lab.tx):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind((other, 0))
    stop = threading.Event()

    def blast() -> None:   # bounded: at most 200 datagrams, 20 ms apart
        for _ in range(200):
            if stop.wait(0.02):
                return
            sender.sendto(b"x", (GROUP, 5000))

    t = threading.Thread(target=blast, daemon=True)
    t.start()
    try:
        code, report = doctor_json(lab.rx, f"{GROUP}@eth0", "--port", "5000", "--source", other,
                                   "--watch", "3")
    finally:
        stop.set()
        t.join(10)
        sender.close()
    assert code == 1
    rp = next(f for f in report["findings"] if f["id"] == "rp-filter")
    assert rp["severity"] == "error" and "rp_filter" in rp["fix"]
    assert "by reverse-path filtering during the watch" in rp["detail"]
    assert f"no route leads back to {other}" in rp["detail"]
    assert report["datagrams"] == 0 and "no-traffic" in ids(report)


def test_interface_down_is_an_error(lab) -> None:
    N._ip("-n", lab.rx, "link", "set", "eth0", "down")
    res = run_cli("doctor", f"{GROUP}@eth0", "--watch", "1", ns=lab.rx, timeout=60)
    assert res.returncode == 1, res.stderr
    out = res.stdout.decode()
    assert "error   interface-down: interface down" in out
    assert "fix: ip link set eth0 up" in out
    assert "result: FAIL" in out


def _unprivileged() -> list[str]:
    """A prefix that runs a command without CAP_NET_RAW: as nobody where the interpreter is
    reachable for it, else as root with CAP_NET_RAW dropped from the bounding set."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    reachable = all(os.stat(p).st_mode & stat.S_IXOTH
                    for p in [*Path(sys.executable).resolve().parents,
                              *Path(__file__).resolve().parents])
    if reachable:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]


def test_without_cap_net_raw_says_unobservable_not_no_querier(lab) -> None:
    cmd = ["ip", "netns", "exec", lab.rx, *_unprivileged(), *CLI, "doctor", f"{GROUP}@eth0",
           "--watch", "2", "--format", "json"]
    res = subprocess.run(cmd, capture_output=True, timeout=60, env=cli_env(),
                         cwd=Path(__file__).resolve().parents[2], check=False)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    found = ids(report)
    assert found["querier-unobservable"] == "warning" and "no-querier" not in found
    assert report["querier"] is None and report["querier_observation"] == "unobservable"
    assert report["kernel_igmp_version"] == 3   # the kernel's view is still shown
    detail = next(f for f in report["findings"] if f["id"] == "querier-unobservable")["detail"]
    assert "CAP_NET_RAW" in detail


def test_leaves_the_group_on_sigterm(lab) -> None:
    def joined() -> bool:
        with N.inside(lab.rx):
            return GROUP in {m.group for m in membership.read_memberships()}

    with Proc(["doctor", f"{GROUP}@eth0", "--watch", "60", "--format", "json"], ns=lab.rx) as p:
        wait_until(joined, 20, what="doctor to join the group", interval=0.05)
        p.signal(15)
        assert p.wait(20) == 0
        report = p.json()
    assert report["watched_s"] < 30 and not joined()


@pytest.mark.parametrize("args, name", [
    ([], "GROUP[@IFACE]"),
    (["10.1.2.3"], "argument GROUP[@IFACE]"),
    (["239.1.2.3@nosuch0"], "argument GROUP[@IFACE]"),
    (["239.1.2.3", "--watch", "0"], "argument --watch"),
    (["239.1.2.3", "--watch", "soon"], "argument --watch"),
    (["239.1.2.3", "--port", "70000"], "argument --port"),
    (["239.1.2.3", "--source", "fe80::1"], "argument --source"),
    (["239.1.2.3", "--source", "not-an-ip"], "argument --source"),
    (["239.1.2.3", "--format", "xml"], "argument --format"),
])
def test_bad_usage_exits_2_naming_the_argument(args, name) -> None:
    # These fail while parsing, before any socket exists; still, where namespaces are available
    # they run in one, so no doctor ever runs in the host's namespace.
    factory = None if N.netns_unavailable_reason() else N.NetnsFactory()
    try:
        ns = factory.namespace() if factory else None
        res = run_cli("doctor", *args, ns=ns)
    finally:
        if factory:
            factory.close()
    assert res.returncode == 2
    assert res.stdout == b""
    last = res.stderr.decode().strip().splitlines()[-1]
    assert name in last and "Traceback" not in res.stderr.decode()
