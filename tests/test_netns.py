"""The namespace fixtures themselves: they must isolate, connect and clean up, or every
multicast test built on them proves nothing (or touches the host)."""

import os
import socket
import threading

import pytest

from tests import netns as N

pytestmark = pytest.mark.netns


def test_inside_moves_only_the_current_thread_and_comes_back(netns):
    host = N.current_netns_inode()
    seen_by_other: list[int] = []
    go = threading.Event()

    def other() -> None:   # started before the move: stays where it was
        go.wait(10)
        seen_by_other.append(N.current_netns_inode())

    t = threading.Thread(target=other)
    t.start()
    with N.inside(netns):
        assert N.current_netns_inode() != host
        go.set()
        t.join(10)
        assert [n for _, n in socket.if_nameindex()] == ["lo"]
    assert seen_by_other == [host]
    assert N.current_netns_inode() == host


def test_inside_nests_and_restores_on_exception(netns_factory):
    a, b = netns_factory.namespace(), netns_factory.namespace()
    host = N.current_netns_inode()
    with pytest.raises(RuntimeError), N.inside(a):
        ino_a = N.current_netns_inode()
        with N.inside(b):
            assert N.current_netns_inode() not in (host, ino_a)
        assert N.current_netns_inode() == ino_a
        raise RuntimeError("boom")
    assert N.current_netns_inode() == host


def test_sockets_stay_in_their_namespace_and_the_pair_is_connected(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    with N.inside(b.ns):
        rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with N.inside(a.ns):
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with rx, tx:
        # bound outside any `inside` block: the address exists only in b's namespace
        rx.bind((b.v4, 0))
        rx.settimeout(10)
        tx.sendto(b"over the veth", (b.v4, rx.getsockname()[1]))
        data, peer = rx.recvfrom(100)
    assert (data, peer[0]) == (b"over the veth", a.v4)


def test_ipv6_works_without_dad_delay(veth_pair):
    a, b = veth_pair.a, veth_pair.b
    with N.inside(b.ns):
        rx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        rx.bind((b.v6, 0))
    with N.inside(a.ns):
        tx = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        tx.bind((a.v6, 0))   # fails with EADDRNOTAVAIL if the address were still tentative
    with rx, tx:
        rx.settimeout(10)
        tx.sendto(b"v6", (b.v6, rx.getsockname()[1]))
        assert rx.recvfrom(10)[0] == b"v6"


def test_looped_namespace_has_both_ends_and_martian_filter_off(looped_ns):
    with N.inside(looped_ns.ns):
        names = {n for _, n in socket.if_nameindex()}
    assert {"lo", "veth0", "veth1"} <= names
    assert N.read_sysctl(looped_ns.ns, "net.ipv4.conf.veth1.accept_local") == "1"
    assert N.read_sysctl(looped_ns.ns, "net.ipv4.conf.all.rp_filter") == "0"
    assert looped_ns.end0.index != looped_ns.end1.index


def test_run_in_executes_inside(veth_pair):
    out = N.run_in(veth_pair.a.ns, ["ip", "-o", "-4", "addr", "show", "dev", "veth0"]).stdout
    assert veth_pair.a.v4 in out


def test_namespaces_are_deleted_even_when_the_test_fails():
    N.require_netns()
    factory = N.NetnsFactory()
    with pytest.raises(ZeroDivisionError):
        try:
            pair = factory.veth_pair()
            assert os.path.exists(os.path.join(N.NETNS_DIR, pair.a.ns))
            1 / 0  # noqa: B018
        finally:
            factory.close()
    for name in (pair.a.ns, pair.b.ns):
        assert not os.path.exists(os.path.join(N.NETNS_DIR, name))
        assert name not in N._created
    assert factory.names == []


def test_names_are_unique_and_carry_the_pid():
    a, b = N._new_name(), N._new_name()
    assert a != b and a.startswith(f"usc-{os.getpid()}-")


def test_missing_netns_skips_normally(monkeypatch):
    monkeypatch.setattr(N, "netns_unavailable_reason", lambda: "no namespaces here")
    monkeypatch.delenv(N.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no namespaces here"):
        N.require_netns()


def test_missing_netns_fails_when_required(monkeypatch):
    monkeypatch.setattr(N, "netns_unavailable_reason", lambda: "no namespaces here")
    monkeypatch.setenv(N.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="no namespaces here"):
        N.require_netns()


def test_reason_names_root_when_not_root(monkeypatch):
    monkeypatch.setattr(N.sys, "platform", "linux")
    monkeypatch.setattr(N.os, "geteuid", lambda: 1000)
    assert "root" in N.netns_unavailable_reason.__wrapped__()


def test_reason_names_missing_ip(monkeypatch):
    monkeypatch.setattr(N.sys, "platform", "linux")
    monkeypatch.setattr(N.os, "geteuid", lambda: 0)
    monkeypatch.setattr(N.shutil, "which", lambda name: None)
    assert "`ip`" in N.netns_unavailable_reason.__wrapped__()
