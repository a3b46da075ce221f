"""The grid from reports (pure), the result's JSON shape and text, and the coordinator's failure
paths with fake transports (no network: the fakes never get as far as a join)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.waiting import wait_for
from udpscope.agent import grid
from udpscope.agent.client import AgentClient
from udpscope.agent.coordinator import Coordinator, MatrixConfig
from udpscope.agent.protocol import PROTOCOL_VERSION
from udpscope.agent.result import result_json, result_text
from udpscope.agent.transport import HostSpec, LinkError, TemplateError, check_host, parse_template


def _sender(jobs: list[tuple[str, list[tuple[int, int, int]]]]) -> dict[str, Any]:
    return {"jobs": [{"job": i + 1, "state": state,
                      "targets": [{"stream": s, "issued": n, "errors": e} for s, n, e in targets]}
                     for i, (state, targets) in enumerate(jobs)], "streams": []}


def _heard(stream: int, received: int, first: int = 0, **extra: Any) -> dict[str, Any]:
    return {"stream": stream, "received": received, "first_seq": first, "lost": 0,
            "duplicates": 0, "reordered": 0, "delay_ms_avg": 0.1, "ttl_min": 1, **extra}


def test_final_path_counts_tail_loss_and_keeps_warmup_apart() -> None:
    sent = grid.SentStream(issued=100, errors=0, final=True)
    path = grid.build_path(sent, _heard(1, 90, first=4), receiving=True, rate=100,
                           warmup_limit=grid.warmup_cap(100, 100))
    assert (path.warmup_lost, path.lost, path.received) == (4, 6, 90)
    assert path.loss_pct == pytest.approx(100 * 6 / 96, abs=0.01)


def test_warmup_is_bounded_so_a_late_start_is_still_loss() -> None:
    sent = grid.SentStream(issued=100, errors=0, final=True)
    path = grid.build_path(sent, _heard(1, 20, first=80), receiving=True, rate=100,
                           warmup_limit=grid.warmup_cap(100, 100))
    assert path.warmup_lost == 50            # at most half the count
    assert path.lost == 30 and path.loss_pct == 60.0


def test_nothing_heard_is_full_loss_and_unknowns_are_null() -> None:
    sent = grid.SentStream(issued=50, errors=0, final=True)
    nothing = grid.build_path(sent, None, receiving=True, rate=100, warmup_limit=25)
    assert (nothing.received, nothing.lost, nothing.loss_pct, nothing.warmup_lost) == (0, 50, 100.0, 0)
    assert grid.build_path(None, None, receiving=True, rate=100, warmup_limit=0).loss_pct is None
    deaf = grid.build_path(sent, None, receiving=False, rate=100, warmup_limit=0)
    assert (deaf.sent, deaf.received, deaf.loss_pct) == (50, None, None)


def test_live_path_does_not_call_in_flight_probes_lost() -> None:
    running = grid.SentStream(issued=40, errors=0, final=False)
    path = grid.build_path(running, _heard(1, 38), receiving=True, rate=100, warmup_limit=0)
    assert path.lost == 0                    # 0.1 s at 100/s (10 probes) may be in flight
    gaps = grid.build_path(running, _heard(1, 30, lost=5), receiving=True, rate=100,
                           warmup_limit=0)
    assert gaps.lost == 5                    # gaps already seen count at once
    silent = grid.build_path(running, None, receiving=True, rate=100, warmup_limit=0)
    assert silent.lost == 30                 # 40 sent, 10 may be in flight, none heard


def _three_hosts(blocked_in: int | None = None) -> tuple[grid.StreamPlan, list[dict[str, Any]]]:
    plan = grid.StreamPlan(("a", "b", "c"), 1000)
    reports: list[dict[str, Any]] = []
    for s in range(3):
        others = [r for r in range(3) if r != s]
        reports.append(_sender([("done", [(plan.multicast(s), 10, 0)]),
                                ("done", [(plan.unicast(s, r), 10, 0) for r in others])]))
    for r in range(3):
        for s in range(3):
            if s == r:
                continue
            if r != blocked_in:
                reports[r]["streams"].append(_heard(plan.multicast(s), 10))
            reports[r]["streams"].append(_heard(plan.unicast(s, r), 10))
    return plan, reports


def test_cells_and_flags_point_at_the_host_that_gets_no_multicast() -> None:
    plan, reports = _three_hosts(blocked_in=2)
    cells = grid.build_cells(plan, reports, [True] * 3, count=10, rate=100)
    assert len(cells) == 6
    by = {(c.sender, c.receiver): c for c in cells}
    assert by[("a", "c")].multicast.loss_pct == 100.0 and by[("a", "c")].unicast.loss_pct == 0.0
    assert by[("a", "b")].multicast.loss_pct == 0.0
    c_loss = grid.host_loss("c", cells, 0.0)
    assert set(c_loss.flags) == {"multicast-in", "multicast-only"}
    assert c_loss.multicast_in_loss_pct == 100.0 and c_loss.unicast_in_loss_pct == 0.0
    assert grid.host_loss("a", cells, 0.0).flags == ()   # one bad cell out of two: not its fault


def test_result_json_has_the_spec_keys() -> None:
    plan, reports = _three_hosts()
    coord = Coordinator(MatrixConfig("239.1.2.3", 5000, count=10), [
        HostSpec.from_template(n, "true {host}") for n in plan.names])
    coord.plan = plan
    for h, report in zip(coord._hosts, reports, strict=True):
        h.report, h.state, h.route_source = report, "done", "10.0.0.1"
    coord._done = True
    snap = coord.snapshot()
    assert snap.ok is True
    obj = json.loads(json.dumps(result_json(coord.config, snap)))
    assert obj["group"] == "239.1.2.3:5000" and obj["ok"] is True
    assert {"name", "address", "error"} <= set(obj["hosts"][0])
    cell = obj["cells"][0]
    assert {"from", "to", "multicast", "unicast"} <= set(cell)
    assert {"sent", "received", "loss_pct", "duplicates", "delay_ms_avg", "ttl"} <= set(
        cell["multicast"])
    assert {"sent", "received", "loss_pct"} <= set(cell["unicast"])
    text = "\n".join(result_text(coord.config, snap))
    assert text.endswith("result: OK")
    # A view's cell detail, and a new report shows in the next snapshot.
    detail = coord.pair("a", "b")
    assert detail.multicast_stream is not None and detail.multicast_stream["received"] == 10
    assert detail.unicast_sent == grid.SentStream(10, 0, True)
    reports[1]["streams"] = [s for s in reports[1]["streams"] if s["stream"] != plan.multicast(0)]
    coord._hosts[1].report = dict(reports[1])
    later = coord.snapshot()
    assert later.ok is False
    assert later.cell("a", "b") is not None and later.cell("a", "b").multicast.loss_pct == 100.0


def test_text_output_escapes_hostile_host_names_and_errors() -> None:
    coord = Coordinator(MatrixConfig("239.1.2.3", 5000, count=10),
                        [HostSpec("h\x1b[2J", ("x",)), HostSpec("ok", ("x",))])
    coord._hosts[0].fail("ssh: \x1b]52;c;AAAA\x07 denied")
    coord._done = True
    lines = result_text(coord.config, coord.snapshot())
    assert all("\x1b" not in line and "\x07" not in line for line in lines)
    assert lines[-1].startswith("result: NOT OK") and "1 host failed" in lines[-1]


# ---- templates and host names -----------------------------------------------------------------

def test_templates_substitute_the_host_as_one_argument() -> None:
    spec = HostSpec.from_template("h1", "ip netns exec {host} 'my udpscope' agent")
    assert spec.argv == ("ip", "netns", "exec", "h1", "my udpscope", "agent")
    user = HostSpec.from_template("root@10.0.0.1", "ssh -T {host} udpscope agent")
    assert user.argv[2] == "root@10.0.0.1"


@pytest.mark.parametrize(("template", "says"), [
    ("ssh host udpscope agent", "no {host}"), ("ssh '{host}", "cannot split"), ("", "empty")])
def test_bad_templates_say_why(template: str, says: str) -> None:
    with pytest.raises(TemplateError, match=says):
        parse_template(template)


@pytest.mark.parametrize("host", ["-oProxyCommand=sh", "a b", "h;rm", "h\x1b", "", "x" * 300])
def test_unsafe_host_names_are_refused(host: str) -> None:
    with pytest.raises(TemplateError):
        check_host(host)


# ---- coordinator failure paths with fake links ---------------------------------------------

class FakeLink:
    """A transport scripted line by line; it never executes anything."""

    def __init__(self, lines: list[bytes], *, start_error: str | None = None,
                 stderr: str | None = None, status: int | None = 1) -> None:
        self.lines = list(lines)
        self.start_error = start_error
        self.stderr = stderr
        self.status = status
        self.closed = False
        self.written: list[bytes] = []
        self.hanging = False  # read_line is waiting for a line that never comes
        self._hang = asyncio.Event()

    async def start(self) -> None:
        if self.start_error:
            raise LinkError(self.start_error)

    async def read_line(self) -> bytes | None:
        if self.lines:
            line = self.lines.pop(0)
            return line
        if self.status is None:          # never exits: hang until closed
            self.hanging = True
            await self._hang.wait()
        return None

    async def write_line(self, data: bytes) -> None:
        self.written.append(data)

    async def wait(self, timeout: float) -> int | None:
        return self.status if self.status is not None or self.closed else None

    async def close(self, grace: float) -> int | None:
        self.closed = True
        self._hang.set()
        return self.status

    def last_error(self) -> str | None:
        return self.stderr


async def _run_with(links: dict[str, FakeLink], **config: Any) -> Any:
    hosts = [HostSpec(name, ("fake",)) for name in links]
    coord = Coordinator(MatrixConfig("239.1.2.3", 5000, count=10, **config), hosts,
                        link_factory=lambda spec: links[spec.name])
    return await coord.run()


async def test_unreachable_hosts_are_reported_with_their_reasons() -> None:
    hello_old = json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION + 1,
                            "udpscope": "9.9"}).encode()
    links = {
        "gone": FakeLink([], stderr="ssh: connect to host gone port 22: No route to host",
                         status=255),
        "nossh": FakeLink([], start_error="cannot run 'ssh': No such file or directory"),
        "old": FakeLink([b"Welcome to old!", hello_old], status=None),
        "mute": FakeLink([], status=None),
    }
    snap = await _run_with(links, start_timeout=0.3, timeout=10)
    errors = {h.name: h.error for h in snap.hosts}
    assert errors["gone"] == ("the agent did not start (exit status 255): ssh: connect to host "
                              "gone port 22: No route to host")
    assert "cannot run 'ssh'" in errors["nossh"]
    assert "version-mismatch" in errors["old"] and "protocol 2" in errors["old"]
    assert "no answer from the agent within 0.3 s" in errors["mute"]
    assert snap.ok is False and all(link.closed for name, link in links.items() if name != "nossh")


async def test_client_skips_a_banner_before_the_hello() -> None:
    hello = json.dumps({"type": "hello", "protocol": PROTOCOL_VERSION}).encode()
    client = AgentClient(FakeLink([b"Last login: today", b"", hello], status=None))
    assert (await client.connect(1.0))["protocol"] == PROTOCOL_VERSION
    await client.close(0.5)


async def test_stop_before_any_agent_answers_ends_the_run_promptly() -> None:
    links = {"a": FakeLink([], status=None), "b": FakeLink([], status=None)}
    hosts = [HostSpec(n, ("fake",)) for n in links]
    coord = Coordinator(MatrixConfig("239.1.2.3", 5000, count=10, timeout=30), hosts,
                        link_factory=lambda spec: links[spec.name])
    task = asyncio.get_running_loop().create_task(coord.run())
    await wait_for(lambda: all(link.hanging for link in links.values()),
                   what="the coordinator waiting for both agents' hello")
    assert coord.snapshot().phase == "starting"
    coord.stop()
    snap = await wait_for(task, 10, what="the run to end after stop()")
    assert snap.interrupted and snap.ok is False
    assert all(link.closed for link in links.values())
