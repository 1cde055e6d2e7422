"""Response and request models of the supervision routes (docs/api/supervision.md)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AuditEntryPublic(BaseModel):
    id: int
    at: str
    user: str | None
    role: str | None
    action: str
    targets: dict[str, Any]
    reason: str | None
    outcome: str
    client_addr: str | None
    hash: str


class AuditPage(BaseModel):
    items: list[AuditEntryPublic]
    limit: int
    has_more: bool
    next_before_id: int | None
    prev_after_id: int | None


class AuditCount(BaseModel):
    total: int


class AuditVerifyJob(BaseModel):
    id: str
    status: str
    started_by: str
    started_at: str
    finished_at: str | None
    checked: int
    total: int
    broken_id: int | None
    problem: str | None


class FlagPublic(BaseModel):
    id: str
    kind: str
    user: str | None
    first_at: str
    last_at: str
    explanation: str
    entry_ids: list[int]
    entries: list[AuditEntryPublic]
    raised_at: str
    acknowledged: bool
    ack_by: str | None
    ack_at: str | None
    ack_note: str | None


class FlagList(BaseModel):
    items: list[FlagPublic]
    since: str
    until: str


class FlagAck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(min_length=1, max_length=2000)
