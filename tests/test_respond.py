"""Responder rules: parsing (and the message a bad rule gets), matching, the first rule answering
once, the sliding-window rate limit, and `listen --respond` answering on loopback."""

from __future__ import annotations

import json
import signal
import socket

import pytest

from tests.cli.clitools import Proc, run_cli
from udpscope.respond import RateLimit, Responder, RuleError, parse_rule


@pytest.mark.parametrize(("rule", "payload", "matches", "reply"), [
    ("*=>echo", b"anything", True, b"anything"),
    ("*=>echo", b"", True, b""),
    ("text:ping=>text:pong", b"a ping!", True, b"pong"),
    ("text:ping=>text:pong", b"PING", False, None),
    ("prefix:de ad=>hex:be ef", b"\xde\xad\x00", True, b"\xbe\xef"),
    ("prefix:dead=>hex:beef", b"\x00\xde\xad", False, None),
    (r"re:^GET /\d+=>text:ok", b"GET /42 x", True, b"ok"),
    (r"re:\x00\xff=>text:bin", b"a\x00\xffb", True, b"bin"),
    (r"re:^a.b$=>echo", b"a\nb", True, b"a\nb"),  # DOTALL: a payload is bytes, not lines
    ("text:a=>b=>text:c", b"xa=>by", True, b"c"),  # '=>' inside the match text
    ("text:héllo=>text:wörld", "héllo".encode(), True, "wörld".encode()),
    ("text:x=>text:", b"x", True, b""),  # an empty reply is a datagram too
])
def test_rules_match_and_answer(rule: str, payload: bytes, matches: bool, reply: bytes | None) -> None:
    parsed = parse_rule(rule)
    assert parsed.matches(payload) is matches
    assert Responder([parsed]).reply_for(payload) == reply


@pytest.mark.parametrize(("rule", "reason"), [
    ("ping", "has no '=>'"),
    ("text:ping=>pong", "reply 'pong' is not one of echo, text:STR, hex:HEX"),
    ("foo:x=>echo", "match 'foo:x' is not one of *, text:STR, prefix:HEX, re:REGEX"),
    ("text:=>echo", "needs something after the colon"),
    ("prefix:zz=>echo", "match prefix:"),
    ("re:(=>echo", "bad regular expression"),
    ("*=>hex:abc", "reply hex:"),
    ("*=>text:" + "x" * 70000, "more than the 65507"),
])
def test_bad_rules_say_why(rule: str, reason: str) -> None:
    with pytest.raises(RuleError, match=reason.replace("(", r"\(").replace("*", r"\*")):
        parse_rule(rule)


def test_first_matching_rule_answers_once() -> None:
    r = Responder([parse_rule("text:a=>text:first"), parse_rule("*=>text:second")])
    assert r.reply_for(b"abc") == b"first"
    assert r.reply_for(b"xyz") == b"second"
    assert r.matched == 2


def test_rate_limit_is_a_sliding_one_second_window() -> None:
    now = [100.0]
    limit = RateLimit(3, clock=lambda: now[0])
    assert [limit.allow() for _ in range(5)] == [True, True, True, False, False]
    now[0] += 0.999
    assert not limit.allow()  # still inside the window of the first three
    now[0] += 0.002  # the first three are a second old: three more, not four
    assert [limit.allow() for _ in range(4)] == [True, True, True, False]
    r = Responder([parse_rule("*=>echo")], 2, clock=lambda: now[0])
    replies = [r.reply_for(b"x") for _ in range(10)]
    assert replies.count(b"x") == 2 and (r.matched, r.replies_dropped) == (10, 8)


def test_attach_sends_replies_through_the_given_sender() -> None:
    from udpscope.dgram import EventEmitter, RemoteInfo

    sock = EventEmitter()
    sent: list[tuple[bytes, int, str]] = []
    seen: list[tuple[bytes, int]] = []

    def send(data: bytes, port: int, address: str, done) -> None:
        sent.append((data, port, address))
        done(None, len(data))

    r = Responder([parse_rule("text:hi=>text:ho")])
    detach = r.attach(sock, send, on_sent=lambda data, rinfo, n: seen.append((data, n)))
    sock.emit("message", b"hi", RemoteInfo("127.0.0.1", "IPv4", 4242, 2))
    sock.emit("message", b"no", RemoteInfo("127.0.0.1", "IPv4", 4242, 2))
    detach()
    sock.emit("message", b"hi", RemoteInfo("127.0.0.1", "IPv4", 4242, 2))
    assert sent == [(b"ho", 4242, "127.0.0.1")] and seen == [(b"ho", 2)] and r.replies == 1


def test_listen_respond_answers_and_counts(tmp_path) -> None:
    with Proc(["listen", "127.0.0.1:0", "--format", "jsonl", "--respond", "text:ping=>text:pong",
               "--respond", "prefix:00=>hex:ff ee", "--respond-limit", "5",
               "--timeout", "30"]) as p, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        tx.settimeout(5)
        port = p.json()["port"]
        tx.sendto(b"ping", ("127.0.0.1", port))
        assert tx.recvfrom(100) == (b"pong", ("127.0.0.1", port))
        tx.sendto(b"\x00abc", ("127.0.0.1", port))
        assert tx.recv(100) == b"\xff\xee"
        tx.sendto(b"nothing", ("127.0.0.1", port))
        for _ in range(20):  # 3 replies are left in this second: 17 held back
            tx.sendto(b"ping", ("127.0.0.1", port))
        events = [p.json() for _ in range(3 + 2 + 20 + 3)]
        p.signal(signal.SIGTERM)
        assert p.wait() == 0
        close = json.loads(p.rest()[-1])
    sent = [e for e in events if e["event"] == "sent"]
    assert [bytes.fromhex(e["hex"]) for e in sent[:2]] == [b"pong", b"\xff\xee"]
    assert len({e["port"] for e in sent}) == 1  # every reply to the one sender
    assert close == {"event": "close", "replies": 5, "replies_dropped": 17}


@pytest.mark.parametrize(("args", "last"), [
    (["--respond", "ping"], "argument --respond: 'ping' has no '=>'"),
    (["--respond", "re:[=>echo"], "argument --respond: match re: bad regular expression"),
    (["--respond", "*=>nope"], "argument --respond: reply 'nope' is not one of"),
    (["--respond", "*=>echo", "--respond-limit", "0"], "argument --respond-limit:"),
    (["--respond-limit", "10"], "argument --respond-limit: needs --respond RULE"),
])
def test_bad_respond_is_exit_2_naming_the_argument(args: list[str], last: str) -> None:
    res = run_cli("listen", "127.0.0.1:0", "--timeout", "5", *args)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert last in err.strip().splitlines()[-1] and "Traceback" not in err
