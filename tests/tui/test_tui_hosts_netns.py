"""The Hosts view over real agents: a bridge and three host namespaces made by the test
(tests/agent/bridge_net.py), agents started with `ip netns exec {host} <venv udpscope> agent`,
the view driven by keys. The app itself stays where it is and joins nothing; only the agents,
inside their namespaces, join the group. Quitting in the middle of a run must leave no agent
process and no membership behind.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests.agent import bridge_net as bn
from tests.netns import NetnsFactory
from tests.tui.hosts_helpers import (
    add_host,
    grid_of,
    host_row,
    open_hosts,
    set_settings,
    start_and_finish,
)
from tests.tui.hosts_helpers import static_text as text_of
from tests.tui.tui_helpers import make_app, wait_for

pytestmark = pytest.mark.netns

GROUP = "239.1.2.3"


def _agents() -> list[int]:
    """Our child processes that run `udpscope agent` (ip netns exec becomes the agent)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = Path(f"/proc/{entry}/stat").read_text()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"agent" in argv:
                found.append(int(entry))
    return found


async def test_the_hosts_view_over_agents_in_namespaces(netns_factory: NetnsFactory) -> None:
    lan = bn.build(netns_factory, 3)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_hosts(pilot)
        for ns in lan.hosts:
            await add_host(pilot, ns, bn.agent_template())
        assert [h.argv[:4] for h in screen.session.hosts] == [
            ("ip", "netns", "exec", ns) for ns in lan.hosts]
        await set_settings(pilot, group=f"{GROUP}:5000", count="20", rate="100")
        await start_and_finish(pilot, timeout=60)
        grid = grid_of(screen)
        for sender in lan.hosts:
            for receiver in lan.hosts:
                if sender != receiver:
                    assert grid.cell_plain(sender, receiver) == ("✓0/0", "ok"), (sender, receiver)
        assert text_of(screen, "#verdict").startswith("✓ OK"), text_of(screen, "#verdict")
        for i, ns in enumerate(lan.hosts):
            assert host_row(screen, ns)["address"] == lan.address(i)
            assert host_row(screen, ns)["state"] == "done"
        lines = text_of(screen, "#detail").splitlines()
        assert lines[1] == " multicast: sent 20, heard 20, lost 0 (0%), 0 dup, 0 reordered"
        assert "TTL 1, from 10.77.0.1 on eth0" in lines[2]
        assert _agents() == [] and all(bn.memberships(ns, GROUP) == [] for ns in lan.hosts)

        # A long run, and the app quits in the middle of it.
        await set_settings(pilot, count="3000")
        await pilot.press("s")
        await wait_for(lambda: all(bn.memberships(ns, GROUP) for ns in lan.hosts), 30,
                       what="every agent to join", pilot=pilot)
        agents = _agents()
        assert len(agents) == 3
        await pilot.press("ctrl+q")
    assert [pid for pid in agents if os.path.exists(f"/proc/{pid}")] == []
    assert {ns: bn.memberships(ns, GROUP) for ns in lan.hosts} == {ns: [] for ns in lan.hosts}
