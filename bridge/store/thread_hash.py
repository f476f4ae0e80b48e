"""A thread's hash (``Keys.thread``): how its fields are written and read back."""

from __future__ import annotations

from datetime import datetime, timedelta

from bridge.domain.models import Thread, ThreadStatus


def thread_fields(thread: Thread) -> dict[str, str | int]:
    """The fields a new thread starts with (``status`` open and ``mention_count`` 1 are added
    by the step that creates it)."""
    return {
        "id": thread.id,
        "network": thread.network,
        "account": thread.account,
        "conversation_id": thread.conversation_id,
        "route": thread.route,
        "priority": thread.priority,
        "tags": ",".join(thread.tags),
        "created_at": thread.created_at.isoformat(),
        "sla_deadline": thread.sla_deadline.isoformat() if thread.sla_deadline else "",
        "sla_s": int(thread.sla.total_seconds()) if thread.sla else "",
    }


def thread_from(data: dict[str, str]) -> Thread | None:
    if not data:
        return None
    return Thread(
        id=data["id"],
        network=data["network"],
        account=data["account"],
        conversation_id=data["conversation_id"],
        status=ThreadStatus(data["status"]),
        route=data["route"],
        priority=data["priority"],
        tags=tuple(t for t in data.get("tags", "").split(",") if t),
        sla_round=int(data.get("sla_round") or 0),
        sla=timedelta(seconds=int(data["sla_s"])) if data.get("sla_s") else None,
        sla_deadline=datetime.fromisoformat(data["sla_deadline"])
        if data.get("sla_deadline")
        else None,
        created_at=datetime.fromisoformat(data["created_at"]),
        mention_count=int(data.get("mention_count", 1)),
        status_by=data.get("status_by") or None,
        status_at=datetime.fromisoformat(data["status_at"]) if data.get("status_at") else None,
        status_note=data.get("status_note") or None,
        version=int(data.get("version", 0)),
        answered_as=data.get("answered_as") or None,
        answered_url=data.get("answered_url") or None,
        first_response_at=datetime.fromisoformat(data["first_response_at"])
        if data.get("first_response_at")
        else None,
        first_response_by=data.get("first_response_by") or None,
        first_response_as=data.get("first_response_as") or None,
        folded=int(data.get("folded") or 0),
    )
