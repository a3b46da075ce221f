"""SequenceCounter: exact counts for known gaps, duplicates, reordering, wrap-around, stale
numbers and restarts; and batches of any size counting exactly what one-by-one does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.health.seqmodel import ReferenceCounter
from udpscope.health import SequenceCounter


def count(seqs: list[int], bits: int = 16, batch: int | None = None, **kw: int) -> SequenceCounter:
    c = SequenceCounter(bits, **kw)
    step = batch or max(1, len(seqs))
    for i in range(0, len(seqs), step):
        c.feed(np.array(seqs[i:i + step], dtype=np.uint64))
    return c


def summary(c: SequenceCounter) -> tuple[int, int, int, int, int, int]:
    s = c.stats()
    return s.packets, s.lost, s.duplicates, s.reordered, s.stale, s.restarts


@pytest.mark.parametrize("batch", [None, 1, 3])
def test_known_losses_duplicates_and_reordering(batch: int | None) -> None:
    seqs = [0, 1, 2, 4, 5, 5, 7, 6, 8, 12, 9, 10, 11, 13]
    # lost: 3 (never came); dup: the second 5; reordered: 6 (after 7), 9, 10, 11 (after 12)
    c = count(seqs, batch=batch)
    assert summary(c) == (14, 1, 1, 4, 0, 0)
    st = c.stats()
    assert (st.first, st.highest, st.distinct) == (0, 13, 13)


def test_a_late_datagram_takes_its_loss_back() -> None:
    c = count([10, 11, 13, 14])
    assert c.lost == 1
    c.feed(np.array([12], dtype=np.uint64))
    assert (c.lost, c.reordered) == (0, 1)


@pytest.mark.parametrize("batch", [None, 1, 2])
def test_16_bit_wrap_around(batch: int | None) -> None:
    seqs = [65533, 65534, 65535, 0, 2, 1, 3]
    c = count(seqs, batch=batch)
    assert summary(c) == (7, 0, 0, 1, 0, 0)
    assert (c.stats().first, c.stats().highest) == (65533, 3)
    c = count([65535, 1], batch=batch)          # 0 lost across the wrap
    assert c.lost == 1


def test_widths_8_32_64_wrap_where_their_space_ends() -> None:
    assert summary(count([254, 255, 0, 1], bits=8)) == (4, 0, 0, 0, 0, 0)
    top = 2**32 - 1
    assert summary(count([top - 1, top, 1], bits=32)) == (3, 1, 0, 0, 0, 0)
    big = 2**64 - 2
    c = count([big, big + 1, 0, 1], bits=64)
    assert summary(c) == (4, 0, 0, 0, 0, 0)
    assert c.stats().highest == 1


def test_too_old_to_judge_is_stale_not_a_duplicate() -> None:
    c = count(list(range(0, 100)) + [5], window=64, restart_gap=60)
    assert (c.duplicates, c.stale, c.reordered) == (0, 1, 0)


def test_sender_restart_keeps_old_losses_and_starts_again() -> None:
    seqs = list(range(5000, 5010)) + [5012] + list(range(0, 20))
    c = count(seqs)
    s = c.stats()
    assert (s.restarts, s.lost, s.reordered, s.first, s.highest) == (1, 2, 0, 0, 19)
    # one stray old number (not followed by its successor) is not a restart
    c = count(list(range(5000, 5010)) + [10] + list(range(5010, 5020)))
    assert (c.restarts, c.reordered) == (0, 1)


def test_restart_confirmed_across_batches_equals_within_one() -> None:
    seqs = list(range(5000, 5010)) + [7, 8, 9]
    assert summary(count(seqs)) == summary(count(seqs, batch=1)) == (13, 0, 0, 0, 0, 1)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        SequenceCounter(12)
    with pytest.raises(ValueError):
        SequenceCounter(16, window=1000)


@st.composite
def streams(draw: st.DrawFn) -> tuple[int, int, int, list[int], list[int]]:
    bits = draw(st.sampled_from([8, 16, 32]))
    window = draw(st.sampled_from([8, 64, 1024]))
    gap = draw(st.sampled_from([4, 30, 3000]))
    mod = 1 << bits
    s = draw(st.integers(0, mod - 1))
    seqs = []
    for move in draw(st.lists(st.integers(0, 99), min_size=1, max_size=120)):
        if move < 60:
            s += 1
        elif move < 70:
            s += move - 58                       # a gap
        elif move < 85:
            s -= move - 70                       # a duplicate or a late one
        elif move < 95:
            s -= 10 * (move - 84)                # far behind: stale, or a restart
        else:
            s = draw(st.integers(0, mod - 1))    # anything
        seqs.append(s % mod)
    cuts = draw(st.lists(st.integers(1, len(seqs)), max_size=8))
    return bits, window, gap, seqs, sorted(set(cuts))


@settings(max_examples=400, deadline=None)
@given(case=streams())
def test_batches_count_exactly_what_one_by_one_and_the_reference_do(
        case: tuple[int, int, int, list[int], list[int]]) -> None:
    bits, window, gap, seqs, cuts = case
    ref = ReferenceCounter(bits, window, gap)
    for s in seqs:
        ref.feed(s)
    single = SequenceCounter(bits, window, gap)
    for s in seqs:
        single.feed(np.array([s], dtype=np.uint64))
    batched = SequenceCounter(bits, window, gap)
    for lo, hi in zip([0, *cuts], [*cuts, len(seqs)], strict=True):
        batched.feed(np.array(seqs[lo:hi], dtype=np.uint64))
    expected = (ref.packets, ref.lost, ref.duplicates, ref.reordered, ref.stale, ref.restarts)
    assert summary(single) == expected
    assert summary(batched) == expected
    assert single.stats() == batched.stats()


@pytest.mark.parametrize("batch", [None, 1, 3])
def test_a_merged_ab_feed_restarting_is_a_restart(batch: int | None) -> None:
    before = [s for s in range(5000, 5010) for _line in "ab"]
    after = [s for s in range(0, 6) for _line in "ab"]
    c = count(before + after, batch=batch)
    s = c.stats()
    assert (s.restarts, s.lost, s.stale, s.reordered) == (1, 0, 0, 0)
    assert s.duplicates == len(before + after) // 2
    assert (s.first, s.highest) == (0, 5)


@settings(max_examples=200, deadline=None)
@given(seqs=st.lists(st.integers(0, 30), min_size=1, max_size=60),
       jumps=st.lists(st.integers(0, 59), max_size=3),
       cuts=st.lists(st.integers(1, 120), max_size=6))
def test_interleaved_lines_with_restarts_batch_equals_reference(
        seqs: list[int], jumps: list[int], cuts: list[int]) -> None:
    # two lines carrying the same numbers, a restart (back to low numbers) at `jumps`
    numbers, base = [], 40000
    for i, s in enumerate(sorted(seqs)):
        if i in jumps:
            base = 0
        numbers += [base + s, base + s]
    ref = ReferenceCounter(16, 64, 30)
    for s in numbers:
        ref.feed(s)
    batched = SequenceCounter(16, 64, 30)
    edges = sorted({c for c in cuts if c < len(numbers)})
    for lo, hi in zip([0, *edges], [*edges, len(numbers)], strict=True):
        batched.feed(np.array(numbers[lo:hi], dtype=np.uint64))
    assert summary(batched) == (ref.packets, ref.lost, ref.duplicates, ref.reordered, ref.stale,
                                ref.restarts)
