"""How `udpscope doctor` prints its result: one JSON object (the keys of the CLI spec, plus a
few more), or a short text report for people.

Everything shown in text goes through textsafe (interface names, addresses from the network and
OS error text are untrusted); JSON escapes control characters itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from udpscope.net.checks import Finding
from udpscope.net.diagnose import Watch
from udpscope.textsafe import safe_text


def _r(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def querier_json(w: Watch) -> dict[str, Any] | None:
    """The spec's querier object (address, version, interval_s, last_seen_s) plus extras, or
    None when no query was seen (or none could be)."""
    q = w.querier
    if q is None or q.querier is None:
        return None
    return {"address": q.querier, "version": q.version, "interval_s": _r(q.interval_s),
            "last_seen_s": _r(q.last_query_age_s), "interval_source": q.interval_source,
            "advertised_interval_s": _r(q.advertised_interval_s),
            "max_response_s": _r(q.max_response_s), "robustness": q.robustness,
            "queries": q.queries, "other_queriers": list(q.other_queriers),
            "membership_interval_s": _r(q.membership_interval_s),
            "last_report_s": _r(q.last_report_age_s)}


def finding_json(f: Finding) -> dict[str, Any]:
    return {"severity": f.level, "id": f.id, "title": f.title, "detail": f.detail, "fix": f.fix}


def report_json(w: Watch, findings: Sequence[Finding]) -> dict[str, Any]:
    """The whole report as a JSON-ready dict."""
    status = w.querier_status
    return {
        "group": w.group, "interface": w.interface, "source": w.source, "port": w.port,
        "watched_s": _r(w.watched_s), "datagrams": w.datagrams,
        "senders": [{"address": s.address, "port": s.port, "datagrams": s.datagrams,
                     "ttl": s.ttl, "interface": s.interface} for s in w.senders],
        "querier": querier_json(w),
        "findings": [finding_json(f) for f in findings],
        "ok": not any(f.level == "error" for f in findings),
        "family": w.family,
        "interface_chosen_by": "argument" if w.interface_named else "route",
        "joined": w.joined_at is not None,
        "querier_observation": None if status is None else status.state,
        "kernel_igmp_version": w.querier.kernel_version if w.querier else None,
        "firewall_read": list(w.ruleset.sources) if w.ruleset else [],
    }


def render_json(w: Watch, findings: Sequence[Finding]) -> str:
    return json.dumps(report_json(w, findings))


def _s(text: object, limit: int = 200) -> str:
    return safe_text(str(text), limit=limit)


def render_text(w: Watch, findings: Sequence[Finding]) -> list[str]:
    """The report as lines for a terminal (every untrusted part made safe)."""
    proto = "IGMP" if w.family == "IPv4" else "MLD"
    where = _s(w.interface, 40) if w.interface else "the interface the kernel picks"
    if w.interface and not w.interface_named:
        where += " (by route)"
    head = f"udpscope doctor: {_s(w.group)} on {where}"
    if w.source:
        head += f" from {_s(w.source)}"
    lines = [head + f", watched {w.watched_s:.1f} s"]
    q = w.querier
    status = w.querier_status
    if status is not None and status.state != "observing":
        lines.append(f"  querier:  cannot be observed ({_s(status.reason or status.state)})")
        if q is not None and q.kernel_version is not None:
            lines.append(f"            kernel IGMP mode: v{q.kernel_version}")
    elif q is None or q.querier is None:
        lines.append(f"  querier:  none seen (no {proto} query in {w.watched_s:.1f} s)")
    else:
        text = f"  querier:  {_s(q.querier)}, {proto}v{q.version}"
        if q.interval_s is not None:
            text += f", every {q.interval_s:.1f} s ({q.interval_source})"
        if q.max_response_s is not None:
            text += f", max response {q.max_response_s:.1f} s"
        lines.append(text)
        more = f"            last query {q.last_query_age_s or 0:.1f} s ago"
        more += f", membership interval {q.membership_interval_s:.0f} s"
        if q.last_report_age_s is not None:
            more += f", our last report {q.last_report_age_s:.1f} s ago"
        lines.append(more)
    if w.port is not None:
        lines.append(f"  traffic:  port {w.port}: {w.datagrams} datagram"
                     f"{'' if w.datagrams == 1 else 's'} from {len(w.senders)} sender"
                     f"{'' if len(w.senders) == 1 else 's'}")
        for s in w.senders[:10]:
            host = f"[{_s(s.address)}]" if ":" in s.address else _s(s.address)
            lines.append(f"            {host}:{s.port}  {s.datagrams} datagrams"
                         + (f", ttl {s.ttl}" if s.ttl is not None else "")
                         + (f", on {_s(s.interface, 40)}" if s.interface else ""))
    lines.append("  findings:" if findings else "  findings: none")
    for f in findings:
        lines.append(f"    {f.level:<8}{_s(f.id, 40)}: {_s(f.title)}")
        lines.append(f"            {_s(f.detail, 1000)}")
        if f.fix:
            lines.append(f"            fix: {_s(f.fix, 400)}")
    errors = sum(f.level == "error" for f in findings)
    warnings = sum(f.level == "warning" for f in findings)
    lines.append(f"result: {'FAIL' if errors else 'ok'} ({errors} error"
                 f"{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'})")
    return lines
