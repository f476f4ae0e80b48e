"""Redis does not grow without bound, end to end: a mention mirrored to Slack and Telegram and
answered from Slack leaves nothing in Redis that neither expires nor stays small, and once its
retention has passed the answered thread is gone, while an open one stays and still works."""

from __future__ import annotations

import re

import redis

from bridge.domain.models import thread_id_for
from tests.e2e.conftest import CONFIG, Deployment, wait_for
from tests.e2e.test_mentions_to_slack import settle, settle_telegram
from tests.e2e.test_replies import open_reply_form, replies_on_x, submit

# Keys that carry no expiry because they stay small by themselves: the streams (trimmed by
# the upkeep), the lists of threads by time and of open ones (swept, or left by each thread
# as it closes), pending timers (each leaves when due), one value per account, counter or
# upgrade, and the upkeep's own bookkeeping (its readings of Redis's memory are capped).
BOUNDED = re.compile(
    r"^e2e:("
    r"stream:(mentions|outbox|actions|timers|dropped)(:dead|:deferrals:[a-z]+)?|audit"
    # A chat's inbound stream holds only what waits (handled entries are deleted) and takes
    # no more at its limit (bridge.pipeline.inbound.INBOUND_LIMIT).
    r"|stream:inbound:[a-z]+"
    r"|threads|threads:open|timers"
    r"|(cursor|own-cursor|account-id|count|histogram|migrated-data):.+"
    r"|maintenance:(walk|memory)"
    r")$"
)
DAY_S = 86400


def without_expiry(client: redis.Redis, keys: list[str]) -> list[str]:
    return sorted(key for key in keys if client.pttl(key) == -1)


def test_an_answered_mention_leaves_nothing_unbounded_and_goes_after_its_retention(
    deployment: Deployment,
) -> None:
    emulators = deployment.emulators
    # Retention in seconds rather than days: each day of it lasts two seconds, so the answered
    # thread is kept 30 s, its records of posts 2 s.
    deployment.config.write_text(CONFIG + "retention: {threads: 15d, effects: 1d}\n")
    deployment.env["REACHABLE_RETENTION_SCALE"] = str(2 / DAY_S)
    # The platforms' rate limits on, and the bridge paced as in production.
    emulators.slack.rate_limits = emulators.telegram.rate_limits = True
    deployment.env["REACHABLE_SLACK_CHANNEL_INTERVAL_S"] = "1.0"
    deployment.env["REACHABLE_TELEGRAM_GROUP_INTERVAL_S"] = "3.0"
    deployment.start()
    answered = emulators.post("warga_budi", "@humas_demo jalan rusak di depan pasar")
    waiting = emulators.post("warga_sari", "@humas_demo apakah kantor buka hari sabtu?")
    first = next(m for m in settle(deployment, 2) if "jalan rusak" in str(m["blocks"]))
    settle_telegram(deployment, 2)

    view = open_reply_form(emulators, "U0RINA", first)
    submit(emulators, "U0RINA", view, "Terima kasih, sudah kami teruskan ke dinas terkait.")
    wait_for(lambda: replies_on_x(emulators), what="the reply on X")
    wait_for(
        lambda: (
            "Answered by rina" in str(emulators.messages()[0]["blocks"])
            and any("Answered by rina" in m["text"] for m in emulators.telegram_messages())
        ),
        what="both mirrors showing the answer",
    )

    closed = thread_id_for(network="x", account="humas", conversation_id=answered["id"])
    still_open = thread_id_for(network="x", account="humas", conversation_id=waiting["id"])
    with redis.Redis.from_url(deployment.env["REACHABLE_REDIS_URL"], decode_responses=True) as db:
        keys = [str(key) for key in db.scan_iter(match="e2e:*", count=1000)]
        open_keys = [key for key in keys if still_open in key] + [
            str(key) for key in db.smembers(f"e2e:thread:{{{still_open}}}:shown")
        ]
        unbounded = [
            key
            for key in without_expiry(db, keys)
            if not BOUNDED.match(key) and key not in open_keys
        ]
        assert unbounded == []
        closed_keys = [key for key in keys if closed in key]
        assert len(closed_keys) >= 5 and without_expiry(db, closed_keys) == []
        assert len(open_keys) == 7 and without_expiry(db, open_keys) == sorted(open_keys)

        wait_for(
            lambda: not db.exists(f"e2e:thread:{{{closed}}}"),
            timeout=90,
            what="the answered thread to go after its retention",
        )
        wait_for(
            lambda: closed not in db.zrange("e2e:threads", 0, -1),
            timeout=30,
            what="the upkeep to take it off the list of threads",
        )
        assert [key for key in db.scan_iter(match="e2e:*") if closed in str(key)] == []
        assert without_expiry(db, open_keys) == sorted(open_keys)

    # The open one still answers to its buttons.
    waiting_message = next(m for m in emulators.messages() if "kantor buka" in str(m["blocks"]))
    emulators.click("U0SARI", waiting_message["ts"], "claim")
    wait_for(
        lambda: (
            "sari is on it"
            in str(next(m for m in emulators.messages() if "kantor buka" in str(m["blocks"])))
        ),
        what="Slack showing Sari's claim",
    )
