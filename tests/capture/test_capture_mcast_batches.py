"""Per-group statistics of a multicast flood, accounted per batch, equal the per-datagram count.

A burst from one sender to a joined group arrives as a few large batches; the capture layer
accounts such a uniform batch in one step. The same burst with that shortcut disabled (every
datagram walked) must give the same packets, bytes, TTL range and interface.
"""

import pytest

from tests.dgram.mcast_support import close_all, joined_pair
from tests.waiting import wait_for
from udpscope.capture import Capture, GroupTable
from udpscope.dgram import receiver as engine_io
from udpscope.dgram.batch import RawBatch

pytestmark = pytest.mark.netns

GROUPS = {"udp4": "239.50.0.1", "udp6": "ff15::50:1"}


@pytest.mark.parametrize("family", ["udp4", "udp6"])
@pytest.mark.parametrize("path", ["per-batch", "per-datagram"])
async def test_group_stats_of_a_burst(veth_pair, family, path, monkeypatch):
    if path == "per-batch" and not engine_io._use_mmsg():
        pytest.skip("accounting per batch needs the recvmmsg path (UDPSCOPE_NO_MMSG or not Linux)")
    if path == "per-datagram":
        monkeypatch.setattr(RawBatch, "uniform", lambda self: None)
    counts: list[int] = []
    original = GroupTable.account

    def spy(self, *args, **kwargs):
        counts.append(args[7] if len(args) > 7 else kwargs.get("count", 1))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GroupTable, "account", spy)
    group = GROUPS[family]
    rx, tx = await joined_pair(veth_pair, group, family)
    capture = Capture()
    try:
        rx.set_recv_buffer_size(1 << 20)
        entry = capture.watch(rx)
        port = rx.address().port
        tx.set_multicast_ttl(3)
        for i in range(150):
            tx.send(b"low %d" % i, port, group)
        tx.set_multicast_ttl(7)  # flushes the queue first: the first 150 leave with TTL 3
        for i in range(150):
            tx.send(b"high %d" % i, port, group)
        await wait_for(lambda: entry.rx_datagrams == 300, 5, what="300 datagrams")
        source = veth_pair.a.v4 if family == "udp4" else veth_pair.a.v6
        stats = capture.groups[(group, source)]
        expected_bytes = sum(len(b"low %d" % i) + len(b"high %d" % i) for i in range(150))
        assert (stats.packets, stats.bytes) == (300, expected_bytes)
        assert (stats.ttl_min, stats.ttl_max) == (3, 7)
        assert stats.interface == "veth0"
        assert len(capture.groups) == 1
        if path == "per-batch":
            assert max(counts) > 1  # whole batches were accounted in one step
        else:
            assert set(counts) == {1}
    finally:
        close_all(rx, tx)
