"""The language of a post X gave none for, so that `lang` conditions still apply to it.

py3langid (a maintained port of langid.py: a small naive-Bayes model over byte n-grams, fast and
offline) guesses among the languages the config lists in ``detect_languages``, or all it knows.
Handles, links and hashtags are removed first: they are not in any language.
"""

from __future__ import annotations

import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

# X still uses the retired ISO 639 codes for some languages; admins write either form.
_LANGUAGE_ALIASES = {"in": "id", "iw": "he", "ji": "yi"}
# X's codes for "no language": undetermined, no linguistic content, media or emoji only...
UNDETERMINED = frozenset({"und", "zxx", "qme", "qam", "qct", "qht", "qst"})
_NOT_WORDS = re.compile(r"(?:@\w+|#\w+|https?://\S+)")
MIN_LETTERS = 3


def normalise_lang(code: str | None) -> str:
    code = (code or "und").lower()
    return _LANGUAGE_ALIASES.get(code, code)


@lru_cache(maxsize=8)
def _identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    if languages:
        known = set(identifier.labels)
        identifier.set_languages([code for code in languages if code in known] or None)
    return identifier


def detectable_languages() -> frozenset[str]:
    return frozenset(_identifier(()).labels)


def detect(text: str, *, among: tuple[str, ...] = ()) -> str:
    """The most likely language code of ``text``, or ``und`` when it has too little to go on."""
    words = _NOT_WORDS.sub(" ", text)
    if sum(ch.isalpha() for ch in words) < MIN_LETTERS:
        return "und"
    among = tuple(sorted(normalise_lang(code) for code in among))
    code, _ = _identifier(among).classify(words)
    return normalise_lang(str(code))


def language_of(lang: str | None, text: str, *, among: tuple[str, ...] = ()) -> str:
    """X's code when it gave one, else the detected one."""
    given = normalise_lang(lang)
    return detect(text, among=among) if given in UNDETERMINED else given
