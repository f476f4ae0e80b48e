"""What one mention costs Redis: the keys and bytes it adds once it is mirrored to a Slack
channel and a Telegram group and answered from Slack, by kind of key, with each kind's lifetime.

Measured with ``MEMORY USAGE`` (exact: ``SAMPLES 0``) on every key of the deployment before
and after, so a key that grew (a stream, a sorted set) counts by its growth.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from benchmarks.harness import CHANNEL, GROUP, PREFIX, Bench

Result = dict[str, Any]

CONFIG = """
accounts:
  - {{key: humas, handle: humas_demo, poll_every: {poll}, backfill: 1}}
destinations:
  desk: {{chat: slack, channel: {channel}}}
  group: {{chat: telegram, chat_id: -1001000000042}}
people:
  - {{key: rina, slack: U0RINA, telegram: 1001, speaks_for: [humas]}}
routes:
  - {{name: everything, to: [desk, group], sla: 4h}}
"""
STAGE_STREAMS = ("mentions", "outbox", "actions", "timers")
ANSWER = "Terima kasih, sudah kami teruskan."


@dataclass(frozen=True)
class KeyFacts:
    kind: str
    bytes: int
    # Milliseconds left, or -1 for none.
    ttl_ms: int
    # A stream's entries, and what one of its entries takes (measured on copies: a stream
    # grows by whole 4 KB blocks, so a few entries say nothing by themselves).
    entries: int = 0
    entry_bytes: float = 0.0


def key_kind(name: str) -> str:
    """A key's kind, its ids left out: ``thread:{…}:mentions``, ``effect:mirror:…``."""
    rest = name.removeprefix(f"{PREFIX}:")
    rest = re.sub(r"\{[^}]*\}", "{…}", rest)
    head, _, tail = rest.partition(":")
    if head in ("effect", "mirror-msg", "seen") and tail:
        return f"{head}:{tail.split(':', 1)[0]}:…"
    if head in ("draft", "link-attempt"):
        return f"{head}:…"
    return re.sub(r"[0-9a-f]{12,}|-?\d{4,}", "…", rest)


def snapshot(url: str) -> dict[str, KeyFacts]:
    found: dict[str, KeyFacts] = {}
    with redis.Redis.from_url(url, decode_responses=True) as client:
        names = sorted(client.scan_iter(match=f"{PREFIX}:*", count=1000))
        with client.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.memory_usage(name, samples=0)
                pipe.pttl(name)
                pipe.type(name)
            replies = pipe.execute()
        for index, name in enumerate(names):
            size, ttl, kind = replies[3 * index : 3 * index + 3]
            if size is None:
                continue
            entries, entry_bytes = stream_entries(client, name) if kind == "stream" else (0, 0.0)
            found[name] = KeyFacts(key_kind(name), int(size), int(ttl), entries, entry_bytes)
    return found


def stream_entries(client: redis.Redis, name: str, copies: int = 2000) -> tuple[int, float]:
    """How many entries a stream has, and the bytes one of its last entries takes: measured
    on a scratch stream of ``copies`` of them."""
    last = client.xrevrange(name, count=5)
    if not last:
        return 0, 0.0
    scratch = f"{PREFIX}-scratch"
    with client.pipeline(transaction=False) as pipe:
        for n in range(copies):
            pipe.xadd(scratch, last[n % len(last)][1])
        pipe.execute()
    size = int(client.memory_usage(scratch, samples=0) or 0)
    client.delete(scratch)
    return int(client.xlen(name)), size / copies


def settled(url: str) -> bool:
    """Every stage's stream read and acknowledged by every group."""
    with redis.Redis.from_url(url, decode_responses=True) as client:
        for stream in STAGE_STREAMS:
            key = f"{PREFIX}:stream:{stream}"
            if not client.exists(key):
                continue
            for group in client.xinfo_groups(key):
                if group["pending"] or group.get("lag"):
                    return False
    return True


def wait_until(predicate: Any, *, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise TimeoutError(f"no {what} after {timeout_s} s")


def lifetime(ttl_ms: int) -> str:
    if ttl_ms < 0:
        return "none"
    seconds = round(ttl_ms / 1000)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds}s"


def mirror_and_answer(bench: Bench, tag: str) -> None:
    """A member of the public mentions the institution; the mention appears in Slack and
    Telegram; Rina answers it from Slack as the institution; both mirrors say so."""
    http, slack = bench.http, bench.slack_url
    telegram = bench.servers[2].url
    slack_before = len(bench.slack_messages())
    telegram_before = len(_telegram_messages(bench, telegram))
    bench.post_mentions(1, tag=tag)
    message = wait_until(
        lambda: len(bench.slack_messages()) > slack_before and bench.slack_messages()[-1],
        timeout_s=60,
        what="Slack message",
    )
    wait_until(
        lambda: len(_telegram_messages(bench, telegram)) > telegram_before,
        timeout_s=60,
        what="Telegram message",
    )
    clicked = http.post(
        f"{slack}/_emulator/click",
        json={
            "user": "U0RINA",
            "channel": CHANNEL,
            "ts": message["ts"],
            "action_id": "reply_institution",
        },
    )
    clicked.raise_for_status()
    view = wait_until(
        lambda: http.get(f"{slack}/_emulator/views", params={"user": "U0RINA"}).json()["views"],
        timeout_s=30,
        what="reply form",
    )[-1]
    submitted = http.post(
        f"{slack}/_emulator/submit",
        json={"user": "U0RINA", "view_id": view["id"], "text": f"{ANSWER} ({tag})"},
    )
    submitted.raise_for_status()
    wait_until(
        lambda: (
            any(
                "Answered by rina" in str(m.get("text", ""))
                for m in _telegram_messages(bench, telegram)
            )
            and "Answered by rina" in str(bench.slack_messages()[slack_before]["blocks"])
        ),
        timeout_s=60,
        what="both mirrors showing the answer",
    )
    wait_until(lambda: settled(bench.redis.url), timeout_s=60, what="stages at rest")
    time.sleep(2)  # the reply notice's record, the last redraws


def _telegram_messages(bench: Bench, url: str) -> list[dict[str, Any]]:
    response = bench.http.get(f"{url}/_emulator/messages", params={"chat_id": GROUP})
    return list(response.json()["messages"])


def footprint(workdir: Path, mentions: int = 3) -> Result:
    """``mentions`` mentions, each mirrored to two chats and answered: the keys and bytes each
    adds on average, by kind, and how long each kind is kept."""
    bench = Bench(workdir, poll="1s", config=CONFIG)
    try:
        bench.start()
        mirror_and_answer(bench, "warm-up")  # cursors, groups, counters: there once for all
        before = snapshot(bench.redis.url)
        used_before = int(bench.redis_info("memory")["used_memory"])
        for n in range(mentions):
            mirror_and_answer(bench, f"measured-{n}")
        after = snapshot(bench.redis.url)
        used_after = int(bench.redis_info("memory")["used_memory"])
        table = by_kind(before, after, per=mentions)
        added = set(after) - set(before)
        return {
            "mentions": mentions,
            "keys_per_mention": round(len(added) / mentions, 1),
            "keys_without_ttl_per_mention": round(
                sum(1 for name in added if after[name].ttl_ms < 0) / mentions, 1
            ),
            "bytes_per_mention": round(sum(row["bytes"] for row in table.values())),
            "used_memory_per_mention": round((used_after - used_before) / mentions),
            "by_kind": table,
        }
    finally:
        bench.close()


def by_kind(
    before: dict[str, KeyFacts], after: dict[str, KeyFacts], *, per: int
) -> dict[str, dict[str, Any]]:
    """Per kind of key: keys added, bytes added (a stream's by its entries) and lifetimes."""
    kinds: dict[str, dict[str, Any]] = {}
    for name, facts in after.items():
        old = before.get(name)
        if facts.entries:
            added_entries = facts.entries - (old.entries if old else 0)
            grew = round(added_entries * facts.entry_bytes)
        else:
            added_entries, grew = 0, facts.bytes - (old.bytes if old else 0)
        if old is not None and grew == 0:
            continue
        row = kinds.setdefault(facts.kind, {"keys": 0, "entries": 0, "bytes": 0, "lifetime": set()})
        row["keys"] += old is None
        row["entries"] += added_entries
        row["bytes"] += grew
        row["lifetime"].add(lifetime(facts.ttl_ms))
    return {
        kind: {
            "keys": round(row["keys"] / per, 1),
            "entries": round(row["entries"] / per, 1),
            "bytes": round(row["bytes"] / per),
            "lifetime": ", ".join(sorted(row["lifetime"])),
        }
        for kind, row in sorted(kinds.items())
    }
