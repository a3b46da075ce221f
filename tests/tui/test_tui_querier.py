"""Pane 6's querier part on a made-up host (tests/tui/mc_fakes.py): the observer runs only while
the view is shown, the tables say what the observer saw (or that it cannot see), the findings wrap
in their column and the selected one's fix is copied. Nothing here joins a group: the joins
shown are the engine's record of a socket, stood in for."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static

from tests.tui.mc_fakes import CAP_REASON, DROPS_IGMP, QUERIER, FakeHost, blind_views, joined
from tests.tui.tui_helpers import HostObserver, in_own_namespace, make_app, type_into, wait_for
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.commands import palette_commands
from udpscope.tui.widgets.findings import FindingsList


def table_lines(app, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    table = app.screen.query_one(selector, DataTable)
    return [" | ".join(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def with_joins(app, *joins: tuple[str, str | None, str | None]) -> None:  # type: ignore[no-untyped-def]
    """A socket whose engine record holds `joins` (nothing is joined for real)."""
    entry = app.capture.create_socket("udp4")
    entry.sock.get_memberships = lambda: list(joins)
    app.capture.note_joins(entry.id)
    app.selected_socket = entry.id


async def open_pane_6(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await pilot.press("6")
    await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", what="pane 6", pilot=pilot)
    await wait_for(lambda: table_lines(app, "#queriers"), what="querier rows", pilot=pilot)


async def test_the_observer_runs_only_while_pane_6_is_shown() -> None:
    host = FakeHost()
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert host.observers == []          # opening the app sends no report by itself
        await open_pane_6(pilot)
        first = host.observers[0]
        assert first.running and first.starts == 1
        await pilot.press("question_mark")   # help over the view: the watch goes on
        await wait_for(lambda: type(app.screen).__name__ == "HelpScreen", what="help", pilot=pilot)
        await pilot.press("escape")
        await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", what="back", pilot=pilot)
        await pilot.pause(0.1)
        assert len(host.observers) == 1 and first.running
        await pilot.press("escape")          # another view: the watch stops
        await wait_for(lambda: not first.running, what="observer closed", pilot=pilot)
        await open_pane_6(pilot)
        second = host.observers[-1]
        assert len(host.observers) == 2 and second.running
        await pilot.press("w")               # stopped by hand, and said so
        await wait_for(lambda: not second.running, what="stopped with w", pilot=pilot)
        await wait_for(lambda: "Not listening for queries" in str(
            app.screen.query_one("#querier-note", Static).render()), what="idle note", pilot=pilot)
        assert table_lines(app, "#queriers") == [
            "eth0 | IGMP | not listening (w starts) | v2 kernel | — | — | — | —",
            "eth0 | MLD | not listening (w starts) | — | — | — | — | —",
            "eth1 | IGMP | not listening (w starts) | v3 kernel | — | — | — | —",
            "eth1 | MLD | not listening (w starts) | — | — | — | — | —"]
        await pilot.press("w")
        await wait_for(lambda: host.observers[-1].running and len(host.observers) == 3,
                       what="started again", pilot=pilot)
    assert not host.observers[-1].running   # the app's end closes it too


async def test_queriers_and_the_prune_countdown_from_the_observer() -> None:
    host = FakeHost(memberships=[joined("239.1.2.3", "eth1"), joined("239.4.4.4", "eth0")])
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(140, 40)) as pilot:
        with_joins(app, ("239.1.2.3", None, "192.168.7.2"), ("239.4.4.4", None, None))
        await open_pane_6(pilot)
        rows = table_lines(app, "#queriers")
        assert rows[0].split(" | ") == ["eth0", "IGMP", QUERIER, "IGMPv3", "12 s ago", "125 s",
                                        "10 s", "3.2 s ago"]
        assert rows[2].startswith("eth1 | IGMP | no querier seen | v3 kernel")
        await wait_for(lambda: len(table_lines(app, "#own-joins")) == 2, what="joins", pilot=pilot)
        joins = table_lines(app, "#own-joins")
        # The capture's clock is frozen: joined just now, a whole interval to go on eth1.
        assert joins[0] == "#1 | 239.1.2.3 | eth1 | 0.0 s ago | prunes in about 260 s"
        assert joins[1] == f"#1 | 239.4.4.4 | eth0 | 0.0 s ago | kept alive by {QUERIER}"
        note = str(app.screen.query_one("#querier-note", Static).render())
        assert "udpscope joins 224.0.0.22 and ff02::16" in note


async def test_without_cap_net_raw_the_view_says_what_it_cannot_see() -> None:
    host = FakeHost(observer_views=blind_views(), observer_state="unobservable",
                    observer_reason=CAP_REASON)
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(80, 24)) as pilot:
        with_joins(app, ("239.1.2.3", None, "10.0.0.2"))
        await open_pane_6(pilot)
        rows = table_lines(app, "#queriers")
        assert [r.split(" | ")[2] for r in rows] == ["cannot observe (no CAP_NET_RAW)"] * 4
        assert rows[0].split(" | ")[3] == "v2 kernel"     # the kernel's querier version
        assert not any("no querier" in r for r in rows)
        note = str(app.screen.query_one("#querier-note", Static).render())
        assert "CAP_NET_RAW" in note and '"cannot observe" is not "no querier"' in note
        joins = table_lines(app, "#own-joins")
        assert joins[0].endswith("if no querier: in about 260 s (queries not visible)")
        await type_into(pilot, "#check-group", "239.1.2.3")
        await pilot.press("enter")
        await wait_for(lambda: "cannot be observed" in app.screen.findings_text(),
                       what="the unobservable finding", pilot=pilot)
        assert "no IGMP querier seen" not in app.screen.findings_text()


async def test_findings_wrap_in_their_column_and_the_fix_is_copied() -> None:
    host = FakeHost(ruleset_text=DROPS_IGMP, memberships=[joined("239.1.2.3", "eth0")])
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(80, 24)) as pilot:
        with_joins(app, ("239.1.2.3", None, "10.0.0.2"))
        await open_pane_6(pilot)
        await type_into(pilot, "#check-group", "239.1.2.3")
        await pilot.press("enter")
        findings = app.screen.query_one(FindingsList)
        await wait_for(lambda: findings.findings, what="findings", pilot=pilot)
        first = findings.findings[0]
        assert first.id == "igmp-filtered" and first.level == "error"
        text = app.screen.findings_text()
        lines = text.splitlines()
        assert all(len(line) <= 78 for line in lines) and all(is_terminal_safe(x) for x in lines)
        start = next(i for i, line in enumerate(lines) if line.startswith("ERROR"))
        body = lines[start + 1:start + 4]
        assert body and all(line.startswith(" " * 9) for line in body)   # wrapped in its column
        assert "fix: iptables -t filter -I OUTPUT -p igmp -j ACCEPT" in " ".join(
            line.strip() for line in lines)
        await pilot.press("c")
        assert app.clipboard == "iptables -t filter -I OUTPUT -p igmp -j ACCEPT"
        # The next finding with no fix: nothing copied, and said so.
        findings.focus()
        target = next(i for i, f in enumerate(findings.findings) if not f.fix)
        findings.highlighted = target
        await pilot.press("c")
        assert app.clipboard == "iptables -t filter -I OUTPUT -p igmp -j ACCEPT"
        await wait_for(lambda: any("No fix to copy" in str(n.message)
                                          for n in app._notifications), what="a notice", pilot=pilot)


async def test_a_bad_group_is_answered_under_the_field_and_kept() -> None:
    host = FakeHost()
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane_6(pilot)
        await type_into(pilot, "#check-group", "10.0.0.1")
        await pilot.press("enter")
        findings = app.screen.query_one(FindingsList)
        await wait_for(lambda: "not a multicast address" in findings.plain_text(78),
                       what="the message", pilot=pilot)
        assert app.screen.query_one("#check-group", Input).value == "10.0.0.1"


async def test_join_everywhere_asks_for_a_valid_group_first() -> None:
    host = FakeHost()
    app = make_app(multicast_sources=host.sources())
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pane_6(pilot)
        await pilot.press("j")               # no socket yet: said so, no dialog
        await wait_for(lambda: any("No socket selected" in str(n.message)
                                          for n in app._notifications), what="a notice", pilot=pilot)
        app.capture.create_socket("udp4")
        app.selected_socket = 1
        await pilot.press("j")
        await wait_for(lambda: type(app.screen).__name__ == "JoinEverywhereDialog",
                       what="the dialog", pilot=pilot)
        await type_into(pilot, "#everywhere-group", "239.1.2.300")
        await type_into(pilot, "#everywhere-source", "ff15::1")
        await pilot.press("enter")
        await wait_for(lambda: "not a valid IPv4 address" in str(
            app.screen.query_one("#group-error", Static).render()), what="group message", pilot=pilot)
        assert "is a group" in str(app.screen.query_one("#source-error", Static).render())
        assert app.screen.query_one("#everywhere-group", Input).value == "239.1.2.300"
        assert app.everywhere is None and not app.capture.sockets[1].sock.get_memberships()
        await pilot.press("escape")
        await wait_for(lambda: type(app.screen).__name__ == "MulticastScreen", what="back", pilot=pilot)
        names = [c.title for c in palette_commands(app, app.screen)]
        assert "group: join everywhere" in names and "group: leave everywhere" in names


async def test_tests_on_the_host_never_listen_for_queriers() -> None:
    """The tests' app outside a namespace of its own gets a silent observer: pane 6 would
    otherwise join report groups on the machine's interfaces."""
    if in_own_namespace():
        return   # (a run inside a namespace may listen: nothing leaves it)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("6")
        await wait_for(lambda: getattr(app.screen, "observer", None) is not None,
                       what="the watch started", pilot=pilot)
        assert isinstance(app.screen.observer, HostObserver)
