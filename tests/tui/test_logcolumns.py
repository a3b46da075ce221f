"""The live log's columns by width: the payload keeps its room, metadata goes first, cuts show "…"."""

from __future__ import annotations

import pytest

from udpscope.tui.logcolumns import PREVIEW_MIN, fit, fit_parts, plan_columns


@pytest.mark.parametrize("width", [40, 56, 60, 76, 92, 120, 200, 236])
def test_the_preview_is_never_starved_and_the_row_fits(width: int) -> None:
    for meta in (False, True):
        c = plan_columns(width, meta=meta)
        used = sum(w + 1 for w in (c.time, c.sock, c.dir, c.peer, c.size, c.group, c.iface, c.ttl,
                                   c.proto) if w)
        assert used + c.preview == width
        assert c.preview >= PREVIEW_MIN or width < 44
        assert len(c.header()) <= width or c.preview < len("preview")


def test_what_goes_first() -> None:
    wide = plan_columns(200, meta=True)
    assert wide.group and wide.iface and wide.ttl and wide.time == 12
    assert wide.proto == 6
    # Multicast seen and not room for everything: group, interface and TTL before the protocol.
    mid = plan_columns(95, meta=True)
    assert mid.group and mid.iface and mid.ttl and not mid.proto and mid.preview >= 20
    assert plan_columns(95).proto  # without multicast the protocol column stays
    at_80 = plan_columns(76, meta=True)  # the log at 80 columns
    assert not at_80.group and at_80.time == 12 and at_80.size and at_80.proto
    assert at_80.preview >= 20
    narrow = plan_columns(60)
    assert narrow.time == 8 and narrow.peer < 21 and narrow.proto
    # The protocol goes last: after the size and the time.
    assert plan_columns(50).proto and plan_columns(50).time == 0 and not plan_columns(50).size
    assert plan_columns(47).proto == 0 and plan_columns(47).preview >= 20
    assert plan_columns(200).group == 0  # no multicast seen: no empty metadata columns


def test_fit_pads_or_cuts_with_an_ellipsis() -> None:
    assert fit("abc", 5) == "abc  " and fit("abc", 5, right=True) == "  abc"
    assert fit("127.0.0.1:50067", 10) == "127.0.0.1…"
    assert fit("日本語テキスト", 7) == "日本語…"  # wide characters: cells, not code points
    assert fit("x", 0) == ""


def test_fit_parts_drops_whole_parts_by_priority() -> None:
    parts = [("12 rows", 2), ("▼ 3 new", 0), ("End or f: jump back", 4), ("⏎ detail", 5)]
    assert fit_parts(parts, 200) == "12 rows  ·  ▼ 3 new  ·  End or f: jump back  ·  ⏎ detail"
    assert fit_parts(parts, 20) == "12 rows  ·  ▼ 3 new"
    assert fit_parts(parts, 8) == "▼ 3 new"
    assert fit_parts([("no rows match text:something long", 0)], 12).endswith("…")
