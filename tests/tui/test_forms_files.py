"""The plain parts behind the TUI's files, responders and saved payloads, without an app: the
responder dialog's rule fields, the saved-payload form, the checks before a save, the atomic
replace, and the log snapshot written as pcapng (read back by capinfos, tshark and udpscope)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.files.tools import capinfos, tshark_fields
from udpscope import dgram
from udpscope.files.capture_file import read_capture
from udpscope.records import Record
from udpscope.respond import Responder
from udpscope.ring import Ring, RxChunk
from udpscope.tui.fileforms import (
    RuleFields,
    compose_fields_of,
    parse_respond_limit,
    parse_rule_fields,
    parse_saved_payload,
)
from udpscope.tui.forms import ComposeFields, FormError
from udpscope.tui.log_export import records_of, take_snapshot, write_snapshot
from udpscope.tui.regular_file import FileReadError, check_output_path, replace_file
from udpscope.workspace import dump_workspace, parse_workspace
from udpscope.workspace.schema import Workspace

# ---- responder rules --------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "text", "payload", "reply"), [
    (RuleFields(), "*=>echo", b"abc", b"abc"),
    (RuleFields("text", "ping", "text", "pong"), "text:ping=>text:pong", b"a ping", b"pong"),
    (RuleFields("prefix", "01 02", "hex", "ff 00"), "prefix:01 02=>hex:ff 00", b"\1\2x", b"\xff\0"),
    (RuleFields("re", rb"^GET \d+".decode(), "text", "ok"), r"re:^GET \d+=>text:ok", b"GET 42", b"ok"),
    (RuleFields("text", "a=>b", "echo", "ignored"), "text:a=>b=>echo", b"xa=>b", b"xa=>b"),
])
def test_rule_fields_become_the_rule_the_cli_takes(fields: RuleFields, text: str, payload: bytes,
                                                   reply: bytes) -> None:
    assert parse_rule_fields(fields) == text
    responder = Responder.from_texts([text])
    assert responder.reply_for(payload) == reply


def test_rule_fields_that_do_not_match_leave_the_datagram_alone() -> None:
    responder = Responder.from_texts([parse_rule_fields(RuleFields("prefix", "01", "echo"))])
    assert responder.reply_for(b"\2\1") is None


@pytest.mark.parametrize(("fields", "boxes", "words"), [
    (RuleFields("text", "", "echo"), {"match"}, "after the colon"),
    (RuleFields("prefix", "zz", "echo"), {"match"}, "bad character"),
    (RuleFields("re", "(", "echo"), {"match"}, "regular expression"),
    (RuleFields("any", "", "hex", "abc"), {"reply"}, "odd number"),
    (RuleFields("prefix", "q", "hex", "1"), {"match", "reply"}, "bad character"),
    (RuleFields("text", "a=>text:b", "echo"), {"match"}, "cannot be part of the match"),
    (RuleFields("nope", "", "echo"), {"match"}, "choose one of"),
    (RuleFields("any", "", "json"), {"reply"}, "choose one of"),
])
def test_bad_rule_fields_are_answered_under_their_field(fields: RuleFields, boxes: set[str],
                                                        words: str) -> None:
    with pytest.raises(FormError) as info:
        parse_rule_fields(fields)
    assert set(info.value.errors) == boxes
    assert words in str(info.value)


def test_the_reply_limit_is_a_rate_in_range() -> None:
    assert parse_respond_limit(" 250 ") == 250
    for bad in ("0", "-1", "1000001", "ten", ""):
        with pytest.raises(FormError) as info:
            parse_respond_limit(bad)
        assert set(info.value.errors) == {"limit"}


# ---- saved payloads ---------------------------------------------------------------------------


def test_a_saved_payload_keeps_its_bytes_and_destination_through_a_workspace(tmp_path: Path) -> None:
    frame = tmp_path / "frame.bin"
    frame.write_bytes(b"\0\1binary")
    specs = [
        parse_saved_payload("hello", ComposeFields("127.0.0.1", "5000", "text", "grüße → \\n"), "udp4"),
        parse_saved_payload("b64", ComposeFields("", "", "base64", "aGkK"), "udp4"),
        parse_saved_payload("hex", ComposeFields("::1", "7", "hex", "68 69"), "udp6"),
        parse_saved_payload("file", ComposeFields(kind="file", payload=str(frame)), None),
    ]
    assert [s.data for s in specs] == ["grüße → \\n".encode(), b"hi\n", b"hi", b"\0\1binary"]
    assert specs[1].kind == "hex" and specs[0].to == ("127.0.0.1", 5000) and specs[1].to is None
    text = dump_workspace(Workspace(payloads=specs), tmp_path)
    back = parse_workspace(text, "ws.toml", tmp_path).payloads
    assert [(p.name, p.data, p.to) for p in back] == [(s.name, s.data, s.to) for s in specs]


@pytest.mark.parametrize(("name", "fields", "boxes"), [
    ("", ComposeFields(payload="x"), {"name"}),
    ("a\x1bb", ComposeFields(payload="x"), {"name"}),
    ("x" * 61, ComposeFields(payload="x"), {"name"}),
    ("p", ComposeFields(host="", port="5000", payload="x"), {"dest"}),
    ("p", ComposeFields(host="127.0.0.1", port="0", payload="x"), {"dest"}),
    ("p", ComposeFields(kind="hex", payload="zz"), {"payload"}),
    ("", ComposeFields(host="1.2.3.4", port="x", kind="hex", payload="1"), {"name", "dest", "payload"}),
])
def test_a_bad_saved_payload_is_answered_per_field(name: str, fields: ComposeFields,
                                                   boxes: set[str]) -> None:
    with pytest.raises(FormError) as info:
        parse_saved_payload(name, fields, "udp4")
    assert set(info.value.errors) == boxes


def test_the_saved_payload_limit_follows_the_socket() -> None:
    big = ComposeFields(payload="x" * 65510)
    assert len(parse_saved_payload("big", big, "udp6").data) == 65510
    with pytest.raises(FormError) as info:
        parse_saved_payload("big", big, "udp4")
    assert "65507" in info.value.errors["payload"]


def test_picking_a_saved_payload_fills_the_composer() -> None:
    current = ComposeFields("10.0.0.1", "9", "text", "old", count="3", rate="5")
    with_dest = parse_saved_payload("p", ComposeFields("::1", "5000", "hex", "6869"), "udp6")
    assert compose_fields_of(with_dest, current) == ComposeFields("::1", "5000", "hex", "6869", "3", "5")
    without = parse_saved_payload("q", ComposeFields(kind="text", payload="new"), "udp4")
    assert compose_fields_of(without, current) == ComposeFields("10.0.0.1", "9", "text", "new", "3", "5")


# ---- where a save may go ----------------------------------------------------------------------


def test_a_new_file_and_an_existing_one_are_told_apart(tmp_path: Path) -> None:
    new = check_output_path(str(tmp_path / "new.pcapng"))
    assert not new.exists and new.path == str(tmp_path / "new.pcapng")
    (tmp_path / "old.pcapng").write_bytes(b"12345")
    old = check_output_path(f"  {tmp_path / 'old.pcapng'}  ")
    assert old.exists and old.size == 5


def test_paths_that_must_not_be_written_to_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    cases = {"": "no file name", str(tmp_path): "is a folder", str(fifo): "a FIFO",
             "/dev/null": "character device", str(tmp_path / "nope" / "x.pcapng"): "does not exist",
             "a\0b": "cannot use"}
    for text, words in cases.items():
        with pytest.raises(FileReadError) as info:
            check_output_path(text)
        assert words in str(info.value), text
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # only looked at


def test_a_failed_replace_leaves_the_old_file_whole(tmp_path: Path) -> None:
    target = tmp_path / "keep.bin"
    target.write_bytes(b"old")

    def fail(tmp: str) -> None:
        Path(tmp).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        replace_file(str(target), fail)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["keep.bin"]
    assert replace_file(str(target), lambda tmp: Path(tmp).write_bytes(b"new")) == 3
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["keep.bin"]
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o666 & ~umask  # as a new file would be


# ---- the log as pcapng ------------------------------------------------------------------------

T0 = 1_764_000_000.0


def log_ring() -> Ring:
    """Two received datagrams (one multicast, one batch), a sent one, an event, a failed send."""
    rinfos = (dgram.RemoteInfo("192.0.2.7", "IPv4", 4000, 5, "239.1.2.3", "eth9", 7, T0),
              dgram.RemoteInfo("192.0.2.8", "IPv4", 4001, 3, "127.0.0.1", "lo", 64, T0 + 0.5))
    ring = Ring(100)
    ring.append(Record(1, T0 - 1, "event", 1, event="listening", text="0.0.0.0:5004"))
    ring.add_chunk(RxChunk(2, T0, 1, dgram.Batch((b"multi", b"uni"), rinfos), 0, 2))
    ring.append(Record(4, T0 + 1, "tx", 1, address="192.0.2.8", port=4001, size=4, payload=b"pong"))
    ring.append(Record(5, T0 + 2, "tx", 1, address="192.0.2.9", port=9, size=1, payload=b"x",
                       error="EHOSTUNREACH"))
    return ring


def test_the_log_snapshot_is_written_for_wireshark(tmp_path: Path) -> None:
    ring = log_ring()
    snapshot = take_snapshot(ring, 0, {1: ("0.0.0.0", 5004)})
    assert snapshot.rows == 5
    ring.clear()  # the live ring moves on; the snapshot keeps what was there
    path = str(tmp_path / "log.pcapng")
    result = write_snapshot(snapshot, path)
    assert (result.written, result.skipped) == (3, 2)
    info = capinfos(path)
    assert info["Number of packets"] == "3" and info["File type"] == "pcapng"
    rows = tshark_fields(path, "ip.src", "ip.dst", "udp.srcport", "udp.dstport", "udp.payload",
                         "frame.interface_name", "frame.comment", "frame.time_epoch")
    assert [r[:7] for r in rows] == [
        ["192.0.2.7", "239.1.2.3", "4000", "5004", b"multi".hex(), "eth9", ""],
        ["192.0.2.8", "127.0.0.1", "4001", "5004", b"uni".hex(), "lo", ""],
        ["0.0.0.0", "192.0.2.8", "5004", "4001", b"pong".hex(), "unknown", "sent by udpscope"],
    ]
    assert [float(r[7]) for r in rows] == pytest.approx([T0, T0 + 0.5, T0 + 1], abs=1e-5)
    datagrams, summary = read_capture(path)
    assert [(d.payload, d.outbound) for d in datagrams] == [(b"multi", False), (b"uni", False),
                                                          (b"pong", True)]
    assert not summary.truncated and summary.skipped_total == 0


def test_a_snapshot_after_a_point_holds_only_the_newer_rows() -> None:
    ring = log_ring()
    assert [r.seq for r in records_of(take_snapshot(ring, 2).chunks)] == [3, 4, 5]
    assert take_snapshot(ring, 2).rows == 3
