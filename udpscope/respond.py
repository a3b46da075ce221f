"""Responders: answer matching datagrams from the socket that received them, like a device would.

Simulating the device at the other end (a discovery responder, a sensor answering a poll) is a
reason people keep another tool around. A rule is ``MATCH=>REPLY``:

    MATCH   *            any datagram
            text:STR     the payload contains STR (UTF-8)
            prefix:HEX   the payload starts with these bytes
            re:REGEX     a bytes regular expression found anywhere in the payload
    REPLY   echo         the payload itself
            text:STR     STR as UTF-8
            hex:HEX      these bytes

The first matching rule answers, once per datagram, to the sender's address and port. Replies
are limited to ``limit`` per second over any one-second window (a sliding window, so a flood can
never draw more than that); the ones the limit held back are counted, never queued.

No screens here: the CLI (`listen --respond`) and the TUI attach the same `Responder` to a
`dgram` socket and read its counters.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from udpscope.payload import MAX_UDP4, PayloadError, parse_payload
from udpscope.textsafe import safe_text

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "Responder", "Rule", "RuleError", "parse_rule"]

DEFAULT_LIMIT = 1000
MAX_LIMIT = 1_000_000
ARROW = "=>"
_MATCH_KINDS = ("*", "text:", "prefix:", "re:")
_REPLY_KINDS = ("echo", "text:", "hex:")


class RuleError(ValueError):
    """A rule that cannot be parsed; ``str`` is a short reason that quotes the rule safely."""


@dataclass(frozen=True)
class Rule:
    """One parsed rule. ``text`` is the rule as written (what a workspace saves)."""

    text: str
    match_kind: str  # "any", "text", "prefix", "re"
    needle: bytes
    reply_kind: str  # "echo", "text", "hex"
    reply: bytes
    pattern: re.Pattern[bytes] | None = None

    def matches(self, payload: bytes) -> bool:
        kind = self.match_kind
        if kind == "any":
            return True
        if kind == "text":
            return self.needle in payload
        if kind == "prefix":
            return payload.startswith(self.needle)
        return self.pattern is not None and self.pattern.search(payload) is not None

    def answer(self, payload: bytes) -> bytes:
        return payload if self.reply_kind == "echo" else self.reply


def _show(text: str, limit: int = 60) -> str:
    return safe_text(text, limit=limit)


def _parse_match(text: str) -> tuple[str, bytes, re.Pattern[bytes] | None]:
    if text == "*":
        return "any", b"", None
    kind, sep, value = text.partition(":")
    if not sep or kind not in ("text", "prefix", "re"):
        raise RuleError(f"match '{_show(text)}' is not one of *, text:STR, prefix:HEX, re:REGEX")
    if not value:
        raise RuleError(f"match '{kind}:' needs something after the colon")
    if kind == "text":
        return "text", value.encode("utf-8", "surrogateescape"), None
    if kind == "prefix":
        try:
            return "prefix", parse_payload(value, "hex"), None
        except PayloadError as e:
            raise RuleError(f"match prefix: {e.detail}") from None
    try:
        pattern = re.compile(value.encode("utf-8", "surrogateescape"), re.DOTALL)
    except re.error as e:
        raise RuleError(f"match re: bad regular expression: {e}") from None
    return "re", b"", pattern


def _parse_reply(text: str) -> tuple[str, bytes]:
    if text == "echo":
        return "echo", b""
    kind, sep, value = text.partition(":")
    if not sep or kind not in ("text", "hex"):
        raise RuleError(f"reply '{_show(text)}' is not one of echo, text:STR, hex:HEX")
    try:
        data = parse_payload(value, kind, max_size=MAX_UDP4)
    except PayloadError as e:
        raise RuleError(f"reply {kind}: {e.detail}") from None
    return kind, data


def parse_rule(text: str) -> Rule:
    """Parse ``MATCH=>REPLY``. Raises RuleError with a short reason.

    The rule is split at the first ``=>`` whose right side reads as a reply, so a match text
    may itself contain ``=>`` (``text:a=>b=>echo``).
    """
    if not isinstance(text, str):
        raise RuleError(f"a rule is text, not {type(text).__name__}")
    if ARROW not in text:
        raise RuleError(f"'{_show(text)}' has no '=>' (the form is MATCH=>REPLY, e.g. *=>echo)")
    first_error: RuleError | None = None
    start = 0
    while (at := text.find(ARROW, start)) >= 0:
        start = at + 1
        left, right = text[:at], text[at + len(ARROW):]
        if not right.startswith(_REPLY_KINDS):
            continue
        try:
            reply_kind, reply = _parse_reply(right)
            match_kind, needle, pattern = _parse_match(left)
        except RuleError as e:
            first_error = first_error or e
            continue
        return Rule(text, match_kind, needle, reply_kind, reply, pattern)
    if first_error is not None:
        raise first_error
    reply_text = text.rsplit(ARROW, 1)[1]
    _parse_reply(reply_text)  # raises the precise reason
    raise RuleError(f"'{_show(text)}' is not MATCH=>REPLY")  # pragma: no cover - raised above


class RateLimit:
    """At most ``limit`` events in any one-second window (a sliding window of send times)."""

    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        self.limit = limit
        self.clock = clock
        self._times: deque[float] = deque(maxlen=limit)

    def allow(self) -> bool:
        now = self.clock()
        times = self._times
        if len(times) == self.limit and now - times[0] < 1.0:
            return False
        times.append(now)
        return True


Sender = Callable[[bytes, int, str, Callable[[BaseException | None, int | None], None]], Any]


class Responder:
    """Rules plus a rate limit, with counters a view can read at any time.

    Counters: ``matched`` (datagrams a rule matched), ``replies`` (replies the kernel took),
    ``replies_dropped`` (held back by the limit), ``reply_errors`` (sends that failed; the last
    error is ``last_error``).
    """

    def __init__(self, rules: Iterable[Rule], limit: int = DEFAULT_LIMIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = list(rules)
        self.limit = RateLimit(limit, clock)
        self.matched = 0
        self.replies = 0
        self.replies_dropped = 0
        self.reply_errors = 0
        self.last_error: BaseException | None = None

    @classmethod
    def from_texts(cls, texts: Iterable[str], limit: int = DEFAULT_LIMIT) -> Responder:
        """Parse each rule (RuleError names the first bad one)."""
        return cls([parse_rule(t) for t in texts], limit)

    @property
    def rule_texts(self) -> list[str]:
        return [rule.text for rule in self.rules]

    def reply_for(self, payload: bytes) -> bytes | None:
        """The reply to send for ``payload`` now, or None (no rule matched, or rate-limited)."""
        for rule in self.rules:
            if rule.matches(payload):
                self.matched += 1
                if not self.limit.allow():
                    self.replies_dropped += 1
                    return None
                return rule.answer(payload)
        return None

    def attach(self, sock: Any, send: Sender | None = None,
               on_sent: Callable[[bytes, Any, int], None] | None = None) -> Callable[[], None]:
        """Answer ``sock``'s datagrams from now on; returns a function that detaches.

        ``send(data, port, address, callback)`` defaults to ``sock.send`` (the TUI passes its
        capture layer's send so replies are logged); ``on_sent(data, rinfo, nbytes)`` is called
        for each reply the kernel took (``rinfo``: the datagram it answered).
        """
        do_send: Sender = send if send is not None else sock.send

        def on_message(msg: bytes, rinfo: Any) -> None:
            reply = self.reply_for(msg)
            if reply is None:
                return

            def done(err: BaseException | None, nbytes: int | None = None) -> None:
                if err is not None:
                    self.reply_errors += 1
                    self.last_error = err
                    return
                self.replies += 1
                if on_sent is not None:
                    on_sent(reply, rinfo, nbytes or 0)

            try:
                do_send(reply, rinfo.port, rinfo.address, done)
            except Exception as err:  # the socket closed under us
                done(err)

        sock.on("message", on_message)

        def detach() -> None:
            with contextlib.suppress(Exception):
                sock.off("message", on_message)

        return detach
