"""The human-readable report: aligned tables with units, the limits stated beside the numbers.

Why a hand-rolled table: the bench must print the same thing in a pipe, a CI log and a terminal,
without pulling Textual or Rich into a headless command. Numbers are rounded to what the noise
allows (3 significant digits); the JSON output keeps full precision.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import Any

WIDTH = 100
PEER_NAMES = {"engine": "engine", "node": "node dgram", "c": "C recvmmsg"}


class Symbols:
    """Unicode where the output can carry it, ASCII otherwise."""

    def __init__(self, unicode: bool) -> None:
        self.mu = "µ" if unicode else "u"
        self.times = "×" if unicode else "x"
        self.arrow = "→" if unicode else "->"
        self.dot = "·" if unicode else "-"
        self.pm = "±" if unicode else "+-"


def _symbols() -> Symbols:
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    try:
        "µ×→·±".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return Symbols(False)
    return Symbols(True)


def si(n: float | None, digits: int = 3) -> str:
    """1234567 -> '1.23 M' (3 significant digits)."""
    if n is None:
        return "-"
    n = float(n)
    for limit, suffix in ((1e9, " G"), (1e6, " M"), (1e3, " k")):
        if abs(n) >= limit:
            return f"{_sig(n / limit, digits)}{suffix}"
    return _sig(n, digits) if n != int(n) else f"{int(n)}"


def _sig(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    magnitude = len(str(int(abs(x)))) if abs(x) >= 1 else 0
    decimals = max(0, digits - magnitude)
    return f"{x:.{decimals}f}"


def rate(pps: float | None) -> str:
    return "-" if pps is None else f"{si(pps)}/s"


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def mib(n: float | None) -> str:
    return "-" if n is None else f"{n / 1048576:.1f} MiB"


def ms(x: float | None) -> str:
    return "-" if x is None else (f"{x:.1f} ms" if x < 100 else f"{x:.0f} ms")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int],
          indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell; `right` holds the right-aligned column indexes."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                 for i, c in enumerate(cells)]
        return (indent + "  ".join(parts)).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def render(report: dict[str, Any]) -> str:
    """The whole report as text."""
    sym = _symbols()
    cfg, host = report["config"], report["host"]
    out: list[str] = []
    repeat = cfg["repeat"]
    out.append(f"udpscope bench {sym.dot} loopback {cfg['host']} {sym.dot} {cfg['size']}-byte "
               f"datagrams {sym.dot} {repeat} {sym.times} {cfg['seconds']:g} s per measurement"
               + (", medians" if repeat > 1 else ""))
    pinned = host.get("pinned")
    where = (f"measured process on CPU {pinned[0]}, its peer on CPU {pinned[1]}" if pinned
             else "not pinned")
    out.append(f"host: {host['system']} {host['release']} {host['machine']}, {host['cpus']} CPUs "
               f"({where})")
    out.append(f"      Python {host['python']} + {host['loop']}"
               + (f", node {host['node']}" if host.get("node") else "")
               + (f", rmem_max {mib(host['rmem_max'])}" if host.get("rmem_max") else ""))
    ratios = report.get("ratios", {})
    if "receive" in report:
        _receive(out, report, ratios, sym)
    if "send" in report:
        _send(out, report, ratios, sym)
    if "tui" in report:
        _tui(out, report["tui"], cfg, sym, report.get("ratios") or {})
    notes = report.get("notes") or []
    if notes:
        out.append("")
        out.append("notes:")
        for n in notes:
            out.extend(_wrap(n, "  - ", "    "))
    out.append("")
    out.extend(_wrap(f"total {report.get('elapsed_s', 0):.1f} s. Shared machines are noisy: "
                     "trust the ratios (same run, interleaved) over the absolute rates.", "", ""))
    return "\n".join(out)


def _ratio(value: float | None, sym: Symbols) -> str:
    return "-" if value is None else f"{value:.2f}{sym.times}"


def _spread(s: dict[str, Any], sym: Symbols) -> str:
    v = s.get("spread")
    return "-" if v is None else f"{sym.pm}{50 * v:.0f}%"


def _receive(out: list[str], report: dict[str, Any], ratios: dict[str, Any],
             sym: Symbols) -> None:
    sender = report.get("sender") or {}
    out.append("")
    method = sender.get("method") or "?"
    how = (f"UDP GSO, {sender.get('segments')} datagrams per send" if method == "gso"
           else method)
    out.append("RECEIVE  a `message` listener that keeps each payload")
    out.append(f"         fed by the Python sender ({how}) at {rate(sender.get('pps'))} "
               "on the other CPU")
    recv = report["receive"]
    has_node = "receive_engine_vs_node" in ratios
    headers = ["peer", "received", "vs node" if has_node else "", "CPU/datagram", "CPU used",
               "lost (kernel drops)", "spread"]
    rows = []
    for peer, s in recv.items():
        name = PEER_NAMES.get(peer, peer)
        if "error" in s:
            rows.append([name, "failed", "", "", "", "", ""])
            continue
        if peer == "node":
            vs = "1.00" + sym.times
        else:
            vs = (_ratio((ratios.get(f"receive_{peer}_vs_node") or {}).get("rate"), sym)
                  if has_node else "")
        sent = s.get("sent") or 0
        lost = s.get("loss") or 0
        lost_txt = f"{si(lost)} ({pct(lost / sent if sent else None)})"
        rows.append([name, rate(s.get("pps")), vs,
                     f"{_us(s.get('cpu_us'))} {sym.mu}s", pct(s.get("cpu_share")), lost_txt,
                     _spread(s, sym)])
    if not has_node:
        headers.pop(2)
        rows = [r[:2] + r[3:] for r in rows]
    out.extend(table(headers, rows, right=set(range(1, len(headers)))))
    if "receive_engine_vs_c" in ratios:
        r = ratios["receive_engine_vs_c"]
        out.append(f"  engine / C ceiling: {_ratio(r.get('rate'), sym)} the rate, "
                   f"{_ratio(r.get('cpu_per_datagram'), sym)} the CPU per datagram")
    _limits(out, recv, sym)


def _send(out: list[str], report: dict[str, Any], ratios: dict[str, Any], sym: Symbols) -> None:
    out.append("")
    out.append("SEND  64 send() calls per event-loop turn")
    out.append("      to a draining sink (recvmmsg) on the other CPU")
    send = report["send"]
    has_node = any(f"send_{m}_engine_vs_node" in ratios for m in send)
    headers = ["peer", "socket", "sent", "vs node", "CPU/datagram", "CPU used",
               "sink got", "spread"]
    rows = []
    limited: dict[str, Any] = {}
    for mode, by_peer in send.items():
        for peer, s in by_peer.items():
            name = PEER_NAMES.get(peer, peer)
            limited[f"{name} {mode}"] = s
            if "error" in s:
                rows.append([name, mode, "failed", "", "", "", "", ""])
                continue
            if peer == "node":
                vs = "1.00" + sym.times
            else:
                vs = _ratio((ratios.get(f"send_{mode}_engine_vs_node") or {}).get("rate"), sym)
            sent = s.get("sent") or 0
            rows.append([name, mode, rate(s.get("pps")), vs,
                         f"{_us(s.get('cpu_us'))} {sym.mu}s", pct(s.get("cpu_share")),
                         pct((s.get("sink_received") or 0) / sent if sent else None),
                         _spread(s, sym)])
    if not has_node:
        headers.pop(3)
        rows = [r[:3] + r[4:] for r in rows]
    out.extend(table(headers, rows, right=set(range(2, len(headers)))))
    _limits(out, limited, sym)


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False) or [first]


def _us(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _limits(out: list[str], summaries: dict[str, Any], sym: Symbols) -> None:
    for name, s in summaries.items():
        label = PEER_NAMES.get(name, name)
        if "error" in s:
            out.append(f"  {label}: FAILED: {s['error']}")
            continue
        notes = s.get("limits") or []
        if notes:
            out.extend(_wrap(f"{label}: {'; '.join(notes)}", "  ", "      "))


KEY_KINDS = (
    ("open", "? open help"),
    ("close", "esc close help"),
    ("up", "up: log cursor"),
    ("down", "down: log cursor"),
    ("pageup", "page up"),
    ("pagedown", "page down"),
    ("pause", "space: pause"),
    ("resume", "space: resume"),
)


def _kind(k: dict[str, Any]) -> str:
    """p50 / p95 of one kind of key, with its count (and misses)."""
    text = f"{ms(k['p50_ms'])} / {ms(k['p95_ms'])} (n={k['n']}"
    return text + (f", {k['missed']} missed)" if k.get("missed") else ")")


def _tui(out: list[str], tui: dict[str, Any], cfg: dict[str, Any], sym: Symbols,
         ratios: dict[str, Any]) -> None:
    out.append("")
    out.append(f"TUI  the real app headless at 120x40, a socket bound on {cfg['host']}")
    out.append(f"     fed for {cfg['tui_seconds']:g} s by the Python sender on the other CPU")
    variants = [(k, tui[k]) for k in ("flood", "paced") if k in tui]
    headers = [""] + [("flood (unlimited)" if k == "flood" else
                       f"paced {si(v.get('rate_limit') or cfg['tui_rate'])}/s")
                      for k, v in variants]
    rows: list[list[str]] = []

    def row(label: str, fn: Any) -> None:
        cells = []
        for _, v in variants:
            if "error" in v:
                cells.append("failed")
                continue
            try:
                cells.append(fn(v))
            except (TypeError, KeyError, ZeroDivisionError):
                cells.append("-")
        rows.append([label, *cells])

    row("sent by the sender", lambda v: f"{si(v['sent'])} ({rate(v['sender_pps'])})")
    row("ingest (capture layer)", lambda v: rate(v["ingest_pps"]))
    vs_node = (ratios.get("tui_ingest_vs_node_receive") or {}).get("rate")
    if vs_node:
        row("  vs Node's bare receive rate", lambda v: _ratio(vs_node, sym) if v is tui.get("flood")
            else "")
    row("received", lambda v: si(v["received"]))
    row("kernel drops", lambda v: f"{si(v['kernel_drops'])} "
        f"({pct(v['kernel_drops'] / v['sent'] if v['sent'] else None)})")
    row("unaccounted (sent-recv-drops)", lambda v: si(v["unaccounted"]))
    row("rows in the live log", lambda v: si(v["rows"]))
    row("ring: kept / size / evicted",
        lambda v: f"{si(v['ring'])} / {si(v['ring_size'])} / {si(v['ring_evictions'])}")
    row("frames drawn", lambda v: f"{si(v['frames'])} ({v['fps']:.0f}/s)")
    row(f"key{sym.arrow}frame p50 / p95", lambda v: f"{ms(v['key_p50_ms'])} / "
        f"{ms(v['key_p95_ms'])} (n={v['key_samples']}"
        + (f", {v['key_missed']} missed" if v.get("key_missed") else "") + ")")
    for kind, label in KEY_KINDS:
        row(f"  {label} p50 / p95", lambda v, kind=kind: _kind(v["key_by_kind"][kind]))
    row(f"key{sym.arrow}frame idle p50 / p95",
        lambda v: f"{ms(v['key_idle_p50_ms'])} / {ms(v['key_idle_p95_ms'])}")
    for kind, label in KEY_KINDS:
        row(f"  {label} idle", lambda v, kind=kind: _kind(v["key_idle_by_kind"][kind]))
    row("CPU used / per datagram",
        lambda v: f"{pct(v['cpu_share'])} / {_us(v['cpu_us'])} {sym.mu}s")
    row("RSS before / after / peak",
        lambda v: f"{mib(v['rss_before'])} / {mib(v['rss_after'])} / {mib(v['rss_peak'])}")
    row("start-up to first frame", lambda v: ms(1000 * v["startup_s"]))
    out.extend(table(headers, rows, right=set(range(1, len(headers)))))
    pty_s = (tui.get("pty_startup") or {})
    if pty_s.get("startup_s") is not None:
        runs = ", ".join(ms(1000 * t) for t in pty_s.get("runs", []))
        out.append(f"  `python -m udpscope` on a 120x40 pty, start to first frame: "
                   f"{ms(1000 * pty_s['startup_s'])} (median of {runs})")
    elif pty_s.get("error"):
        out.append(f"  pty start-up: FAILED: {pty_s['error']}")
    out.append("  RSS before = the interpreter before importing Textual and the app; start-up in")
    out.append("  process = constructing the app to its first composed frame; key = each kind in turn")
    out.append("  (help open/close, then the log keys with the log focused), timed from the key event")
    out.append("  to the first frame showing the change; key p50/p95 is over every kind")
    for name, v in variants:
        if "error" in v:
            out.append(f"  {name}: FAILED: {v['error']}")
        elif v.get("unaccounted"):
            out.extend(_wrap(f"{name}: {si(v['unaccounted'])} datagrams unaccounted for (neither "
                             "received nor dropped by the kernel)", "  ", "    "))
