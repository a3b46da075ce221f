"""What the Multicast view's querier, joins and join-everywhere rows say, and which findings its
checks give, decided without Textual from made-up observer views, times and hosts."""

from __future__ import annotations

from dataclasses import replace

from tests.tui.mc_fakes import (
    CAP_REASON,
    DROPS_IGMP,
    ETH0,
    ETH1,
    LO,
    QUERIER,
    FakeHost,
    blind_views,
    joined,
    observing_views,
    system,
)
from udpscope.capture import Capture
from udpscope.net.checks import ReceiveSetup
from udpscope.net.diagnose import Sender
from udpscope.net.joins import ArrivalCounter, JoinOutcome
from udpscope.net.querier import FamilyStatus, QuerierView
from udpscope.textsafe import is_terminal_safe
from udpscope.tui import mc_checks, mc_rows
from udpscope.tui.mc_everywhere import EverywhereSession, already_joined

V4, V6, NOQ4, NOQ6 = observing_views()


def test_times_fit_their_cells() -> None:
    assert [mc_rows.seconds(v) for v in (None, 3.04, 9.96, 125.2)] == ["—", "3.0 s", "10 s", "125 s"]
    assert [mc_rows.ago(v) for v in (None, -1, 2.5, 599.6, 3600)] == [
        "—", "0.0 s ago", "2.5 s ago", "10min ago", "60min ago"]
    assert all(len(mc_rows.ago(v)) <= 9 for v in (0.04, 9.96, 59.5, 599.4, 900, 5940))


def test_a_querier_row_names_address_version_interval_and_our_report() -> None:
    row = mc_rows.querier_row(V4)
    assert row.cells == ("eth0", "IGMP", QUERIER, "IGMPv3", "12 s ago", "125 s", "10 s",
                         "3.2 s ago")
    assert row.tone == "good"
    mld = mc_rows.querier_row(V6)
    assert mld.cells[2:6] == ("fe80::1", "MLDv1", "40 s ago", "~125 s")  # advertised: ~
    assert mc_rows.querier_row(replace(V4, other_queriers=("10.0.0.253",))).cells[2] == (
        f"{QUERIER} (+1 more)")


def test_nobody_queries_and_a_querier_gone_silent() -> None:
    row = mc_rows.querier_row(NOQ4)
    assert row.cells[2:4] == ("no querier seen", "v3 kernel") and row.tone == "warn"
    assert row.cells[-1] == "1.5 s ago"          # our own report was heard: it is listening
    quiet = mc_rows.querier_row(replace(V4, last_query_age_s=200.0))   # > 1.5 x 125 + 10
    assert quiet.cells[2] == f"{QUERIER} (silent)" and quiet.tone == "warn"
    assert mc_rows.querier_row(replace(V4, last_query_age_s=190.0)).tone == "good"


def test_without_cap_net_raw_it_says_what_cannot_be_seen_never_no_querier() -> None:
    rows = mc_rows.querier_rows(blind_views())
    assert [r.cells[2] for r in rows] == ["cannot observe (no CAP_NET_RAW)"] * 4
    assert [r.cells[3] for r in rows] == ["v2 kernel", "—", "v3 kernel", "—"]
    assert not any("no querier" in c for r in rows for c in r.cells)
    note = mc_rows.observer_note({"IPv4": "unobservable", "IPv6": "unobservable"},
                                 {"IPv4": CAP_REASON, "IPv6": CAP_REASON})
    assert "CAP_NET_RAW" in note and "IGMP and MLD queries can't be seen" in note
    assert '"cannot observe" is not "no querier"' in note and "/proc/net/igmp" in note


def test_the_note_says_what_listening_sends_and_why_a_family_is_missing() -> None:
    note = mc_rows.observer_note({"IPv4": "observing", "IPv6": "unsupported"},
                                 {"IPv4": None, "IPv6": "IPv6 is disabled"}, 42.0)
    assert "Listening for IGMP queries for 42 s" in note
    assert "joins 224.0.0.22 to hear reports" in note and "ff02::16" not in note
    assert "MLD queries can't be watched: IPv6 is disabled." in note
    idle = mc_rows.observer_note({"IPv4": "idle", "IPv6": "idle"}, {})
    assert idle.startswith("Not listening for queries (w starts")


def test_interface_names_and_querier_addresses_are_sanitised() -> None:
    hostile = replace(V4, interface="eth\x1b]0;pwned\x07", querier="10.0.0.1\x1b[2J")
    row = mc_rows.querier_row(hostile)
    assert all(is_terminal_safe(c) for c in row.cells)
    assert row.cells[0] == "eth\\e]0;pwned\\x07"


def test_the_prune_countdown_from_the_join_time() -> None:
    j = mc_rows.OwnJoin(1, "239.1.2.3", None, "eth1", joined_at=1000.0)
    assert mc_rows.countdown(j, NOQ4, 1010.0) == ("prunes in about 250 s", "warn")
    # Watched for less than a query interval: nobody may have asked yet.
    assert mc_rows.countdown(j, replace(NOQ4, watched_s=30.0), 1010.0) == (
        "prunes in about 250 s unless a querier asks", "warn")
    text, tone = mc_rows.countdown(j, NOQ4, 1300.0)
    assert text.startswith("pruned by now (one membership interval, 260 s") and tone == "bad"
    assert mc_rows.countdown(j, V4, 1010.0) == (f"kept alive by {QUERIER}", "good")
    silent = replace(V4, last_query_age_s=200.0)   # its last query refreshed us 200 s ago
    assert mc_rows.countdown(j, silent, 1010.0) == (
        "querier silent: prunes in about 60 s", "warn")
    blind = replace(NOQ4, state="unobservable")
    assert mc_rows.countdown(j, blind, 1010.0) == (
        "if no querier: in about 250 s (queries not visible)", "muted")
    assert mc_rows.countdown(j, None, 1010.0)[0] == (
        "if no querier: in about 250 s (interface unknown)")


def test_join_rows_place_each_join_and_count_down() -> None:
    capture = Capture(clock=lambda: 1000.0, monotonic=lambda: 1000.0)
    entry = capture.create_socket("udp4")
    held = [("239.1.2.3", None, "192.168.7.2"), ("232.1.1.1", "10.0.0.9", "::%eth0"),
            ("239.9.9.9", None, None)]
    entry.sock.get_memberships = lambda: list(held)   # the engine's record, stood in for
    capture.note_joins(entry.id)
    kernel = [joined("239.9.9.9", "eth0")]
    joins = mc_rows.own_joins(capture.entries(), [LO, ETH0, ETH1], kernel)
    assert [(j.group, j.interface) for j in joins] == [
        ("232.1.1.1", "eth0"), ("239.1.2.3", "eth1"), ("239.9.9.9", "eth0")]
    views = {(v.interface, v.family): v for v in observing_views()}
    rows = mc_rows.join_rows(joins, views, 1030.0)
    assert [r.cells for r in rows] == [
        ("#1", "10.0.0.9 → 232.1.1.1", "eth0", "30 s ago", f"kept alive by {QUERIER}"),
        ("#1", "239.1.2.3", "eth1", "30 s ago", "prunes in about 230 s"),
        ("#1", "239.9.9.9", "eth0", "30 s ago", f"kept alive by {QUERIER}")]
    capture.close_all()


def test_arrival_rows_show_where_the_traffic_comes_in() -> None:
    counter = ArrivalCounter("239.1.2.3")
    counter.add("eth1", 40)
    counter.add("lo", 2)
    outcomes = [JoinOutcome("eth0", "10.0.0.2", True), JoinOutcome("eth1", "192.168.7.2", True),
                JoinOutcome("eth2", "10.9.0.2", False, "ENOBUFS", "no buffer", "limit reached"),
                JoinOutcome("eth3", "10.8.0.2", False, "EADDRINUSE", "in use")]
    rows = mc_rows.arrival_rows(outcomes, counter)
    assert [(r.cells, r.tone) for r in rows] == [
        (("eth0", "joined", "0", ""), ""),
        (("eth1", "joined", "40", "← traffic arrives here"), "good"),
        (("eth2", "ENOBUFS", "0", "limit reached"), "bad"),
        (("eth3", "already", "0", "joined before (kept when leaving everywhere)"), ""),
        (("lo", "not joined", "2", "arrives here without a join of ours"), "warn")]
    assert already_joined(outcomes[3]) and not already_joined(outcomes[2])


def test_the_route_check_uses_the_source_or_the_busiest_sender_once() -> None:
    capture = Capture(clock=lambda: 1.0)
    session = EverywhereSession(1, "239.1.2.3", None, [], ArrivalCounter("239.1.2.3"), 0.0)
    assert session.source_to_check(capture) is None            # nobody has sent yet
    capture.groups.account("239.1.2.3", "192.168.7.1", "eth1", 1, 10, 1.0, None, count=5)
    capture.groups.account("239.1.2.3", "10.0.0.7", "eth0", 1, 10, 1.0, None, count=2)
    assert session.source_to_check(capture) == "192.168.7.1"
    session.route_checked_for = "192.168.7.1"
    assert session.source_to_check(capture) is None            # checked already


# ---- the checks the view runs --------------------------------------------------------------

def _request(**changes: object) -> mc_checks.CheckRequest:
    status = {"IPv4": FamilyStatus("IPv4", "observing"), "IPv6": FamilyStatus("IPv6", "observing")}
    base = mc_checks.CheckRequest(
        "239.1.2.3",
        ReceiveSetup("239.1.2.3", interface="eth1", bound_address="0.0.0.0", joined=True,
                     socket_family="udp4"),
        "eth1", port=5000, started_at=0.0, now=300.0, joined_at=0.0, statuses=status,
        views={(v.interface, v.family): v for v in observing_views()}, rp_before=0)
    return replace(base, **changes)  # type: ignore[arg-type]


def ids(findings: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {f.id: f.level for f in findings}


def test_the_view_runs_the_watch_checks_with_fixes() -> None:
    host = FakeHost(ruleset_text=DROPS_IGMP.replace("eth0", "eth1"),
                    system_view=system(force_igmp_version={"all": 2},
                                       rp_filter={"all": 1, "eth1": 1}))
    # A sender on no network of eth1 with TTL 1, whose datagrams stopped about one membership
    # interval after the join: every watch check has something to say.
    sender = Sender("172.16.5.5", 0, 100, 1, "eth1", 1.0, 262.0)
    found = mc_checks.run(_request(senders=(sender,), datagrams=100, source="172.16.5.5"),
                          host.sources())
    got = ids(found)
    assert got["no-querier"] == "warning" and got["snooping-timeout"] == "warning"
    assert got["igmp-filtered"] == "error" and got["ttl-too-low"] == "warning"
    assert got["forced-igmp-version"] == "warning" and got["rp-filter"] == "error"
    fixes = {f.id: f.fix for f in found}
    assert fixes["igmp-filtered"] == "iptables -t filter -I OUTPUT -p igmp -j ACCEPT"
    assert fixes["forced-igmp-version"] == "sysctl -w net.ipv4.conf.all.force_igmp_version=0"
    assert [f.level for f in found] == sorted((f.level for f in found),
                                              key=["error", "warning", "info"].index)


def test_cannot_observe_is_not_no_querier_and_an_idle_watch_says_how_to_start() -> None:
    host = FakeHost()
    blind = {"IPv4": FamilyStatus("IPv4", "unobservable", CAP_REASON)}
    found = ids(mc_checks.run(_request(statuses=blind, views={}), host.sources()))
    assert found["querier-unobservable"] == "warning" and "no-querier" not in found
    idle = {"IPv4": FamilyStatus("IPv4", "idle", "not started")}
    detail = next(f.detail for f in mc_checks.run(_request(statuses=idle, views={}),
                                                  host.sources())
                  if f.id == "querier-unobservable")
    assert "w in this view starts it" in detail


def test_a_default_interface_join_towards_another_route_is_flagged() -> None:
    host = FakeHost()   # the group routes via eth0, the sender 192.168.7.1 via eth1
    sender = Sender("192.168.7.1", 0, 5, 64, "eth1", 1.0, 2.0)
    req = _request(interface=None, setup=ReceiveSetup("239.1.2.3", joined=True),
                   senders=(sender,), now=3.0)
    found = {f.id: f for f in mc_checks.run(req, host.sources())}
    mismatch = found["join-interface-mismatch"]
    assert "route towards 192.168.7.1 leaves by eth1" in mismatch.detail
    assert mismatch.fix == "udpscope doctor 239.1.2.3@eth1 --source 192.168.7.1"


def test_gather_reads_the_selected_socket_and_the_streams() -> None:
    now = [2000.0]
    capture = Capture(clock=lambda: now[0])
    entry = capture.create_socket("udp4")
    entry.sock.get_memberships = lambda: [("239.1.2.3", None, "192.168.7.2")]
    capture.note_joins(entry.id)
    capture.groups.account("239.1.2.3", "192.168.7.1", "eth1", 1, 100, 2001.0, None, count=3)
    now[0] = 2010.0
    req = mc_checks.gather(capture, entry, "239.1.2.3", interfaces=[LO, ETH0, ETH1],
                           statuses={}, views={}, started_at=1990.0, rp_before=7)
    assert (req.interface, req.joined_at, req.now, req.datagrams) == ("eth1", 2000.0, 2010.0, 3)
    assert req.setup.joined and req.setup.interface == "eth1" and req.setup.socket_joins == 1
    assert req.senders == (Sender("192.168.7.1", 0, 3, 1, "eth1", 2001.0, 2001.0),)
    host_only = mc_checks.gather(capture, None, "239.1.2.3", interfaces=[], statuses={},
                                 views={}, started_at=0.0, rp_before=None)
    assert not host_only.setup.socket and host_only.interface is None
    capture.close_all()


def test_views_of_an_unknown_state_still_make_a_row() -> None:
    row = mc_rows.querier_row(QuerierView("eth9", 9, "IPv4", "idle", kernel_version=3))
    assert row.cells[2] == "not listening (w starts)" and row.cells[3] == "v3 kernel"
