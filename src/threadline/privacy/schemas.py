"""Request and response shapes of the privacy endpoints (exports, erasures, settings, retention)."""

from __future__ import annotations

import datetime as dt

from ninja import Schema
from pydantic import Field

from threadline.core.schemas import Id, Input
from threadline.privacy.models import ContactExport, RetentionKind


class ContactExportOut(Schema):
    id: int
    contact_id: int | None
    state: str = Field(description="queued, ready, failed or expired")
    size: int
    created_at: dt.datetime
    finished_at: dt.datetime | None
    download_url: str | None = Field(None, description="Where the archive is, once ready")

    @staticmethod
    def resolve_download_url(obj: ContactExport) -> str | None:
        return f"/api/v1/privacy/exports/{obj.pk}/download" if obj.state == ContactExport.State.READY else None


class ErasureIn(Input):
    reason: str = Field("", max_length=500, description="Why (kept until the erasure runs, then cleared)")


class ErasureOut(Schema):
    id: int
    contact_id: int | None
    contact_ref: str = Field(description="A keyed hash of the contact, kept after the erasure")
    state: str = Field(description="requested, scheduled, cancelled or done")
    reason: str
    requested_by_id: int | None
    confirmed_by_id: int | None
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    due_at: dt.datetime | None
    cancelled_at: dt.datetime | None
    done_at: dt.datetime | None
    counts: dict[str, int]


class PrivacySettingsOut(Schema):
    erasure_grace_days: int


class PrivacySettingsPatch(Input):
    erasure_grace_days: int | None = Field(None, ge=0, le=90,
                                           description="Days between a confirmed erasure and the erasure")


class RetentionPolicyOut(Schema):
    kind: str
    channel_id: int | None
    days: int


class RetentionPolicyIn(Input):
    kind: RetentionKind
    days: int | None = Field(None, ge=1, le=36500, description="Keep this many days; null removes the policy")
    channel_id: Id | None = Field(None, description="A channel's own policy, replacing the workspace's")


class RetentionDryRunOut(Schema):
    would_delete: dict[str, int] = Field(description="Rows a run now would delete, by kind")
