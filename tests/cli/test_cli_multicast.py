"""Multicast and joins through the CLI, only inside namespaces the tests create (veth pairs):
join on an interface, source-specific joins, IPv6 groups, isolation from other sockets'
groups, --no-loopback, and a join that fails at run time."""

from __future__ import annotations

import json
import socket

from tests import netns as N
from tests.cli.clitools import Proc, listening_port, run_cli


def test_join_on_interface_and_send(veth_pair) -> None:
    a, b = veth_pair.a, veth_pair.b
    with Proc(["listen", "0", "--join", "239.1.2.3@veth0", "--count", "1", "--timeout", "20"],
              ns=b.ns) as p:
        port = listening_port(p.line())
        assert p.line() == "joined 239.1.2.3 on veth0"
        res = run_cli("send", "239.1.2.3", str(port), "hello", "--interface", "veth0",
                      "--multicast-ttl", "1", ns=a.ns)
        assert res.returncode == 0, res.stderr
        line = p.line()
        assert f" from {a.v4}:" in line and " to 239.1.2.3" in line and " on veth0" in line
        assert line.endswith(" 5 bytes: hello")
        assert p.wait() == 0


def test_source_specific_join(veth_pair) -> None:
    a, b = veth_pair.a, veth_pair.b
    with Proc(["listen", "0", "--join", "232.1.1.1@veth0", "--source", a.v4, "--format", "jsonl",
               "--count", "1", "--timeout", "20"], ns=b.ns) as p:
        port = p.json()["port"]
        res = run_cli("send", "232.1.1.1", str(port), "ssm", "--interface", a.v4, ns=a.ns)
        assert res.returncode == 0, res.stderr
        msg = p.json()
        assert msg["address"] == a.v4 and bytes.fromhex(msg["hex"]) == b"ssm"
        assert msg.get("destination") == "232.1.1.1"
        assert p.wait() == 0


def test_ipv6_group(veth_pair) -> None:
    a, b = veth_pair.a, veth_pair.b
    with Proc(["listen", "0", "--join", "ff12::1234@veth0", "--count", "1", "--timeout", "20"],
              ns=b.ns) as p:
        line = p.line()
        assert line.startswith("listening on [::]:") and line.endswith("(IPv6)")
        assert p.line() == "joined ff12::1234 on veth0"
        res = run_cli("send", "ff12::1234", str(listening_port(line)), "six", "--interface", "veth0",
                      ns=a.ns)
        assert res.returncode == 0, res.stderr
        assert p.line().endswith(" 3 bytes: six")
        assert p.wait() == 0


def test_listen_is_isolated_from_other_sockets_groups(veth_pair) -> None:
    """Linux delivers a group to every socket bound to the port once *any* socket joined it
    (IP_MULTICAST_ALL); `listen` turns that off, so it only sees the groups it joined."""
    a, b = veth_pair.a, veth_pair.b
    with N.inside(b.ns):
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        other.bind(("0.0.0.0", 0))
        port = other.getsockname()[1]
        mreq = socket.inet_aton("239.9.9.4") + socket.inet_aton(b.v4)
        other.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        with Proc(["listen", str(port), "--join", "239.9.9.3@veth0", "--format", "jsonl",
                   "--count", "1", "--timeout", "20"], ns=b.ns) as p:
            assert p.json()["port"] == port
            for group, text in (("239.9.9.4", "not mine"), ("239.9.9.3", "mine")):
                res = run_cli("send", group, str(port), text, "--interface", "veth0", ns=a.ns)
                assert res.returncode == 0, res.stderr
            msg = p.json()
            assert bytes.fromhex(msg["hex"]) == b"mine"
            assert p.wait() == 0
    finally:
        other.close()


def test_no_loopback(veth_pair) -> None:
    a = veth_pair.a
    with Proc(["listen", "0", "--join", "239.1.2.5@veth0", "--format", "jsonl", "--count", "1",
               "--timeout", "20"], ns=a.ns) as p:
        port = p.json()["port"]
        for args in (["quiet", "--no-loopback"], ["loud"]):
            res = run_cli("send", "239.1.2.5", str(port), *args, "--interface", "veth0", ns=a.ns)
            assert res.returncode == 0, res.stderr
        assert bytes.fromhex(p.json()["hex"]) == b"loud"
        assert p.wait() == 0


def test_join_failure_is_a_runtime_error(netns: str) -> None:
    """A namespace with only lo and no multicast route: the kernel refuses the join."""
    with Proc(["listen", "0", "--join", "239.1.2.3", "--format", "jsonl"], ns=netns) as p:
        assert p.wait() == 1
        events = [json.loads(line) for line in p.rest()]
        assert events[0]["event"] == "listening"
        assert events[1]["event"] == "error" and events[1]["code"].startswith("E")
        assert "addMembership" in events[1]["message"]
        assert events[-1] == {"event": "close"}
        err = p.stderr()
        assert "addMembership" in err and "Traceback" not in err
