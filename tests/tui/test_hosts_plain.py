"""The Hosts view's plain parts, without an app: the add-host and settings forms, the words and
symbols of the grid, and the session that owns a run (with fake agents: no process, no socket).
"""

from __future__ import annotations

import asyncio
import sys

import pytest

from tests.agent.fake_lan import FakeLan
from udpscope.agent.grid import Cell, Path
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.forms import FormError
from udpscope.tui.hostforms import (
    MAX_HOSTS,
    HostFields,
    MatrixFields,
    parse_host,
    parse_matrix_settings,
)
from udpscope.tui.hostgrid import (
    abbreviate,
    cell_text,
    cut_labels,
    fit_lines,
    label_plan,
    loss_text,
    pair_lines,
    verdict,
)
from udpscope.tui.hosts_session import HostEntry, HostsSession, RunRefused

# ---- the add-host form ------------------------------------------------------------------------------


def test_a_host_over_a_template_gets_its_name_as_one_argument() -> None:
    req = parse_host(HostFields("root@10.0.0.5", "ssh -T -o BatchMode=yes {host} udpscope agent"))
    assert req.argv == ("ssh", "-T", "-o", "BatchMode=yes", "root@10.0.0.5", "udpscope", "agent")
    ns = parse_host(HostFields(" h1 ", "ip netns exec {host} '/opt/my udpscope' agent"))
    assert ns.name == "h1" and ns.argv == ("ip", "netns", "exec", "h1", "/opt/my udpscope", "agent")


def test_the_local_host_is_this_udpscope_and_needs_no_template() -> None:
    req = parse_host(HostFields("", "anything, ignored", local=True))
    assert req.name == "local" and req.template == ""
    assert req.argv == (sys.executable, "-m", "udpscope", "agent")


@pytest.mark.parametrize(("fields", "box", "says"), [
    (HostFields("", "ssh {host} udpscope agent"), "name", "name: required"),
    (HostFields("-oProxyCommand=sh", "ssh {host} x"), "name", "starts with '-'"),
    (HostFields("h;rm -rf", "ssh {host} x"), "name", "not allowed in a host name"),
    (HostFields("h1", "ssh h1 udpscope agent"), "template", "has no {host}"),
    (HostFields("h1", "ssh '{host}"), "template", "cannot split"),
    (HostFields("h1", "   "), "template", "empty"),
])
def test_bad_hosts_are_answered_in_their_box(fields: HostFields, box: str, says: str) -> None:
    with pytest.raises(FormError) as caught:
        parse_host(fields)
    assert box in caught.value.errors and says in caught.value.errors[box]


def test_names_are_unique_and_the_list_is_bounded() -> None:
    with pytest.raises(FormError, match="in the list already"):
        parse_host(HostFields("h1", "ssh {host} x"), ["h1"])
    with pytest.raises(FormError, match=f"at most {MAX_HOSTS} hosts"):
        parse_host(HostFields("h99", "ssh {host} x"), [f"h{i}" for i in range(MAX_HOSTS)])


def test_both_boxes_are_answered_at_once_and_messages_are_terminal_safe() -> None:
    with pytest.raises(FormError) as caught:
        parse_host(HostFields("h\x1b[2J", "no placeholder \x07"))
    assert set(caught.value.errors) == {"name", "template"}
    assert all(is_terminal_safe(m) for m in caught.value.errors.values())


# ---- the settings form ------------------------------------------------------------------------------


def test_good_settings() -> None:
    s = parse_matrix_settings(MatrixFields("239.1.2.3:5000", "20", "100", "2", "1.5"))
    assert (s.group, s.port, s.count, s.rate, s.ttl, s.max_loss) == ("239.1.2.3", 5000, 20, 100.0, 2, 1.5)
    assert s.endpoint == "239.1.2.3:5000"
    v6 = parse_matrix_settings(MatrixFields("[ff15::1234]:5000"))
    assert (v6.group, v6.endpoint) == ("ff15::1234", "[ff15::1234]:5000")


@pytest.mark.parametrize(("fields", "box", "says"), [
    (MatrixFields(""), "group", "required"),
    (MatrixFields("239.1.2.3"), "group", "needs GROUP:PORT"),
    (MatrixFields("10.0.0.1:5000"), "group", "not a multicast address"),
    (MatrixFields("239.1.2.3:0"), "group", "1-65535"),
    (MatrixFields("300.1.2.3:5000"), "group", "300.1.2.3"),
    (MatrixFields("239.1.2.3:5000", count="0"), "count", "out of range 1-100000"),
    (MatrixFields("239.1.2.3:5000", rate="fast"), "rate", "not a number"),
    (MatrixFields("239.1.2.3:5000", rate="20000"), "rate", "at most 10000"),
    (MatrixFields("239.1.2.3:5000", count="100000", rate="1"), "rate", "at most 3600 s"),
    (MatrixFields("239.1.2.3:5000", ttl="0"), "ttl", "out of range 1-255"),
    (MatrixFields("239.1.2.3:5000", max_loss="101"), "max_loss", "at most 100"),
    (MatrixFields("239.1.2.3:5000", max_loss="-1"), "max_loss", "at least 0"),
])
def test_bad_settings_are_answered_in_their_box(fields: MatrixFields, box: str, says: str) -> None:
    with pytest.raises(FormError) as caught:
        parse_matrix_settings(fields)
    assert says in caught.value.errors[box], caught.value.errors


def test_every_bad_setting_is_answered_in_one_go() -> None:
    with pytest.raises(FormError) as caught:
        parse_matrix_settings(MatrixFields("nope", "x", "0", "999", "y"))
    assert list(caught.value.errors) == ["group", "count", "rate", "ttl", "max_loss"]


# ---- the grid's words and symbols ------------------------------------------------------------------


def _cell(m: float | None, u: float | None, received: int = 10) -> Cell:
    def path(pct: float | None) -> Path:
        return Path() if pct is None else Path(sent=10, received=received, loss_pct=pct, lost=0)
    return Cell("a", "b", path(m), path(u))


@pytest.mark.parametrize(("pct", "shown"), [
    (None, "·"), (0.0, "0"), (0.01, "0.1"), (2.5, "2.5"), (3.0, "3"), (12.7, "12"), (99.6, "99"),
    (100.0, "100")])
def test_loss_text_never_rounds_loss_away_or_up_to_all(pct: float | None, shown: str) -> None:
    assert loss_text(pct) == shown


@pytest.mark.parametrize(("m", "u", "max_loss", "shown", "level"), [
    (0.0, 0.0, 0.0, "✓0/0", "ok"),
    (2.0, 0.0, 5.0, "✓2/0", "ok"),
    (2.0, 0.0, 0.0, "!2/0", "over"),
    (100.0, 0.0, 0.0, "✗100/0", "lost"),
    (0.0, None, 0.0, "✓0/·", "ok"),
    (None, None, 0.0, "·", "none"),
])
def test_a_cell_carries_its_level_as_a_symbol(m: float | None, u: float | None, max_loss: float,
                                              shown: str, level: str) -> None:
    assert cell_text(_cell(m, u), max_loss) == (shown, level)


def test_names_are_cut_with_an_ellipsis_and_made_safe() -> None:
    assert abbreviate("h1", 8) == "h1"
    assert abbreviate("a-very-long-host-name", 8) == "a-very-…"
    cut = abbreviate("\x1b[2Jevil", 8)
    assert is_terminal_safe(cut) and len(cut) == 8 and "\x1b" not in cut


def test_pair_lines_before_a_run() -> None:
    assert pair_lines(None, None) == ["no run yet: the cells fill in once s starts one"]


# ---- the session, with fake agents -------------------------------------------------------------------


def _session(lan: FakeLan, names: tuple[str, ...] = ("h1", "h2", "h3")) -> HostsSession:
    session = HostsSession(link_factory=lan.link)
    for name in names:
        session.add(HostEntry(name, "ssh {host} udpscope agent", ("ssh", name)))
    return session


async def _finished(session: HostsSession, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while session.running:
            await asyncio.sleep(0.02)


async def test_a_run_needs_two_hosts_and_only_one_runs_at_a_time() -> None:
    lan = FakeLan()
    settings = parse_matrix_settings(MatrixFields("239.1.2.3:5000", "1000", "100"))
    with pytest.raises(RunRefused, match="at least two hosts"):
        _session(lan, ("h1",)).start(settings)
    session = _session(lan)
    session.start(settings)
    assert session.running
    with pytest.raises(RunRefused, match="going on already"):
        session.start(settings)
    with pytest.raises(RunRefused, match="stop it"):
        session.add(HostEntry("h4", "", ("x",)))
    with pytest.raises(RunRefused, match="stop it"):
        session.remove("h1")
    await session.shutdown()
    assert not session.running and [h.name for h in session.hosts] == ["h1", "h2", "h3"]


async def test_shutdown_stops_every_agent_and_the_verdict_says_stopped() -> None:
    lan = FakeLan()
    session = _session(lan)
    finals: list[object] = []
    session.on_done = finals.append
    session.start(parse_matrix_settings(MatrixFields("239.1.2.3:5000", "3000", "100")))
    for _ in range(200):
        if len(lan.joined) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(lan.joined) == 3, "every fake agent joined"
    await session.shutdown()
    assert lan.joined == {} and all(link.closed for link in lan.links.values())
    assert all("bye" in link.commands for link in lan.links.values())
    snap = session.snapshot()
    assert snap is not None and snap.interrupted and len(finals) == 1
    ok, words = verdict(snap, 0.0)
    assert ok is False and "stopped before the end" in words


async def test_a_finished_run_reads_ok_and_names_a_deaf_host() -> None:
    lan = FakeLan(drop={("h3", "multicast"): 1.0})
    session = _session(lan)
    session.start(parse_matrix_settings(MatrixFields("239.1.2.3:5000", "20", "200")))
    await _finished(session)
    snap = session.snapshot()
    assert snap is not None and snap.phase == "done"
    ok, words = verdict(snap, 0.0)
    assert ok is False
    assert words.startswith("✗ NOT OK: h3: multicast fails where unicast works (in); 2 cells over")
    healthy = _session(FakeLan(), ("a", "b"))
    healthy.start(parse_matrix_settings(MatrixFields("239.1.2.3:5000", "20", "200")))
    await _finished(healthy)
    snap = healthy.snapshot()
    assert snap is not None and verdict(snap, 0.0) == (
        True, "✓ OK: every host heard every other, within max loss 0%")


# ---- labels and wrapping ------------------------------------------------------------------------------


def test_short_names_are_shown_as_they_are() -> None:
    plan = label_plan(["h1", "h2", "h3"], 7, 16, 16)
    assert (plan.columns, plan.rows, plan.numbered) == (["h1", "h2", "h3"], ["h1", "h2", "h3"], False)


def test_a_shared_domain_goes_and_long_names_are_cut_in_the_middle() -> None:
    labels, unique = cut_labels(["web-a.prod.example.com", "db-b.prod.example.com"], 16)
    assert (labels, unique) == (["web-a", "db-b"], True)
    labels, unique = cut_labels(["kubernetes-worker-0001", "kubernetes-worker-0002"], 9)
    assert labels == ["kube…0001", "kube…0002"] and unique


def test_names_that_cuts_cannot_tell_apart_are_numbered() -> None:
    names = [f"rack{r}-node{n:02d}.example.net" for r in (1, 2) for n in (1, 2)]
    plan = label_plan(names, 7, 16, 16)
    assert plan.numbered and plan.columns == ["#1", "#2", "#3", "#4"]
    assert plan.rows == ["#1 rack1-node01", "#2 rack1-node02", "#3 rack2-node01",
                         "#4 rack2-node02"]
    assert plan.listed == ["rack1-node01", "rack1-node02", "rack2-node01", "rack2-node02"]


def test_fit_lines_wraps_and_marks_a_cut() -> None:
    text = fit_lines(["a " * 30, " indented " + "b " * 20], 20, 3)
    lines = text.splitlines()
    assert len(lines) == 3 and all(len(line) <= 20 for line in lines)
    assert lines[-1].endswith("…")
    assert fit_lines(["short"], 20, 3) == "short"


def test_a_hostile_agents_stream_fields_reach_the_detail_inert() -> None:
    from udpscope.agent.coordinator import PairDetail
    from udpscope.agent.grid import SentStream

    hostile = {"stream": 1, "source": "10.0.0.1\x1b[2J", "interface": "eth0\x07",
               "ttl_min": "\x1b]52;c;AAAA\x07", "ttl_max": 5, "other_sources": "\x1b[31m",
               "delay_ms_avg": "x\x1b", "delay_ms_min": 0.1, "delay_ms_max": 0.2, "jitter_ms": None}
    cell = Cell("a\x1b", "b", Path(sent=10, received=10, loss_pct=0.0, lost=0, warmup_lost=0,
                                   duplicates=0, reordered=0), Path())
    detail = PairDetail("a\x1b", "b", SentStream(10, 0, True), None, hostile, None)
    lines = pair_lines(detail, cell)
    assert all(is_terminal_safe(line) for line in lines), lines
    assert "TTL ?–5" in lines[2] and "from 10.0.0.1\\e[2J on eth0\\x07" in lines[2]
    assert lines[0] == "a\\e → b" and lines[3] == " unicast: not sent yet"
