"""Wall presets and emergencies as the server stores them, on both back ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from rtcc_console.store import cameras, emergencies, presets
from rtcc_console.store.schema import UserRow
from tests.store.conftest import MakeCamera

T0 = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)


def test_presets_are_per_user_and_replace_by_name(db_session: Session) -> None:
    db_session.add_all(
        [UserRow(username=u, password_hash="x", role="analyst") for u in ("ana", "bob")]
    )
    db_session.flush()
    presets.save_preset(db_session, username="ana", name="Elm", layout={"layout": "2x2"}, now=T0)
    presets.save_preset(db_session, username="bob", name="Elm", layout={"layout": "3x3"}, now=T0)
    again = presets.save_preset(
        db_session,
        username="ana",
        name="Elm",
        layout={"layout": "1x1"},
        now=T0 + timedelta(minutes=1),
    )
    presets.save_preset(db_session, username="ana", name="Akard", layout={}, now=T0)
    db_session.commit()
    assert again.layout == {"layout": "1x1"} and again.updated_at == T0 + timedelta(minutes=1)
    assert [p.name for p in presets.list_presets(db_session, username="ana")] == ["Akard", "Elm"]
    got = presets.get_preset(db_session, username="bob", name="Elm")
    assert got is not None and got.layout == {"layout": "3x3"}
    assert presets.delete_preset(db_session, username="ana", name="Elm")
    assert not presets.delete_preset(db_session, username="ana", name="Elm")
    db_session.commit()
    assert presets.get_preset(db_session, username="ana", name="Elm") is None
    assert presets.get_preset(db_session, username="bob", name="Elm") is not None


def test_emergencies_active_listed_ended_and_due(
    db_session: Session, make_camera: MakeCamera
) -> None:
    cameras.save_camera(db_session, camera=make_camera(1))
    db_session.commit()
    assert emergencies.unknown_scope(
        db_session, owner_id="own-x", camera_ids=["cam-000001", "cam-9"]
    ) == (True, ["cam-9"])
    short = emergencies.insert_emergency(
        db_session,
        owner_id=None,
        camera_ids=["cam-000001", "cam-000001"],
        reason="panic",
        duration_s=600,
        created_by="sue",
        now=T0,
    )
    open_ended = emergencies.insert_emergency(
        db_session,
        owner_id=None,
        camera_ids=["cam-000001"],
        reason="declared",
        duration_s=None,
        created_by="sue",
        now=T0 + timedelta(seconds=1),
    )
    db_session.commit()
    assert short.id.startswith("emg-") and short.camera_ids == ("cam-000001",)
    assert short.ends_at == T0 + timedelta(minutes=10) and short.active(T0 + timedelta(minutes=5))
    at = T0 + timedelta(minutes=5)
    assert {e.id for e in emergencies.active_emergencies(db_session, now=at)} == {
        short.id,
        open_ended.id,
    }
    later = T0 + timedelta(minutes=11)
    assert [e.id for e in emergencies.due_emergencies(db_session, now=later)] == [short.id]
    assert [
        e.id for e in emergencies.list_emergencies(db_session, active_only=True, now=later)
    ] == [open_ended.id]
    assert [
        e.id for e in emergencies.list_emergencies(db_session, active_only=False, now=later)
    ] == [open_ended.id, short.id]
    ended = emergencies.mark_ended(db_session, emergency_id=short.id, now=later)
    assert ended.ended_at == short.ends_at  # it ended at its planned end, not when noticed
    assert (
        emergencies.mark_ended(
            db_session, emergency_id=short.id, now=later + timedelta(hours=1)
        ).ended_at
        == ended.ended_at
    )
    stopped = emergencies.mark_ended(db_session, emergency_id=open_ended.id, now=later)
    db_session.commit()
    assert stopped.ended_at == later and not stopped.active(later)
    assert emergencies.due_emergencies(db_session, now=later + timedelta(days=1)) == []
    assert emergencies.active_emergencies(db_session, now=later) == []
    got = emergencies.get_emergency(db_session, emergency_id=open_ended.id)
    assert got is not None and got.domain().ends_at == later
