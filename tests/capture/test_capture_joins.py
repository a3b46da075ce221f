"""Join times and batch taps in the capture layer, without joining anything: the socket's
membership list is the engine's record, so a stand-in list is enough to test the bookkeeping;
batches are made in the test (tests/batches.py) and emitted as the engine would."""

from __future__ import annotations

from tests.batches import fake_batch
from udpscope import dgram
from udpscope.capture import Capture
from udpscope.net.joins import ArrivalCounter


class Held:
    """Stands in for the engine's membership record of one socket."""

    def __init__(self) -> None:
        self.joins: list[tuple[str, str | None, str | None]] = []

    def __call__(self) -> list[tuple[str, str | None, str | None]]:
        return list(self.joins)


def watched() -> tuple[Capture, list[float], Held, int]:
    now = [1000.0]
    capture = Capture(clock=lambda: now[0], monotonic=lambda: now[0])
    entry = capture.create_socket("udp4")
    held = Held()
    entry.sock.get_memberships = held  # the engine's record, stood in for
    return capture, now, held, entry.id


def test_join_times_come_from_the_capture_clock_and_leaves_are_forgotten() -> None:
    capture, now, held, sid = watched()
    entry = capture.sockets[sid]
    held.joins.append(("239.1.2.3", None, "10.0.0.2"))
    capture.note_joins(sid)
    assert entry.joined_at == {("239.1.2.3", None, "10.0.0.2"): 1000.0}
    now[0] = 1010.0
    held.joins.append(("232.1.1.1", "10.9.9.9", None))   # joined elsewhere (a workspace)
    capture.tick()                                       # the tick notices it
    assert entry.joined_at == {("239.1.2.3", None, "10.0.0.2"): 1000.0,
                               ("232.1.1.1", "10.9.9.9", None): 1010.0}
    now[0] = 1020.0
    held.joins.pop(0)
    capture.note_joins(sid)
    assert entry.joined_at == {("232.1.1.1", "10.9.9.9", None): 1010.0}
    held.joins.append(("239.1.2.3", None, "10.0.0.2"))  # joined again: a new time
    capture.note_joins(sid)
    assert entry.joined_at[("239.1.2.3", None, "10.0.0.2")] == 1020.0
    capture.note_joins(999)                              # an unknown socket: nothing happens
    capture.close_all()


def test_a_tap_gets_every_batch_until_stopped() -> None:
    capture, _now, _held, sid = watched()
    sock: dgram.Socket = capture.sockets[sid].sock
    counter = ArrivalCounter("239.1.2.3")
    stop = capture.tap_batches(sid, counter.observe_batch)
    sock.emit("batch", fake_batch([b"a"] * 5, destination="239.1.2.3", interface="eth1"))
    sock.emit("batch", fake_batch([b"b"] * 2, destination="239.1.2.3", interface="eth0"))
    assert counter.busiest() == [("eth1", 5), ("eth0", 2)]
    assert capture.sockets[sid].rx_datagrams == 7        # the capture's own accounting too
    stop()
    sock.emit("batch", fake_batch([b"c"], destination="239.1.2.3", interface="eth1"))
    assert counter.total == 7 and capture.sockets[sid].rx_datagrams == 8
    stop()                                               # twice is harmless
    capture.close_all()
