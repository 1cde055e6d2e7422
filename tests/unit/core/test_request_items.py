"""Item state machine, agency limits, owner selection, link tokens (core.request_items)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rtcc_console.core.request_items import (
    ALL_STATES,
    CandidateCamera,
    ItemState,
    Limits,
    TransitionError,
    can_move,
    check_limits,
    check_move,
    is_overdue,
    link_token,
    select_owners,
    token_digest,
    windows_mergeable,
)

T = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
LIMITS = Limits(max_window_s=12 * 3600, max_area_sq_mi=0.5, max_per_case=2)


def test_state_machine_allows_the_documented_paths_only() -> None:
    path = ["queued", "sent", "opened", "uploaded", "uploaded"]
    for a, b in zip(path, path[1:], strict=False):
        assert check_move(a, b) is ItemState(b)
    for final in ("no_footage", "declined", "expired", "undeliverable"):
        assert not any(can_move(final, s) for s in ALL_STATES), final
    with pytest.raises(TransitionError, match="uploaded cannot become declined"):
        check_move("uploaded", "declined")
    assert not can_move("opened", "sent") and not can_move("queued", "expired")
    assert can_move("sent", "undeliverable") and can_move("opened", "expired")


def test_limits_name_each_breach() -> None:
    ok = check_limits(
        LIMITS,
        window_start=T,
        window_end=T + timedelta(hours=1),
        area_sq_mi=0.1,
        requests_for_case=1,
        now=T + timedelta(days=1),
    )
    assert ok == []
    bad = check_limits(
        LIMITS,
        window_start=T,
        window_end=T + timedelta(hours=13),
        area_sq_mi=0.6,
        requests_for_case=2,
        now=T,
    )
    assert [b.limit for b in bad] == ["window_in_future", "max_window", "max_area", "max_per_case"]
    assert not bad[0].overridable and all(b.overridable for b in bad[1:])
    assert "13.0 h" in bad[1].message and "0.600" in bad[2].message


def test_overdue_after_expiry_or_the_last_reminder_only_while_waiting() -> None:
    kw = {"due_at": T + timedelta(days=10), "sent_at": T, "nag_after": timedelta(hours=72)}
    assert not is_overdue(state="sent", now=T + timedelta(hours=71), **kw)  # type: ignore[arg-type]
    assert is_overdue(state="sent", now=T + timedelta(hours=73), **kw)  # type: ignore[arg-type]
    assert not is_overdue(state="declined", now=T + timedelta(days=20), **kw)  # type: ignore[arg-type]


def _cam(
    i: str,
    owner: str | None,
    *,
    accepts: bool = True,
    email: bool = True,
    revoked: bool = False,
    tier: str = "registered",
) -> CandidateCamera:
    return CandidateCamera(
        id=i,
        lat=0,
        lon=0,
        tier=tier,
        revoked=revoked,
        owner_id=owner,
        owner_kind="business",
        owner_accepts=accepts,
        owner_has_email=email,
    )


def test_owner_selection_counts_exclusions_in_order() -> None:
    sel = select_owners(
        [
            _cam("c1", "o1"),
            _cam("c2", "o1", revoked=True),
            _cam("c3", "o2", accepts=False, revoked=True),
            _cam("c4", "o3", revoked=True),
            _cam("c5", "o4", email=False),
            _cam("c6", None),
            _cam("c7", "o5", tier="integrated"),
        ]
    )
    assert sel.cameras_inside == 7 and sel.owners_inside == 5
    assert [(p.owner_id, p.camera_ids) for p in sel.picks] == [("o1", ("c1",)), ("o5", ("c7",))]
    assert sel.excluded == {"opted_out": 1, "revoked": 1, "no_contact": 1}


def test_link_tokens_depend_on_item_nonce_and_secret() -> None:
    t = link_token(b"k" * 32, "fri-1", "n1")
    assert t == link_token(b"k" * 32, "fri-1", "n1") and len(t) == 43
    assert (
        len(
            {
                t,
                link_token(b"k" * 32, "fri-2", "n1"),
                link_token(b"k" * 32, "fri-1", "n2"),
                link_token(b"j" * 32, "fri-1", "n1"),
            }
        )
        == 4
    )
    assert token_digest(t) != t and len(token_digest(t)) == 64


def test_windows_merge_when_they_overlap() -> None:
    h = timedelta(hours=1)
    assert windows_mergeable(T, T + h, T + h / 2, T + 2 * h)
    assert not windows_mergeable(T, T + h, T + 2 * h, T + 3 * h)
    assert windows_mergeable(T, T + h, T + 2 * h, T + 3 * h, slack=h)
