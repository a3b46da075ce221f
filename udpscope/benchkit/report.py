"""The human-readable report: aligned tables with units, the limits stated beside the numbers.

Why a hand-rolled table: the bench must print the same thing in a pipe, a CI log and a terminal,
without pulling Textual or Rich into a headless command. Numbers are rounded to what the noise
allows (3 significant digits); the JSON output keeps full precision.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from udpscope.benchkit.scenario import Scenario

WIDTH = 100


class Symbols:
    """Unicode where the output can carry it, ASCII otherwise."""

    def __init__(self, unicode: bool) -> None:
        self.mu = "µ" if unicode else "u"
        self.times = "×" if unicode else "x"
        self.arrow = "→" if unicode else "->"
        self.dot = "·" if unicode else "-"
        self.pm = "±" if unicode else "+-"


def symbols() -> Symbols:
    """Unicode symbols if stdout can encode them, else ASCII."""
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


def render(report: dict[str, Any], scenarios: Sequence[Scenario]) -> str:
    """The whole report as text: the header, each scenario's table in order, notes, total."""
    sym = symbols()
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
    for scenario in scenarios:
        out.extend(scenario.render(report, sym))
    notes = report.get("notes") or []
    if notes:
        out.append("")
        out.append("notes:")
        for n in notes:
            out.extend(wrap(n, "  - ", "    "))
    out.append("")
    out.extend(wrap(f"total {report.get('elapsed_s', 0):.1f} s. Shared machines are noisy: "
                    "trust the ratios (same run, interleaved) over the absolute rates.", "", ""))
    return "\n".join(out)


def ratio(value: float | None, sym: Symbols) -> str:
    """A ratio as '2.50x' (or '-')."""
    return "-" if value is None else f"{value:.2f}{sym.times}"


def spread_text(s: dict[str, Any], sym: Symbols) -> str:
    """A summary's spread as '+-12%' (half the range over the median), or '-'."""
    v = s.get("spread")
    return "-" if v is None else f"{sym.pm}{50 * v:.0f}%"


def wrap(text: str, first: str, rest: str) -> list[str]:
    """`text` wrapped to the report's width, with these indents."""
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False) or [first]


def us(x: float | None) -> str:
    """Microseconds with two decimals (or '-')."""
    return "-" if x is None else f"{x:.2f}"


def limit_lines(summaries: dict[str, Any]) -> list[str]:
    """Under a table: for each labelled summary, its failure or what limited its rate."""
    out: list[str] = []
    for label, s in summaries.items():
        if "error" in s:
            out.append(f"  {label}: FAILED: {s['error']}")
            continue
        notes = s.get("limits") or []
        if notes:
            out.extend(wrap(f"{label}: {'; '.join(notes)}", "  ", "      "))
    return out
