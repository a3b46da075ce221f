"""Decoding in the TUI: the protocol column and summaries, proto: filters (and the message for
an unknown name), the detail's field tree moving the hex highlight, hostile names kept inert,
and decoding done only for rows on screen."""

from __future__ import annotations

import socket

from textual.widgets import Input

from tests.streams.build import rtp
from tests.tui.decode_helpers import (
    MDNS_RESPONSE,
    RTP_TS,
    TRUNCATED,
    decode_app,
    emit,
    mdns_query,
    open_detail,
    ready,
)
from tests.tui.tui_helpers import log_of, make_app, rendered_log_lines, type_into, wait_for
from udpscope.hexdump import byte_spans
from udpscope.textsafe import is_terminal_safe
from udpscope.tui.screens.detail import PacketDetail
from udpscope.tui.widgets.field_tree import FieldTree, HexView
from udpscope.tui.widgets.fields import FieldMessage


async def test_rows_show_their_protocol_and_summary() -> None:
    app = decode_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await ready(pilot)
        emit(app, [mdns_query(), MDNS_RESPONSE, TRUNCATED, b"just text"])
        emit(app, [RTP_TS], source="10.1.1.1", port=40000, destination="239.1.1.1")
        await wait_for(lambda: sum(r.kind == "rx" for r in log_of(app).rows) == 5,
                       what="rows", pilot=pilot)
        await pilot.pause()
        lines = rendered_log_lines(app)
        text = "\n".join(lines)
        assert "proto" in app.screen.query_one("#log-header").render().plain  # type: ignore[attr-defined]
        assert any("mdns" in ln and "query PTR _googlecast._tcp.local" in ln for ln in lines)
        assert any("mdns" in ln and "response PTR _googlecast" in ln for ln in lines)
        assert any("response [malformed: truncated record data" in ln for ln in lines), text
        assert any(" rtp " in ln and "ssrc 0x1ceb00da" in ln.lower() for ln in lines), text
        # On port 5353 the port names the protocol: text there is a partial mDNS decode.
        assert any("mdns" in ln and "[malformed: truncated header" in ln for ln in lines), text


async def test_proto_filters_and_an_unknown_name_get_a_clear_message() -> None:
    app = decode_app()
    async with app.run_test(size=(130, 36)) as pilot:
        await ready(pilot)
        emit(app, [mdns_query(), MDNS_RESPONSE])
        emit(app, [RTP_TS, rtp(1, payload=b"x" * 40)], source="10.1.1.1", port=40000,
             destination="127.0.0.1")
        emit(app, [b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"], port=50000,
             destination="239.255.255.250")
        log = log_of(app)
        await wait_for(lambda: sum(r.kind == "rx" for r in log.rows) == 5, what="rows", pilot=pilot)

        async def apply(text: str) -> list[bytes]:
            await type_into(pilot, "#filter", text)
            await pilot.pause()
            return [r.payload for r in log.rows]

        assert await apply("proto:mdns") == [mdns_query(), MDNS_RESPONSE]
        assert await apply("proto:rtp") == [RTP_TS, rtp(1, payload=b"x" * 40)]
        assert await apply("proto:ssdp,mdns #1") == [mdns_query(), MDNS_RESPONSE,
                                                      b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"]
        message = app.screen.query_one("#filter-error", FieldMessage)
        assert not message.has_class("-visible")
        before = [r.payload for r in log.rows]
        app.screen.query_one("#filter", Input).value = "proto:mdsn"   # one edit, as a paste
        await pilot.pause()
        assert message.has_class("-visible")
        assert "unknown protocol; did you mean mdns?" in message.text
        assert app.screen.query_one("#filter", Input).value == "proto:mdsn"   # kept as typed
        assert [r.payload for r in log.rows] == before   # the last good filter still applies
        assert app.is_running
        await pilot.press("end", "backspace", "backspace", "n", "s")
        await pilot.pause()
        assert not message.has_class("-visible") and [r.payload for r in log.rows] == [
            mdns_query(), MDNS_RESPONSE]


def highlighted_hex(hexview: HexView) -> bytes:
    """The bytes whose hex digits are styled in the dump (the ASCII column left out)."""
    text = hexview.shown.plain
    parts = []
    for span in hexview.shown.spans:
        line_start = text.rfind("\n", 0, span.start) + 1
        if span.start < text.index("|", line_start):
            parts.append(text[span.start:span.end])
    return bytes.fromhex(" ".join(parts))


async def test_moving_through_the_fields_moves_the_highlight_in_the_dump() -> None:
    app = decode_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        emit(app, [MDNS_RESPONSE])
        await open_detail(pilot, MDNS_RESPONSE)
        screen = app.screen
        assert isinstance(screen, PacketDetail) and screen.decoded is not None
        tree = screen.query_one(FieldTree)
        hexview = screen.query_one(HexView)
        assert screen.focused is tree
        assert hexview.highlight == (0, 2)   # the first field: the transaction ID
        seen = []
        for _ in range(12):
            await pilot.press("down")
            await pilot.pause()
            field = tree.selected_field
            if field is None or field.end == field.start:
                continue
            await wait_for(lambda f=field: hexview.highlight == (f.start, f.end),
                           what=f"highlight of {field.name}", pilot=pilot)
            seen.append((field.name, hexview.highlight))
            # Drawn where those bytes are: the styled hex digits are exactly the field's bytes.
            assert highlighted_hex(hexview) == MDNS_RESPONSE[field.start:field.end]
        names = [n for n, _ in seen]
        assert "Flags" in names or "Response" in names
        assert len({h for _, h in seen}) >= 4   # it moved
        # Straight to a field in the middle: a click on its byte in the dump selects it.
        answer = next(f for _, f in screen.decoded.walk() if f.name == "Answer 1")
        line, col, _ = byte_spans(answer.start + 1, answer.start + 2,
                                  hexview.bytes_per_line)[0]
        await pilot.click(HexView, offset=(col, line))
        await pilot.pause()
        selected = tree.selected_field
        assert selected is not None and selected.start <= answer.start + 1 < selected.end
        assert hexview.highlight == (selected.start, selected.end)


async def test_a_partial_decode_is_marked_in_the_tree_and_the_title() -> None:
    app = decode_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        emit(app, [TRUNCATED])
        await open_detail(pilot, TRUNCATED)
        screen = app.screen
        assert isinstance(screen, PacketDetail) and screen.decoded is not None
        assert screen.decoded.partial
        heading = str(screen.query_one("#decoded-heading").render())
        assert heading.startswith("Decoded (partial) · mdns")
        tree = screen.query_one(FieldTree)
        last = tree.root.children[-1]
        assert last.data is None and str(last.label).startswith("⚠ partial decode: truncated")


async def test_hostile_names_in_decoded_fields_stay_inert() -> None:
    import dns.message
    import dns.rrset

    r = dns.message.Message(id=0)
    r.flags = 0x8400
    r.answer.append(dns.rrset.from_text("evil\\027]0\\;pwned\\007\\226\\128\\174x.local.", 120,
                                        "IN", "TXT", '"[@click=app.quit]x[/] \\027[31m"'))
    wire = r.to_wire()
    app = decode_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await ready(pilot)
        emit(app, [wire])
        await wait_for(lambda: any(r.payload == wire for r in log_of(app).rows), what="row", pilot=pilot)
        await pilot.pause()
        for line in rendered_log_lines(app):
            assert is_terminal_safe(line), line
        await open_detail(pilot, wire)
        tree = app.screen.query_one(FieldTree)
        labels = []
        stack = list(tree.root.children)
        while stack:
            node = stack.pop()
            labels.append(str(node.label))
            stack.extend(node.children)
        assert labels and all(is_terminal_safe(label) for label in labels)
        assert any("\\e]0" in label for label in labels)          # shown, escaped
        assert any("[@click=app.quit]x[/]" in label for label in labels)  # shown, not applied
        assert app.is_running


async def test_only_rows_on_screen_are_decoded_during_a_large_ingest() -> None:
    app = make_app(binds=[("127.0.0.1", 0)], ring_size=50_000)
    async with app.run_test(size=(130, 36)) as pilot:
        await wait_for(lambda: app.capture.sockets and app.capture.sockets[1].state == "bound",
                       what="bound", pilot=pilot)
        port = app.capture.sockets[1].local()[1]
        entry = app.capture.sockets[1]
        log = log_of(app)
        decoder = log.decoder
        total = 20_000
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for start in range(0, total, 200):
                for i in range(start, start + 200):
                    s.sendto(rtp(i, payload=b"%06d" % i), ("127.0.0.1", port))
                await pilot.pause(0.002)
        await wait_for(lambda: entry.rx_datagrams + entry.kernel_drops >= total
                       or any(r.payload.endswith(b"%06d" % (total - 1)) for r in app.capture.ring),
                       timeout=20, what="burst received", pilot=pilot)
        await wait_for(lambda: len(log.rows) == entry.rx_datagrams + 1, what="caught up", pilot=pilot)
        await pilot.pause()
        assert entry.rx_datagrams >= total // 4
        height = log.scrollable_content_region.height
        # Decodes follow what was drawn (a screenful per redraw), not what arrived.
        assert 0 < decoder.decodes < 3000, decoder.decodes
        assert decoder.decodes < entry.rx_datagrams // 5
        assert decoder.classified == 0   # no filter: nothing classified
        # Every row on screen is one of the decoded ones.
        assert all(" rtp " in line for line in rendered_log_lines(app)[:height - 1])
