"""Acknowledging a new call: the analyst has seen it. Per user, and in the audit trail
(``call.acknowledged``), so a supervisor can tell how long a priority-1 call waited."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from rtcc_console.server.audit import append_audit
from rtcc_console.server.deps import RequireAnalyst, StateDep, actor_of
from rtcc_console.store import calls as store_calls

router = APIRouter(prefix="/calls", tags=["calls"])


@router.post("/{call_id}/acknowledge", status_code=204, response_class=Response)
def acknowledge_call(call_id: str, user: RequireAnalyst, state: StateDep) -> Response:
    with state.db.write() as session:
        if store_calls.get_call(session, call_id=call_id) is None:
            raise HTTPException(404, f"call {call_id!r} not found")
        append_audit(
            session, actor=actor_of(user), action="call.acknowledged", targets={"call": call_id}
        )
    return Response(status_code=204)
