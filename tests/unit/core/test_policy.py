"""Consent policy: examples an analyst would recognise, then properties over every combination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcc_console.core.models import (
    Camera,
    CameraKind,
    Emergency,
    GeoPoint,
    Role,
    SharingMode,
    Tier,
)
from rtcc_console.core.policy import Action, active_emergency_for, decide, live_now

NOW = datetime(2026, 11, 21, 13, 0, tzinfo=UTC)


def camera(
    tier: Tier = Tier.INTEGRATED,
    mode: SharingMode = SharingMode.LIVE_ALWAYS,
    *,
    revoked: bool = False,
    cam_id: str = "cam-1",
    owner_id: str | None = "own-1",
) -> Camera:
    return Camera(
        id=cam_id,
        name="Elm St",
        tier=tier,
        location=GeoPoint(32.78, -96.8),
        kind=CameraKind.BUSINESS,
        sharing_mode=mode,
        owner_id=owner_id,
        revoked=revoked,
    )


def emergency(
    *,
    cams: frozenset[str] = frozenset({"cam-1"}),
    start: timedelta = timedelta(minutes=-10),
    end: timedelta | None = timedelta(minutes=65),
    owner_id: str | None = None,
    reason: str = "panic button",
    em_id: str = "em-1",
) -> Emergency:
    return Emergency(
        id=em_id,
        owner_id=owner_id,
        camera_ids=cams,
        started_at=NOW + start,
        ends_at=None if end is None else NOW + end,
        reason=reason,
    )


def test_live_always_is_viewable_by_an_analyst() -> None:
    d = decide(Role.ANALYST, camera(), Action.VIEW_LIVE, now=NOW)
    assert d.allowed and d.code == "allowed_live_always"
    assert d.reason == "Live view allowed: owner shares live at all times"


def test_not_signed_in_is_denied_everything() -> None:
    for action in Action:
        d = decide(None, camera(), action, now=NOW)
        assert not d.allowed and d.code == "not_authenticated"


def test_revoked_camera_names_the_owner_revocation() -> None:
    d = decide(
        Role.ADMIN, camera(revoked=True), Action.VIEW_LIVE, now=NOW, emergencies=[emergency()]
    )
    assert (d.allowed, d.code, d.reason) == (False, "revoked", "Owner revoked access")


def test_registered_camera_points_to_a_footage_request() -> None:
    d = decide(
        Role.ANALYST, camera(Tier.REGISTERED, SharingMode.REQUEST_ONLY), Action.VIEW_LIVE, now=NOW
    )
    assert not d.allowed and d.code == "no_stream"
    assert "request footage instead" in d.reason
    r = decide(
        Role.ANALYST,
        camera(Tier.REGISTERED, SharingMode.REQUEST_ONLY),
        Action.REQUEST_FOOTAGE,
        now=NOW,
    )
    assert r.allowed and r.code == "allowed_request"


def test_integrated_request_only_is_not_live() -> None:
    d = decide(Role.SUPERVISOR, camera(mode=SharingMode.REQUEST_ONLY), Action.SNAPSHOT, now=NOW)
    assert not d.allowed and d.code == "request_only"


def test_owner_declining_requests_blocks_footage_requests_only() -> None:
    cam = camera()
    d = decide(Role.ANALYST, cam, Action.REQUEST_FOOTAGE, now=NOW, owner_accepts_requests=False)
    assert not d.allowed and d.code == "owner_declines_requests"
    assert decide(
        Role.ANALYST, cam, Action.VIEW_LIVE, now=NOW, owner_accepts_requests=False
    ).allowed


def test_emergency_window_opens_and_closes_live_view() -> None:
    cam = camera(mode=SharingMode.LIVE_IN_EMERGENCY)
    em = emergency()
    during = decide(Role.ANALYST, cam, Action.VIEW_LIVE, now=NOW, emergencies=[em])
    assert during.allowed and during.code == "allowed_emergency"
    assert during.reason == "Live view allowed during emergency 'panic button' until 14:05 UTC"
    assert during.emergency_id == "em-1" and during.valid_until == em.ends_at
    assert em.ends_at is not None
    after = decide(Role.ANALYST, cam, Action.VIEW_LIVE, now=em.ends_at, emergencies=[em])
    assert not after.allowed and after.code == "emergency_only"
    assert after.reason == "Live only during an emergency; none active for this camera"
    before = decide(
        Role.ANALYST,
        cam,
        Action.VIEW_LIVE,
        now=em.started_at - timedelta(seconds=1),
        emergencies=[em],
    )
    assert not before.allowed


def test_emergency_for_another_camera_does_not_count() -> None:
    cam = camera(mode=SharingMode.LIVE_IN_EMERGENCY)
    d = decide(
        Role.ANALYST,
        cam,
        Action.VIEW_LIVE,
        now=NOW,
        emergencies=[emergency(cams=frozenset({"cam-2"}))],
    )
    assert not d.allowed and d.code == "emergency_only"


def test_owner_wide_panic_button_covers_the_owners_cameras() -> None:
    em = emergency(cams=frozenset(), owner_id="own-1", end=None, reason="")
    mine = decide(
        Role.ANALYST,
        camera(mode=SharingMode.LIVE_IN_EMERGENCY),
        Action.VIEW_LIVE,
        now=NOW,
        emergencies=[em],
    )
    assert mine.allowed and mine.reason.endswith("'declared emergency' until it is ended")
    other = camera(mode=SharingMode.LIVE_IN_EMERGENCY, owner_id="own-2")
    assert not decide(Role.ANALYST, other, Action.VIEW_LIVE, now=NOW, emergencies=[em]).allowed


def test_longest_lasting_emergency_is_reported_with_its_date() -> None:
    cam = camera(mode=SharingMode.LIVE_IN_EMERGENCY)
    short = emergency(em_id="short", end=timedelta(minutes=5))
    long = emergency(em_id="long", end=timedelta(days=1), reason="school lockdown")
    assert active_emergency_for(cam, [short, long], NOW) is long
    d = decide(Role.ANALYST, cam, Action.VIEW_LIVE, now=NOW, emergencies=[short, long])
    assert d.reason.endswith("'school lockdown' until 2026-11-22 13:00 UTC")


def test_naive_now_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(Role.ANALYST, camera(), Action.VIEW_LIVE, now=datetime(2026, 11, 21, 13, 0))


_EMERGENCIES = st.lists(
    st.builds(
        emergency,
        cams=st.frozensets(st.sampled_from(["cam-1", "cam-2"]), max_size=2),
        start=st.timedeltas(min_value=timedelta(hours=-3), max_value=timedelta(hours=3)),
        end=st.one_of(
            st.none(), st.timedeltas(min_value=timedelta(hours=-3), max_value=timedelta(hours=6))
        ),
        owner_id=st.sampled_from([None, "own-1", "own-2"]),
    ),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(
    role=st.one_of(st.none(), st.sampled_from(Role)),
    tier=st.sampled_from(Tier),
    mode=st.sampled_from(SharingMode),
    revoked=st.booleans(),
    action=st.sampled_from(Action),
    emergencies=_EMERGENCIES,
    accepts=st.booleans(),
)
def test_policy_properties(
    role: Role | None,
    tier: Tier,
    mode: SharingMode,
    revoked: bool,
    action: Action,
    emergencies: list[Emergency],
    accepts: bool,
) -> None:
    cam = camera(tier, mode, revoked=revoked)
    d = decide(role, cam, action, now=NOW, emergencies=emergencies, owner_accepts_requests=accepts)
    assert d.reason and d.code
    if role is None or revoked:
        assert not d.allowed
        return
    if action is Action.REQUEST_FOOTAGE:
        assert d.allowed == accepts
        return
    if tier is Tier.REGISTERED or mode is SharingMode.REQUEST_ONLY:
        assert not d.allowed
    elif mode is SharingMode.LIVE_ALWAYS:
        assert d.allowed
    else:
        covered = any(
            e.active(NOW)
            and ("cam-1" in e.camera_ids or (not e.camera_ids and e.owner_id == "own-1"))
            for e in emergencies
        )
        assert d.allowed == covered
        assert (d.emergency_id is not None) == covered


@settings(max_examples=300, deadline=None)
@given(
    tier=st.sampled_from(Tier),
    mode=st.sampled_from(SharingMode),
    revoked=st.booleans(),
    with_emergency=st.booleans(),
)
def test_live_now_agrees_with_the_view_live_decision(
    tier: Tier, mode: SharingMode, revoked: bool, with_emergency: bool
) -> None:
    """The ranking's "live now" bonus must never promise what ``decide`` refuses."""
    cam = camera(tier, mode, revoked=revoked)
    ems = [emergency()] if with_emergency else []
    allowed = decide(Role.ANALYST, cam, Action.VIEW_LIVE, now=NOW, emergencies=ems).allowed
    assert live_now(cam, ems, NOW) == allowed
