"""Random sequences of socket calls keep Node's lifecycle guarantees (hypothesis).

Each generated sequence of operations (bind, sends to itself / to a peer / on the connection,
connect, disconnect, close, set_ttl, address, a peer sending to it, loop turns, and a listener
that closes the socket from inside a `message`) runs against one socket "A" in a fresh event loop
(`dgram.run`, so uvloop where installed). A small model predicts which calls must raise and with
which code; where the real state may legitimately be ahead of what the events have told us (a
connect completes a loop turn before its `connect` event), either outcome is accepted and the model
learns from it.

After the sequence drains (bounded: every expected callback/datagram, or the `close` event, then
two round trips through another socket), the invariants:
- no listener or callback runs inside the call that triggered it;
- at most one `listening`, exactly one when a bind was started and never closed; exactly one
  `close` iff close() returned;
- no `message` after close() returned;
- every send callback at most once; exactly once when the socket was never closed, or when the
  send was made on a bound socket with no connect pending (nothing for it to wait behind: only
  sends queued behind a pending bind or connect may be dropped by close());
- what the peer received from A arrived once each, in call order, and includes every send whose
  callback reported success; what A received was sent to A, once each, in order per sender, and
  (never closed) everything sent to it while it was not connected;
- no `error` event, no callback error, no exception but DgramError with the predicted code.

Two Linux/Node behaviours the model follows rather than flags: disconnect() of a socket bound to
port 0 gives the port up (the kernel unhashes it; the next send binds a new one), and a `connect`
event may still arrive after a disconnect() made before it fired. A `connect` event after close()
is a bug, pinned by test_no_connect_event_after_close.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.waiting import wait_for
from udpscope import dgram

OPS = [
    "bind",
    "send_self",
    "send_peer",
    "send_connected",
    "peer_sends",
    "connect",
    "disconnect",
    "close",
    "set_ttl",
    "address",
    "turn",
    "round_trip",
    "close_on_next_message",
]

HOST = "127.0.0.1"
WAIT = 5.0

NOT_RUNNING = "ERR_SOCKET_DGRAM_NOT_RUNNING"
ALREADY_BOUND = "ERR_SOCKET_ALREADY_BOUND"
IS_CONNECTED = "ERR_SOCKET_DGRAM_IS_CONNECTED"
NOT_CONNECTED = "ERR_SOCKET_DGRAM_NOT_CONNECTED"
BAD_PORT = "ERR_SOCKET_BAD_PORT"
EBADF = "EBADF"


@dataclass
class Send:
    ident: int
    target: str  # "self", "peer" or "connected"
    ready: bool = False  # made while bound with no connect pending: must complete
    calls: list[tuple[Any, Any]] = field(default_factory=list)


class Run:
    """One generated sequence against socket A, with a peer B and a helper C."""

    def __init__(self, ops: list[str]) -> None:
        self.ops = ops
        self.trace: list[str] = []
        self.problems: list[str] = []
        self.in_call: str | None = None
        # model
        self.closed = False
        self.bind_state = "unbound"  # unbound | binding | bound
        self.conn = "disc"  # disc | connecting | connected
        self.bind_started = False
        self.port_a: int | None = None
        # Linux (and so Node): disconnect() of a socket bound to port 0 gives the port up; the
        # next send binds a new one. Until address() tells us, A's port is unknown.
        self.port_lost = False
        self.stale_connects = 0
        self.connects_after_close = 0
        # observations
        self.listening = 0
        self.close_events = 0
        self.connect_events = 0
        self.connects_ok = 0  # connect() calls that returned (each owes one `connect` event)
        self.errors: list[BaseException] = []
        self.sends: list[Send] = []
        self.received_a: list[tuple[int, bytes]] = []  # (source port, payload)
        self.received_b: list[bytes] = []
        self.sent_to_a: set[bytes] = set()
        self.messages_after_close = 0
        self.close_armed = False
        self.next_id = 0
        self.port_b = 0

    # ---- bookkeeping ----------------------------------------------------------------------

    def listener(self, name: str, fn: Callable[..., None] | None = None) -> Callable[..., None]:
        def wrapped(*args: Any) -> None:
            if self.in_call is not None:
                self.problems.append(f"{name} fired synchronously inside {self.in_call}()")
            if fn is not None:
                fn(*args)

        return wrapped

    def call(self, op: str, fn: Callable[[], Any], allowed: set[str | None]) -> Any:
        """Call `fn`; its outcome (None = returned, else the DgramError code) must be allowed."""
        self.in_call = op
        try:
            result = fn()
        except dgram.DgramError as err:
            outcome: str | None = err.code
            result = err
        except Exception as err:  # anything but a DgramError is a bug
            self.in_call = None
            raise AssertionError(f"{op}: unexpected {err!r}; trace {self.trace}") from err
        else:
            outcome = None
        finally:
            self.in_call = None
        self.trace.append(f"{op}->{outcome or 'ok'}")
        assert outcome in allowed, (
            f"{op}: got {outcome or 'success'}, expected one of {sorted(map(str, allowed))}; "
            f"trace {self.trace}"
        )
        return result

    async def wait_until(self, cond: Callable[[], bool], what: str) -> None:
        await wait_for(cond, WAIT, what=lambda: f"{what}; trace {self.trace}")

    def expect(self, error: str | None = None) -> set[str | None]:
        """The one outcome a call may have: NOT_RUNNING once closed, else `error` (None: ok)."""
        return {NOT_RUNNING} if self.closed else {error}

    def new_payload(self, tag: bytes) -> bytes:
        self.next_id += 1
        return tag + b"%d" % self.next_id

    # ---- the run --------------------------------------------------------------------------

    async def main(self) -> None:
        b = dgram.create_socket("udp4")
        c = self.c = dgram.create_socket("udp4")
        a = self.a = dgram.create_socket({"type": "udp4", "metadata": True})
        try:
            await self._main(a, b, c)
        finally:
            for sock in (a, b, c):
                if sock.state != "closed":
                    sock.close()

    async def _main(self, a: Any, b: Any, c: Any) -> None:
        b.on("message", lambda msg, rinfo: self.received_b.append(msg))
        b.on("error", lambda err: self.problems.append(f"peer error {err!r}"))
        c.on("error", lambda err: self.problems.append(f"helper error {err!r}"))
        self.port_b = (await b.bind_async(0, HOST)).port

        def on_listening() -> None:
            self.listening += 1
            self.bind_state = "bound"
            self.port_a = a.address().port

        def on_message(msg: bytes, rinfo: Any) -> None:
            if self.closed:
                self.messages_after_close += 1
            self.received_a.append((rinfo.port, msg))
            if self.close_armed and not self.closed:
                self.close_armed = False
                self.call("close(in listener)", a.close, {None})
                self.closed = True
                self.conn = "disc"
                self.stale_connects = 0

        def on_close() -> None:
            self.close_events += 1

        def on_connect() -> None:
            self.connect_events += 1
            if self.closed:
                # A `connect` after close() returned: a bug (pinned on its own by
                # test_no_connect_event_after_close below); counted, failed at the end.
                self.connects_after_close += 1
            elif self.stale_connects:
                # The association this event announces was dissolved before it fired (Node
                # emits `connect` a tick after connecting, so does the engine).
                self.stale_connects -= 1
            else:
                self.conn = "connected"

        a.on("listening", self.listener("listening", on_listening))
        a.on("message", self.listener("message", on_message))
        a.on("close", self.listener("close", on_close))
        a.on("connect", self.listener("connect", on_connect))
        a.on("error", self.listener("error", self.errors.append))

        for op in self.ops:
            await getattr(self, f"op_{op}")()

        await self.drain(c)
        self.check()

    async def round_trip(self, c: Any) -> None:
        """A datagram through another socket: everything the loop had ready has run."""
        payload = self.new_payload(b"C")
        c.send(payload, self.port_b, HOST)
        await self.wait_until(lambda: payload in self.received_b, "a round trip through B")

    async def drain(self, c: Any) -> None:
        """Wait (bounded) for everything still owed; a close armed in a listener may intervene."""

        def owed_to_b() -> bool:
            return all(
                b"A%d" % s.ident in self.received_b
                for s in self.sends
                if s.target != "self" and s.calls and s.calls[0][0] is None
            )

        await self.wait_until(
            lambda: self.closed or all(s.calls for s in self.sends), "every send callback"
        )
        await self.wait_until(
            lambda: self.closed or {m for _, m in self.received_a} >= self.sent_to_a,
            "A to receive everything sent to it",
        )
        await self.wait_until(lambda: owed_to_b(), "the peer to receive every successful send")
        if self.closed:
            await self.wait_until(lambda: self.close_events >= 1, "the close event")
        await self.wait_until(
            lambda: all(s.calls for s in self.sends if s.ready), "callbacks of ready sends"
        )
        await self.round_trip(c)
        await self.round_trip(c)

    # ---- operations -----------------------------------------------------------------------

    def _started_bind(self) -> None:
        self.bind_started = True
        if self.bind_state == "unbound":
            self.bind_state = "binding"

    async def op_bind(self) -> None:
        allowed = self.expect(ALREADY_BOUND if self.bind_state != "unbound" else None)
        if self.call("bind", lambda: self.a.bind(0, HOST), allowed) is self.a:
            self._started_bind()

    def _send(self, target: str, port: int | None) -> None:
        a = self.a
        ident = self.next_id = self.next_id + 1
        payload = b"A%d" % ident
        send = Send(ident, target)

        def callback(err: Any, nbytes: Any) -> None:
            send.calls.append((err, nbytes))
            if len(send.calls) > 1:
                self.problems.append(f"send A{ident} callback called {len(send.calls)} times")
            if err is not None:
                self.problems.append(f"send A{ident} failed: {err!r}")

        if target == "connected":
            allowed: set[str | None] = {None} if self.conn != "disc" else {BAD_PORT}
        elif self.conn == "connected":
            allowed = {IS_CONNECTED}
        elif self.conn == "connecting":
            allowed = {None, IS_CONNECTED}  # the connect may have completed already
        elif self.closed:
            allowed = {NOT_RUNNING}
        else:
            allowed = {None}
        ready = self.bind_state == "bound" and self.conn != "connecting"
        if target == "connected":
            result = self.call(
                f"send_{target}",
                lambda: a.send(payload, self.listener("send callback", callback)),
                allowed,
            )
        else:
            result = self.call(
                f"send_{target}",
                lambda: a.send(payload, port, HOST, self.listener("send callback", callback)),
                allowed,
            )
        if isinstance(result, dgram.DgramError):
            if result.code == IS_CONNECTED:
                self.conn = "connected"
            return
        self._started_bind()
        send.ready = ready
        self.sends.append(send)
        if target == "self" and self.conn == "disc":
            self.sent_to_a.add(payload)

    async def op_send_self(self) -> None:
        if self.port_a is None:
            self.trace.append("send_self->skipped (no port yet)")
            return
        self._send("self", self.port_a)

    async def op_send_peer(self) -> None:
        self._send("peer", self.port_b)

    async def op_send_connected(self) -> None:
        self._send("connected", None)

    async def op_peer_sends(self) -> None:
        if self.port_a is None or self.closed:
            self.trace.append("peer_sends->skipped")
            return
        payload = self.new_payload(b"P")
        if self.conn == "disc":
            self.sent_to_a.add(payload)  # a connected A filters it out: not expected then
        self.trace.append("peer_sends")
        # A plain blocking socket: on loopback the datagram is in A's queue when sendto returns.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as p:
            p.sendto(payload, (HOST, self.port_a))

    async def op_connect(self) -> None:
        allowed = self.expect(IS_CONNECTED if self.conn != "disc" else None)
        result = self.call("connect", lambda: self.a.connect(self.port_b, HOST), allowed)
        if result is self.a:
            self.conn = "connecting"
            self.connects_ok += 1
            self._started_bind()

    async def op_disconnect(self) -> None:
        if self.closed:
            allowed: set[str | None] = {NOT_RUNNING}
        elif self.conn == "connected":
            allowed = {None}
        elif self.conn == "connecting":
            allowed = {None, NOT_CONNECTED}
        else:
            allowed = {NOT_CONNECTED}
        result = self.call("disconnect", self.a.disconnect, allowed)
        if not isinstance(result, dgram.DgramError):
            if self.conn == "connecting":
                self.stale_connects += 1
            self.conn = "disc"
            self.port_a = None
            self.port_lost = True

    async def op_close(self) -> None:
        result = self.call("close", self.a.close, self.expect())
        if result is self.a:
            self.closed = True
            self.conn = "disc"
            self.stale_connects = 0

    async def op_set_ttl(self) -> None:
        allowed = self.expect(EBADF if self.bind_state != "bound" else None)
        result = self.call("set_ttl", lambda: self.a.set_ttl(64), allowed)
        assert isinstance(result, dgram.DgramError) or result == 64

    async def op_address(self) -> None:
        allowed = self.expect(EBADF if self.bind_state != "bound" else None)
        result = self.call("address", self.a.address, allowed)
        if isinstance(result, dgram.DgramError):
            return
        if self.port_lost:
            if result.port != 0:
                self.port_a, self.port_lost = result.port, False
        else:
            assert result.port == self.port_a and result.port != 0, (result, self.trace)

    async def op_turn(self) -> None:
        self.trace.append("turn")
        await asyncio.sleep(0)

    async def op_round_trip(self) -> None:
        self.trace.append("round_trip")
        await self.round_trip(self.c)

    async def op_close_on_next_message(self) -> None:
        self.trace.append("close_on_next_message")
        self.close_armed = True

    # ---- the invariants -------------------------------------------------------------------

    def check(self) -> None:
        t = self.trace
        assert self.problems == [], (self.problems, t)
        assert self.errors == [], (self.errors, t)
        assert self.messages_after_close == 0, ("message after close()", t)
        assert self.connects_after_close == 0, ("connect after close()", t)
        assert self.listening <= 1, (self.listening, t)
        if self.bind_started and not self.closed:
            assert self.listening == 1, ("bind started, never closed, no listening", t)
        if not self.bind_started:
            assert self.listening == 0, t
        assert self.close_events == (1 if self.closed else 0), (self.close_events, t)
        # At most one `connect` per connect() that returned (one dissolved by disconnect() or
        # close() before its event may go unannounced), and a standing one is announced.
        assert self.connect_events <= self.connects_ok, (self.connect_events, t)
        if not self.closed:
            assert self.conn != "connecting", ("connect() never announced", t)
        for s in self.sends:
            assert len(s.calls) <= 1, (s, t)
            if not self.closed or s.ready:
                assert len(s.calls) == 1, (f"send A{s.ident} ({s.target}) got no callback", t)
        # What B got from A: once each, in call order, every success included.
        from_a = [m for m in self.received_b if m.startswith(b"A")]
        ids = [int(m[1:]) for m in from_a]
        assert ids == sorted(set(ids)), ("peer got A's datagrams duplicated/reordered", ids, t)
        for s in self.sends:
            if s.target != "self" and s.calls and s.calls[0][0] is None:
                assert s.ident in ids, (f"A{s.ident} reported sent but B never got it", t)
        # What A got: only what was sent to it, once each, in order per sender.
        payloads = [m for _, m in self.received_a]
        assert len(payloads) == len(set(payloads)), ("A got a datagram twice", payloads, t)
        for m in payloads:
            assert m[:1] in (b"A", b"P"), (m, t)
        for sender in {p for p, _ in self.received_a}:
            seq = [int(m[1:]) for p, m in self.received_a if p == sender]
            assert seq == sorted(seq), ("reordered", seq, t)
        if not self.closed:
            assert set(payloads) >= self.sent_to_a, (self.sent_to_a - set(payloads), t)


def run_sequence(ops: list[str]) -> Run:
    run = Run(ops)
    dgram.run(run.main())
    return run


# Start fresh, or from a bound or a connected socket (so sequences reach those states often).
PREFIXES: list[list[str]] = [[], ["bind", "round_trip"], ["connect", "round_trip"]]
# Sends and loop turns weigh more than the calls that end a socket's useful life.
WEIGHTED = OPS + ["send_self", "send_self", "send_peer", "send_connected", "peer_sends", "turn"]
SEQUENCES = st.tuples(
    st.sampled_from(PREFIXES), st.lists(st.sampled_from(WEIGHTED), min_size=1, max_size=25)
).map(lambda parts: parts[0] + parts[1])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SEQUENCES)
# Always tried: a close from inside `message` with more datagrams read in the same batch.
@example(["bind", "round_trip", "close_on_next_message", "send_self", "peer_sends", "send_self",
          "round_trip"])
@example(["bind", "round_trip", "peer_sends", "peer_sends", "close_on_next_message"])
# Two associations, each announced, then closed (once wrongly held to one `connect` event).
@example(["connect", "round_trip", "disconnect", "connect", "round_trip", "close"])
# Sends queued behind a pending bind and connect, then closed before they go out.
@example(["send_peer", "connect", "send_connected", "send_peer", "close", "turn"])
def test_random_call_sequences_keep_the_lifecycle_guarantees(ops: list[str]) -> None:
    run_sequence(ops)


def test_the_model_checks_something() -> None:
    """A fixed sequence through every state, so the invariants above are known to be reached."""
    run = run_sequence(
        ["send_peer", "turn", "round_trip", "send_self", "connect", "send_connected",
         "round_trip", "disconnect", "send_peer", "round_trip", "address", "send_self",
         "peer_sends",
         "close_on_next_message", "send_self", "send_self", "round_trip", "close"]
    )
    assert run.listening == 1 and run.close_events == 1 and run.connect_events == 1
    assert "close(in listener)->ok" in run.trace, run.trace
    assert run.trace[-1] == "close->ERR_SOCKET_DGRAM_NOT_RUNNING", run.trace
    assert "send_self->skipped (no port yet)" not in run.trace, run.trace
    assert [m for m in run.received_b if m.startswith(b"A")] == [b"A1", b"A4", b"A6"]
    assert len(run.received_a) >= 2, run.trace
    assert all(len(s.calls) == 1 for s in run.sends if s.ready)


def test_no_connect_event_after_close() -> None:
    """close() between the connect completing and its (deferred) `connect` event: the event must
    not fire on the closed socket. Only `close` may follow close()."""
    events: list[tuple[str, str]] = []

    async def main() -> None:
        b = dgram.create_socket("udp4")
        port_b = (await b.bind_async(0, HOST)).port
        a = dgram.create_socket("udp4")
        closed = asyncio.get_running_loop().create_future()
        a.on("connect", lambda: events.append(("connect", a.state)))
        a.on("close", lambda: (events.append(("close", a.state)), closed.set_result(None)))
        a.connect(port_b, HOST)
        for _ in range(100):  # loop turns until the implicit bind and the connect are done
            if a.state == "connected":
                break
            await asyncio.sleep(0)
        assert a.state == "connected" and events == [], (a.state, events)  # inside the window
        a.close()
        await wait_for(closed, WAIT, what="the close callback")
        b.close()

    dgram.run(main())
    assert events == [("close", "closed")], events
