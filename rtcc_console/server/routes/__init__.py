"""HTTP routes, one module per resource; :func:`include_all` mounts them."""

from __future__ import annotations

from fastapi import FastAPI


def include_all(app: FastAPI, *, prefix: str) -> None:
    from rtcc_console.server.routes import (
        audit,
        auth,
        call_acks,
        calls,
        camera_io,
        cameras,
        emergencies,
        events,
        field_officers,
        field_shares,
        footage_requests,
        grants,
        media,
        portal_requests,
        presets,
        system,
        users,
        webhook,
    )

    # camera_io before cameras: its fixed paths (/cameras/import, /cameras/export.csv)
    # must win over /cameras/{camera_id}.
    for module in (
        system,
        auth,
        users,
        camera_io,
        cameras,
        grants,
        media,
        emergencies,
        call_acks,
        calls,
        webhook,
        presets,
        audit,
        events,
        footage_requests,
        portal_requests,
        field_shares,
        field_officers,  # officer list + unit ids for "Send to field" (issue 16)
    ):
        app.include_router(module.router, prefix=prefix)
    app.include_router(field_shares.page_router)  # the officer's page: /field/... (issue 16)
