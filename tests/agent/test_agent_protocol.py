"""The agent's line protocol, without any network: what it refuses and how it says so.

Every refusal must be one error object with a stable code (and the argument it is about), and
the agent must go on answering afterwards. Sockets here are bound to loopback only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from tests.waiting import wait_for
from udpscope.agent import protocol as p
from udpscope.agent.agent import Agent
from udpscope.agent.stdio import _TooLong, read_lines

CLI = [sys.executable, "-m", "udpscope", "agent"]
GROUP = "239.1.2.3"


# ---- decode_line / parse_command (pure) -----------------------------------------------------

@pytest.mark.parametrize(("raw", "says"), [
    (b"not json", "not JSON"),
    (b"[1, 2]", "not an object (a list)"),
    (b'"hello"', "not an object (a string)"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b"{" * 5000 + b"}" * 5000, "not JSON"),          # nesting bomb: a clear error, no crash
    (b" " * (p.MAX_LINE_BYTES + 1), "more than"),
])
def test_bad_lines_are_bad_line_errors(raw: bytes, says: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_line(raw)
    assert info.value.code == "bad-line"
    assert says in info.value.message


@pytest.mark.parametrize(("message", "code", "argument"), [
    ({"id": 1}, "bad-command", "cmd"),
    ({"cmd": 5}, "bad-command", "cmd"),
    ({"cmd": "frobnicate"}, "unknown-command", "cmd"),
    ({"cmd": "hello"}, "bad-argument", "protocol"),
    ({"cmd": "hello", "protocol": True}, "bad-argument", "protocol"),
    ({"cmd": "hello", "protocol": 1, "extra": 1}, "bad-argument", "extra"),
    ({"cmd": "hello", "protocol": 1, "limits": {"max_count": "9"}}, "bad-argument",
     "limits.max_count"),
    ({"cmd": "hello", "protocol": 1, "limits": {"groups": ["10.0.0.1"]}}, "bad-argument",
     "limits.groups"),
    ({"cmd": "hello", "protocol": 1, "limits": {"speed": 1}}, "bad-argument", "limits.speed"),
    ({"cmd": "open", "port": 70000}, "bad-argument", "port"),
    ({"cmd": "join", "socket": 1, "group": "example.com"}, "bad-argument", "group"),
    ({"cmd": "send", "socket": 1, "count": 1, "rate": 1, "targets": []}, "bad-argument",
     "targets"),
    ({"cmd": "send", "socket": 1, "count": 1, "rate": 1,
      "targets": [{"to": "0.0.0.0", "stream": 1}]}, "bad-argument", "targets[0].to"),
    ({"cmd": "send", "socket": 1, "count": 1, "rate": 1,
      "targets": [{"to": "10.0.0.1", "stream": 2**32}]}, "bad-argument", "targets[0].stream"),
    ({"cmd": "send", "socket": 1, "count": 1, "rate": 1,
      "targets": [{"to": "10.0.0.1", "stream": 1}] * (p.CAP_TARGETS + 1)}, "limit", "targets"),
    ({"cmd": "send", "socket": 1, "count": p.CAP_COUNT + 1, "rate": 1,
      "targets": [{"to": "10.0.0.1", "stream": 1}]}, "bad-argument", "count"),
    ({"cmd": "ping", "id": [1]}, "bad-argument", "id"),
])
def test_bad_commands_name_the_argument(message: dict[str, Any], code: str, argument: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.parse_command(message)
    assert (info.value.code, info.value.argument) == (code, argument)


def test_a_good_command_keeps_its_id_and_checked_arguments() -> None:
    cmd = p.parse_command({"id": "a1", "cmd": "send", "socket": 1, "count": 5, "rate": 2,
                           "targets": [{"to": GROUP, "stream": 7}]})
    assert (cmd.id, cmd.name) == ("a1", "send")
    assert cmd.args["targets"] == [{"to": GROUP, "port": None, "stream": 7}]
    assert cmd.args["rate"] == 2.0


def test_limits_are_clamped_to_the_hard_caps() -> None:
    limits = p.limits_arg("limits", {"max_count": 10**12, "max_rate": 1e9, "groups": [GROUP]})
    assert limits.max_count == p.CAP_COUNT
    assert limits.max_rate == p.CAP_RATE
    assert limits.groups == frozenset({GROUP})


def test_encoded_lines_are_ascii_json_objects() -> None:
    line = p.encode({"text": "\x1b[2J\u202e"})
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert all(32 <= b < 127 for b in line[:-1])
    assert json.loads(line) == {"text": "\x1b[2J\u202e"}


# ---- the agent core, in-process ---------------------------------------------------------------

class Wire:
    """Collects what the agent emits."""

    def __init__(self) -> None:
        self.out: list[dict[str, Any]] = []

    def __call__(self, message: dict[str, Any]) -> None:
        self.out.append(message)

    async def ask(self, agent: Agent, message: dict[str, Any] | bytes) -> dict[str, Any]:
        before = len(self.out)
        raw = message if isinstance(message, bytes) else json.dumps(message).encode()
        await agent.handle_line(raw)
        assert len(self.out) == before + 1, self.out[before:]
        return self.out[-1]


HELLO = {"cmd": "hello", "protocol": p.PROTOCOL_VERSION,
         "limits": {"max_count": 20, "max_rate": 100, "max_ttl": 1, "groups": [GROUP]}}


async def test_commands_before_hello_are_refused_and_the_agent_goes_on() -> None:
    wire = Wire()
    agent = Agent(wire)
    reply = await wire.ask(agent, {"id": 1, "cmd": "ping"})
    assert (reply["type"], reply["code"], reply["id"]) == ("error", "hello-required", 1)
    assert (await wire.ask(agent, {"id": 2, **HELLO}))["type"] == "ok"
    assert (await wire.ask(agent, {"id": 3, "cmd": "ping"}))["type"] == "ok"


async def test_version_mismatch_is_a_clear_error_and_a_right_hello_still_works() -> None:
    wire = Wire()
    agent = Agent(wire)
    reply = await wire.ask(agent, {"id": 7, "cmd": "hello", "protocol": p.PROTOCOL_VERSION + 1})
    assert reply["code"] == "version-mismatch"
    assert f"protocol {p.PROTOCOL_VERSION + 1}" in reply["message"]
    assert f"speaks protocol {p.PROTOCOL_VERSION}" in reply["message"]
    assert agent.limits is None
    assert (await wire.ask(agent, {"id": 8, **HELLO}))["limits"]["groups"] == [GROUP]


async def test_bad_line_unknown_command_and_blank_line() -> None:
    wire = Wire()
    agent = Agent(wire)
    bad = await wire.ask(agent, b"{oops")
    assert (bad["type"], bad["code"], bad["id"]) == ("error", "bad-line", None)
    unknown = await wire.ask(agent, {"id": 4, "cmd": "rm"})
    assert (unknown["code"], unknown["id"]) == ("unknown-command", 4)
    assert "known: hello" in unknown["message"]
    await agent.handle_line(b"   ")
    assert len(wire.out) == 2     # a blank line gets no answer


async def test_limits_bound_what_the_agent_does() -> None:
    wire = Wire()
    agent = Agent(wire)
    await wire.ask(agent, HELLO)
    opened = await wire.ask(agent, {"cmd": "open", "port": 0, "address": "127.0.0.1"})
    sock = opened["socket"]
    try:
        # A group the coordinator did not allow is refused before any socket call.
        join = await wire.ask(agent, {"cmd": "join", "socket": sock, "group": "239.9.9.9"})
        assert (join["code"], join["argument"]) == ("limit", "group")
        send = {"cmd": "send", "socket": sock, "rate": 10,
                "targets": [{"to": "127.0.0.1", "stream": 1}]}
        over = await wire.ask(agent, {**send, "count": 21})
        assert (over["code"], over["argument"]) == ("limit", "count")
        fast = await wire.ask(agent, {**send, "count": 1, "rate": 101})
        assert (fast["code"], fast["argument"]) == ("limit", "rate")
        ttl = await wire.ask(agent, {**send, "count": 1, "ttl": 2})
        assert (ttl["code"], ttl["argument"]) == ("limit", "ttl")
        group = await wire.ask(agent, {**send, "count": 1,
                                       "targets": [{"to": "239.9.9.9", "stream": 1}]})
        assert (group["code"], group["argument"]) == ("limit", "targets[0].to")
        missing = await wire.ask(agent, {"cmd": "close", "socket": sock + 1})
        assert missing["code"] == "not-found"
        assert not agent.jobs
    finally:
        agent.close()


async def test_probes_to_loopback_are_sent_counted_and_reported() -> None:
    wire = Wire()
    agent = Agent(wire)
    await wire.ask(agent, HELLO)
    opened = await wire.ask(agent, {"cmd": "open", "port": 0, "address": "127.0.0.1"})
    try:
        sent = await wire.ask(agent, {"cmd": "send", "socket": opened["socket"], "count": 20,
                                      "rate": 100, "targets": [
                                          {"to": "127.0.0.1", "port": opened["port"],
                                           "stream": 42}]})
        assert sent["type"] == "ok"
        await wait_for(lambda: any(m.get("event") == "job-done" for m in wire.out),
                       what="the job-done event")
        done = next(m for m in wire.out if m.get("event") == "job-done")
        assert done["state"] == "done"
        assert done["targets"][0]["sent"] == 20     # job-done waits for every send callback
        report = await wire.ask(agent, {"cmd": "report"})
        stream = next(s for s in report["streams"] if s["stream"] == 42)
        assert stream["received"] == 20 and stream["lost"] == 0 and stream["duplicates"] == 0
        assert stream["kind"] == "unicast" and stream["source"] == "127.0.0.1"
        assert report["sockets"][0]["rx_datagrams"] == 20
    finally:
        agent.close()


# ---- stdin line splitting ---------------------------------------------------------------------

def _split(chunks: list[bytes], limit: int) -> list[bytes | None]:
    r, w = os.pipe()
    got: list[bytes | None] = []
    thread = threading.Thread(target=read_lines, args=(r, got.append, limit))
    thread.start()
    for chunk in chunks:
        os.write(w, chunk)
    os.close(w)
    thread.join(5)
    os.close(r)
    assert not thread.is_alive()
    return got


def test_read_lines_cuts_overlong_lines_and_keeps_the_rest() -> None:
    got = _split([b"one\ntw", b"o\n", b"x" * 30, b"y" * 30 + b"\nthree"], limit=16)
    assert got[:2] == [b"one", b"two"]
    assert isinstance(got[2], _TooLong) and got[2] == b"x" * 16
    assert got[3:] == [b"three", None]


# ---- the real process -------------------------------------------------------------------------

def test_agent_process_answers_errors_keeps_running_and_exits_on_eof() -> None:
    lines = [b"hello?", json.dumps({"id": 1, "cmd": "frob"}).encode(),
             b'{"id": 2, "cmd": "hello", "protocol": 999}',
             b"x" * (p.MAX_LINE_BYTES + 10),
             json.dumps({"id": 3, **HELLO}).encode(), json.dumps({"id": 4, "cmd": "ping"}).encode()]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.run(CLI, input=b"\n".join(lines) + b"\n", capture_output=True,
                          timeout=30, env=env, check=False)
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out[0]["type"] == "hello" and out[0]["protocol"] == p.PROTOCOL_VERSION
    assert out[0]["caps"]["max_rate"] == p.CAP_RATE
    assert [m.get("code") for m in out[1:5]] == ["bad-line", "unknown-command",
                                                 "version-mismatch", "bad-line"]
    assert (out[5]["type"], out[5]["id"]) == ("ok", 3)
    assert (out[6]["type"], out[6]["id"], out[6]["cmd"]) == ("ok", 4, "ping")
    assert len(out) == 7


def test_agent_process_exits_when_its_stdin_closes() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(CLI, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        hello = json.loads(proc.stdout.readline())    # alive and talking
        assert hello["type"] == "hello"
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


# ---- the receive table ------------------------------------------------------------------------

def test_stream_table_is_bounded_and_keys_by_stream_id() -> None:
    from udpscope.agent.streams import StreamTable
    from udpscope.dgram import RemoteInfo
    from udpscope.probe import encode_probe

    table = StreamTable(max_streams=2, clock=lambda: 100.0)
    via_a = RemoteInfo("10.0.0.1", "IPv4", 5000, 64, GROUP, "eth0", 1, 100.0)
    via_b = via_a._replace(address="10.0.0.9", ttl=3)
    for seq in (0, 1, 3):
        table.observe(encode_probe(seq, 99.999, 64, stream=7), via_a)
    table.observe(encode_probe(1, 99.999, 64, stream=7), via_b)   # the same stream, 2nd path
    table.observe(encode_probe(0, 99.999, 64, stream=8), via_a)
    table.observe(encode_probe(0, 99.999, 64, stream=9), via_a)   # past the bound
    table.observe(b"not a probe", via_a)
    first = next(s for s in table.to_json() if s["stream"] == 7)
    assert (first["received"], first["lost"], first["duplicates"]) == (3, 1, 1)
    assert (first["kind"], first["source"], first["other_sources"]) == ("multicast", "10.0.0.1", 1)
    assert (first["ttl_min"], first["ttl_max"]) == (1, 3)
    assert first["delay_ms_avg"] == pytest.approx(1.0, abs=0.01)
    assert sorted(s["stream"] for s in table.to_json()) == [7, 8]
    assert (table.dropped_streams, table.non_probe) == (1, 1)


async def test_a_bug_in_a_command_costs_that_command_not_the_agent() -> None:
    wire = Wire()
    agent = Agent(wire)
    await wire.ask(agent, HELLO)

    async def broken(args: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("oops")

    agent._cmd_ping = broken  # type: ignore[method-assign]
    reply = await wire.ask(agent, {"id": 9, "cmd": "ping"})
    assert (reply["code"], reply["id"]) == ("internal-error", 9)
    assert (await wire.ask(agent, {"cmd": "report"}))["type"] == "ok"


async def test_leave_without_join_close_and_bye() -> None:
    wire = Wire()
    agent = Agent(wire)
    await wire.ask(agent, HELLO)
    opened = await wire.ask(agent, {"cmd": "open", "port": 0, "address": "127.0.0.1"})
    leave = await wire.ask(agent, {"cmd": "leave", "socket": opened["socket"], "group": GROUP})
    assert (leave["code"], leave["argument"]) == ("not-found", "group")
    closed = await wire.ask(agent, {"cmd": "close", "socket": opened["socket"]})
    assert closed["type"] == "ok" and not agent.sockets
    assert (await wire.ask(agent, {"cmd": "report"}))["sockets"] == []
    bye = await wire.ask(agent, {"id": "last", "cmd": "bye"})
    assert (bye["type"], bye["id"]) == ("ok", "last") and agent.bye_requested
