"""Snapshots of pane 6's querier part and findings at 80x24 and 140x40, on a made-up host
(tests/tui/mc_fakes.py): fixed interfaces, memberships, observer views and firewall rules, frozen
clocks, so the pictures depend on nothing of the machine and need no network.

Update after a deliberate UI change with `pytest tests/tui --snapshot-update` and look at the
SVGs before committing them.
"""

from __future__ import annotations

import pytest
from test_tui_querier import table_lines, with_joins
from textual.pilot import Pilot
from textual.widget import Widget

from tests.tui.mc_fakes import CAP_REASON, DROPS_IGMP, FakeHost, blind_views, joined
from tests.tui.tui_helpers import make_app, no_blink, type_into, wait_for
from udpscope.tui.widgets.findings import FindingsList

SIZES = [(80, 24), (140, 40)]


def _host(**kwargs) -> FakeHost:  # type: ignore[no-untyped-def]
    return FakeHost(memberships=[joined("239.1.2.3", "eth1"), joined("239.4.4.4", "eth0")],
                    **kwargs)


async def _scroll_to_top(pilot: Pilot, selector: str) -> None:
    """Scroll the pane so ``selector`` is at its top (or as far as the pane goes), and wait for
    it. Call it once what was just shown is laid out: a widget's new height reaches the screen's
    layout on that widget's own idle, and a scroll computed before it stops short."""
    widget = pilot.app.screen.query_one(selector)
    view = next(a for a in widget.ancestors
                if isinstance(a, Widget) and a.styles.overflow_y in ("auto", "scroll"))
    widget.scroll_visible(animate=False, top=True)
    await wait_for(lambda: widget.region.y == view.content_region.y
                   or view.scroll_y == view.max_scroll_y,
                   what=f"{selector} scrolled to the top", pilot=pilot)
    await pilot.pause()


async def _pane_6(pilot: Pilot) -> None:
    app = pilot.app
    with_joins(app, ("239.1.2.3", None, "192.168.7.2"), ("239.4.4.4", None, None))
    await pilot.press("6")
    await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", what="pane 6", pilot=pilot)
    await wait_for(lambda: len(table_lines(app, "#own-joins")) == 2, what="joins", pilot=pilot)
    app.screen.refresh_querier()
    await pilot.pause()
    no_blink(app)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_querier_view(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """A querier on eth0 (IGMPv3 and MLDv1), none on eth1; our joins count down there."""

    async def before(pilot: Pilot) -> None:
        await _pane_6(pilot)
        await _scroll_to_top(pilot, "#querier-panel")

    app = make_app(multicast_sources=_host().sources())
    assert snap_compare(app, terminal_size=size, run_before=before)


def test_querier_view_cannot_observe(snap_compare) -> None:  # type: ignore[no-untyped-def]
    """Without CAP_NET_RAW: what cannot be seen, and the kernel's IGMP version instead."""

    async def before(pilot: Pilot) -> None:
        await _pane_6(pilot)
        await _scroll_to_top(pilot, "#querier-panel")

    host = _host(observer_views=blind_views(), observer_state="unobservable",
                 observer_reason=CAP_REASON)
    assert snap_compare(make_app(multicast_sources=host.sources()), terminal_size=(80, 24),
                        run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_findings(snap_compare, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """A firewall rule dropping IGMP (error, with its fix), no querier on eth1, the group's
    notes; each finding wraps in its own column, the first with a fix selected."""

    async def before(pilot: Pilot) -> None:
        app = pilot.app
        await _pane_6(pilot)
        await type_into(pilot, "#check-group", "239.1.2.3")
        await pilot.press("enter")
        findings = app.screen.query_one(FindingsList)
        await wait_for(lambda: findings.findings and findings.region.height > len(findings.findings),
                       what="findings laid out", pilot=pilot)
        await _scroll_to_top(pilot, "#check-group")
        no_blink(app)

    host = _host(ruleset_text=DROPS_IGMP.replace("eth0", "eth1"))
    assert snap_compare(make_app(multicast_sources=host.sources()), terminal_size=size,
                        run_before=before)
