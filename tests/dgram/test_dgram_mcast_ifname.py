"""The ingress interface *name* on RemoteInfo must be the name the socket's kernel uses now.

The whole test runs with the event loop thread inside the receiver's namespace, as an app in
that namespace would, so names are looked up where the socket lives.
"""

import pytest

from tests.dgram.mcast_support import close_all, joined_pair, next_message, open_socket, send
from tests.netns import _ip, inside

pytestmark = pytest.mark.netns


async def test_ingress_interface_names_in_a_namespace_with_two_interfaces(looped_ns):
    ns, e0, e1 = looped_ns.ns, looped_ns.end0, looped_ns.end1
    group = "239.70.0.1"
    with inside(ns):
        r0 = await open_socket(ns, reuse_addr=True, multicast_all=False)
        port = r0.address().port
        r1 = await open_socket(ns, port=port, reuse_addr=True, multicast_all=False)
        tx = await open_socket(ns, address=e0.v4)
        try:
            r0.add_membership(group, e0.v4)
            r1.add_membership(group, e1.v4)
            tx.set_multicast_interface(e0.v4)
            it0, it1 = r0.messages(), r1.messages()
            await send(tx, b"x", port, group)
            (_, info0), (_, info1) = await next_message(it0), await next_message(it1)
            assert (info0.interface, info1.interface) == ("veth0", "veth1"), (
                f"ifindex veth0={e0.index} veth1={e1.index}")
        finally:
            close_all(r0, r1, tx)


async def test_ingress_interface_name_follows_a_rename(veth_pair):
    b = veth_pair.b
    group = "239.70.0.2"
    rx, tx = await joined_pair(veth_pair, group)
    try:
        with inside(b.ns):
            it = rx.messages()
            await send(tx, b"before", rx.address().port, group)
            assert (await next_message(it))[1].interface == "veth0"
            _ip("-n", b.ns, "link", "set", "dev", "veth0", "down")
            _ip("-n", b.ns, "link", "set", "dev", "veth0", "name", "mc0")
            _ip("-n", b.ns, "link", "set", "dev", "mc0", "up")
            await send(tx, b"after", rx.address().port, group)
            msg, info = await next_message(it)
            assert (msg, info.interface) == (b"after", "mc0")
    finally:
        close_all(rx, tx)
