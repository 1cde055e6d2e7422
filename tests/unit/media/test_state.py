"""The feed state machine driven by a fake clock: live, stale, frozen, timeouts, failure."""

from __future__ import annotations

from rtcc_console.media.state import FeedState, FeedStateMachine


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def machine(clock: Clock, max_attempts: int | None = None) -> FeedStateMachine:
    return FeedStateMachine(
        stale_after_s=1.5, read_timeout_s=3.0, max_attempts=max_attempts, clock=clock
    )


def test_connect_live_then_stale_without_frames_then_live_again() -> None:
    clock = Clock()
    sm = machine(clock)
    assert sm.state is FeedState.CONNECTING
    sm.connecting()
    assert sm.attempt == 1
    assert sm.frame(changed=True) is True
    assert sm.state is FeedState.LIVE and sm.attempt == 0
    clock.t += 1.0
    assert sm.check() == (False, False)
    clock.t += 0.6  # 1.6 s without a frame
    assert sm.check() == (True, False)
    assert sm.state is FeedState.STALE
    assert sm.frame(changed=True) is True
    assert sm.state is FeedState.LIVE


def test_frozen_picture_goes_stale_although_frames_keep_coming() -> None:
    clock = Clock()
    sm = machine(clock)
    sm.connecting()
    sm.frame(changed=True)
    for _ in range(10):  # frames every 0.1 s, same picture
        clock.t += 0.1
        sm.frame(changed=False)
    assert sm.state is FeedState.LIVE  # 1.0 s frozen: still within stale_after_s
    for _ in range(6):
        clock.t += 0.1
        sm.frame(changed=False)
    assert sm.state is FeedState.STALE
    clock.t += 0.1
    sm.frame(changed=True)
    assert sm.state is FeedState.LIVE


def test_silence_is_a_read_timeout() -> None:
    clock = Clock()
    sm = machine(clock)
    sm.connecting()
    sm.frame(changed=True)
    clock.t += 2.0
    sm.packet()  # packets without pictures still count as data
    clock.t += 2.9
    assert sm.check()[1] is False
    clock.t += 0.2
    assert sm.check()[1] is True


def test_open_overdue_only_while_connecting() -> None:
    clock = Clock()
    sm = machine(clock)
    sm.connecting()
    clock.t += 7.9
    assert sm.open_overdue(5.0) is False
    clock.t += 0.2
    assert sm.open_overdue(5.0) is True
    sm.frame(changed=True)
    assert sm.open_overdue(5.0) is False


def test_retry_counts_down_and_fails_after_max_attempts() -> None:
    clock = Clock()
    sm = machine(clock, max_attempts=2)
    sm.connecting()
    assert sm.retry_in(4.0, "refused") is True
    assert sm.state is FeedState.RECONNECTING and sm.error == "refused"
    clock.t += 1.5
    assert sm.next_retry_in() == 2.5
    sm.connecting()
    assert sm.next_retry_in() is None
    sm.retry_in(4.0, "refused again")
    assert sm.state is FeedState.FAILED
    assert sm.next_retry_in() is None
    assert sm.connecting() is False and sm.frame(changed=True) is False  # terminal


def test_revoke_and_stop_are_terminal() -> None:
    clock = Clock()
    sm = machine(clock)
    sm.connecting()
    sm.frame(changed=True)
    assert sm.revoke("grant withdrawn") is True
    assert sm.state is FeedState.REVOKED and sm.error == "grant withdrawn"
    assert sm.stop() is False
    assert sm.retry_in(1.0, "x") is False
    other = machine(clock)
    assert other.stop() is True and other.state is FeedState.STOPPED
    assert other.revoke("late") is False
