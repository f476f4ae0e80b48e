"""Which route a mention takes, and why: rules top to bottom, first match wins unless ``continue``.

:func:`decide` returns a :class:`Decision` that carries, besides the outcome, every condition of
every rule it looked at and whether it held, so that ``reachable rules test`` and ``/route`` can
show an admin exactly why a mention went where it went.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bridge.domain.language import language_of, normalise_lang
from bridge.domain.models import Mention
from bridge.domain.rules import DEFAULT_SLA, Calendar, RouteConfig, RouteMatch, compiled
from bridge.text.i18n import _, stamp

PRIORITY_ORDER = ("low", "normal", "high", "urgent")
HASH_SIGNS = "#\uff03"  # X also takes the full-width sign
_HASHTAG = re.compile(rf"(?<![\w&])[{HASH_SIGNS}](\w+)")

__all__ = ["Decision", "decide", "normalise_lang"]


class Rules(Protocol):
    """What routing reads of the config (``bridge.config.Config`` is one)."""

    @property
    def routes(self) -> Sequence[RouteConfig]: ...

    @property
    def lists(self) -> Mapping[str, Sequence[str]]: ...

    @property
    def calendars(self) -> Mapping[str, Calendar]: ...

    @property
    def detect_languages(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Check:
    """One condition of one rule: what it asks, what the mention had, and whether it held."""

    condition: str
    found: str
    held: bool


@dataclass(frozen=True)
class RuleTrace:
    rule: RouteConfig
    checks: tuple[Check, ...]

    @property
    def matched(self) -> bool:
        return all(check.held for check in self.checks)


@dataclass(frozen=True)
class Decision:
    """Where a mention goes: the rules that matched, in order, and the trace of all tried."""

    matched: tuple[RouteConfig, ...]
    trace: tuple[RuleTrace, ...]

    @property
    def dropped(self) -> bool:
        return any(rule.drop for rule in self.matched)

    @property
    def route(self) -> str:
        """The name of the rule that ended the evaluation."""
        return self.matched[-1].name

    @property
    def destinations(self) -> list[str]:
        if self.dropped:
            return []
        seen: dict[str, None] = {}
        for rule in self.matched:
            seen.update(dict.fromkeys(rule.to))
        return list(seen)

    @property
    def priority(self) -> str:
        given = [rule.priority for rule in self.matched if rule.priority]
        return max(given, key=PRIORITY_ORDER.index, default="normal")

    @property
    def sla(self) -> timedelta:
        """The strictest SLA any matching rule sets."""
        return min((rule.sla for rule in self.matched if rule.sla), default=DEFAULT_SLA)

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tag for rule in self.matched for tag in rule.tags))


def fold(text: str) -> str:
    """Case- and accent-insensitive form: 'Keluhán' and 'keluhan' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def has_phrase(folded_text: str, phrase: str) -> bool:
    """A whole word or phrase (any whitespace between its words) in already folded text."""
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in fold(phrase).split()) + r"(?!\w)"
    return re.search(pattern, folded_text) is not None


def decide(config: Rules, mention: Mention, *, now: datetime) -> Decision:
    """Route ``mention``; total, since config checks require a final catch-all."""
    facts = _Facts(config, mention, now)
    matched: list[RouteConfig] = []
    trace: list[RuleTrace] = []
    for rule in config.routes:
        checked = RuleTrace(rule, tuple(facts.checks(rule.match)))
        trace.append(checked)
        if checked.matched:
            matched.append(rule)
            if not rule.continue_ or rule.drop:
                break
    if not matched or matched[-1].continue_:
        # Only a config that skipped validation gets here; the last rule takes it, not the void.
        matched.append(config.routes[-1])
    return Decision(tuple(matched), tuple(trace))


class _Facts:
    """What the conditions look at, worked out once per mention."""

    def __init__(self, config: Rules, mention: Mention, now: datetime) -> None:
        self.config = config
        self.mention = mention
        self.moment = mention.created_at or now
        self.text = fold(mention.text)
        author = mention.author
        self.handle = (author.handle if author else "").casefold()
        self.verified = bool(author and author.verified)
        self.followers = (author.followers if author else None) or 0
        self._lang: str | None = None

    @property
    def lang(self) -> str:
        if self._lang is None:
            among = tuple(self.config.detect_languages)
            self._lang = language_of(self.mention.lang, self.mention.text, among=among)
        return self._lang

    def checks(self, match: RouteMatch) -> list[Check]:
        checks = []
        for field, value in match:
            if value is not None:
                found, held = CONDITIONS[field].test(value, self)
                checks.append(Check(describe(field, value), found, held))
        return checks

    def handles(self, value: str | list[str]) -> set[str]:
        handles = self.config.lists.get(value, []) if isinstance(value, str) else value
        return {h.lstrip("@").casefold() for h in handles}

    def local_time(self, calendar: str) -> str:
        zone = ZoneInfo(self.config.calendars[calendar].timezone)
        return stamp(self.moment.astimezone(zone))


Test = Callable[[Any, _Facts], tuple[str, bool]]


@dataclass(frozen=True)
class Condition:
    """How one ``match`` field reads to a person, and whether a mention meets it."""

    describe: Callable[[Any], str]
    test: Test


def _words(value: list[str], facts: _Facts) -> list[str]:
    return [w for w in value if has_phrase(facts.text, w)]


def _all_words(value: list[str], facts: _Facts) -> tuple[str, bool]:
    missing = [w for w in value if not has_phrase(facts.text, w)]
    found = _("missing {words}", words=", ".join(missing)) if missing else _("all there")
    return found, not missing


def _hashtags(value: list[str], facts: _Facts) -> tuple[str, bool]:
    tags = {fold(t) for t in _HASHTAG.findall(facts.mention.text)}
    hits = [t for t in value if fold(t.lstrip(HASH_SIGNS)) in tags]
    return _said(hits), bool(hits)


def _lang(value: list[str], facts: _Facts) -> tuple[str, bool]:
    held = facts.lang in {normalise_lang(code) for code in value}
    if normalise_lang(facts.mention.lang) == facts.lang:
        return facts.lang, held
    return _("{language} (detected)", language=facts.lang), held


def _in_calendar(name: str, facts: _Facts, *, inside: bool) -> tuple[str, bool]:
    held = facts.config.calendars[name].contains(facts.moment) == inside
    return facts.local_time(name), held


def _within(name: str, facts: _Facts) -> tuple[str, bool]:
    return _in_calendar(name, facts, inside=True)


def _outside(name: str, facts: _Facts) -> tuple[str, bool]:
    return _in_calendar(name, facts, inside=False)


def _flag(value: bool, actual: bool) -> tuple[str, bool]:
    """Whether the condition holds, so that "has no media: yes" means it has none."""
    held = actual == value
    return _yes(held), held


# The tests are named functions rather than lambdas so that mutation testing (`make mutate`),
# which alters functions only, reaches them.
def _account(value: list[str], facts: _Facts) -> tuple[str, bool]:
    return facts.mention.account, facts.mention.account in value


def _any_words(value: list[str], facts: _Facts) -> tuple[str, bool]:
    found = _words(value, facts)
    return _said(found), bool(found)


def _none_words(value: list[str], facts: _Facts) -> tuple[str, bool]:
    found = _words(value, facts)
    return _said(found), not found


def _regex(value: list[str], facts: _Facts) -> tuple[str, bool]:
    found = [p for p in value if compiled(p).search(facts.mention.text)]
    return _said(found), bool(found)


def _author_in(value: str | list[str], facts: _Facts) -> tuple[str, bool]:
    return f"@{facts.handle}", facts.handle in facts.handles(value)


def _author_not_in(value: str | list[str], facts: _Facts) -> tuple[str, bool]:
    return f"@{facts.handle}", facts.handle not in facts.handles(value)


def _verified(value: bool, facts: _Facts) -> tuple[str, bool]:
    return _flag(value, facts.verified)


def _followers(value: int, facts: _Facts) -> tuple[str, bool]:
    return str(facts.followers), facts.followers >= value


def _is_reply(value: bool, facts: _Facts) -> tuple[str, bool]:
    return _flag(value, facts.mention.conversation_id != facts.mention.id)


def _has_media(value: bool, facts: _Facts) -> tuple[str, bool]:
    return _flag(value, bool(facts.mention.media))


CONDITIONS: dict[str, Condition] = {
    "account": Condition(lambda v: _("account is {accounts}", accounts=_any(v)), _account),
    "any_words": Condition(lambda v: _("any of the words {words}", words=", ".join(v)), _any_words),
    "all_words": Condition(lambda v: _("all of the words {words}", words=", ".join(v)), _all_words),
    "none_words": Condition(
        lambda v: _("none of the words {words}", words=", ".join(v)), _none_words
    ),
    "regex": Condition(
        lambda v: _("matches {patterns}", patterns=_or(f"/{p}/" for p in v)), _regex
    ),
    "hashtags": Condition(
        lambda v: _("hashtag {tags}", tags=_or(f"#{t.lstrip(HASH_SIGNS)}" for t in v)),
        _hashtags,
    ),
    "lang": Condition(lambda v: _("language is {languages}", languages=_any(v)), _lang),
    "author_in": Condition(lambda v: _("author in {authors}", authors=_list_name(v)), _author_in),
    "author_not_in": Condition(
        lambda v: _("author not in {authors}", authors=_list_name(v)), _author_not_in
    ),
    "verified": Condition(
        lambda v: _("author is verified") if v else _("author is not verified"), _verified
    ),
    "followers_at_least": Condition(lambda v: _("followers at least {count}", count=v), _followers),
    "is_reply": Condition(
        lambda v: _("a reply in a conversation") if v else _("starts a conversation"), _is_reply
    ),
    "has_media": Condition(lambda v: _("has media") if v else _("has no media"), _has_media),
    "within": Condition(lambda v: _("within {calendar}", calendar=v), _within),
    "outside": Condition(lambda v: _("outside {calendar}", calendar=v), _outside),
}


def describe(field: str, value: Any) -> str:
    """A ``match`` condition as a person reads it: ``any of the words lapor, rusak``."""
    return CONDITIONS[field].describe(value)


def _any(values: list[str]) -> str:
    if len(values) == 1:
        return values[0]
    return _("one of {values}", values=", ".join(values))


def _or(values: Iterable[str]) -> str:
    return _(" or ").join(values)


def _said(found: list[str]) -> str:
    return ", ".join(found) if found else _("none")


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


def _list_name(value: str | list[str]) -> str:
    if isinstance(value, str):
        return _("list {name}", name=value)
    return ", ".join(f"@{h.lstrip('@')}" for h in value)
