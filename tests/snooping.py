"""A switched lab in namespaces: a Linux bridge as the IGMP-snooping switch and querier, a
receiver and a sender on its ports.

Everything is created inside namespaces made by `tests.netns` (the veth pairs are created in the
switch's namespace with their other end moved straight into the host's namespace), so nothing
touches the machine's interfaces, and the factory deletes it all. Query intervals are in
centiseconds: 300 means a query every 3 s, so tests watch for seconds, not minutes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from tests import netns as N

_subnets = itertools.cycle(range(1, 251))


@dataclass(frozen=True)
class Lab:
    """sw: the bridge's namespace; rx/tx: receiver and sender, each with eth0 on the bridge."""

    sw: str
    rx: str
    tx: str
    bridge_v4: str        # the querier's address
    rx_v4: str
    tx_v4: str
    rx_v6: str
    tx_v6: str
    prefix: str           # "10.210.N"


def build(factory: N.NetnsFactory, *, querier: bool = True, igmp_version: int = 3,
          mld_version: int | None = None, interval_cs: int = 300) -> Lab:
    """Create the lab; `mld_version` also configures the bridge's MLD querier (kernel >= 5.x)."""
    n = next(_subnets)
    sw, rx, tx = factory.namespace(), factory.namespace(), factory.namespace()
    for ns in (sw, rx, tx):
        # addresses usable at once (no duplicate address detection wait)
        N.write_sysctl(ns, "net.ipv6.conf.default.accept_dad", 0)
        N.write_sysctl(ns, "net.ipv6.conf.all.accept_dad", 0)
    options = ["mcast_snooping", "1", "mcast_querier", "1" if querier else "0",
               "mcast_query_use_ifaddr", "1", "mcast_query_interval", str(interval_cs),
               "mcast_igmp_version", str(igmp_version),
               # startup queries at the same pace, and answers due before the next query
               "mcast_startup_query_interval", str(interval_cs),
               "mcast_query_response_interval", str(max(10, interval_cs // 3))]
    if mld_version is not None:
        options += ["mcast_mld_version", str(mld_version)]
    N._ip("-n", sw, "link", "add", "br0", "type", "bridge", *options)
    prefix = f"10.210.{n}"
    N._ip("-n", sw, "addr", "add", f"{prefix}.254/24", "dev", "br0")
    N._ip("-n", sw, "-6", "addr", "add", f"fd00:210:{n}::fe/64", "dev", "br0", "nodad")
    for port, (ns, host) in enumerate(((rx, 2), (tx, 1)), start=1):
        N._ip("-n", sw, "link", "add", f"p{port}", "type", "veth", "peer", "name", "eth0",
              "netns", ns)
        N._ip("-n", sw, "link", "set", f"p{port}", "master", "br0")
        N._ip("-n", sw, "link", "set", f"p{port}", "up")
        N._ip("-n", ns, "addr", "add", f"{prefix}.{host}/24", "dev", "eth0")
        N._ip("-n", ns, "-6", "addr", "add", f"fd00:210:{n}::{host}/64", "dev", "eth0", "nodad")
        N._ip("-n", ns, "link", "set", "eth0", "up")
        N._ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
    N._ip("-n", sw, "link", "set", "br0", "up")
    return Lab(sw, rx, tx, f"{prefix}.254", f"{prefix}.2", f"{prefix}.1",
               f"fd00:210:{n}::2", f"fd00:210:{n}::1", prefix)


@pytest.fixture
def lab(netns_factory: N.NetnsFactory) -> Lab:
    """The lab with an IGMPv3 querier every 3 s."""
    with N._setup():
        return build(netns_factory)
