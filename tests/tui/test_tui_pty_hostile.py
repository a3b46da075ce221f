"""The real app on a pseudo-terminal under hostile traffic: no payload byte drives the terminal.

`python -m udpscope --bind 127.0.0.1:PORT` runs on a pty exactly as a user runs it. Every payload
of the shared hostile corpus, a maximum-size datagram and a set of marked escape payloads arrive
on its socket. The bytes the app wrote to the terminal are then checked three ways:

- the marked payloads' control sequences never appear raw (each carries a unique marker right
  after the escape introducer, so Textual's own sequences cannot be mistaken for them), while
  their escaped, visible form does appear: the rows really were drawn;
- everything else that starts with ESC is one of the few sequence shapes Textual writes itself;
- the text between sequences is valid UTF-8 without control, format or line-separator characters.

The app must count every datagram (the rx column of its socket), still answer a key, and exit 0
on ctrl+q.
"""

from __future__ import annotations

import re
import socket
import unicodedata

import pytest

from tests.fixtures.hostile import HOSTILE
from tests.tui.pty_app import (
    CSI,
    TEXTUAL_CSI,
    TEXTUAL_OSC,
    PtyApp,
    strip_csi,
)

ESC = b"\x1b"
BEL = b"\x07"
ST = ESC + b"\\"

# (payload, raw bytes that must never reach the terminal, visible escaped form that must).
MARKED: list[tuple[bytes, bytes, str]] = [
    (ESC + b"]0;PWN-T" + BEL, ESC + b"]0;PWN-T", r"\e]0;PWN-T"),
    (ESC + b"]2;PWN-2" + ST, ESC + b"]2;PWN-2", r"\e]2;PWN-2"),
    (ESC + b"]52;c;UFdORUQ=" + BEL, ESC + b"]52;c;UFdORUQ", r"\e]52;c;UFdORUQ="),
    (ESC + b"[6nDSR-M", ESC + b"[6n", r"\e[6nDSR-M"),
    (ESC + b"P1$rDCS-M" + ST, ESC + b"P", r"\eP1$rDCS-M"),
    (ESC + b"cRIS-M", ESC + b"c", r"\ecRIS-M"),
    (ESC + b"[?1000lMOUSE-M", ESC + b"[?1000lMOUSE-M", r"\e[?1000lMOUSE-M"),
    (ESC + b"[31mSGR-M", ESC + b"[31mSGR-M", r"\e[31mSGR-M"),
    ("\u009b6nC1-M".encode(), b"\xc2\x9b", r"\u009b6nC1-M"),
    ("NEL-M\u0085x".encode(), b"\xc2\x85", r"NEL-M\u0085x"),
    (b"\x9b6nRAW-M", b"\x9b6nRAW-M", r"\x9b6nRAW-M"),
    ("RLO-M\u202eabc".encode(), b"\xe2\x80\xae", r"RLO-M\u202eabc"),
    (b"NUL-M\x00x", b"\x00", r"NUL-M\x00x"),
    (b"[@click=app.quit]CLICK-M[/]", b"", "[@click=app.quit]CLICK-M[/]"),
]

# Raw sequences from the corpus that Textual never writes itself.
CORPUS_FORBIDDEN = [
    ESC + b"]0;pwned",
    ESC + b"]52;c;cm0g",
    ESC + b"]8;;https",
    ESC + b"[6n",
    ESC + b"[2J",
    ESC + b"[31mred",
    ESC + b"P1$r",
    ESC + b"c",
    "\u009d0;pwned".encode(),
    b"\x00",
]

FIRST_FRAME_TIMEOUT = 30.0
PROCESS_TIMEOUT = 30.0


def _unexpected_sequences(raw: bytes) -> list[bytes]:
    """Escape sequences in `raw` that are not of a shape Textual writes."""
    bad = [m.group() for m in CSI.finditer(raw) if not TEXTUAL_CSI.match(m.group())]
    rest = TEXTUAL_OSC.sub(b"", CSI.sub(b"", raw))
    bad += [rest[i : i + 12] for i in range(len(rest)) if rest[i : i + 1] == ESC]
    return bad


def _bad_characters(text: str) -> list[str]:
    """Characters a terminal acts on or that reorder/hide text, other than line ends."""
    return sorted(
        {
            f"U+{ord(ch):04X}"
            for ch in text
            if ch not in "\r\n" and unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        }
    )


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"], ids=["udp4", "udp6"])
def test_real_app_on_a_pty_shows_hostile_payloads_inert(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except OSError as exc:
        pytest.skip(f"no {host} loopback here: {exc}")
    shown = f"[{host}]" if ":" in host else host
    app = PtyApp(["--bind", f"{shown}:0", "--theme", "udpscope-dark"])
    app.start()
    try:
        # First frame: the socket's listening row is on screen, with the port it got.
        port = app.bound_port(host, FIRST_FRAME_TIMEOUT)

        payloads = [p for _, p in HOSTILE]
        payloads.append(b"\x1b" * 65507)  # maximum size, every byte an escape introducer
        payloads += [p for p, _, _ in MARKED]
        payloads.append(b"MARKER-END")
        with socket.socket(family, socket.SOCK_DGRAM) as tx:
            for payload in payloads:
                tx.sendto(payload, (host, port))

        # Processed: the last datagram's row is drawn and the socket's rx counter counts all.
        app.wait_text("MARKER-END", PROCESS_TIMEOUT)
        counted = re.compile(rb"\b%d / [0-9.]+(?:[KMG]i)?B" % len(payloads))
        app.wait_for(
            lambda out: counted.search(strip_csi(out)) is not None,
            PROCESS_TIMEOUT,
            f"rx count {len(payloads)} in the sockets table",
        )

        # Still alive: F1 opens the help screen (Textual maps ESC O P to f1).
        mark = len(app.snapshot())
        app.write(b"\x1bOP")
        app.wait_text("Panes and views", 15.0, after=mark)

        app.write(b"\x11")  # ctrl+q
        rc = app.wait_exit(15.0)
    finally:
        app.close()

    raw = app.snapshot()
    assert rc == 0, strip_csi(raw[-2000:])
    text = raw.decode("utf-8")  # strict: a raw C1 byte or broken UTF-8 would fail here
    visible = strip_csi(raw).decode("utf-8")

    for payload, forbidden, shown in MARKED:
        if forbidden:
            assert forbidden not in raw, f"payload {payload!r} reached the terminal raw"
        assert shown in visible, f"escaped form {shown!r} of {payload!r} never drawn"
    for forbidden in CORPUS_FORBIDDEN:
        assert forbidden not in raw, f"corpus sequence {forbidden!r} reached the terminal raw"
    assert "Traceback" not in visible

    assert _unexpected_sequences(raw) == []
    between = TEXTUAL_OSC.sub(b"", CSI.sub(b"", raw)).decode("utf-8")
    assert _bad_characters(between) == [], "control/format characters written to the terminal"
    assert not re.search("[\u0080-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]", text)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        (b"\x1b[0m\x1b[38;5;188;48;5;23mx\x1b[3;7H\x1b[?1000l\x1b[?2026$p\x1b[>1u\x1b[<u", True),
        (b"\x1b]22;default\x07", True),
        (b"\x1b[2J", False),
        (b"\x1b[6n", False),
        (b"\x1b]0;x\x07", False),
        (b"\x1bPq\x1b\\", False),
        (b"\x1bc", False),
    ],
)
def test_sequence_whitelist_tells_textual_from_payloads(raw: bytes, ok: bool) -> None:
    """The checker itself: Textual's shapes pass, payload shapes are caught."""
    assert (_unexpected_sequences(raw) == []) is ok
