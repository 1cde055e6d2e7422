"""Mailbox drop counting and backoff bounds/jitter (seeded, exact)."""

from __future__ import annotations

import random

import pytest

from rtcc_console.media.backoff import MIN_DELAY_S, Backoff
from rtcc_console.media.mailbox import Mailbox


def test_mailbox_keeps_newest_and_counts_drops() -> None:
    box: Mailbox[int] = Mailbox()
    assert box.take() is None
    assert box.put(1) is False
    assert box.put(2) is True
    assert box.put(3) is True
    assert box.take() == 3
    assert box.take() is None
    assert box.dropped == 2
    assert box.put(4) is False  # nothing untaken: not a drop
    box.clear()
    assert box.take() is None
    assert box.dropped == 2
    assert box.put_count == 4


def test_backoff_caps_grow_exponentially_to_max() -> None:
    b = Backoff(0.5, 30.0)
    assert [b.cap(n) for n in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert b.cap(10_000) == 30.0  # no overflow


def test_backoff_full_jitter_within_bounds_and_reset() -> None:
    rng = random.Random(42)
    b = Backoff(0.5, 30.0, rng=rng.random)
    delays = [b.next_delay() for _ in range(20)]
    for n, d in enumerate(delays):
        assert MIN_DELAY_S <= d <= min(30.0, 0.5 * 2**n)
    assert len(set(delays)) == len(delays)  # jittered, not a fixed ladder
    expected = random.Random(42)
    again = Backoff(0.5, 30.0, rng=expected.random)
    assert [again.next_delay() for _ in range(20)] == delays  # seeded: exact
    b.reset()
    assert b.next_delay() <= 0.5


def test_backoff_extremes_of_the_draw() -> None:
    assert Backoff(1.0, 8.0, rng=lambda: 0.0).next_delay() == MIN_DELAY_S
    top = Backoff(1.0, 8.0, rng=lambda: 1.0)
    assert [top.next_delay() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    with pytest.raises(ValueError):
        Backoff(0.0, 1.0)
