"""Linear-time regular expressions for every pattern a user writes (rules, settings, adapters).

A pattern in a rule (``value_matches``), in ``settings.shared_mailbox_patterns`` or in an
adapter's config is matched against evidence values, and evidence comes from outside: with
a backtracking engine, ``(a+)+$`` on a 40-character value runs for hours. Patterns are
therefore compiled with RE2 (``google-re2``), whose matching time is linear in the input,
whatever the pattern. RE2 has no back-references or look-around; a pattern using them is
refused when the config or rule is validated, with the reason.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol

import re2  # google-re2 ships no type information (see the mypy override)

__all__ = ["Pattern", "RegexError", "compile_pattern", "search"]


class Pattern(Protocol):
    """The part of a compiled pattern we use."""

    def search(self, text: str) -> Any:
        """A match object, or None."""


class RegexError(ValueError):
    """A pattern RE2 cannot compile (syntax error, back-reference, look-around)."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str, *, ignore_case: bool = True) -> Pattern:
    """Compile ``pattern`` with RE2 (case-insensitive unless told otherwise).

    Raises:
        RegexError: the pattern is not valid RE2 syntax; the message says why.
    """
    opts = re2.Options()
    opts.case_sensitive = not ignore_case
    opts.log_errors = False
    try:
        compiled: Pattern = re2.compile(pattern, opts)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(f"invalid regular expression {pattern!r}: {reason} (patterns use "
                         "RE2 syntax: no back-references or look-around)") from None
    return compiled


def search(pattern: str, text: str, *, ignore_case: bool = True) -> bool:
    """True when ``pattern`` matches anywhere in ``text`` (linear time)."""
    return compile_pattern(pattern, ignore_case=ignore_case).search(text) is not None
