"""The ``jsonl`` adapter: any normalised evidence record as JSON Lines.

For evidence no other adapter reads yet (approvals kept in a spreadsheet, reviews exported
from a GRC tool, incidents from a ticket system), or as a hand-off from a script. Each line
is one record in the shape of :mod:`checker.evidence`, without ``provenance``: the adapter
adds it, with ``<file>:<line>`` as the locator. Every line is validated by the same
pydantic models as all other evidence; every bad line is reported.

The source declares the evidence kinds it is responsible for (``kinds``, or a single
``kind``). An error in the source then marks exactly those kinds incomplete, and a record of
an undeclared kind is an error rather than a silent extra.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, ValidationError, model_validator

from checker.adapters import Adapter, AdapterConfig, record_limit
from checker.errors import Diagnostic, EvidenceError, EvidenceUnavailable
from checker.evidence import (
    EVIDENCE_KINDS,
    RECORD_TYPES,
    EvidenceBundle,
    EvidenceKind,
    Provenance,
)
from checker.registry import did_you_mean
from checker.safefile import open_binary, text_lines
from evidence_adapters._common import empty_source, loads, record_file, too_many

__all__ = ["RECORD_KEY", "JsonlAdapter", "JsonlConfig"]

#: The key naming a line's evidence kind in a mixed file. (``kind`` cannot be used in
#: general: reviews, approvals and subjects have a ``kind`` field of their own.)
RECORD_KEY = "record"


class JsonlConfig(AdapterConfig):
    """Config of a ``jsonl`` source (the keys of its ``sources:`` entry)."""

    path: str = Field(description="A .jsonl file, or a folder whose *.jsonl files are read "
                                  "in name order; relative to the config file.")
    kind: EvidenceKind | None = Field(
        None, description="Every line is a record of this kind (lines have no `record` key).",
    )
    kinds: tuple[EvidenceKind, ...] | None = Field(
        None, description="The evidence kinds this source is responsible for. Defaults to "
                          "[kind] when `kind` is set.",
    )

    @model_validator(mode="after")
    def _declared(self) -> JsonlConfig:
        if self.kinds is None and self.kind is None:
            raise ValueError("declare the evidence kinds this source provides: `kind: review` "
                             "or `kinds: [approval, review]`")
        if self.kinds is not None and self.kind is not None and self.kind not in self.kinds:
            raise ValueError(f"`kind` {self.kind!r} is not in `kinds`")
        if self.kinds is not None and not self.kinds:
            raise ValueError("`kinds` must not be empty")
        return self

    def declared(self) -> frozenset[str]:
        """The kinds this source is responsible for."""
        return frozenset(self.kinds if self.kinds is not None else (self.kind or "",))


class JsonlAdapter(Adapter):
    """Evidence records of the declared kinds from JSON Lines files."""

    name: ClassVar[str] = "jsonl"
    Config: ClassVar[type[AdapterConfig]] = JsonlConfig
    provides: ClassVar[frozenset[str]] = frozenset(EVIDENCE_KINDS)

    def kinds(self) -> frozenset[str]:
        """The kinds declared in the source config (not every kind the adapter could read)."""
        cfg: JsonlConfig = self.config
        return cfg.declared()

    def collect(self) -> EvidenceBundle:
        """Read every line of every file.

        Raises:
            EvidenceUnavailable: the path does not exist or a folder has no .jsonl file.
            EvidenceError: one diagnostic per bad line: invalid JSON (E310), missing,
                unknown or undeclared kind (E311), a record that does not fit the model
                (E309), a duplicate id (E306).
        """
        cfg: JsonlConfig = self.config
        files = self._files(cfg)
        bundle = EvidenceBundle(kinds=self.kinds())
        diags: list[Diagnostic] = []
        seen: dict[tuple[str, str], str] = {}
        declared = self.kinds()
        for path in files:
            file = self.ctx.display(path)
            record_file(self.ctx, path, file)
            lines = 0
            before = len(diags)
            for line, text in _lines(path, file, diags):
                lines += 1
                record = self._record(cfg, declared, file, line, text, diags)
                if record is None:
                    continue
                kind, obj = record
                key = getattr(obj, "key", None) or getattr(obj, "id", None)
                if isinstance(key, str):
                    if (kind, key) in seen:
                        diags.append(Diagnostic(
                            file, line, 0, "E306",
                            f"duplicate {kind} id {key!r} (first at {seen[(kind, key)]})",
                            "each record must appear once",
                        ))
                        continue
                    seen[(kind, key)] = f"{file}:{line}"
                getattr(bundle, RECORD_TYPES[kind][0]).append(obj)
            if lines == 0 and len(diags) == before and not self.ctx.allow_empty:
                diags.append(empty_source(file, self.ctx, "the file has no records"))
        if diags:
            raise EvidenceError(sorted(diags))
        return bundle

    def _files(self, cfg: JsonlConfig) -> list[Path]:
        path = self.ctx.path(cfg.path)
        file = self.ctx.display(path)
        if path.is_dir():
            files = sorted(p for p in path.glob("*.jsonl") if p.is_file())
            if not files:
                raise EvidenceUnavailable(Diagnostic(
                    file, 0, 0, "E300", "folder has no *.jsonl files",
                    "point `path` at a .jsonl file or a folder of them",
                ))
            return files
        if path.exists() and not path.is_file():
            raise EvidenceUnavailable(Diagnostic(
                file, 0, 0, "E319", "refused: not a regular file (a FIFO, socket or device)",
                "export the evidence to a regular file"))
        if not path.is_file():
            raise EvidenceUnavailable(Diagnostic(
                file, 0, 0, "E300", "no such file or folder",
                "check the path (relative paths are resolved from the config file's folder)",
            ))
        return [path]

    def _record(
        self, cfg: JsonlConfig, declared: frozenset[str], file: str, line: int, text: str,
        diags: list[Diagnostic],
    ) -> tuple[str, Any] | None:
        def err(code: str, message: str, hint: str | None = None) -> None:
            diags.append(Diagnostic(file, line, 0, code, message, hint))

        try:
            data = loads(text, object_pairs_hook=_no_duplicates)
        except ValueError as exc:
            col = exc.colno if isinstance(exc, json.JSONDecodeError) else 0
            diags.append(Diagnostic(file, line, col, "E310", f"invalid JSON: {exc}",
                                    "each line must be one complete JSON object"))
            return None
        if not isinstance(data, dict):
            err("E310", f"a line must be a JSON object, got {type(data).__name__}")
            return None
        if cfg.kind is not None and RECORD_KEY not in data:
            kind: Any = cfg.kind
        else:
            kind = data.pop(RECORD_KEY, None)
            if kind is None:
                err("E311", f"the line has no {RECORD_KEY!r} key naming its evidence kind",
                    f'add "{RECORD_KEY}": "<kind>", or set `kind` in the source config')
                return None
        if kind not in RECORD_TYPES:
            err("E311", f"unknown evidence kind {kind!r}",
                did_you_mean(str(kind), list(RECORD_TYPES))
                or f"kinds are {', '.join(RECORD_TYPES)}")
            return None
        if kind not in declared:
            err("E311", f"a {kind} record, but this source declares only "
                        f"{', '.join(sorted(declared))}",
                f"add {kind!r} to `kinds` in the source config, or move the record")
            return None
        if "provenance" in data:
            err("E309", "records must not carry 'provenance'; the adapter adds it",
                "remove the 'provenance' key")
            return None
        model = RECORD_TYPES[kind][1]
        try:
            obj = model.model_validate({
                **data,
                "provenance": Provenance(adapter=self.name, locator=f"{file}:{line}",
                                         fetched_at=self.ctx.fetched_at),
            })
        except ValidationError as exc:
            for e in exc.errors(include_url=False):
                where = ".".join(str(p) for p in e["loc"]) or "(record)"
                got = f" (got {e['input']!r})" if e["type"] != "missing" and not isinstance(
                    e["input"], dict) else ""
                err("E309", f"{kind}.{where}: {e['msg']}{got}")
            return None
        return kind, obj


def _lines(path: Path, file: str, diags: list[Diagnostic]) -> Iterator[tuple[int, str]]:
    """Yield ``(line, text)`` for every non-blank line, streaming the file."""
    try:
        with open_binary(path) as fh:
            line, count, limit = 0, 0, record_limit()
            try:
                for line, text in enumerate(text_lines(fh), start=1):  # line used after loop
                    if text.strip():
                        count += 1
                        if limit is not None and count > limit:
                            diags.append(too_many(file, line, limit))
                            return
                        yield line, text
            except UnicodeDecodeError as exc:
                diags.append(Diagnostic(file, line + 1, 0, "E300", "file is not valid UTF-8 "
                                        f"(byte 0x{exc.object[exc.start]:02x})",
                                        "save the file as UTF-8"))
            except OSError as exc:  # refused mid-read: too large
                diags.append(Diagnostic(file, line + 1, 0, "E300",
                                        f"cannot read file: {exc.strerror or exc}",
                                        "raise settings.max_file_bytes if this size is "
                                        "expected"))
    except OSError as exc:
        diags.append(Diagnostic(file, 0, 0, "E300", f"cannot read file: {exc.strerror or exc}"))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out
