"""A finished (or live) matrix as the spec's JSON object, or as text tables for people.

Host names, addresses and error text come from the command line, remote agents and remote
stderr: in text they go through textsafe; JSON escapes everything non-ASCII by itself.
Over-limit cells carry a `!` besides any colour a view adds, so they read in monochrome too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from udpscope.agent.coordinator import HostView, MatrixConfig, MatrixSnapshot
from udpscope.agent.grid import Cell, Path, over
from udpscope.textsafe import safe_text

LABEL_MAX = 10


def result_json(config: MatrixConfig, snap: MatrixSnapshot) -> dict[str, Any]:
    """The one JSON object `matrix --format json` prints (the spec's keys, plus a few more)."""
    return {
        "group": config.endpoint,
        "ok": bool(snap.ok),
        "count": config.count,
        "rate": config.rate,
        "ttl": config.ttl,
        "max_loss": config.max_loss,
        "interrupted": snap.interrupted,
        "timed_out": snap.timed_out,
        "hosts": [_host_json(h) for h in snap.hosts],
        "cells": [c.to_json() for c in snap.cells],
        "coordinator": {"elapsed_s": snap.stats.elapsed_s, "cpu_s": snap.stats.cpu_s,
                        "loop_lag_ms_max": snap.stats.loop_lag_ms_max,
                        "polls": snap.stats.polls},
    }


def _host_json(h: HostView) -> dict[str, Any]:
    loss = h.loss
    return {
        "name": h.name, "address": h.address, "error": h.error, "state": h.state,
        "address_seen": h.address_seen, "agent_version": h.agent_version,
        "flags": list(loss.flags) if loss else [],
        "multicast_in_loss_pct": loss.multicast_in_loss_pct if loss else None,
        "multicast_out_loss_pct": loss.multicast_out_loss_pct if loss else None,
        "unicast_in_loss_pct": loss.unicast_in_loss_pct if loss else None,
        "unicast_out_loss_pct": loss.unicast_out_loss_pct if loss else None,
        "send_errors": h.send_errors, "last_send_error": h.last_send_error,
        "kernel_drops": h.kernel_drops, "late_ms_max": h.late_ms_max,
    }


# ---- text ------------------------------------------------------------------------------------

def _labels(hosts: Sequence[HostView]) -> list[str]:
    names = [safe_text(h.name, limit=40) for h in hosts]
    if all(len(n) <= LABEL_MAX for n in names) and len(set(names)) == len(names):
        return names
    return [f"#{i + 1}" for i in range(len(hosts))]


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f}"


def _grid(title: str, labels: list[str], cells: dict[tuple[int, int], Cell],
          show: Callable[[Cell], str]) -> list[str]:
    width = max(8, *(len(x) + 2 for x in labels))
    head_w = max(len(x) for x in labels) + 2
    lines = [title, " " * head_w + "".join(x.rjust(width) for x in labels)]
    for s, label in enumerate(labels):
        row = [("-" if s == r else show(cells[(s, r)])).rjust(width) for r in range(len(labels))]
        lines.append(label.ljust(head_w) + "".join(row))
    return lines


def _direction(h: HostView) -> str:
    loss = h.loss
    if loss is None:
        return ""
    return (f"multicast in {_pct(loss.multicast_in_loss_pct)}% out "
            f"{_pct(loss.multicast_out_loss_pct)}%, unicast in {_pct(loss.unicast_in_loss_pct)}%"
            f" out {_pct(loss.unicast_out_loss_pct)}%")


FLAG_TEXT = {  # a host flag in words (the text report and the TUI say the same)
    "multicast-only": "multicast fails where unicast works",
    "multicast-in": "loss on all multicast into it",
    "multicast-out": "loss on all its multicast out",
    "unicast-in": "loss on all unicast into it",
    "unicast-out": "loss on all its unicast out",
}


def result_text(config: MatrixConfig, snap: MatrixSnapshot) -> list[str]:
    """The report for people: hosts, a loss grid per kind, a delay/TTL grid, the verdict."""
    limit = config.max_loss
    out = [f"udpscope matrix {config.endpoint}: {len(snap.hosts)} hosts, {config.count} probes "
           f"each way at {config.rate:g}/s, multicast TTL {config.ttl}, max loss {limit:g}%"]
    labels = _labels(snap.hosts)
    index = {h.name: i for i, h in enumerate(snap.hosts)}
    out.append("")
    for i, h in enumerate(snap.hosts):
        label = labels[i]
        name = safe_text(h.name, limit=60)
        head = f"{label:<{LABEL_MAX}}" + (f" {name}" if label != name else "")
        addr = safe_text(h.address, limit=60) if h.address else "-"
        if h.error is not None:
            out.append(f"{head}  {addr}  FAILED: {safe_text(h.error, limit=300)}")
            continue
        flags = h.loss.flags if h.loss else ()
        mark = "  !! " + "; ".join(FLAG_TEXT.get(f, f) for f in flags) if flags else ""
        out.append(f"{head}  {addr}  {_direction(h)}{mark}")
        if h.send_errors:
            out.append(f"{'':<{LABEL_MAX}}  {h.send_errors} sends failed: "
                       f"{safe_text(h.last_send_error or '?', limit=200)}")
    cells = {(index[c.sender], index[c.receiver]): c for c in snap.cells}
    if len(snap.hosts) >= 2:
        def loss_of(kind: str) -> Callable[[Cell], str]:
            def show(c: Cell) -> str:
                path: Path = getattr(c, kind)
                return _pct(path.loss_pct) + ("!" if over(path, limit) else "")
            return show

        def delay(c: Cell) -> str:
            m = c.multicast
            if m.delay_ms_avg is None:
                return "?"
            return f"{m.delay_ms_avg:.2f}/{m.ttl if m.ttl is not None else '?'}"

        note = "; warm-up loss apart" if config.count > 1 else ""
        out += [""] + _grid(f"multicast loss % (row: sender, column: receiver{note})",
                            labels, cells, loss_of("multicast"))
        out += [""] + _grid("unicast loss %", labels, cells, loss_of("unicast"))
        out += [""] + _grid("multicast delay ms / TTL seen", labels, cells, delay)
        out += _notes(snap.cells, labels, index, limit)
    out.append("")
    out.append(_verdict(config, snap))
    return out


def _notes(cells: Sequence[Cell], labels: list[str], index: dict[str, int],
           limit: float) -> list[str]:
    notes = []
    for c in cells:
        where = f"{labels[index[c.sender]]} -> {labels[index[c.receiver]]}"
        m, u = c.multicast, c.unicast
        if m.warmup_lost:
            notes.append(f"{where}: {_n(m.warmup_lost, 'multicast probe')} before the first "
                         "one heard (warm-up, not counted as loss)")
        for kind, path in (("multicast", m), ("unicast", u)):
            if over(path, limit):
                notes.append(f"{where}: {kind} {path.lost} of "
                             f"{(path.sent or 0) - (path.warmup_lost or 0)} lost")
            if path.duplicates:
                notes.append(f"{where}: {kind} {_n(path.duplicates, 'duplicate')}")
    return ([""] + notes) if notes else []


def _n(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def _verdict(config: MatrixConfig, snap: MatrixSnapshot) -> str:
    reasons = []
    bad = sum(over(c.multicast, config.max_loss) or over(c.unicast, config.max_loss)
              for c in snap.cells)
    if bad:
        reasons.append(f"{bad} cell{'s' if bad != 1 else ''} over --max-loss {config.max_loss:g}%")
    failed = sum(h.error is not None for h in snap.hosts)
    if failed:
        reasons.append(f"{failed} host{'s' if failed != 1 else ''} failed")
    if snap.interrupted:
        reasons.append("interrupted")
    if snap.timed_out:
        reasons.append(f"--timeout {config.effective_timeout:g} s reached")
    unmeasured = sum((c.multicast.loss_pct is None or c.unicast.loss_pct is None)
                     for c in snap.cells)
    if unmeasured and not failed:
        reasons.append(f"{unmeasured} cells not measured")
    if snap.ok:
        return "result: OK"
    return "result: NOT OK: " + ("; ".join(reasons) if reasons else "no result")
