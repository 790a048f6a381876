"""Who acts: user names compared in one normal form, shown as they were typed.

The acting user comes from the OS login, ``MODELDESK_USER`` or ``--as``; it is
a name people type, not a credential. For the four-eyes rule, the approvers
list and "each reviewer counts once" to mean anything, two spellings of one
name must be one person: ``Ana``, ``"ana "`` and ``ＡＮＡ`` (full width) are
all ``ana``. Names that mix scripts (a Cyrillic ``а`` inside a Latin ``ana``)
look like another person's name and are refused, as are control characters.
"""

from __future__ import annotations

import unicodedata

from .errors import UsageError

# Scripts a name may mix with any one other: digits, punctuation, spaces.
_NEUTRAL_CATEGORIES = ("N", "P", "Z", "S", "M")


def _script(ch: str) -> str | None:
    """The script of a letter ("LATIN", "CYRILLIC", "GREEK", "CJK"...), None for neutral characters."""
    if unicodedata.category(ch)[0] in _NEUTRAL_CATEGORIES:
        return None
    name = unicodedata.name(ch, "")
    if not name:
        return "UNKNOWN"
    first = name.split(" ")[0]
    if first in ("CJK", "HIRAGANA", "KATAKANA"):
        return "CJK"   # Japanese names mix kanji and kana
    return first


def check_user(name: str) -> str:
    """``name`` trimmed (its display form), or a UsageError saying what is wrong with it."""
    if not isinstance(name, str) or not name.strip():
        raise UsageError("A user name cannot be empty: set MODELDESK_USER or pass --as NAME.")
    text = name.strip()
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise UsageError(f"The user name {text!r} contains control or invisible characters; type it plainly.")
    scripts = {s for s in map(_script, unicodedata.normalize("NFKC", text)) if s is not None}
    if len(scripts) > 1:
        raise UsageError(f"The user name {text!r} mixes scripts ({', '.join(sorted(scripts)).lower()}), so it can "
                         "pass for another person's name. Use one script.")
    return text


def user_key(name: str) -> str:
    """The form names are compared in: NFKC, case-folded, trimmed.

    Lenient, so names already stored compare without raising; names of people
    acting now go through :func:`check_user` first.
    """
    return unicodedata.normalize("NFKC", str(name)).casefold().strip()


def same_user(a: str | None, b: str | None) -> bool:
    """Whether two names are the same person's (None is nobody)."""
    if a is None or b is None:
        return False
    return user_key(a) == user_key(b)


def user_in(name: str, names) -> bool:
    """Whether ``name`` is one of ``names`` (compared in normal form)."""
    key = user_key(name)
    return any(user_key(n) == key for n in names)
