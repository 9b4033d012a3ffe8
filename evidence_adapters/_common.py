"""Helpers shared by the file-based adapters: streaming CSV, column lookup, value maps, dates.

Private to :mod:`evidence_adapters`; the public surface is the adapter classes.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

from checker.adapters import SourceContext, record_limit
from checker.errors import Diagnostic
from checker.registry import did_you_mean
from checker.safefile import open_binary, read_bytes, text_lines

__all__ = ["Columns", "CsvReader", "ValueMap", "loads", "parse_day", "parse_instant",
           "record_file"]

T = TypeVar("T")


@dataclass
class CsvReader:
    """Stream a CSV file record by record, remembering the physical line of each record.

    ``rows()`` yields ``(line, cells)`` for every non-blank record, the header included; the
    line is where the record *starts* (a quoted cell may span lines). Problems reading the
    file (missing, undecodable, malformed quoting) are appended to ``diags`` and end the
    iteration: the caller reports them, so nothing is dropped silently.

    Attributes:
        path: The file to read.
        file: Its display name for diagnostics and locators.
        delimiter: The cell separator.
        encoding: The text encoding (``utf-8-sig`` accepts a byte-order mark).
        diags: Where reading problems are collected.
    """

    path: Path
    file: str
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    diags: list[Diagnostic] = field(default_factory=list)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Yield ``(line, cells)`` for each non-blank record."""
        try:
            fh = open_binary(self.path)
            lines = text_lines(fh, self.encoding)
        except OSError as exc:
            self.diags.append(Diagnostic(
                self.file, 0, 0, "E300", f"cannot read file: {exc.strerror or exc}",
                "check the path (relative paths are resolved from the config file's folder)",
            ))
            return
        except LookupError as exc:
            fh.close()
            self.diags.append(Diagnostic(self.file, 0, 0, "E300", str(exc),
                                         "set `encoding` to a Python codec name"))
            return
        with fh:
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            prev = 0
            count, limit = 0, record_limit()
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self.diags.append(Diagnostic(
                        self.file, prev + 1, 0, "E308", f"malformed CSV: {exc}",
                        "check the quoting on this line",
                    ))
                    return
                except OSError as exc:  # refused mid-read: too large
                    self.diags.append(Diagnostic(
                        self.file, reader.line_num + 1, 0, "E300",
                        f"cannot read file: {exc.strerror or exc}",
                        "raise settings.max_file_bytes if this size is expected"))
                    return
                except UnicodeDecodeError as exc:
                    # lines are decoded one by one: the bad byte is on the next line
                    codec = "UTF-8" if self.encoding == "utf-8-sig" else self.encoding
                    self.diags.append(Diagnostic(
                        self.file, reader.line_num + 1, 0, "E300",
                        f"file is not valid {codec} (byte 0x{exc.object[exc.start]:02x})",
                        "export the file as UTF-8, or set `encoding` (e.g. cp1252)",
                    ))
                    return
                start, prev = prev + 1, reader.line_num
                if any(c.strip() for c in cells):
                    count += 1
                    if limit is not None and count > limit + 1:  # +1: the header row
                        self.diags.append(too_many(self.file, start, limit))
                        return
                    yield start, cells


@dataclass
class Columns:
    """Where each configured field sits in a CSV header.

    Attributes:
        file: The display name of the file.
        header: The header cells, stripped.
        index: field name → column index, for the columns that were found.
    """

    file: str
    header: list[str]
    index: dict[str, int] = field(default_factory=dict)

    @classmethod
    def locate(
        cls, file: str, line: int, header: list[str], wanted: Mapping[str, str | None],
        diags: list[Diagnostic], *, prefix: str = "columns",
    ) -> Columns:
        """Find every configured header; a missing or repeated one is an E301 at ``line``.

        Args:
            file: Display name for diagnostics.
            line: The header's line.
            header: The header cells.
            wanted: field name → configured header name (None = not configured).
            diags: Where problems are appended.
            prefix: The config key the mapping sits under, for messages.
        """
        cols = cls(file, [h.strip() for h in header])
        found = header_preview(cols.header)
        for fld, name in wanted.items():
            if name is None:
                continue
            hits = [i for i, h in enumerate(cols.header) if h == name]
            if len(hits) == 1:
                cols.index[fld] = hits[0]
            elif not hits:
                close = did_you_mean(name, cols.header)
                diags.append(Diagnostic(
                    file, line, 1, "E301",
                    f"column {name!r} ({prefix}.{fld}) is not in the header; found: {found}",
                    close or f"fix `{prefix}.{fld}` in the source config to name a column",
                ))
            else:
                diags.append(Diagnostic(
                    file, line, hits[1] + 1, "E301",
                    f"column {name!r} ({prefix}.{fld}) appears {len(hits)} times in the header",
                    "rename the duplicate columns in the export",
                ))
        return cols

    def get(self, cells: list[str], fld: str) -> str:
        """The stripped cell of ``fld`` ('' when the field is not configured)."""
        i = self.index.get(fld)
        return cells[i].strip() if i is not None else ""

    def has(self, fld: str) -> bool:
        """True when ``fld`` is configured and found."""
        return fld in self.index


class ValueMap(Generic[T]):
    """A case-insensitive mapping from export values to our values."""

    def __init__(self, mapping: Mapping[str, T]) -> None:
        self._map = {k.strip().casefold(): v for k, v in mapping.items()}
        self.keys = sorted(mapping)

    def get(self, value: str) -> T | None:
        """The mapped value, or None when ``value`` is not mapped."""
        return self._map.get(value.strip().casefold())

    def __contains__(self, value: object) -> bool:
        return isinstance(value, str) and value.strip().casefold() in self._map


#: How much of a header a diagnostic may quote: a "header" can be any file's first line.
PREVIEW_COLUMNS, PREVIEW_CELL, PREVIEW_TOTAL = 12, 40, 300


def header_preview(cells: list[str]) -> str:
    """A bounded, sanitised preview of a header for diagnostics.

    A misconfigured path can make any file look like a CSV (an environment dump, a key
    file): a diagnostic quotes at most :data:`PREVIEW_COLUMNS` cells of at most
    :data:`PREVIEW_CELL` characters, control characters escaped, :data:`PREVIEW_TOTAL`
    characters in all, and says how much was left out.
    """
    shown: list[str] = []
    total = 0
    for cell in cells[:PREVIEW_COLUMNS]:
        text = cell if len(cell) <= PREVIEW_CELL else cell[:PREVIEW_CELL] + "…"
        item = ascii(text) if any(not ch.isprintable() for ch in text) else repr(text)
        if total + len(item) > PREVIEW_TOTAL:
            break
        shown.append(item)
        total += len(item) + 2
    more = len(cells) - len(shown)
    return ", ".join(shown) + (f" (and {more} more column{'s' if more != 1 else ''})"
                               if more else "")


def empty_source(file: str, ctx: SourceContext, what: str, line: int = 1) -> Diagnostic:
    """E317: an export with no records (unless the source says ``allow_empty: true``).

    The one code of that class in every adapter (a 0-byte file, a header with no rows, a
    directory with no users): rules over the source must not pass on an empty read.
    """
    return Diagnostic(file, line, 0, "E317",
                      f"{what}: an empty export is treated as a failed one",
                      "check the export; if no records is a valid state for this source, set "
                      "`allow_empty: true` on it")


def too_many(file: str, line: int, limit: int) -> Diagnostic:
    """The diagnostic for a source past ``settings.max_records_per_source``."""
    return Diagnostic(file, line, 0, "E313", f"more than {limit:,} records: reading stopped",
                      "raise settings.max_records_per_source if this size is expected")


#: Evidence dated before this year is a data error (a placeholder such as 1900-01-01).
MIN_YEAR = 1970


# Exports repeat the same few thousand dates across millions of cells; the results are
# immutable, so each (cell, format) is parsed once. Errors are not cached (they re-raise).
@lru_cache(maxsize=16384)
def parse_day(text: str, fmt: str) -> date:
    """Parse a date cell with a ``strptime`` format.

    Raises:
        ValueError: the cell does not match the format or is not a real date.
    """
    day = datetime.strptime(text.strip(), fmt).date()
    if day.year < MIN_YEAR:
        raise ValueError(f"{day.isoformat()} is before {MIN_YEAR}: not a plausible date")
    return day


@lru_cache(maxsize=16384)
def parse_instant(text: str, fmt: str) -> datetime:
    """Parse a date or date-time cell; without ``%z`` in the format the value is UTC.

    Raises:
        ValueError: the cell does not match the format.
    """
    dt = datetime.strptime(text.strip(), fmt)
    if dt.year < MIN_YEAR:
        raise ValueError(f"{dt.date().isoformat()} is before {MIN_YEAR}: not a plausible date")
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def loads(data: str | bytes, **kwargs: Any) -> Any:
    """``json.loads`` where nesting too deep for the parser is a ValueError like any bad JSON.

    Python's parser recurses once per nesting level; a line of 100 000 ``[`` would otherwise
    end in RecursionError (an adapter crash) instead of a located "invalid JSON" diagnostic.
    """
    try:
        return json.loads(data, **kwargs)
    except RecursionError:
        raise ValueError("JSON nested too deeply for the parser (about 1,000 levels at "
                         "most)") from None


def record_file(ctx: SourceContext, path: Path, name: str) -> None:
    """Hand a file's bytes to the evidence locker when recording (see ``SourceContext``).

    An unreadable file is not recorded here: the adapter's own read reports it.
    """
    if ctx.recorder is None:
        return
    try:
        payload = read_bytes(path)
    except OSError:
        return
    ctx.record(name, payload)
