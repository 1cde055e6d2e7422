"""camera confirmations: the yearly 'still there?' e-mail and stale cameras; stream_url clean-up

* ``cameras.confirmed_at`` (backfilled with the camera's last update, else its creation),
  ``cameras.confirm_asked_at`` and ``cameras.stale_since``, with two indexes that answer the
  sweep's two questions (``store.confirmations``). The confirmation links are ``portal_links`` rows with purpose
  ``confirm`` (0105), so no table of their own.
* A one-off clean-up: public ``stream_url``/``substream_url`` values written by the old
  redaction still carried passwords in the query or path. Each is replaced by
  ``core.redact.redact_stream_url`` of itself; where ``camera_secrets`` has no full URL for it
  yet, the original moves there (the credentials table), so no camera loses its stream.

Revision ID: 0108
Revises: 0107
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import rtcc_console.store.types

revision: str = "0108"
down_revision: str | None = "0107"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = rtcc_console.store.types.UTCDateTime(timezone=True)
_COLUMNS = ("confirmed_at", "confirm_asked_at", "stale_since")
# the sweep's two questions (equality on NULL, then a range): see store.confirmations
_INDEXES = {
    "ix_cameras_confirm_due": ["confirm_asked_at", "confirmed_at"],
    "ix_cameras_confirm_stale": ["stale_since", "confirm_asked_at"],
}
_BATCH = 1000


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("cameras", sa.Column(name, _TS, nullable=True))
    for index, columns in _INDEXES.items():
        op.create_index(index, "cameras", columns, unique=False)
    op.execute("UPDATE cameras SET confirmed_at = COALESCE(updated_at, created_at)")
    clean_stream_urls(op.get_bind())


def clean_stream_urls(bind: sa.engine.Connection) -> int:
    """Redact every public stream URL again; keep a full URL in ``camera_secrets`` when that
    table has none for it. Returns the number of cameras changed."""
    from rtcc_console.core.redact import redact_stream_url

    cameras = sa.table(
        "cameras",
        sa.column("id", sa.String),
        sa.column("stream_url", sa.Text),
        sa.column("substream_url", sa.Text),
    )
    secrets = sa.table(
        "camera_secrets",
        sa.column("camera_id", sa.String),
        sa.column("stream_url_full", sa.Text),
        sa.column("substream_url_full", sa.Text),
    )
    changed = 0
    after = ""
    while True:
        rows = bind.execute(
            sa.select(cameras.c.id, cameras.c.stream_url, cameras.c.substream_url)
            .where(
                cameras.c.id > after,
                sa.or_(cameras.c.stream_url.is_not(None), cameras.c.substream_url.is_not(None)),
            )
            .order_by(cameras.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            return changed
        after = rows[-1].id
        for camera_id, stream, substream in rows:
            clean = redact_stream_url(stream) if stream else stream
            subclean = redact_stream_url(substream) if substream else substream
            if (clean, subclean) == (stream, substream):
                continue
            changed += 1
            kept = bind.execute(
                sa.select(secrets.c.stream_url_full, secrets.c.substream_url_full).where(
                    secrets.c.camera_id == camera_id
                )
            ).first()
            if kept is None:
                bind.execute(
                    secrets.insert().values(
                        camera_id=camera_id, stream_url_full=stream, substream_url_full=substream
                    )
                )
            else:
                bind.execute(
                    secrets.update()
                    .where(secrets.c.camera_id == camera_id)
                    .values(
                        stream_url_full=kept.stream_url_full or stream,
                        substream_url_full=kept.substream_url_full or substream,
                    )
                )
            bind.execute(
                cameras.update()
                .where(cameras.c.id == camera_id)
                .values(stream_url=clean, substream_url=subclean)
            )


def downgrade() -> None:
    for index in _INDEXES:
        op.drop_index(index, table_name="cameras")
    for name in reversed(_COLUMNS):
        op.drop_column("cameras", name)
