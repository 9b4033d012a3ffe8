"""The text report on a terminal: wrapped to its width, status words in colour.

Only standard output on a TTY gets this; files and pipes get the plain, unwrapped,
byte-identical text. Colour follows the https://no-color.org convention: ``NO_COLOR`` set
(to anything but the empty string) turns it off, as does ``TERM=dumb``.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from typing import Any

import click

__all__ = ["colour_enabled", "present", "wrap_line"]

_STYLES: dict[str, dict[str, Any]] = {
    "FAIL": {"fg": "red", "bold": True},
    "ERROR": {"fg": "red", "bold": True},
    "BLOCK": {"fg": "red", "bold": True},
    "WARN": {"fg": "yellow"},
    "WAIVED": {"fg": "cyan"},
    "PASS": {"fg": "green", "bold": True},
    "RELEASE": {"fg": "green", "bold": True},
}
_WORD = re.compile(r"(?<![\w-])(" + "|".join(_STYLES) + r")(?![\w-])")
_SEVERITY = re.compile(r"(?<=\s)(critical|high)(?=\s)")


def colour_enabled() -> bool:
    """Colour unless ``NO_COLOR`` is set (non-empty) or the terminal is dumb."""
    return not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def wrap_line(line: str, width: int) -> list[str]:
    """One line wrapped at spaces, continuation lines indented under its text."""
    if len(line) <= width:
        return [line]
    indent = len(line) - len(line.lstrip(" "))
    # continuation lines start under the message: past "FAIL  medium   AIMS-OWN-002 " …
    hang = " " * min(indent + 6, width // 3)
    return textwrap.wrap(line, width=width, initial_indent="", subsequent_indent=hang,
                         break_long_words=False, break_on_hyphens=False,
                         drop_whitespace=True) or [line]


def _colour(line: str) -> str:
    line = _WORD.sub(lambda m: click.style(m[1], **_STYLES[m[1]]), line, count=1)
    return _SEVERITY.sub(lambda m: click.style(m[1], fg="red"), line, count=1)


def present(text: str, width: int | None = None, colour: bool | None = None) -> str:
    """The text wrapped to the terminal width (at least 60) and, if enabled, coloured."""
    width = width or max(60, shutil.get_terminal_size((100, 24)).columns - 1)
    colour = colour_enabled() if colour is None else colour
    out: list[str] = []
    for line in text.split("\n"):
        for part in wrap_line(line, width):
            out.append(_colour(part) if colour else part)
    return "\n".join(out)
