"""The Multicast view's querier, joins and join-everywhere tables as plain rows of text.

Why plain: what each cell says ("no querier", "cannot observe", "prunes in about 212 s") is the
point of the view, so it is decided here, in functions of observer views and times, and tested
without an app. Everything that came from the network or the OS (querier addresses, interface
names, error text) goes through `udpscope.textsafe` here; the view only colours the cells by
each row's `tone`. No Textual or Rich here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from udpscope.net.querier import (
    DEFAULT_MAX_RESPONSE_S,
    DEFAULT_QUERY_INTERVAL_S,
    QuerierView,
    membership_interval,
    prune_countdown,
)
from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    from udpscope.capture import SocketEntry
    from udpscope.net.interfaces import Interface
    from udpscope.net.joins import ArrivalCounter, JoinOutcome
    from udpscope.net.membership import KernelMembership

NAME_LIMIT = 24    # interface names are at most 15 bytes on Linux; escapes make them longer
ADDR_LIMIT = 48


@dataclass(frozen=True)
class Row:
    """One table row: its key, its cells, and how the view colours its status cell
    ("good", "warn", "bad", "muted" or "")."""

    key: str
    cells: tuple[str, ...]
    tone: str = ""


def proto(family: str) -> str:
    """"IGMP" for IPv4, "MLD" for IPv6."""
    return "MLD" if family == "IPv6" else "IGMP"


def seconds(value: float | None) -> str:
    """A duration for a cell: "3.0 s", "125 s", "—" when unknown."""
    if value is None:
        return "—"
    return f"{value:.1f} s" if round(value, 1) < 10 else f"{value:.0f} s"


def ago(value: float | None) -> str:
    """An age for a cell: "2.5 s ago", "40 s ago", "12min ago", "—" when unknown."""
    if value is None:
        return "—"
    value = max(0.0, value)
    if round(value) < 600:
        return f"{seconds(value)} ago"
    return f"{value / 60:.0f}min ago"


# ---- queriers ------------------------------------------------------------------------------

QUERIER_NOTE = {
    "observing": ("Listening for {protos} queries for {watched} s (~: interval as advertised; "
                  "queriers ask every 125 s by default). While this view is open, udpscope "
                  "joins {groups} to hear reports, so the host sends reports for them; w stops."),
    "unobservable": ("{protos} queries can't be seen: listening for them needs CAP_NET_RAW "
                     "(run as root, or setcap cap_net_raw+ep on the interpreter). \"cannot "
                     "observe\" is not \"no querier\"; the kernel's IGMP version per interface "
                     "(/proc/net/igmp) is shown instead."),
    "idle": ("Not listening for queries (w starts: udpscope then joins {groups} on each "
             "interface to hear reports)."),
}


def observer_note(states: Mapping[str, str], reasons: Mapping[str, str | None],
                  watched_s: float = 0.0) -> str:
    """The line above the querier table: what is being watched (for `watched_s` seconds), what
    that sends, or what cannot be seen and why. `states`/`reasons` are per family."""
    watching = [f for f, s in states.items() if s == "observing"]
    blind = [f for f, s in states.items() if s == "unobservable"]
    other = [f for f, s in states.items() if s == "unsupported"]
    groups = {"IPv4": "224.0.0.22", "IPv6": "ff02::16"}
    parts = []
    if watching:
        parts.append(QUERIER_NOTE["observing"].format(
            protos=" and ".join(proto(f) for f in watching),
            groups=" and ".join(groups[f] for f in watching),
            watched=f"{watched_s:.0f}"))
    if blind:
        parts.append(QUERIER_NOTE["unobservable"].format(
            protos=" and ".join(proto(f) for f in blind)))
    for f in other:
        why = reasons.get(f) or "not supported here"
        parts.append(f"{proto(f)} queries can't be watched: {safe_text(why, 200)}.")
    if not parts:
        parts.append(QUERIER_NOTE["idle"].format(groups=" and ".join(groups.values())))
    return " ".join(parts)


def querier_row(view: QuerierView) -> Row:
    """One (interface, family): querier, version, last query, interval, max response time and
    our last report, or why they are unknown."""
    name = safe_text(view.interface, NAME_LIMIT)
    p = proto(view.family)
    key = f"{view.index}|{view.family}|{name}"
    kernel = f"v{view.kernel_version} kernel" if view.kernel_version else "—"
    if view.state == "observing":
        report = ago(view.last_report_age_s) if view.last_report_age_s is not None else "none seen"
        if view.querier is None:
            return Row(key, (name, p, "no querier seen", kernel,
                             "—", "—", "—", report), "warn")
        who = safe_text(view.querier, ADDR_LIMIT)
        if view.other_queriers:
            who += f" (+{len(view.other_queriers)} more)"
        tone = "good"
        if silent(view):
            who += " (silent)"
            tone = "warn"
        interval = seconds(view.interval_s)
        if view.interval_source == "advertised":
            interval = "~" + interval   # as advertised: one query heard so far
        version = f"{p}v{view.version}" if view.version else "?"
        return Row(key, (name, p, who, version, ago(view.last_query_age_s), interval,
                         seconds(view.max_response_s), report), tone)
    if view.state == "unobservable":
        return Row(key, (name, p, "cannot observe (no CAP_NET_RAW)", kernel,
                         "—", "—", "—", "—"), "muted")
    if view.state == "unsupported":
        return Row(key, (name, p, "cannot observe here", kernel, "—", "—", "—", "—"), "muted")
    return Row(key, (name, p, "not listening (w starts)", kernel, "—", "—", "—", "—"), "muted")


def silent(view: QuerierView) -> bool:
    """A querier was heard, but its next query is overdue by half an interval: it has stopped
    (or its queries no longer reach us), and memberships age out as if there were none."""
    if view.querier is None or view.last_query_age_s is None:
        return False
    interval = view.interval_s or DEFAULT_QUERY_INTERVAL_S
    return view.last_query_age_s > 1.5 * interval + (view.max_response_s or 0.0)


def querier_rows(views: Iterable[QuerierView]) -> list[Row]:
    """The querier table, in the observer's order (interface index, then family)."""
    return [querier_row(v) for v in views]


# ---- our joins and their prune countdown ---------------------------------------------------

@dataclass(frozen=True)
class OwnJoin:
    """A membership one of our sockets holds, where it landed and when it was made (in the
    capture's clock)."""

    sock_id: int
    group: str
    source: str | None
    interface: str | None        # name; None when it can't be placed
    joined_at: float

    @property
    def family(self) -> str:
        return "IPv6" if ":" in self.group else "IPv4"


def interface_name(spec: str | None, group: str, interfaces: Sequence[Interface],
                   kernel: Sequence[KernelMembership]) -> str | None:
    """The interface a join landed on: named in `spec` ("::%eth0", "eth0", an interface's
    address), else the one interface the kernel lists the group on (None if not one)."""
    if spec:
        address, _, scope = spec.partition("%")
        if scope:
            return scope
        for iface in interfaces:
            if address in iface.addresses or spec == iface.name:
                return iface.name
        return None
    try:
        canonical = str(ipaddress.ip_address(group))
    except ValueError:
        return None
    names = {m.interface for m in kernel if m.group == canonical}
    return names.pop() if len(names) == 1 else None


def own_joins(entries: Iterable[SocketEntry], interfaces: Sequence[Interface],
              kernel: Sequence[KernelMembership]) -> list[OwnJoin]:
    """Every membership our open sockets hold, oldest join first."""
    out = []
    for entry in entries:
        if entry.state == "closed":
            continue
        for (group, source, spec), at in entry.joined_at.items():
            out.append(OwnJoin(entry.id, group, source,
                               interface_name(spec, group, interfaces, kernel), at))
    out.sort(key=lambda j: (j.joined_at, j.sock_id, j.group))
    return out


def countdown(join: OwnJoin, view: QuerierView | None, now: float) -> tuple[str, str]:
    """(text, tone): when a snooping switch without a querier prunes this join — or that a
    querier keeps it alive, or that this can't be told."""
    if view is None:
        gmi = membership_interval()
        left = join.joined_at + gmi - now
        return (f"if no querier: in about {max(0.0, left):.0f} s (interface unknown)", "muted")
    if view.state == "observing" and view.querier is not None:
        if not silent(view):
            return f"kept alive by {safe_text(view.querier, ADDR_LIMIT)}", "good"
        # Our last report answered the last query: the switch forgets us one interval later.
        left = view.membership_interval_s - (view.last_query_age_s or 0.0)
        if left > 0:
            return f"querier silent: prunes in about {left:.0f} s", "warn"
        return "querier silent: pruned by now", "bad"
    pruned_in = prune_countdown(view, join.joined_at, now)
    if pruned_in is not None:
        if pruned_in > 0:
            # Watched for less than a default query interval: a querier may just not have
            # asked yet.
            early = view.watched_s < DEFAULT_QUERY_INTERVAL_S + DEFAULT_MAX_RESPONSE_S
            return (f"prunes in about {pruned_in:.0f} s" + (" unless a querier asks" if early
                                                            else ""), "warn")
        return (f"pruned by now (one membership interval, {view.membership_interval_s:.0f} s, "
                "has passed)", "bad")
    left = join.joined_at + view.membership_interval_s - now
    if left > 0:
        return f"if no querier: in about {left:.0f} s (queries not visible)", "muted"
    return "if no querier: pruned by now (queries not visible)", "muted"


def join_rows(joins: Sequence[OwnJoin], views: Mapping[tuple[str, str], QuerierView],
              now: float) -> list[Row]:
    """The joins table: socket, group (source → group for SSM), interface, age, countdown.
    `views` are the observer's, by (interface, family)."""
    rows = []
    for j in joins:
        view = views.get((j.interface, j.family)) if j.interface else None
        text, tone = countdown(j, view, now)
        group = safe_text(j.group, ADDR_LIMIT)
        if j.source:
            group = f"{safe_text(j.source, ADDR_LIMIT)} → {group}"
        rows.append(Row(f"{j.sock_id}|{j.group}|{j.source}|{j.interface}",
                        (f"#{j.sock_id}", group, safe_text(j.interface or "?", NAME_LIMIT),
                         ago(now - j.joined_at), text), tone))
    return rows


# ---- join everywhere -----------------------------------------------------------------------

def arrival_rows(outcomes: Sequence[JoinOutcome], counter: ArrivalCounter) -> list[Row]:
    """One row per interface joined (or tried), then any other interface traffic came in on:
    the join's result, the datagrams counted there, and where the traffic arrives."""
    counts = dict(counter.by_interface)
    busiest = max(counts.values(), default=0)
    rows = []
    for o in outcomes:
        name = safe_text(o.interface, NAME_LIMIT)
        n = counts.pop(o.interface, 0)
        if not o.joined and o.code == "EADDRINUSE":
            note, tone = ("← traffic arrives here", "good") if n and n == busiest else (
                "joined before (kept when leaving everywhere)", "")
            rows.append(Row(o.interface, (name, "already", str(n), note), tone))
            continue
        if not o.joined:
            why = safe_text(o.hint or o.error or "failed", 200)
            rows.append(Row(o.interface, (name, safe_text(o.code or "failed", 20), str(n), why),
                            "bad"))
            continue
        note, tone = ("← traffic arrives here", "good") if n and n == busiest else ("", "")
        rows.append(Row(o.interface, (name, "joined", str(n), note), tone))
    for name, n in sorted(counts.items()):
        rows.append(Row(f"other|{name}", (safe_text(name, NAME_LIMIT), "not joined", str(n),
                                          "arrives here without a join of ours"), "warn"))
    return rows
