"""What an errno usually means for a UDP or multicast call, in the words a user can act on.

The kernel's messages ("Permission denied", "No buffer space available") are accurate and
useless: EACCES on a send is almost always a broadcast without the broadcast flag, ENOBUFS on a
join is the per-socket membership limit. Hints are keyed by Node's error code and the engine's
syscall name, so they match `DgramError.code` / `.syscall` directly.
"""

from __future__ import annotations

# (code, syscall or None for any) -> hint; the specific entry wins over the generic one.
_HINTS: dict[tuple[str, str | None], str] = {
    ("EACCES", "send"): "sending to a broadcast address needs the broadcast flag: call "
                        "set_broadcast(True) first (a firewall rule can also cause this)",
    ("EACCES", "bind"): "ports below 1024 need root or CAP_NET_BIND_SERVICE",
    ("EACCES", None): "permission denied: for broadcast call set_broadcast(True); ports below "
                      "1024 need privileges",
    ("EPERM", "send"): "a firewall rule (nftables/iptables) rejected the datagram",
    ("EPERM", None): "operation not permitted: a firewall rule or missing privileges",
    ("ENOBUFS", "addMembership"): "per-socket membership limit reached: "
                                  "net.ipv4.igmp_max_memberships (default 20); raise it or "
                                  "spread joins over more sockets",
    ("ENOBUFS", "addSourceSpecificMembership"): "per-socket limit reached: "
                                                "net.ipv4.igmp_max_msf (sources per group, "
                                                "default 10) or net.ipv4.igmp_max_memberships",
    ("ENOBUFS", "send"): "the kernel ran out of buffer space: sending faster than the "
                         "interface drains; slow down or raise the send buffer",
    ("ENOBUFS", None): "the kernel ran out of buffer space (for joins: "
                       "net.ipv4.igmp_max_memberships)",
    ("EADDRNOTAVAIL", "addMembership"): "wrong interface: no local interface has that "
                                        "address. For IPv4 pass the interface's own IPv4 "
                                        "address; for IPv6 \"::%ifname\"",
    ("EADDRNOTAVAIL", "addSourceSpecificMembership"): "wrong interface, or that source is "
                                                      "already in the filter: for IPv4 pass "
                                                      "the interface's own IPv4 address",
    ("EADDRNOTAVAIL", "dropMembership"): "not joined: this socket has no membership for "
                                         "that group on that interface",
    ("EADDRNOTAVAIL", "dropSourceSpecificMembership"): "not joined: this socket has no "
                                                       "membership for that group and source "
                                                       "on that interface",
    ("EADDRNOTAVAIL", "setMulticastInterface"): "no local interface has that address: use "
                                                "one of the interface's own addresses "
                                                "(IPv6: \"::%ifname\")",
    ("EADDRNOTAVAIL", "bind"): "that address is not on any local interface (bind 0.0.0.0 / "
                               "::, or one of this host's addresses)",
    ("EADDRNOTAVAIL", None): "that address is not on any local interface",
    ("ENODEV", None): "wrong or missing interface: no such interface, or no route to pick one "
                      "(name the interface, or add a route for 224.0.0.0/4)",
    ("EINVAL", "addMembership"): "not a multicast group: IPv4 groups are 224.0.0.0/4, IPv6 "
                                 "groups ff00::/8 (also: the family of the group and the "
                                 "socket must match)",
    ("EINVAL", "addSourceSpecificMembership"): "not a multicast group, or the source is not a "
                                               "unicast address of the socket's family",
    ("EINVAL", "setTTL"): "TTL must be 1-255",
    ("EINVAL", "setMulticastTTL"): "multicast TTL must be 0-255",
    ("EINVAL", None): "invalid argument for this socket (check address family and ranges)",
    ("EADDRINUSE", "bind"): "another socket holds that port: stop it, pick another port, or "
                            "create every sharing socket with reuse_addr=True (usual for "
                            "multicast listeners)",
    ("EMSGSIZE", "send"): "datagram too large: at most 65507 bytes over IPv4 and 65527 over "
                          "IPv6",
    ("ENETUNREACH", "send"): "no route to that destination: for multicast add a route (e.g. "
                             "224.0.0.0/4 dev eth0) or set_multicast_interface()",
    ("ENETUNREACH", None): "no route to that network",
    ("EHOSTUNREACH", None): "host unreachable: no neighbour answered, or a firewall rejected it",
    ("ECONNREFUSED", None): "nothing is listening on that port at the peer (ICMP port "
                            "unreachable)",
    ("EAFNOSUPPORT", None): "address family not supported: IPv6 may be disabled, or an IPv4 "
                            "address was used with a udp6 socket (or the reverse)",
    ("EPROTONOSUPPORT", None): "protocol not supported: IPv6 may be disabled on this host",
    ("ENOPROTOOPT", None): "this kernel does not support that socket option",
    ("ENOTFOUND", None): "the host name did not resolve",
    ("EAI_AGAIN", None): "name resolution failed for now (DNS unreachable?)",
    ("EBADF", None): "the socket is not open yet: bind it (or send once) before setting options",
}


def errno_hint(code: str | None, syscall: str | None = None) -> str | None:
    """A plain-words hint for an error code (Node's, e.g. "ENOBUFS") from `syscall`, or None."""
    if not isinstance(code, str):
        return None
    code = code.upper()
    if syscall is not None:
        hint = _HINTS.get((code, syscall))
        if hint is not None:
            return hint
    return _HINTS.get((code, None))
