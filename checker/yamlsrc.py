"""Safe YAML loading that remembers where every value came from.

Line numbers are kept in a side map from the data path (a tuple of keys and indexes) to
the node's position, never injected into the data. Duplicate keys and aliases (the
"billion laughs" vector) are refused; the loader reports every problem in a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Diagnostic
from .safefile import FileTooLarge, read_bytes

__all__ = ["Located", "Path_", "load_yaml_file", "load_yaml_text", "text_of"]

Path_ = tuple[str | int, ...]

try:  # the C composer is ~10x faster; marks are the same
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]  # CSafeLoader is a SafeLoader at runtime
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

MAX_YAML_BYTES = 64 * 1024 * 1024


@dataclass
class Located:
    """A loaded YAML document with positions.

    Attributes:
        data: The plain Python value.
        file: The display name of the file.
        marks: data path → (line, col), both 1-based, for every value.
        key_marks: data path → (line, col) of the *key* of a mapping entry.
    """

    data: Any
    file: str
    marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def at(self, path: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
        """Best position for ``path``: the exact one, else the nearest enclosing value."""
        p = tuple(path)
        if key and p in self.key_marks:
            return self.key_marks[p]
        while p:
            if p in self.marks:
                return self.marks[p]
            p = p[:-1]
        return self.marks.get((), (1, 1))

    def diag(
        self, path: Sequence[str | int], code: str, message: str, hint: str | None = None,
        *, key: bool = False,
    ) -> Diagnostic:
        """A diagnostic located at ``path`` in this file."""
        line, col = self.at(path, key=key)
        return Diagnostic(self.file, line, col, code, message, hint)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.diags: list[Diagnostic] = []
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self._seen: set[int] = set()
        self._scalar = _Loader("")

    def build(self, node: yaml.Node, path: Path_) -> Any:
        pos = (node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in self._seen:
            self.diags.append(Diagnostic(
                self.file, *pos, "E103", "YAML anchors and aliases are not allowed",
                "write the value out in full instead of using '*alias'",
            ))
            return None
        self._seen.add(id(node))
        self.marks[path] = pos
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                if knode.tag == "tag:yaml.org,2002:merge":
                    self.diags.append(Diagnostic(
                        self.file, knode.start_mark.line + 1, knode.start_mark.column + 1,
                        "E103", "YAML merge keys ('<<') are not allowed",
                        "write the keys out in full",
                    ))
                    continue
                key = self.build(knode, (*path, "__key__"))
                self.marks.pop((*path, "__key__"), None)
                if not isinstance(key, str | int | float | bool) or key is None:
                    self.diags.append(Diagnostic(
                        self.file, knode.start_mark.line + 1, knode.start_mark.column + 1,
                        "E104", f"mapping key must be a string, got {type(key).__name__}",
                    ))
                    continue
                skey = str(key) if not isinstance(key, bool) else str(key).lower()
                kpos = (knode.start_mark.line + 1, knode.start_mark.column + 1)
                if skey in out:
                    first = self.key_marks.get((*path, skey), (0, 0))
                    self.diags.append(Diagnostic(
                        self.file, *kpos, "E102", f"duplicate key {skey!r}",
                        f"the key is first defined on line {first[0]}; keep one of them",
                    ))
                    continue
                self.key_marks[(*path, skey)] = kpos
                out[skey] = self.build(vnode, (*path, skey))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, (*path, i)) for i, v in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)
        if node.tag == "tag:yaml.org,2002:str":
            return node.value  # what the constructor returns for a string, minus its dispatch
        try:
            return self._scalar.construct_object(node, deep=True)
        except ValueError as exc:  # an impossible date such as 2026-02-30
            self.diags.append(Diagnostic(
                self.file, *pos, "E100", f"invalid value {node.value!r}: {exc}",
                "dates are written YYYY-MM-DD and must exist",
            ))
            return None


def text_of(raw: bytes, file: str) -> tuple[str | None, list[Diagnostic]]:
    """Decode UTF-8 (a BOM is accepted and dropped); anything else is an E101."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Diagnostic(
            file, line, 0, "E101", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
            "save the file as UTF-8",
        )]
    if "\x00" in text:
        return None, [Diagnostic(file, 1, 0, "E101", "file contains NUL bytes",
                                 "is this a binary file? save it as UTF-8 text")]
    return text, []


def load_yaml_text(text: str, file: str) -> tuple[Located | None, list[Diagnostic]]:
    """Parse one YAML document; return it with marks, or None and the diagnostics."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, [Diagnostic(file, line, col, "E100",
                                 f"invalid YAML: {exc.problem or exc.context}",
                                 "check the indentation and quoting on this line")]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(file, 0, 0, "E100", f"invalid YAML: {exc}")]
    if node is None:
        return Located(None, file, {(): (1, 1)}), []
    builder = _Builder(file)
    try:
        data = builder.build(node, ())
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, [Diagnostic(file, line, col, "E100", f"invalid YAML value: {exc.problem}")]
    except ValueError as exc:  # e.g. an impossible date such as 2026-02-30
        line, col = node.start_mark.line + 1, node.start_mark.column + 1
        return None, [Diagnostic(file, line, col, "E100", f"invalid YAML value: {exc}")]
    if builder.diags:
        return None, builder.diags
    return Located(data, file, builder.marks, builder.key_marks), []


def load_yaml_file(
    path: Path, display: str | None = None
) -> tuple[Located | None, list[Diagnostic]]:
    """Read and parse a YAML file; unreadable, non-UTF-8 or empty files are diagnostics."""
    file = display or str(path)
    try:
        raw = read_bytes(path, MAX_YAML_BYTES)  # counted while reading, not from st_size
    except FileTooLarge:
        return None, [Diagnostic(file, 0, 0, "E105",
                                 f"file is larger than {MAX_YAML_BYTES // 2**20} MiB",
                                 "split it, or raise the limit")]
    except OSError as exc:
        return None, [Diagnostic(file, 0, 0, "E106", f"cannot read file: {exc.strerror}",
                                 "check the path and permissions")]
    text, diags = text_of(raw, file)
    if text is None:
        return None, diags
    if not text.strip():
        return None, [Diagnostic(file, 1, 1, "E107", "file is empty",
                                 "add content, or remove the file")]
    return load_yaml_text(text, file)
