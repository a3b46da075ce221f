"""What `udpscope listen` prints: one line (or a hex dump) per event, in text, hex or jsonl.

Everything that came off the wire -- payloads, decoded summaries, addresses, finding texts that
quote them -- goes through udpscope.textsafe before it is printed, so no byte of a datagram can
drive the terminal. Stream summaries and findings come from udpscope.health, printed at close.
"""

from __future__ import annotations

import json
import time
from typing import Any

from udpscope.cli.common import Output, hostport
from udpscope.hexdump import hexdump_lines
from udpscope.textsafe import safe_text

__all__ = ["Formatter", "TEXT_LIMIT"]

TEXT_LIMIT = 2048  # payload bytes shown per line in text format (then "…(+N bytes)")
INFO_LIMIT = 300   # characters of a decoded summary


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Formatter:
    """One output line (or a few, for hex) per event, in the chosen format."""

    def __init__(self, fmt: str, out: Output) -> None:
        self.fmt = fmt
        self.out = out
        self._second = -1  # the whole second _hms shows: localtime+strftime once per second
        self._hms = ""

    def _clock(self, stamp: float) -> str:
        second = int(stamp)
        if second != self._second:
            self._second = second
            self._hms = time.strftime("%H:%M:%S", time.localtime(second))
        return f"{self._hms}.{int(stamp % 1 * 1e6):06d}"

    def emit_json(self, obj: dict[str, Any]) -> bool:
        return self.out.line(json.dumps(obj))

    def listening(self, info: Any) -> bool:
        if self.fmt == "jsonl":
            return self.emit_json({"event": "listening", "address": info.address,
                                   "family": info.family, "port": info.port})
        return self.out.line(f"listening on {hostport(info.address, info.port)} ({info.family})")

    def joined(self, group: str, source: str | None, iface: str | None) -> bool:
        if self.fmt == "jsonl":
            return True  # jsonl carries exactly the documented events
        text = f"joined {group}"
        if source:
            text += f" from {safe_text(source)}"
        if iface:
            text += f" on {safe_text(iface, limit=40)}"
        return self.out.line(text)

    def message(self, msg: bytes, rinfo: Any, now: float,
                decoded: tuple[str, str] | None = None) -> bool:
        """A datagram; `decoded` is (protocol, raw summary) with --decode.

        The time shown is the kernel's receive time of this datagram (SO_TIMESTAMPNS), not
        the time its batch was read, so a burst shows its real spacing.
        """
        info = None if decoded is None else safe_text(decoded[1], limit=INFO_LIMIT)
        if self.fmt == "jsonl":
            obj: dict[str, Any] = {
                "event": "message", "time": round(now, 6), "address": rinfo.address,
                "family": rinfo.family, "port": rinfo.port, "size": rinfo.size,
                "hex": msg.hex(), "text": safe_text(msg, limit=TEXT_LIMIT)}
            if decoded is not None:
                obj["proto"] = decoded[0]
                obj["info"] = info
            for key in ("destination", "interface", "ttl", "timestamp"):
                value = getattr(rinfo, key, None)
                if value is not None:
                    obj[key] = value
            return self.emit_json(obj)
        head = f"{self._clock(rinfo.timestamp or now)} from {hostport(rinfo.address, rinfo.port)}"
        if rinfo.destination:
            head += f" to {safe_text(rinfo.destination, limit=60)}"
        if rinfo.interface:
            head += f" on {safe_text(rinfo.interface, limit=40)}"
        if rinfo.ttl is not None:
            head += f" ttl {rinfo.ttl}"
        head += f" {_plural(rinfo.size, 'byte')}"
        if decoded is not None:
            head += f" [{decoded[0]}: {info}]"
        if self.fmt == "hex":
            if not self.out.line(head):
                return False
            return all(self.out.line("  " + row) for row in hexdump_lines(msg))
        if msg:
            head += ": " + safe_text(msg, limit=TEXT_LIMIT)
        return self.out.line(head)

    def sent(self, data: bytes, address: str, family: str, port: int, now: float) -> bool:
        """A reply the responder sent (shown like a datagram, marked as sent)."""
        if self.fmt == "jsonl":
            return self.emit_json({"event": "sent", "time": round(now, 6), "address": address,
                                   "family": family, "port": port, "size": len(data),
                                   "hex": data.hex()})
        head = f"{self._clock(now)} sent to {hostport(address, port)} {_plural(len(data), 'byte')}"
        if self.fmt == "hex":
            if not self.out.line(head):
                return False
            return all(self.out.line("  " + row) for row in hexdump_lines(data))
        if data:
            head += ": " + safe_text(data, limit=TEXT_LIMIT)
        return self.out.line(head)

    def stream(self, health: Any) -> bool:
        """One stream's summary (a udpscope.health.StreamHealth), at close."""
        if self.fmt == "jsonl":
            event = health.to_json()
            for key in ("source", "destination", "seq"):
                if event.get(key) is not None:
                    event[key] = safe_text(event[key], limit=120)
            if "lines" in event:
                event["lines"] = [{**ln, "source": safe_text(ln["source"], limit=120),
                                   "destination": safe_text(ln["destination"], limit=120)}
                                  for ln in event["lines"]]
            return self.emit_json(event)
        return self.out.line(stream_line(health))

    def finding(self, finding: Any) -> bool:
        """An mDNS/SSDP finding (text formats; jsonl carries them in the close event)."""
        if self.fmt == "jsonl":
            return True
        return self.out.line(f"{finding.severity} {finding.id}: "
                             f"{safe_text(finding.title, limit=200)}. "
                             f"{safe_text(finding.detail, limit=600)}")

    def error(self, code: str, message: str) -> bool:
        if self.fmt == "jsonl":
            return self.emit_json({"event": "error", "code": code, "message": message})
        return True  # text/hex: the error line goes to stderr

    def close(self, kernel_drops: int = 0, extra: dict[str, int] | None = None,
              findings: list[Any] | None = None) -> bool:
        """The close event: kernel drops, the responder's counts (`extra`), mDNS/SSDP findings
        (jsonl; text prints findings as lines of their own before it)."""
        if self.fmt == "jsonl":
            event: dict[str, Any] = {"event": "close"}
            if kernel_drops:
                event["kernel_drops"] = kernel_drops
            event.update(extra or {})
            if findings:
                event["findings"] = [
                    {k: safe_text(v, limit=600) for k, v in f.to_json().items()}
                    for f in findings]
            return self.emit_json(event)
        if extra:
            replies, dropped = extra.get("replies", 0), extra.get("replies_dropped", 0)
            return self.out.line(f"closed ({replies} repl{'y' if replies == 1 else 'ies'}, "
                                 f"{dropped} held back by --respond-limit)")
        return self.out.line("closed")


def stream_line(s: Any) -> str:
    """The text format's one line for a stream (a udpscope.health.StreamHealth)."""
    d = s.details
    who = safe_text(s.source, limit=120) if s.source is not None else (
        _plural(len(d.get("lines", ())), "line"))
    where = safe_text(s.destination, limit=120) if s.destination is not None else "?"
    label = f"stream {s.kind} {who} -> {where}"
    if s.kind == "rtp":
        label += f" ssrc 0x{d['ssrc']:08x} pt {d['pt']}"
    elif s.kind in ("seq", "arbitrated"):
        label += f" (seq {safe_text(d['seq'], limit=60)})"
    unit = "TS packet" if s.kind == "mpegts" else "packet"
    parts = [_plural(s.packets, unit), f"{s.lost} lost", _plural(s.duplicates, "duplicate")]
    if s.reordered is not None:
        parts.append(f"{s.reordered} reordered")
    if s.kind == "rtp":
        parts.append(f"jitter {d['jitter_ms']:.2f} ms")
        if d.get("carries_mpegts"):
            parts.append("carries MPEG-TS")
    elif s.kind == "mpegts":
        parts.append(_plural(d["cc_errors"], "CC error"))
        parts.append(_plural(d["pids"], "PID"))
        if d["pcr_pids"]:
            pcr = " ".join(f"0x{p:04x}" for p in d["pcr_pids"][:8])
            interval = d.get("pcr_interval_ms_max")
            parts.append(f"PCR on {pcr}" + (f" (max {interval:.1f} ms apart)"
                                             if interval is not None else ""))
        parts.append(f"PAT {'seen' if d['pat'] else 'missing'}, "
                     f"PMT {'seen' if d['pmt'] else 'missing'}")
        if d.get("bitrate_bps"):
            parts.append(f"{d['bitrate_bps'] / 1e6:.2f} Mbit/s")
    elif s.kind == "probe" and d.get("delay_ms_avg") is not None:
        parts.append(f"delay {d['delay_ms_avg']:.3f} ms avg")
    elif s.kind == "arbitrated":
        parts.extend(f"line {safe_text(ln['source'], limit=120)} lost {ln['lost']}"
                     for ln in d.get("lines", ())[:8])
    line = f"{label}: {', '.join(parts)}"
    if s.kernel_drops:
        line += (f"; the kernel dropped {s.kernel_drops} datagram"
                 f"{'s' if s.kernel_drops != 1 else ''} on this socket meanwhile: "
                 "loss may be this host's, not the network's")
    return line
