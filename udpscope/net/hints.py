"""What an errno usually means for a UDP or multicast call, in the words a user can act on.

The kernel's messages ("Permission denied", "No buffer space available") are accurate and
useless: EACCES on a send is almost always a broadcast without the broadcast flag, ENOBUFS on a
join is the per-socket membership limit. Hints are keyed by Node's error code and the engine's
syscall name, so they match `DgramError.code` / `.syscall` directly. Where a hint tells the
user what to do, it names the control they have: a library call for library users, the TUI's
pane and checkbox in the app, the command-line flag in the CLI (`words=`).
"""

from __future__ import annotations

# (code, syscall or None for any) -> hint; the specific entry wins over the generic one.
_HINTS: dict[tuple[str, str | None], str] = {
    ("EACCES", "send"): "sending to a broadcast address needs the broadcast flag: {broadcast} "
                        "(a firewall rule can also cause this)",
    ("EACCES", "bind"): "ports below 1024 need root or CAP_NET_BIND_SERVICE",
    ("EACCES", None): "permission denied: for broadcast {broadcast}; ports below "
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
    ("EADDRNOTAVAIL", "setMulticastInterface"): "no local interface has that address: "
                                                "{mcast_iface}",
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
                            "{reuse} (usual for multicast listeners)",
    ("EMSGSIZE", "send"): "datagram too large: at most 65507 bytes over IPv4 and 65527 over "
                          "IPv6",
    ("ENETUNREACH", "send"): "no route to that destination: for multicast add a route (e.g. "
                             "224.0.0.0/4 dev eth0) or {mcast_iface_short}",
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


# The controls hints point to, in the words of each way of using udpscope.
_WORDS: dict[str, dict[str, str]] = {
    "library": {
        "broadcast": "call set_broadcast(True) first",
        "reuse": "create every sharing socket with reuse_addr=True",
        "mcast_iface": "use one of the interface's own addresses in set_multicast_interface() "
                       "(IPv6: \"::%ifname\")",
        "mcast_iface_short": "set_multicast_interface()",
    },
    "tui": {
        "broadcast": "tick 'broadcast' in 2 Options first",
        "reuse": "create every sharing socket with 'reuse addr' ticked (n, new socket)",
        "mcast_iface": "pick the interface in 'mcast if' (2 Options)",
        "mcast_iface_short": "pick the interface in 'mcast if' (2 Options)",
    },
    "cli": {
        "broadcast": "add --broadcast",
        "reuse": "stop the other listener",
        "mcast_iface": "give --interface one of the interface's own addresses",
        "mcast_iface_short": "--interface",
    },
}


def errno_hint(code: str | None, syscall: str | None = None, words: str = "library") -> str | None:
    """A plain-words hint for an error code (Node's, e.g. "ENOBUFS") from `syscall`, or None.

    Args:
        code: The error code.
        syscall: The engine call that failed (a specific hint wins over the generic one).
        words: "library", "tui" or "cli": whose controls the hint names.
    """
    if not isinstance(code, str):
        return None
    code = code.upper()
    hint = _HINTS.get((code, syscall)) if syscall is not None else None
    if hint is None:
        hint = _HINTS.get((code, None))
    if hint is None:
        return None
    return hint.format_map(_WORDS.get(words, _WORDS["library"]))
