"""Snapshots of the Hosts view (7) after a finished run of fake agents: deterministic (fixed
addresses, delays and drops, a finished run's counts), at 80x24 and 140x40. Four hosts with a
deaf one, a lossy link and one that cannot be reached; and sixteen hosts with long names at
80x24, where the grid scrolls and names are cut with "…".

Update after a deliberate change with `pytest tests/tui/test_tui_hosts_snapshots.py
--snapshot-update`, and look at the SVGs before committing them.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.agent.fake_lan import FakeLan
from tests.tui.hosts_helpers import hosts_app, start_and_finish
from tests.tui.tui_helpers import no_blink
from udpscope.tui.hostforms import HostFields, parse_host
from udpscope.tui.hosts_session import HostEntry
from udpscope.tui.screens.hosts import HostsScreen

SIZES = [(80, 24), (140, 40)]
TEMPLATE = "ssh -T -o BatchMode=yes {host} udpscope agent"


def _four() -> FakeLan:
    return FakeLan(drop={("h3", "multicast"): 1.0, ("h2", "unicast"): 0.2},
                   exits={"h4": "ssh: connect to host h4 port 22: No route to host"})


async def _run(pilot: Pilot, names: list[str], **settings: str) -> None:
    await pilot.press("7")
    await pilot.pause(0.2)
    screen = pilot.app.screen
    assert isinstance(screen, HostsScreen)
    for name in names:
        request = parse_host(HostFields(name, TEMPLATE))
        screen.session.add(HostEntry(request.name, request.template, request.argv))
    for key, text in {"group": "239.1.2.3:5000", "count": "20", "rate": "200", **settings}.items():
        screen.query_one(f"#set-{key}").value = text  # type: ignore[attr-defined]
    screen.update_view(force=True)
    await start_and_finish(pilot)
    no_blink(pilot.app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_hosts_view_after_a_run(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await _run(pilot, ["h1", "h2", "h3", "h4"])

    assert snap_compare(hosts_app(_four()), terminal_size=size, run_before=before)


def test_sixteen_hosts_at_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    names = [f"rack{i // 4 + 1}-node{i % 4 + 1:02d}.example.net" for i in range(16)]
    lan = FakeLan(drop={(names[5], "multicast"): 1.0, (names[9], "unicast"): 0.1})

    async def before(pilot: Pilot) -> None:
        await _run(pilot, names)
        await pilot.press("down", "down", "right", "right", "right", "right", "right", "right")
        await pilot.pause()

    assert snap_compare(hosts_app(lan), terminal_size=(80, 24), run_before=before)


def test_empty_hosts_view_at_80x24(snap_compare) -> None:  # type: ignore[no-untyped-def]
    async def before(pilot: Pilot) -> None:
        await pilot.press("7")
        await pilot.pause(0.2)
        no_blink(pilot.app)

    assert snap_compare(hosts_app(FakeLan()), terminal_size=(80, 24), run_before=before)
