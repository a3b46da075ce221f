"""The TUI section of the report: the flood and paced runs side by side, one row per number.

Why rows and not columns per number: each run has two dozen figures (ingest, accounting, ring,
frames, every kind of key under load and idle, memory, start-up), and the two runs read best
next to each other.
"""

from __future__ import annotations

from typing import Any

from udpscope.benchkit.report import Symbols, mib, ms, pct, rate, ratio, si, table, us, wrap

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


def render_tui(tui: dict[str, Any], cfg: dict[str, Any], sym: Symbols,
               ratios: dict[str, Any]) -> list[str]:
    """The report's `tui` section as lines (`cfg` and `ratios` are the report's)."""
    out: list[str] = [""]
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
        row("  vs Node's bare receive rate", lambda v: ratio(vs_node, sym) if v is tui.get("flood")
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
        lambda v: f"{pct(v['cpu_share'])} / {us(v['cpu_us'])} {sym.mu}s")
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
            out.extend(wrap(f"{name}: {si(v['unaccounted'])} datagrams unaccounted for (neither "
                             "received nor dropped by the kernel)", "  ", "    "))
    return out
