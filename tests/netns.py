"""Network namespaces for multicast and broadcast tests.

Group joins, broadcasts and multicast sends must never touch the machine's real interfaces, so
every test that does them builds its own throw-away namespaces here (veth pairs created directly
inside them — nothing is ever added to the host namespace) and deletes them afterwards, even when
the test fails. Sockets are put into a namespace by moving the *current thread* there with
setns(2) for as long as they are created (`inside`); a socket stays in the namespace it was created
in, so the rest of the test can use it from anywhere.

Without root, `ip` or namespace support the tests skip with the reason — unless
UDPSCOPE_REQUIRE_NETNS=1 (CI runs as root), where a missing namespace is a failure, not a skip.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import ctypes.util
import itertools
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import pytest

CLONE_NEWNET = 0x40000000
NETNS_DIR = "/run/netns"
REQUIRE_ENV = "UDPSCOPE_REQUIRE_NETNS"
_PREFIX = f"usc-{os.getpid()}-"
_counter = itertools.count(1)
_counter_lock = threading.Lock()
_created: set[str] = set()
_IP_TIMEOUT = 30


class NetnsError(RuntimeError):
    """An `ip` command that sets up a namespace failed."""


# --- setns ---------------------------------------------------------------------------------------

@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    setns = getattr(os, "setns", None)  # Python >= 3.12
    if setns is not None:
        setns(fd, nstype)
        return
    if _libc().setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


@contextlib.contextmanager
def inside(ns_name: str) -> Iterator[None]:
    """Run the current thread inside network namespace `ns_name` for the block.

    Only this thread moves (setns on a thread): threads that already exist, e.g. executor
    threads doing getaddrinfo, stay where they are, while threads started inside the block
    inherit the namespace. Sockets created in the block belong to the namespace for their whole
    life. Nesting works: leaving returns to whatever namespace the thread was in.
    """
    target = os.open(os.path.join(NETNS_DIR, ns_name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        here = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
            try:
                yield
            finally:
                _setns(here)
        finally:
            os.close(here)
    finally:
        os.close(target)


def current_netns_inode() -> int:
    """Identity of the calling thread's network namespace (for asserting where we are)."""
    return os.stat("/proc/thread-self/ns/net").st_ino


# --- ip(8) wrappers --------------------------------------------------------------------------------

def _ip(*args: str) -> str:
    try:
        res = subprocess.run(
            ["ip", *args], capture_output=True, text=True, timeout=_IP_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NetnsError(f"ip {' '.join(args)}: {exc}") from exc
    if res.returncode != 0:
        raise NetnsError(f"ip {' '.join(args)}: {res.stderr.strip() or res.returncode}")
    return res.stdout


def _new_name() -> str:
    with _counter_lock:
        return f"{_PREFIX}{next(_counter)}"


def create_namespace() -> str:
    """Create a uniquely named namespace (`usc-<pid>-<n>`) with `lo` up; return its name."""
    name = _new_name()
    _ip("netns", "add", name)
    _created.add(name)
    try:
        _ip("-n", name, "link", "set", "lo", "up")
    except NetnsError:
        delete_namespace(name)
        raise
    return name


def delete_namespace(name: str) -> None:
    """Delete a namespace this process created; its veth ends go with it. Never raises.

    A failed delete is tried again; if it still fails, the name stays registered for the sweep
    at exit and the reason goes to stderr (a namespace must never be left behind unnoticed).
    """
    for attempt in range(3):
        try:
            _ip("netns", "del", name)
        except NetnsError as exc:
            if not os.path.exists(os.path.join(NETNS_DIR, name)):
                break  # gone after all
            if attempt == 2:
                print(f"tests/netns.py: could not delete namespace {name}: {exc}",
                      file=sys.__stderr__, flush=True)
                return
            time.sleep(0.2 * (attempt + 1))
        else:
            break
    _created.discard(name)


@atexit.register
def _sweep() -> None:
    # Last resort if a finaliser never ran (e.g. an interrupted session) or a delete failed:
    # every namespace named for this process goes, registered or not.
    if f"usc-{os.getpid()}-" != _PREFIX:
        return  # a forked child: the namespaces are its parent's
    names = set(_created)
    with contextlib.suppress(OSError):
        names.update(n for n in os.listdir(NETNS_DIR) if n.startswith(_PREFIX))
    for name in sorted(names):
        delete_namespace(name)


def run_in(ns_name: str, argv: Sequence[str], *, timeout: float = 30,
           check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a program inside a namespace (`ip netns exec`), capturing text output, bounded."""
    return subprocess.run(
        ["ip", "netns", "exec", ns_name, *argv],
        capture_output=True, text=True, timeout=timeout, check=check,
    )


def write_sysctl(ns_name: str, key: str, value: str | int) -> None:
    """Set a net.* sysctl inside a namespace (net sysctls are per namespace)."""
    path = "/proc/sys/" + key.replace(".", "/")
    with inside(ns_name), open(path, "w") as fh:
        fh.write(f"{value}\n")


def read_sysctl(ns_name: str, key: str) -> str:
    path = "/proc/sys/" + key.replace(".", "/")
    with inside(ns_name), open(path) as fh:
        return fh.read().strip()


# --- availability ------------------------------------------------------------------------------------

@cache
def netns_unavailable_reason() -> str | None:
    """Why namespace tests can't run here, or None when they can (checked once, by trying)."""
    if not sys.platform.startswith("linux"):
        return f"network namespaces need Linux (this is {sys.platform})"
    if os.geteuid() != 0:
        return "network namespaces need root (run as root or set up CAP_SYS_ADMIN)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if getattr(os, "setns", None) is None:
        try:
            _libc().setns  # noqa: B018 - attribute lookup is the check
        except AttributeError:
            return "libc has no setns()"
    try:
        name = create_namespace()
    except NetnsError as exc:
        return f"cannot create a network namespace: {exc}"
    try:
        with inside(name):
            pass
        # veth support is needed by every topology
        _ip("-n", name, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
    except (OSError, NetnsError) as exc:
        return f"cannot use a network namespace: {exc}"
    finally:
        delete_namespace(name)
    return None


def require_netns() -> None:
    """Skip (or, with UDPSCOPE_REQUIRE_NETNS=1, fail) when namespaces are unavailable."""
    reason = netns_unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# --- topologies ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class VethEnd:
    """One end of a veth link as seen from its namespace."""

    ns: str
    ifname: str
    v4: str          # e.g. "10.200.3.1"
    v6: str          # e.g. "fd00:200:3::1"
    v4_prefix: int = 24
    v6_prefix: int = 64

    @property
    def index(self) -> int:
        with inside(self.ns):
            return socket.if_nametoindex(self.ifname)


@dataclass(frozen=True)
class VethPair:
    """Two namespaces joined by one veth link: `a` (10.200.N.1) <-> `b` (10.200.N.2)."""

    a: VethEnd
    b: VethEnd
    broadcast: str   # the subnet broadcast address, e.g. "10.200.3.255"


@dataclass(frozen=True)
class LoopedNs:
    """One namespace holding both ends of a veth link (`veth0` <-> `veth1`).

    What leaves veth0 arrives on veth1 of the same namespace, so a single host sees both its own
    loopback copy (on veth0) and the copy that really crossed the wire (on veth1).
    `accept_local` is on and rp_filter off so the wire copy, whose source is a local address,
    isn't dropped as a martian.
    """

    ns: str
    end0: VethEnd
    end1: VethEnd


@dataclass(frozen=True)
class TwoLinks:
    """A hub namespace with two links, `left` and `right`, to two leaf namespaces.

    Every end has only a static link-local address: fe80::1 on both hub interfaces, fe80::2 on
    each leaf's `v0`. The same address on two links is exactly where only the scope id tells
    them apart: a datagram to fe80::2 leaves by the link its `%zone` names, or by whichever
    link the kernel's route picks when the zone is lost.
    """

    hub: str
    left: str    # the leaf behind the hub's interface "left"
    right: str   # the leaf behind the hub's interface "right"

    def index(self, ifname: str) -> int:
        """The hub's index for `ifname`."""
        with inside(self.hub):
            return socket.if_nametoindex(ifname)


@dataclass
class NetnsFactory:
    """Creates topologies and remembers them so `close()` can delete everything."""

    names: list[str] = field(default_factory=list)

    def namespace(self) -> str:
        name = create_namespace()
        self.names.append(name)
        return name

    def _subnet(self) -> int:
        return next(_subnets)

    def veth_pair(self, *, extra_a: Sequence[int] = ()) -> VethPair:
        """Two namespaces and a veth link, addresses, links up, multicast routes via the veth.

        `extra_a` adds more host numbers on side a (e.g. (3,) -> 10.200.N.3 and
        fd00:200:N::3), for tests that need a second sender address.
        """
        n = self._subnet()
        ns_a, ns_b = self.namespace(), self.namespace()
        a = VethEnd(ns_a, "veth0", f"10.200.{n}.1", f"fd00:200:{n}::1")
        b = VethEnd(ns_b, "veth0", f"10.200.{n}.2", f"fd00:200:{n}::2")
        _ip("-n", ns_a, "link", "add", "veth0", "type", "veth", "peer", "name", "veth0",
            "netns", ns_b)
        for end in (a, b):
            _configure(end)
        for host in extra_a:
            _ip("-n", ns_a, "addr", "add", f"10.200.{n}.{host}/24", "dev", "veth0")
            _ip("-n", ns_a, "-6", "addr", "add", f"fd00:200:{n}::{host}/64", "dev", "veth0",
                "nodad")
        return VethPair(a, b, f"10.200.{n}.255")

    def looped(self) -> LoopedNs:
        """One namespace with veth0 <-> veth1 (10.201.N.1 / 10.201.N.2, fd00:201:N::1 / ::2)."""
        n = self._subnet()
        ns = self.namespace()
        _ip("-n", ns, "link", "add", "veth0", "type", "veth", "peer", "name", "veth1")
        e0 = VethEnd(ns, "veth0", f"10.201.{n}.1", f"fd00:201:{n}::1")
        e1 = VethEnd(ns, "veth1", f"10.201.{n}.2", f"fd00:201:{n}::2")
        # Martian filtering would drop the wire copy (source is one of our own addresses).
        for key in ("all", "default", "veth0", "veth1"):
            write_sysctl(ns, f"net.ipv4.conf.{key}.rp_filter", 0)
            write_sysctl(ns, f"net.ipv4.conf.{key}.accept_local", 1)
        _configure(e0, route=True)
        _configure(e1, route=False)
        return LoopedNs(ns, e0, e1)

    def two_links(self) -> TwoLinks:
        """See `TwoLinks`. No auto-generated addresses (addrgenmode none), no DAD (nodad)."""
        hub, left, right = self.namespace(), self.namespace(), self.namespace()
        for ifname, leaf in (("left", left), ("right", right)):
            _ip("-n", hub, "link", "add", ifname, "type", "veth", "peer", "name", "v0",
                "netns", leaf)
            for ns, dev, address in ((hub, ifname, "fe80::1/64"), (leaf, "v0", "fe80::2/64")):
                _ip("-n", ns, "link", "set", dev, "addrgenmode", "none")
                _ip("-n", ns, "-6", "addr", "add", address, "dev", dev, "nodad")
                _ip("-n", ns, "link", "set", dev, "up")
        return TwoLinks(hub, left, right)

    def close(self) -> None:
        while self.names:
            delete_namespace(self.names.pop())


_subnets = itertools.cycle(range(1, 251))


def _configure(end: VethEnd, *, route: bool = True) -> None:
    ns, dev = end.ns, end.ifname
    _ip("-n", ns, "addr", "add", f"{end.v4}/{end.v4_prefix}", "dev", dev)
    _ip("-n", ns, "-6", "addr", "add", f"{end.v6}/{end.v6_prefix}", "dev", dev, "nodad")
    _ip("-n", ns, "link", "set", dev, "up")
    if route:
        # No default route in a fresh namespace: without this an IPv4 multicast send with no
        # interface chosen fails with ENETUNREACH, and a join without one with ENODEV.
        _ip("-n", ns, "route", "add", "224.0.0.0/4", "dev", dev)


# --- pytest fixtures -------------------------------------------------------------------------------

@pytest.fixture
def netns_factory() -> Iterator[NetnsFactory]:
    """A factory for namespace topologies; everything it made is deleted after the test."""
    require_netns()
    factory = NetnsFactory()
    try:
        yield factory
    finally:
        factory.close()


@contextlib.contextmanager
def _setup() -> Iterator[None]:
    """A failed `ip` while building a topology: skip, or fail with UDPSCOPE_REQUIRE_NETNS=1."""
    try:
        yield
    except NetnsError as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"namespace setup failed: {exc}", pytrace=False)
        pytest.skip(f"namespace setup failed: {exc}")


@pytest.fixture
def veth_pair(netns_factory: NetnsFactory) -> VethPair:
    with _setup():
        return netns_factory.veth_pair()


@pytest.fixture
def looped_ns(netns_factory: NetnsFactory) -> LoopedNs:
    with _setup():
        return netns_factory.looped()


@pytest.fixture
def two_links(netns_factory: NetnsFactory) -> TwoLinks:
    with _setup():
        return netns_factory.two_links()


@pytest.fixture
def netns(netns_factory: NetnsFactory) -> str:
    """A bare namespace with only `lo` (up)."""
    with _setup():
        return netns_factory.namespace()
