"""Every Redis key Reachable uses, in one place: read this file to see the whole data model.

Keys of one thread share the hash tag ``{thread-id}`` so that a Lua script touching them runs on
Redis Cluster too.

Every key either expires or stays small (see :mod:`bridge.store.retention` and
:mod:`bridge.ops.maintenance`). What one mention adds, mirrored to a Slack channel and a Telegram
group and answered from Slack (measured with ``MEMORY USAGE``: ``make bench``, scenario
``footprint``), and how long each kind is kept with the default ``retention`` of the config:

==============================  =========================  ====================  ===============
key (after the prefix)          written by                 one mention adds      kept
==============================  =========================  ====================  ===============
stream:mentions                 poller                     1 entry, 450 B        1 d once
stream:outbox                   router, mirror, publisher  6 entries, 900 B      acknowledged by
stream:actions                  reply desk                 1 entry, 380 B        every group
stream:timers                   timekeeper                 (timers due)          (streams)
<stream>:dead                   stage runner               (failures)            180 d (threads)
<stream>:deferrals:<group>      stage runner               (deferrals)           while pending
stream:dropped                  router                     (dropped ones)        30 d (dropped)
audit                           desks, router              2 entries, 600 B      400 d (audit)
thread:{id}                     router, threads            730 B                 open: always;
thread:{id}:mentions            router                     700 B                 closed: 180 d
thread:{id}:mirrors             mirror                     450 B                 from closing
thread:{id}:roots               router, supervision        150 B                 (threads), all
thread:{id}:shown               mirror, Telegram staff     350 B                 together
mirror-msg:<chat>:<where>:<id>  mirror, Telegram staff     2 keys, 320 B         as its thread
threads                         router                     1 member, 45 B        as its thread
threads:open                    router, threads            1 member while open   while open
timers                          router, supervision        1 member, 50 B        until due
effect:<effect key>             every stage                8 keys, 2.2 KB        7 d once done
                                                                                 (effects);
                                                                                 unfinished 180 d
seen:<chat>:<id>, seen:once:…   listeners, reply desk      1 key, 90 B           2 d
draft:<id>                      Telegram staff             (replies written)     1 d
arrivals:<destination>          router                     1 member              2 min
folded:<destination>            mirror                     (bursts)              until digested
digest:<destination>:<window>   mirror                     (bursts)              7 d
pace, lease, lock, takeover,    their owners               —                     seconds to
alerted, link-attempt                                                            hours
cursor, own-cursor, account-id  poller                     —                     one per account
linked…, migrated:…, count:…,   vault, chats, stages       —                     one per person,
histogram:…, migrated-data:…                                                     chat, counter
maintenance:walk, :memory       upkeep                     —                     one; 336 readings
==============================  =========================  ====================  ===============

Each stream has one writer module, which also reads its entries back: the outbox
:mod:`bridge.store.outbox`, the mentions :mod:`bridge.store.mentions`, the actions
:mod:`bridge.store.actions`, the timers :mod:`bridge.store.timers`, the audit and the dropped
mentions :mod:`bridge.store.audit_log`, a chat's inbound updates
:mod:`bridge.pipeline.inbound`, dead letters the stage runner. Effect keys are named in
:mod:`bridge.store.effects`.

Together about 7.5 KB and 16 keys, none without an expiry or a bound: 2.7 KB is kept for 180
days after the answer, 2.2 KB for a week, 1.7 KB of stream entries for a day, the audit
entries for 400 days.
"""

from __future__ import annotations

from dataclasses import dataclass

MENTIONS_GROUP = "router"
OUTBOX_GROUP = "mirror"
ACTIONS_GROUP = "publisher"
SUPERVISION_GROUP = "supervision"
INBOUND_GROUP = "listener"


def dead_letters(stream: str) -> str:
    """Stream: entries of ``stream`` that failed too often, parked for people to look at."""
    return f"{stream}:dead"


def deferrals(stream: str, group: str) -> str:
    """Hash: per pending entry of ``stream`` in ``group``, deliveries that ended deferred."""
    return f"{stream}:deferrals:{group}"


@dataclass(frozen=True)
class Keys:
    prefix: str = "reachable"

    # -- streams between stages ------------------------------------------------------------------
    @property
    def mentions_stream(self) -> str:
        """Pollers XADD each new mention here; the router reads it."""
        return f"{self.prefix}:stream:mentions"

    @property
    def outbox_stream(self) -> str:
        """The router XADDs one entry per (mention, destination); the chat mirror reads it."""
        return f"{self.prefix}:stream:outbox"

    @property
    def actions_stream(self) -> str:
        """Staff actions to carry out (replies to publish); the publisher reads it."""
        return f"{self.prefix}:stream:actions"

    @property
    def timers_stream(self) -> str:
        """Due timers (escalations, reminders), moved here from ``timers`` by the timekeeper."""
        return f"{self.prefix}:stream:timers"

    def inbound_stream(self, chat: str) -> str:
        """Updates a chat delivered (Telegram's, by webhook or ``getUpdates``), added before the
        chat is told they arrived; the chat's listeners read it (group ``listener``). Bounded:
        a handled entry is deleted, so it holds only what waits, and a full stream
        (``bridge.pipeline.inbound.INBOUND_LIMIT``) takes no more until it drains (the chat keeps
        them)."""
        return f"{self.prefix}:stream:inbound:{chat}"

    @property
    def timers(self) -> str:
        """Sorted set: timer name (``kind|thread|step``) -> when it is due (epoch ms)."""
        return f"{self.prefix}:timers"

    @property
    def dropped_stream(self) -> str:
        """Mentions a rule dropped (spam), with the rule: counted, listable, replayable."""
        return f"{self.prefix}:stream:dropped"

    @property
    def audit_stream(self) -> str:
        """Every attempt to act (allowed or refused): who, where, as whom, what, outcome."""
        return f"{self.prefix}:audit"

    # -- polling ---------------------------------------------------------------------------------
    def cursor(self, network: str, account: str) -> str:
        """The newest mention id already in the stream (X ``since_id``)."""
        return f"{self.prefix}:cursor:{network}:{account}"

    def own_cursor(self, network: str, account: str) -> str:
        """The newest of the account's own posts already looked at (answers made directly)."""
        return f"{self.prefix}:own-cursor:{network}:{account}"

    def poll_lease(self, network: str, account: str) -> str:
        """Held (SET NX PX) by the one poller process polling this account right now."""
        return f"{self.prefix}:lease:poll:{network}:{account}"

    def platform_user_id(self, network: str, account: str) -> str:
        """The account's numeric id on the network, looked up once from its handle."""
        return f"{self.prefix}:account-id:{network}:{account}"

    # -- threads and mirrors ---------------------------------------------------------------------
    def thread(self, thread_id: str) -> str:
        """Hash: the thread's fields (status, route, priority, sla_deadline, ...)."""
        return f"{self.prefix}:thread:{{{thread_id}}}"

    def thread_mentions(self, thread_id: str) -> str:
        """Hash: mention id -> mention JSON, every mention that joined the thread."""
        return f"{self.prefix}:thread:{{{thread_id}}}:mentions"

    def thread_mirrors(self, thread_id: str) -> str:
        """Hash: destination -> MirrorRef JSON of the thread's first message there."""
        return f"{self.prefix}:thread:{{{thread_id}}}:mirrors"

    def thread_roots(self, thread_id: str) -> str:
        """Hash: destination -> id of the mention that opens the thread in that destination."""
        return f"{self.prefix}:thread:{{{thread_id}}}:roots"

    def thread_shown(self, thread_id: str) -> str:
        """Set: the ``mirror_message`` keys of the thread's chat messages, so that they are
        kept and expired with the thread."""
        return f"{self.prefix}:thread:{{{thread_id}}}:shown"

    def thread_keys(self, thread_id: str) -> list[str]:
        """Every key of one thread (one hash slot): they live and expire together."""
        return [
            self.thread(thread_id),
            self.thread_mentions(thread_id),
            self.thread_mirrors(thread_id),
            self.thread_roots(thread_id),
            self.thread_shown(thread_id),
        ]

    @property
    def open_threads(self) -> str:
        """Sorted set of open or claimed thread ids by creation time: the unanswered list."""
        return f"{self.prefix}:threads:open"

    @property
    def threads_by_time(self) -> str:
        """Sorted set of thread ids by creation time (listing, reports)."""
        return f"{self.prefix}:threads"

    # -- effects ---------------------------------------------------------------------------------
    def effect(self, effect_key: str) -> str:
        """Hash: state (pending|doing|done|failed), attempt (sends begun), at, result, error;
        ``part:N`` the message id of step N of an effect posted as several messages (a chat
        that cuts a long post into parts; step 0 is the first), recorded as each goes out."""
        return f"{self.prefix}:effect:{effect_key}"

    # -- personal accounts -----------------------------------------------------------------------
    def linked_account(self, person: str, network: str) -> str:
        """Hash {account: LinkedAccount JSON, sealed: the Fernet-encrypted credentials}."""
        return f"{self.prefix}:linked:{network}:{person}"

    def linked_people(self, network: str) -> str:
        """Set of the people who linked an account on ``network``."""
        return f"{self.prefix}:linked:{network}"

    def linked_owner(self, network: str, user_id: str) -> str:
        """The person an account on ``network`` (by its id there) is linked to: one at most."""
        return f"{self.prefix}:linked-owner:{network}:{user_id}"

    def linked_cursor(self, network: str, person: str) -> str:
        """The newest post of the person's linked account already looked at for answers."""
        return f"{self.prefix}:own-cursor:{network}:person:{person}"

    def refresh_lock(self, person: str, network: str) -> str:
        """Held while one process refreshes the person's token (refresh tokens work once)."""
        return f"{self.prefix}:lock:refresh:{network}:{person}"

    def link_attempt(self, ticket: str) -> str:
        """A link in progress (a start page's token, an OAuth ``state`` or a PIN request),
        sealed, single-use, expiring."""
        return f"{self.prefix}:link-attempt:{ticket}"

    # -- configuration ---------------------------------------------------------------------------
    @property
    def config_reload_channel(self) -> str:
        """Pub/sub channel: a message asks every process to reload its config file."""
        return f"{self.prefix}:config-reload"

    # -- chat platforms --------------------------------------------------------------------------
    def mirror_message(self, chat: str, channel: str, message_id: str) -> str:
        """Hash {thread, mention}: which mention a chat message shows, so that staff can answer
        by replying to it."""
        return f"{self.prefix}:mirror-msg:{chat}:{channel}:{message_id}"

    def takeover_intent(self, thread_id: str, person: str) -> str:
        """Set for a minute when a person presses Claim on someone else's claim: pressing again
        while it lives is the confirmation that takes the thread over."""
        return f"{self.prefix}:takeover:{{{thread_id}}}:{person}"

    def draft(self, draft_id: str) -> str:
        """A reply written in chat and previewed, waiting for its author to send or cancel it."""
        return f"{self.prefix}:draft:{draft_id}"

    def send_pace(self, chat: str, channel: str) -> str:
        """The earliest time (ms) the next message may go to this channel, shared by processes;
        channel ``*`` paces the whole bot."""
        return f"{self.prefix}:pace:{chat}:{channel}"

    def answers(self, chat: str, channel: str) -> str:
        """List of the bot's answers waiting to be sent to this chat or group, oldest first
        (JSON each); at most ``bridge.pipeline.answers.ANSWERS_LIMIT``, gone a day after the last
        one queued."""
        return f"{self.prefix}:answers:{chat}:{channel}"

    def answers_waiting(self, chat: str) -> str:
        """Set of the channels with answers waiting; expires a day after the last one added."""
        return f"{self.prefix}:answers:{chat}"

    def answers_lease(self, chat: str, channel: str) -> str:
        """Held (SET NX PX, renewed) by the one process sending this channel's answers, so
        they go out in order."""
        return f"{self.prefix}:lease:answers:{chat}:{channel}"

    def arrivals(self, destination: str) -> str:
        """Sorted set of the mentions queued for a destination in the last minute (scored by
        when), from which the mirror sees a burst coming."""
        return f"{self.prefix}:arrivals:{destination}"

    def folded(self, destination: str) -> str:
        """List of the mentions folded in a destination since its last digest (JSON each)."""
        return f"{self.prefix}:folded:{destination}"

    def digest(self, destination: str, window: str) -> str:
        """The folded mentions one digest took, kept until it is posted (a retry posts the
        same ones)."""
        return f"{self.prefix}:digest:{destination}:{window}"

    def seen_event(self, chat: str, event_id: str) -> str:
        """Set when a chat event (Slack event_id, Telegram update_id) was handled; kept two
        days."""
        return f"{self.prefix}:seen:{chat}:{event_id}"

    def seen_interaction(self, chat: str, identity: str) -> str:
        """Set just before a person's action is carried out (Slack: kept an hour, Telegram: two
        days), under what is the same in any replay or retry of it: ``trigger:<id>`` (Slack
        buttons, forms, commands, shortcuts), ``callback:<id>`` (a Telegram button press),
        ``message:<chat>:<id>`` (a Telegram command), ``body:<sha256>`` (a Slack request with
        no trigger_id)."""
        return f"{self.prefix}:seen:{chat}:interaction:{identity}"

    def stranger_quiet(self, chat: str, where: str) -> str:
        """Set for a minute after someone not in ``people`` was answered in this channel or
        group: until it expires, strangers there are counted, not answered."""
        return f"{self.prefix}:audit:strangers:{{{chat}:{where}}}:quiet"

    def stranger_count(self, chat: str, where: str) -> str:
        """How many requests of strangers in this channel or group were refused since the last
        audit entry about them; the next entry carries the number."""
        return f"{self.prefix}:audit:strangers:{{{chat}:{where}}}:count"

    def chat_migration(self, chat: str, address: str) -> str:
        """The chat a configured one became (a Telegram group upgraded to a supergroup)."""
        return f"{self.prefix}:migrated:{chat}:{address}"

    def alert_sent(self, subject: str) -> str:
        """Set while an alert about ``subject`` is fresh, so admins hear of a problem once."""
        return f"{self.prefix}:alerted:{subject}"

    def histogram(self, name: str) -> str:
        """Hash of a histogram's buckets (``le_<bound>``), ``count`` and ``sum``."""
        return f"{self.prefix}:histogram:{name}"

    # -- upkeep ----------------------------------------------------------------------------------
    @property
    def maintenance_lease(self) -> str:
        """Held (SET NX PX) by the one process doing the upkeep (trims, sweeps) right now."""
        return f"{self.prefix}:lease:maintenance"

    @property
    def maintenance_walk(self) -> str:
        """Where the upkeep's walk over every key stands (a SCAN cursor), so that the process
        taking over the lease goes on from there."""
        return f"{self.prefix}:maintenance:walk"

    @property
    def memory_samples(self) -> str:
        """List, newest first, capped: ``<epoch ms> <used_memory>`` readings of Redis, one an
        hour, from which ``reachable doctor`` tells the growth per day."""
        return f"{self.prefix}:maintenance:memory"

    def migration(self, name: str) -> str:
        """Set once a one-off data upgrade has run."""
        return f"{self.prefix}:migrated-data:{name}"

    def counter(self, name: str) -> str:
        return f"{self.prefix}:count:{name}"
