"""A switched LAN in namespaces: one bridge namespace and N host namespaces, each host with a
veth whose other end is a port of the bridge (created inside the namespaces, never in the
host's own). Hosts are 10.77.0.1..N/24 and fd77::1..N/64 on `eth0`, with the IPv4 multicast route on eth0;
the bridge does IGMP/MLD snooping as its kernel default.

Used by the matrix tests and the 16-host measurement (scripts/matrix_scale.py).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass, field

from tests.netns import NetnsFactory, _ip, run_in

SUBNET = "10.77.0"
SUBNET6 = "fd77::"
VENV_UDPSCOPE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), ".venv", "bin", "udpscope")


@dataclass
class BridgeNet:
    """The namespaces of one LAN. `hosts[i]` is a namespace name; `address(i)` its address."""

    bridge: str
    hosts: list[str] = field(default_factory=list)
    control: str | None = None     # a namespace on the bridge that joins nothing (10.77.0.254)

    def address(self, i: int) -> str:
        return f"{SUBNET}.{i + 1}"

    def address6(self, i: int) -> str:
        return f"{SUBNET6}{i + 1:x}"


def build(factory: NetnsFactory, n_hosts: int, *, control: bool = False) -> BridgeNet:
    bridge = factory.namespace()
    _ip("-n", bridge, "link", "add", "br0", "type", "bridge")
    _ip("-n", bridge, "link", "set", "br0", "up")
    net = BridgeNet(bridge)
    for i in range(n_hosts):
        ns = factory.namespace()
        _attach(bridge, ns, f"p{i + 1}", f"{SUBNET}.{i + 1}", f"{SUBNET6}{i + 1:x}")
        net.hosts.append(ns)
    if control:
        ns = factory.namespace()
        _attach(bridge, ns, "pc", f"{SUBNET}.254", f"{SUBNET6}fe", route=False)
        net.control = ns
    return net


def _attach(bridge: str, ns: str, port: str, address: str, address6: str, *,
            route: bool = True) -> None:
    _ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", bridge)
    _ip("-n", bridge, "link", "set", port, "master", "br0")
    _ip("-n", bridge, "link", "set", port, "up")
    _ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
    _ip("-n", ns, "-6", "addr", "add", f"{address6}/64", "dev", "eth0", "nodad")
    _ip("-n", ns, "link", "set", "eth0", "up")
    if route:
        _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")


def nft(ns: str, ruleset: str) -> None:
    """Load an nftables ruleset inside a namespace (firewalls there touch nothing else)."""
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=ruleset, text=True,
                   check=True, capture_output=True, timeout=30)


def memberships(ns: str, group: str) -> list[str]:
    """Devices of `ns` whose IPv4 membership list (/proc/net/igmp) holds `group`."""
    from udpscope.net.membership import parse_igmp

    text = run_in(ns, ["cat", "/proc/net/igmp"]).stdout
    return [m.interface for m in parse_igmp(text) if m.group == group]


def agent_template() -> str:
    return f"ip netns exec {{host}} {VENV_UDPSCOPE} agent"


def kill_quietly(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(Exception):
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
