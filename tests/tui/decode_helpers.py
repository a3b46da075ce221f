"""Deterministic datagrams for the decode and stream-health views: built from their
specifications (tests/streams/build.py, dnspython for DNS) and handed to the app's socket as
received batches with fixed peers, TTLs and kernel times, so what is rendered never depends on
ports the kernel picked or on the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from textual.pilot import Pilot

from tests.decode.test_dns_family import mdns_query, mdns_response
from tests.streams.build import pat, rtp, ts_packet
from tests.tui.tui_helpers import FROZEN, SnapshotApp, log_of, make_app, wait_for
from udpscope.dgram import Batch, RemoteInfo
from udpscope.records import Record
from udpscope.tui.app import UdpscopeApp

__all__ = ["MDNS_RESPONSE", "RTP_TS", "TRUNCATED", "decode_app", "emit", "open_detail",
           "ready", "rx_record", "mdns_query"]

MDNS_RESPONSE = mdns_response()
RTP_TS = rtp(4711, ts=90_000, ssrc=0x1CEB00DA, pt=33,
             payload=b"".join([ts_packet(0, 5, pat({1: 0x100}), pusi=True),
                               *(ts_packet(0x100, i) for i in range(6))]))
TRUNCATED = MDNS_RESPONSE[:50]   # ends inside the answer's record data


def decode_app(port: int = 0, **kwargs: object) -> UdpscopeApp:
    """The app with socket #1 bound on loopback (`port` 0: any; snapshots pass
    ``app_class=SnapshotApp``, whose bound port `ready` pins)."""
    return make_app(binds=[("127.0.0.1", port)], **kwargs)


async def ready(pilot: Pilot) -> None:
    app = pilot.app
    await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                   what="bound", pilot=pilot)
    if isinstance(app, SnapshotApp):
        app.pin_ports()


def emit(app: UdpscopeApp, payloads: Sequence[bytes], *, source: str = "192.168.1.20",
         port: int = 5353, destination: str = "224.0.0.251", ttl: int = 255,
         times: Sequence[float] | None = None, interface: str = "eth0") -> None:
    """Hand `payloads` to socket #1 as one received batch (what its `batch` event carries)."""
    infos = [RemoteInfo(source, "IPv4", port, len(p), destination, interface, ttl,
                        times[i] if times is not None else FROZEN + 0.000125)
             for i, p in enumerate(payloads)]
    app.capture.sockets[1].sock.emit("batch", Batch(tuple(payloads), infos))


def rx_record(app: UdpscopeApp, payload: bytes) -> Record:
    return next(r for r in log_of(app).rows if r.kind == "rx" and r.payload == payload)


async def open_detail(pilot: Pilot, payload: bytes) -> None:
    """Select the row of `payload` in the log and open its detail with Enter."""
    from udpscope.tui.screens.detail import PacketDetail

    app = pilot.app
    log = log_of(app)
    await wait_for(lambda: any(r.payload == payload for r in log.rows), what="row", pilot=pilot)
    app.screen.set_focus(log)
    log.select(next(i for i, r in enumerate(log.rows) if r.payload == payload))
    await pilot.press("enter")
    await wait_for(lambda: isinstance(app.screen, PacketDetail), what="detail", pilot=pilot)
    await pilot.pause()
    await asyncio.sleep(0.05)
    await pilot.pause()


# ---- stream health scenes ---------------------------------------------------------------------

RTP_LOST = {57, 58, 59, 301, 402, 403, 404, 405}   # seconds 1, 6 and 8 of the stream lose some
TS_JUMPS = {120, 330}                                # datagrams whose CC jumps (errors)


def rtp_batches(seconds: int = 10) -> list[tuple[list[bytes], list[float]]]:
    """A 50 packet/s PCMU stream over the `seconds` before FROZEN, 8 lost, every tenth packet
    arriving 3 ms late (a known jitter), in batches of 25."""
    t0 = FROZEN - seconds
    packets, times = [], []
    for i in range(seconds * 50):
        if i in RTP_LOST:
            continue
        packets.append(rtp(i, ts=i * 160, pt=0, ssrc=0xCAFE, payload=bytes(160)))
        times.append(t0 + i * 0.02 + (0.003 if i % 10 == 0 else 0.0))
    return [(packets[k:k + 25], times[k:k + 25]) for k in range(0, len(packets), 25)]


def ts_batches(seconds: int = 10) -> list[tuple[list[bytes], list[float]]]:
    """MPEG-TS over RTP at 40 datagrams/s (PAT + PMT PID 0x100 + video PID 0x101), two
    continuity jumps, in batches of 20."""
    from tests.streams.build import pmt

    t0 = FROZEN - seconds
    cc = {0: 0, 0x100: 0, 0x101: 0}
    packets, times = [], []
    for i in range(seconds * 40):
        body = []
        for j in range(7):
            pid = 0 if j == 0 and i % 10 == 0 else 0x100 if j == 0 else 0x101
            if i in TS_JUMPS and pid == 0x101 and j == 1:
                cc[pid] = (cc[pid] + 3) & 15
            payload = pat({1: 0x100}) if pid == 0 else pmt(1, 0x101, [(0x1B, 0x101)]) \
                if pid == 0x100 else b""
            pcr = int(i * 0.025 * 27_000_000) if pid == 0x101 and j == 1 else None
            body.append(ts_packet(pid, cc[pid], payload, pusi=pid != 0x101, pcr=pcr))
            cc[pid] = (cc[pid] + 1) & 15
        packets.append(rtp(i, ts=i * 2250, pt=33, ssrc=0xBEEF, payload=b"".join(body)))
        times.append(t0 + i * 0.025)
    return [(packets[k:k + 20], times[k:k + 20]) for k in range(0, len(packets), 20)]


async def health_scene(pilot: Pilot) -> None:
    """Socket #1 following an RTP stream with loss, a TS-over-RTP stream with continuity
    errors, and an mDNS response with TTL 64 after a query it sent. The socket's kernel drops
    7 datagrams while the RTP stream runs, none after: the RTP loss may be this host's, the
    TS errors are not."""
    app = pilot.app
    await ready(pilot)
    entry = app.capture.sockets[1]
    drops = [0]
    entry.sock.get_kernel_drops = lambda: drops[0]   # type: ignore[method-assign]
    app.capture.track_streams()
    assert entry.streams is not None
    entry.streams.sent(mdns_query(), 5353, FROZEN - 1)
    for k, (payloads, times) in enumerate(rtp_batches()):
        if k == 8:
            drops[0] = 7
        emit(app, payloads, source="10.0.0.5", port=40000, destination="127.0.0.1",
             ttl=64, times=times)
    for payloads, times in ts_batches():
        emit(app, payloads, source="10.0.0.6", port=40002, destination="239.1.1.1",
             ttl=16, times=times)
    emit(app, [MDNS_RESPONSE], source="192.168.1.9", port=5353, destination="127.0.0.1",
         ttl=64)
