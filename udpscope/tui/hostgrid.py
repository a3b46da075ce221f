"""What the Hosts view says, as plain text: a cell, a host's row, one pair's streams, the verdict.

Why plain: these are the words and symbols a person reads the run by, so they are tested without
an app. A cell's loss level is carried by a symbol as well as by its colour, so the grid reads in
monochrome and in the high-contrast theme: ✓ within the max loss, ! over it, ✗ nothing arrived,
· not measured (yet). Host names, addresses and error text come from the user, remote agents and
remote stderr: everything returned here has been through textsafe. No Textual or Rich here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from udpscope.textsafe import safe_text

if TYPE_CHECKING:
    from udpscope.agent.coordinator import HostView, MatrixSnapshot, PairDetail
    from udpscope.agent.grid import Cell, Path, SentStream

__all__ = ["LEVELS", "SYMBOL", "Labels", "abbreviate", "cell_level", "cell_text", "cut_labels",
           "fit_lines", "host_lines", "host_notes", "label_plan", "loss_text", "pair_lines",
           "path_level", "verdict"]

LEVELS = ("none", "ok", "over", "lost")  # worst last
SYMBOL = {"none": "·", "ok": "✓", "over": "!", "lost": "✗", "self": "—"}
LEGEND = "cell: multicast/unicast loss %   ✓ within max loss   ! over   ✗ all lost   · not yet"


def abbreviate(name: str, width: int) -> str:
    """``name`` made safe and cut to ``width`` columns, the cut marked with "…"."""
    text = safe_text(name, 400)
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…"


def _common_suffix(names: Sequence[str]) -> str:
    """The ".domain" every name ends with (each keeping something before it), or ""."""
    if len(names) < 2 or not all("." in n for n in names):
        return ""
    first = names[0]
    for start in (i for i, ch in enumerate(first) if ch == "."):
        suffix = first[start:]
        if all(n.endswith(suffix) and len(n) > len(suffix) for n in names):
            return suffix
    return ""


def _middle_cut(text: str, width: int) -> str:
    if len(text) <= width:
        return text
    tail = (width - 1) // 2
    return text[: width - 1 - tail] + "…" + (text[-tail:] if tail else "")


def cut_labels(names: Sequence[str], width: int) -> tuple[list[str], bool]:
    """Labels of at most ``width`` columns for ``names``, and whether they are told apart: a
    domain they all share is dropped, and a longer name is cut in the middle ("rack…de01"), since
    both ends of a host name carry meaning."""
    safe = [safe_text(n, 400) for n in names]
    suffix = _common_suffix(safe)
    shown = [_middle_cut(n[: len(n) - len(suffix)], width) for n in safe]
    return shown, len(set(shown)) == len(shown)


@dataclass(frozen=True)
class Labels:
    """What names the grid's columns, its rows and the host list's rows. When cut names would
    not be told apart, hosts are numbered (#1, #2...) as the text report of `udpscope matrix`
    does: the columns show the number, the rows and the list the number and the name."""

    columns: list[str]
    rows: list[str]
    listed: list[str]
    numbered: bool


def label_plan(names: Sequence[str], column_width: int, row_width: int, list_width: int) -> Labels:
    """Labels for ``names`` in columns of ``column_width``, ``row_width`` and ``list_width``."""
    columns, unique = cut_labels(names, column_width)
    rows, rows_unique = cut_labels(names, row_width)
    listed, _ = cut_labels(names, list_width)
    if unique and rows_unique:
        return Labels(columns, rows, listed, False)
    numbers = [f"#{i + 1}" for i in range(len(names))]
    width = max(len(n) for n in numbers) + 1
    named, _ = cut_labels(names, row_width - width)
    return Labels(numbers, [f"{n:<{width}}{label}" for n, label in zip(numbers, named, strict=True)],
                  listed, True)


def fit_lines(lines: Sequence[str], width: int, most: int) -> str:
    """``lines`` wrapped at ``width`` columns (continuations indented like their line), at most
    ``most`` lines, the last one ending with "…" when something was cut."""
    import textwrap

    out: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip(" ")))
        wrapped = textwrap.wrap(line, max(10, width), subsequent_indent=indent + "  ",
                                drop_whitespace=True) or [""]
        out.extend([indent + wrapped[0].lstrip(" "), *wrapped[1:]] if indent else wrapped)
    if len(out) > most:
        out = out[:most]
        out[-1] = out[-1][: max(0, width - 1)].rstrip() + "…"
    return "\n".join(out)


def path_level(path: Path, max_loss: float) -> str:
    """"none" (not measured), "ok" (within ``max_loss``), "over", or "lost" (nothing heard)."""
    if path.loss_pct is None:
        return "none"
    if path.loss_pct <= max_loss:
        return "ok"
    if path.loss_pct >= 100.0:
        return "lost"
    return "over"


def cell_level(cell: Cell, max_loss: float) -> str:
    """The worse of the cell's multicast and unicast levels."""
    levels = (path_level(cell.multicast, max_loss), path_level(cell.unicast, max_loss))
    return max(levels, key=LEVELS.index)


def loss_text(pct: float | None) -> str:
    """A loss percentage in at most three characters: 0, 0.1 (never rounded down to 0), 2.5,
    12 (rounded down: 99.6 is not 100), 100; "·" when not measured."""
    if pct is None:
        return "·"
    if pct <= 0:
        return "0"
    if pct < 10:
        text = f"{math.ceil(pct * 10) / 10:.1f}"
        return text.removesuffix(".0")
    return f"{math.floor(pct):d}"


def cell_text(cell: Cell, max_loss: float) -> tuple[str, str]:
    """The cell as shown (symbol, multicast / unicast loss %) and its level."""
    level = cell_level(cell, max_loss)
    if level == "none":
        return SYMBOL["none"], level
    return f"{SYMBOL[level]}{loss_text(cell.multicast.loss_pct)}/{loss_text(cell.unicast.loss_pct)}", level


# ---- hosts ---------------------------------------------------------------------------------------

def _flag_words(flags: Sequence[str]) -> str:
    from udpscope.agent.result import FLAG_TEXT

    if "multicast-only" in flags:
        ways = [w for w, f in (("in", "multicast-in"), ("out", "multicast-out")) if f in flags]
        return FLAG_TEXT["multicast-only"] + (f" ({' and '.join(ways)})" if ways else "")
    return "; ".join(FLAG_TEXT.get(f, f) for f in flags)


def host_notes(host: HostView) -> str:
    """The host list's last column: why it failed, what its losses point to, or what went wrong
    sending (safe text, one line)."""
    if host.error is not None:
        return safe_text(f"failed: {host.error}", 400)
    if host.loss is not None and host.loss.flags:
        return _flag_words(host.loss.flags)
    if host.send_errors:
        return safe_text(f"{host.send_errors} sends failed: {host.last_send_error or '?'}", 400)
    if host.kernel_drops:
        return f"{host.kernel_drops} dropped by the kernel (receive buffer full)"
    return ""


def host_lines(host: HostView, via: str) -> list[str]:
    """Everything about one host, for the detail under the grid (safe text)."""
    name = safe_text(host.name, 120)
    if host.error is not None:
        return [f"{name}: {host.state}", safe_text(host.error, 1000), f"via {safe_text(via, 300)}"]
    where = safe_text(host.address, 80) if host.address else "address not known yet"
    if host.address and not host.address_seen:
        where += " (its own route's; no receiver saw its multicast)"
    agent = f", udpscope {safe_text(host.agent_version, 20)}" if host.agent_version else ""
    lines = [f"{name}: {host.state}, {where}{agent}"]
    loss = host.loss
    if loss is not None:
        lines.append(f"multicast in {loss_text(loss.multicast_in_loss_pct)}% out "
                     f"{loss_text(loss.multicast_out_loss_pct)}%, unicast in "
                     f"{loss_text(loss.unicast_in_loss_pct)}% out "
                     f"{loss_text(loss.unicast_out_loss_pct)}%"
                     + (f": {_flag_words(loss.flags)}" if loss.flags else ""))
    extra = []
    if host.send_errors:
        extra.append(f"{host.send_errors} sends failed ({safe_text(host.last_send_error or '?', 200)})")
    if host.kernel_drops:
        extra.append(f"{host.kernel_drops} kernel drops")
    if host.late_ms_max is not None:
        extra.append(f"sender late by up to {host.late_ms_max:.1f} ms")
    extra.append(f"via {safe_text(via, 300)}")
    lines.append(", ".join(extra))
    return lines


# ---- one pair --------------------------------------------------------------------------------------

def _ms(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, int | float) else "?"


def _count(value: Any) -> str:
    """A whole number from an agent's report (anything else, which a broken or hostile agent
    could send, is shown as "?")."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "?"


def _stream_words(stream: Mapping[str, Any]) -> str:
    parts = []
    if stream.get("delay_ms_avg") is not None:
        parts.append(f"delay {_ms(stream.get('delay_ms_avg'))} ms ({_ms(stream.get('delay_ms_min'))}"
                     f"–{_ms(stream.get('delay_ms_max'))}), jitter {_ms(stream.get('jitter_ms'))}")
    low, high = stream.get("ttl_min"), stream.get("ttl_max")
    if low is not None:
        parts.append(f"TTL {_count(low)}" + (f"–{_count(high)}" if high not in (None, low) else ""))
    source = stream.get("source")
    if source:
        parts.append(f"from {safe_text(str(source), 60)}"
                     + (f" on {safe_text(str(stream['interface']), 30)}"
                        if stream.get("interface") else ""))
    if stream.get("other_sources"):
        parts.append(f"{_count(stream['other_sources'])} from another address")
    return ", ".join(parts)


def _path_words(path: Path, sent: SentStream | None, multicast: bool) -> str:
    if path.sent is None:
        return "not sent yet"
    if path.received is None:
        return f"sent {path.sent}; the receiver is not reporting"
    words = f"sent {path.sent}, heard {path.received}, lost {path.lost} ({loss_text(path.loss_pct)}%)"
    if multicast and path.warmup_lost:
        words += f" + {path.warmup_lost} before the join settled"
    words += f", {path.duplicates} dup, {path.reordered} reordered"
    if sent is not None and sent.errors:
        words += f", {sent.errors} send errors"
    return words


def pair_lines(detail: PairDetail | None, cell: Cell | None) -> list[str]:
    """One cell's streams in words: what was sent, heard and lost each way, delay, TTL, source."""
    if cell is None:
        return ["no run yet: the cells fill in once s starts one"]
    lines = [f"{safe_text(cell.sender, 60)} → {safe_text(cell.receiver, 60)}"]
    for kind, path, multicast in (("multicast", cell.multicast, True),
                                  ("unicast", cell.unicast, False)):
        sent = stream = None
        if detail is not None:
            sent = detail.multicast_sent if multicast else detail.unicast_sent
            stream = detail.multicast_stream if multicast else detail.unicast_stream
        lines.append(f" {kind}: {_path_words(path, sent, multicast)}")
        if stream:
            lines.append(f"   {_stream_words(stream)}")
    return lines


# ---- the verdict -----------------------------------------------------------------------------------

def verdict(snap: MatrixSnapshot, max_loss: float) -> tuple[bool | None, str]:
    """(ok, the verdict in words) once a run is over; (None, "") while it goes on."""
    if snap.ok is None:
        return None, ""
    if snap.ok:
        return True, f"✓ OK: every host heard every other, within max loss {max_loss:g}%"
    reasons = []
    for host in snap.hosts:
        if host.error is None and host.loss is not None and host.loss.flags:
            reasons.append(f"{safe_text(host.name, 40)}: {_flag_words(host.loss.flags)}")
    bad = sum(path_level(c.multicast, max_loss) in ("over", "lost")
              or path_level(c.unicast, max_loss) in ("over", "lost") for c in snap.cells)
    if bad:
        reasons.append(f"{bad} cell{'s' if bad != 1 else ''} over max loss {max_loss:g}%")
    failed = [safe_text(h.name, 40) for h in snap.hosts if h.error is not None]
    if failed:
        reasons.append(f"{len(failed)} host{'s' if len(failed) != 1 else ''} failed "
                       f"({', '.join(failed[:4])}{', …' if len(failed) > 4 else ''})")
    if snap.interrupted:
        reasons.append("stopped before the end")
    if snap.timed_out:
        reasons.append("timed out")
    unmeasured = sum(c.multicast.loss_pct is None or c.unicast.loss_pct is None for c in snap.cells)
    if unmeasured and not failed:
        reasons.append(f"{unmeasured} cells not measured")
    if len(snap.hosts) < 2:
        reasons.append("fewer than two hosts")
    return False, "✗ NOT OK: " + ("; ".join(reasons) if reasons else "no result")
