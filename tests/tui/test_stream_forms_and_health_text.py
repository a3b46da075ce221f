"""The seq/arbitration form and the health pane's text, without Textual: bad fields answered
per box; timelines per second, sparklines in a cell, and the "is it me or the network" verdict."""

from __future__ import annotations

import pytest

from udpscope.health import Sample, StreamHealth
from udpscope.tui.forms import FormError
from udpscope.tui.healthtext import BLOCKS, describe, spark, timeline, verdict
from udpscope.tui.streamforms import parse_stream_options


def test_the_stream_form_reads_a_field_and_arbitration() -> None:
    req = parse_stream_options(" 0:4 ", True)
    assert req.seq is not None and (req.seq.offset, req.seq.width, req.arbitrate) == (0, 4, True)
    assert req.describe() == "sequence field 0:4 with A/B arbitration"
    le = parse_stream_options("0x10:8:le", False)
    assert le.seq is not None and (le.seq.offset, le.seq.little_endian) == (16, True)
    assert parse_stream_options("", False).seq is None
    assert parse_stream_options("", False).describe() == "no sequence field"


@pytest.mark.parametrize(("seq", "arbitrate", "errors"), [
    ("4:3", False, {"seq": "width 3 must be 1, 2, 4 or 8 bytes"}),
    ("x:2", True, {"seq": "offset 'x' is not a number"}),   # no second message for arbitrate
    ("", True, {"arbitrate": "A/B arbitration merges the lines by their sequence field"}),
    ("1", False, {"seq": "expected OFFSET:WIDTH"}),
    ("70000:2", False, {"seq": "out of range"}),
])
def test_bad_stream_forms_say_which_box_and_why(seq: str, arbitrate: bool,
                                                 errors: dict[str, str]) -> None:
    with pytest.raises(FormError) as err:
        parse_stream_options(seq, arbitrate)
    assert list(err.value.errors) == list(errors)
    for box, words in errors.items():
        assert words in err.value.errors[box]


def stream(kind: str = "rtp", history: tuple[Sample, ...] = (), lost: int = 0,
           drops: int = 0, **details: object) -> StreamHealth:
    return StreamHealth(kind, "10.0.0.1:5004", "239.1.1.1:5004", 100, lost, 0, 0, drops,
                        990.0, 1000.0, 1000, dict(details), history)


def test_timeline_is_per_second_with_gaps_and_never_negative() -> None:
    history = (Sample(995, 10, 1, 0, 100, 1.5), Sample(996, 20, 4, 0, 200, 2.0),
               Sample(998, 30, 3, 0, 300, 2.5), Sample(1000, 40, 9, 0, 400, 0.5))
    lost, jitter = timeline(stream(history=history), 1000.9, 7)
    assert lost == [None, 1, 3, None, 0, None, 6]      # 998 filled a gap: 0, not -1
    assert jitter == [None, 1.5, 2.0, None, 2.5, None, 0.5]
    ts = (Sample(999, 700, 50, 3, 0, None), Sample(1000, 1400, 60, 5, 0, None))
    assert timeline(stream("mpegts", ts), 1000, 2)[0] == [3, 2]   # TS: continuity errors


def test_spark_scales_blocks_and_leaves_gaps_blank() -> None:
    assert spark([0, 1, 2, 4, None, 8]) == "▁▂▃▅ █"
    assert spark([0, 0, None]) == "▁▁ "
    assert spark([5], top=10) == BLOCKS[4]
    assert spark([0.001, 100]) == "▂█"   # any loss at all is above the baseline


def test_verdict_tells_the_network_from_this_host() -> None:
    assert verdict(stream())[0] == "ok"
    kind, sentence = verdict(stream(lost=12))
    assert kind == "network" and "upstream" in sentence
    kind, sentence = verdict(stream(lost=12, drops=40))
    assert kind == "host" and "dropped 40" in sentence and "12 lost" in sentence
    assert verdict(stream(drops=3))[0] == "host"
    kind, sentence = verdict(stream("mpegts", lost=99, cc_errors=4))
    assert kind == "network" and sentence.startswith("4 continuity errors")


def test_describe_names_each_kind() -> None:
    rtp = describe(stream(ssrc=0xCAFE, pt=0, clock_rate=8000, carries_mpegts=True))
    assert rtp == ("rtp 10.0.0.1:5004 → 239.1.1.1:5004 · SSRC 0x0000cafe · PT 0 (8 kHz) · "
                   "carries MPEG-TS")
    ts = describe(stream("mpegts", pids=3, pat=True, pmt=False, bitrate_bps=2_500_000))
    assert ts.endswith("3 PIDs · PAT seen · PMT missing · 2.50 Mbit/s")
    merged = StreamHealth("arbitrated", None, "0.0.0.0:6000", 1, 0, 0, 0, 0, 0.0, 0.0, 0,
                          {"seq": "0:4", "lines": [{}, {}]})
    assert describe(merged) == "A/B (merged lines) → 0.0.0.0:6000 · field 0:4 · 2 lines"
