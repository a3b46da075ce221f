"""Pane 6 against real queriers and interfaces, inside namespaces the tests create: a Linux
bridge as the snooping switch and querier, asking every 3 s (tests/snooping.py); a receiver with
two veth interfaces for join everywhere; and the view without CAP_NET_RAW in a subprocess.

The app (and every socket, raw socket and check thread it makes) runs with this thread moved
into the receiver's namespace; nothing joins a group on the machine's own interfaces.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tests import netns as N
from tests import snooping as S
from tests.tui.tui_helpers import make_app, type_into, wait_for
from udpscope.net.membership import read_memberships
from udpscope.tui.widgets.findings import FindingsList

pytestmark = pytest.mark.netns
GROUP = "239.1.2.3"
PORT = 47341
HERE = Path(__file__).resolve().parent


@pytest.fixture
def lab(netns_factory: N.NetnsFactory) -> S.Lab:
    """The snooping lab with an IGMPv3 querier every 3 s."""
    with N._setup():
        return S.build(netns_factory)


def rows(app, selector: str = "#queriers") -> list[list[str]]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def row_of(app, iface: str, kind: str = "IGMP") -> list[str]:  # type: ignore[no-untyped-def]
    return next((r for r in rows(app) if r[:2] == [iface, kind]), [])


async def open_pane_6(pilot, joined: bool = True) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    capture = app.capture
    await wait_for(lambda: capture.sockets and capture.sockets[1].state == "bound",
                   what="bound", pilot=pilot)
    if joined:
        await wait_for(lambda: capture.sockets[1].sock.get_memberships(), what="joined", pilot=pilot)
    await pilot.press("6")
    await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", what="pane 6", pilot=pilot)


async def test_pane_6_shows_the_bridge_querier_address_version_and_interval(lab) -> None:
    with N.inside(lab.rx):
        app = make_app(binds=[("0.0.0.0", PORT)], joins=[(GROUP, "eth0")])
        async with app.run_test(size=(140, 40)) as pilot:
            await open_pane_6(pilot)
            await wait_for(lambda: row_of(app, "eth0")[2:3] == [lab.bridge_v4], 12,
                           what="the bridge's IGMP query", pilot=pilot)
            assert row_of(app, "eth0")[3] == "IGMPv3"
            # The interval: the query's own word (~3.0 s) until a second query is heard, then
            # measured between them (queries every 3 s).
            await wait_for(lambda: re.fullmatch(r"[23]\.\d s", row_of(app, "eth0")[5]),
                           12, what="an interval measured between two queries", pilot=pilot)
            assert row_of(app, "eth0")[6] == "1.0 s"   # the bridge's query response interval
            joins = rows(app, "#own-joins")
            assert joins and joins[0][1:3] == [GROUP, "eth0"]
            await wait_for(lambda: rows(app, "#own-joins")[0][4] ==
                           f"kept alive by {lab.bridge_v4}", what="kept alive by the querier", pilot=pilot)
            note = str(app.screen.query_one("#querier-note", Static).render())
            assert "udpscope joins 224.0.0.22 and ff02::16" in note


async def test_querier_off_is_no_querier(netns_factory) -> None:
    with N._setup():
        lab = S.build(netns_factory, querier=False)
    with N.inside(lab.rx):
        app = make_app(binds=[("0.0.0.0", PORT)], joins=[(GROUP, "eth0")])
        async with app.run_test(size=(140, 40)) as pilot:
            await open_pane_6(pilot)

            def watched() -> float:
                observer = app.screen.observer
                views = observer.snapshot() if observer is not None else []
                return max((v.watched_s for v in views), default=0.0)

            # Long enough for two queries of the lab's 3 s querier, and the observer provably
            # listening: it heard this host's own reports on eth0.
            await wait_for(lambda: watched() >= 7.0 and
                           row_of(app, "eth0")[7:8] not in ([], ["—"], ["none seen"]), 20,
                           what="7 s of watching, our own report heard", pilot=pilot)
            app.screen.refresh_querier()
            assert row_of(app, "eth0")[2:4] == ["no querier seen", "v3 kernel"]
            assert rows(app, "#own-joins")[0][4].startswith("prunes in about")
            await type_into(pilot, "#check-group", GROUP)
            await pilot.press("enter")
            findings = app.screen.query_one(FindingsList)
            await wait_for(lambda: findings.findings, 20, what="findings", pilot=pilot)
            found = {f.id: f.level for f in findings.findings}
            assert found["no-querier"] == "warning" and "querier-unobservable" not in found


def _two_interfaces(factory: N.NetnsFactory) -> tuple[str, str, str]:
    """A receiver namespace with eth0 and eth1, each a veth to a namespace of its own
    (10.213.1.0/24 and 10.214.1.0/24); multicast routes via eth0 in the receiver."""
    rx, a, b = factory.namespace(), factory.namespace(), factory.namespace()
    for ns, dev, net in ((a, "eth0", "10.213.1"), (b, "eth1", "10.214.1")):
        N._ip("-n", rx, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", ns)
        N._ip("-n", rx, "addr", "add", f"{net}.2/24", "dev", dev)
        N._ip("-n", ns, "addr", "add", f"{net}.1/24", "dev", "eth0")
        N._ip("-n", rx, "link", "set", dev, "up")
        N._ip("-n", ns, "link", "set", "eth0", "up")
        N._ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", "eth0")
    N._ip("-n", rx, "route", "add", "224.0.0.0/4", "dev", "eth0")
    return rx, a, b


async def test_join_everywhere_shows_the_interface_traffic_arrives_on(netns_factory) -> None:
    with N._setup():
        rx, _a, b = _two_interfaces(netns_factory)
    with N.inside(b):
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with sender, N.inside(rx):
        app = make_app(binds=[("0.0.0.0", PORT)])
        async with app.run_test(size=(100, 40)) as pilot:
            await open_pane_6(pilot, joined=False)
            await pilot.press("j")
            await wait_for(lambda: type(app.screen).__name__ == "JoinEverywhereDialog",
                           what="the dialog", pilot=pilot)
            await type_into(pilot, "#everywhere-group", GROUP)
            await pilot.press("enter")
            await wait_for(lambda: app.everywhere is not None, what="joined everywhere", pilot=pilot)
            session = app.everywhere
            assert session.joined == ["eth0", "eth1"] and not session.failed
            assert {(m.interface, m.group) for m in read_memberships()} >= {
                ("eth0", GROUP), ("eth1", GROUP)}
            # The sender sits behind eth1 only; bounded, paced until some arrive.
            for i in range(50):
                sender.sendto(b"datagram %d" % i, (GROUP, PORT))
                if session.counter.total >= 5:
                    break
                await pilot.pause(0.05)

            def arrivals() -> dict[str, list[str]]:
                return {r[0]: r for r in rows(app, "#arrivals")}

            await wait_for(lambda: arrivals().get("eth1", [""] * 4)[3] ==
                           "← traffic arrives here", what="traffic shown on eth1", pilot=pilot)
            got = arrivals()
            assert got["eth0"][1:3] == ["joined", "0"] and int(got["eth1"][2]) >= 5
            assert session.counter.by_interface == {"eth1": session.counter.total}
            # A join on the default interface (eth0, the group's route) would miss this sender,
            # whose route leaves by eth1: said so.
            warning = app.screen.query_one("#everywhere-warning", Static)
            await wait_for(lambda: "leaves by eth1" in str(warning.render()), 10,
                           what="the route warning", pilot=pilot)
            assert "a join on the default interface" in str(warning.render())
            await pilot.press("l")
            await wait_for(lambda: app.everywhere is None, what="left everywhere", pilot=pilot)
            assert GROUP not in {m.group for m in read_memberships()}
            await wait_for(lambda: not app.screen.query_one("#everywhere").has_class(
                "-active"), what="section hidden", pilot=pilot)


def _without_cap_net_raw() -> list[str]:
    """A prefix that runs a command without CAP_NET_RAW: as nobody where the interpreter is
    reachable for it, else as root with CAP_NET_RAW dropped from the bounding set."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    reachable = all(os.stat(p).st_mode & stat.S_IXOTH
                    for p in [*Path(sys.executable).resolve().parents, *HERE.parents])
    if reachable:
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    return ["setpriv", "--bounding-set", "-net_raw", "--inh-caps", "-net_raw"]


def test_without_cap_net_raw_pane_6_says_cannot_observe_not_no_querier(lab) -> None:
    env = dict(os.environ)
    env.pop("PYTHONUNBUFFERED", None)
    cmd = ["ip", "netns", "exec", lab.rx, *_without_cap_net_raw(), sys.executable,
           str(HERE / "mc_child.py"), GROUP]
    res = subprocess.run(cmd, capture_output=True, timeout=90, env=env, cwd=HERE.parents[1],
                         check=False)
    assert res.returncode == 0, res.stderr.decode(errors="replace")[-3000:]
    shown = json.loads(res.stdout.decode().splitlines()[-1])
    eth0 = next(r for r in shown["rows"] if r[:2] == ["eth0", "IGMP"])
    assert eth0[2] == "cannot observe (no CAP_NET_RAW)" and eth0[3] == "v3 kernel"
    assert not any("no querier" in cell for r in shown["rows"] for cell in r)
    assert "CAP_NET_RAW" in shown["note"] and "cannot observe" in shown["note"]
    assert shown["findings"]["querier-unobservable"] == "warning"
    assert "no-querier" not in shown["findings"]
