"""Burst folding: when mentions come faster than a destination can show them one by one.

Slack takes about one message a second per channel, a Telegram group twenty a minute. A viral
post can bring thousands of mentions in a minute; queued singly, the last would show an hour
later. So the router notes each mention queued for a destination in a one-minute window, and
when more arrived than the destination's threshold, the mirror *folds* new ones instead of
posting them: each goes on the destination's folded list, and a timer, one per window of
``digest_every``, posts a digest (how many, a sample, how to list and answer them).

A folded mention keeps everything else: its thread is open, in the unanswered list and the
reports, and ``show <ref>`` posts it singly with its buttons, where it can be answered.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from bridge.config import BurstConfig
from bridge.domain.models import Mention
from bridge.text import messages

ARRIVAL_WINDOW_MS = 60_000
# Half of what the platform lets us post: the rest is for digests, notices and redraws.
DEFAULT_SHARE = 0.5
DIGEST_MAX = 10_000
PREVIEW = 80
PRIORITY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# Move what is folded onto the digest's own list, once: a retried digest finds its list and
# posts the same mentions; a later window's digest finds nothing left and posts nothing.
# Lua's unpack() fails beyond about 8,000 values, so the items move in chunks.
UNPACK_CHUNK = 1000
TAKE_FOLDED = f"""
if redis.call('EXISTS', KEYS[2]) == 1 then return redis.call('LRANGE', KEYS[2], 0, -1) end
local items = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #items == 0 then return items end
for first = 1, #items, {UNPACK_CHUNK} do
  redis.call('RPUSH', KEYS[2], unpack(items, first, math.min(first + {UNPACK_CHUNK - 1}, #items)))
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('LTRIM', KEYS[1], #items, -1)
return items
"""


@dataclass(frozen=True)
class FoldedMention:
    """What a digest shows of one folded mention, so it needs no further reads."""

    thread: str
    mention: str
    priority: str
    author: str
    text: str
    at: str
    # The kinds of its attachments: a post of only photos is quoted by what it holds.
    media: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> FoldedMention:
        """Reads what any version folded: a field it does not know (one added later, read by
        a process not yet upgraded) is left out, one it lacks keeps its default."""
        data = json.loads(raw)
        known = {f.name for f in fields(cls)} - {"media"}
        return cls(
            **{k: v for k, v in data.items() if k in known},
            media=tuple(str(kind) for kind in data.get("media") or ()),
        )

    def quoted(self) -> str:
        """Its text as a digest quotes it, inert."""
        return messages.quoted_post(self.text, self.media)

    @classmethod
    def of(cls, mention: Mention, *, thread_id: str, priority: str, at: datetime) -> FoldedMention:
        return cls(
            thread=thread_id,
            mention=mention.id,
            priority=priority,
            author=mention.author.handle if mention.author else "",
            text=preview(mention.text),
            at=at.isoformat(),
            media=tuple(item.kind for item in mention.media),
        )


def preview(text: str, limit: int = PREVIEW) -> str:
    """One line of a public text, shortened; shown through ``repr`` it stays inert."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def fold_threshold(bursts: BurstConfig, channel_interval_s: float) -> int | None:
    """Mentions a minute above which a destination folds; None when it never does."""
    if not bursts.fold:
        return None
    if bursts.fold_above is not None:
        return bursts.fold_above
    if channel_interval_s <= 0:
        return None  # an unpaced channel takes whatever comes
    return max(1, int(60 / channel_interval_s * DEFAULT_SHARE))


def digest_window(now: datetime, every: timedelta) -> int:
    """When the digest of the window ``now`` falls in is due (epoch ms): windows are aligned,
    so every mention folded in one gets the same timer."""
    every_ms = max(int(every.total_seconds() * 1000), 1)
    return math.ceil(now.timestamp() * 1000 / every_ms) * every_ms


def digest_timer(destination: str, window_ms: int) -> str:
    """The timer's name, in the supervision stage's ``kind|subject|round.step`` form."""
    return f"digest|{destination}|0.{window_ms}"


def sample(items: list[FoldedMention], size: int) -> list[FoldedMention]:
    """The most urgent first, then the oldest."""
    ranked = sorted(items, key=lambda item: (PRIORITY_RANK.get(item.priority, 2), item.at))
    return ranked[:size]
