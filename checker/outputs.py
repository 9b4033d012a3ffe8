"""Where reports may be written: never over an input, never twice, never half.

``-o`` is checked before anything is read or written: an output that names an input (the
config, an evidence file or a file inside an evidence folder, a waivers or baseline file,
a snapshot, a rule file) or the same path as another output is refused (E403), so a typo
can never replace evidence by a report. A report that cannot be written (no permission, a
folder in the way, a full disk) is a located E404, not an internal error.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import LoadedConfig
from .errors import Diagnostic, UsageError

__all__ = ["check_outputs", "config_inputs", "write_atomic"]


_PATH_KEYS = frozenset({"path", "file", "csv", "pages", "offline", "dir", "folder"})


def _paths(value: Any) -> Iterable[str]:
    """Values of path-like keys (``path``, ``pages``, ``*_file`` …) anywhere in a source."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            key = str(k)
            if isinstance(v, str) and (key in _PATH_KEYS or key.endswith(("_file", "_path",
                                                                          "_dir"))):
                yield v
            else:
                yield from _paths(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _paths(v)


def config_inputs(loaded: LoadedConfig) -> list[Path]:
    """The config file and every existing file or folder its sources, packs or waivers name."""
    out = [loaded.path]
    cfg = loaded.config
    out.append(loaded.base_dir / ".aimscheck-history.sqlite")  # the default history store
    for text in [*_paths(cfg.sources), *cfg.rule_packs, cfg.waivers or "",
                 getattr(cfg, "soa", None) or ""]:
        if not text or "\n" in text or len(text) > 4096 or "://" in text:
            continue
        p = Path(text)
        p = p if p.is_absolute() else loaded.base_dir / p
        try:
            if p.exists():
                out.append(p)
        except OSError:
            continue
    return out


def _same_or_inside(out: Path, inp: Path) -> bool:
    return out == inp or (inp.is_dir() and inp in out.parents)


def check_outputs(outputs: Sequence[str], inputs: Iterable[Path | None]) -> None:
    """Refuse, before anything is written, outputs that cannot or must not be written.

    An output that is an input or lies inside an input folder, or repeats another, is an
    E403; one that is a folder or whose folder is not writable is an E404.

    Raises:
        UsageError: every problem, naming the output.
    """
    resolved_inputs = [p.resolve() for p in inputs if p is not None]
    seen: dict[Path, str] = {}
    diags: list[Diagnostic] = []
    for out in outputs:
        if out == "-":
            continue
        target = Path(out).resolve()
        if target in seen:
            diags.append(Diagnostic("-o", 0, 0, "E403", f"{out!r} is given twice as an output "
                                    f"(also as {seen[target]!r})",
                                    "give each format its own output file"))
            continue
        seen[target] = out
        if target.is_dir():
            diags.append(Diagnostic(out, 0, 0, "E404", "cannot write the report: the path is "
                                    "a folder", "name a file, e.g. -o reports/aimscheck.txt"))
            continue
        parent = next((p for p in target.parents if p.exists()), None)
        if parent is not None and (not parent.is_dir() or not os.access(parent, os.W_OK)):
            why = "not a folder" if not parent.is_dir() else "not writable"
            diags.append(Diagnostic(out, 0, 0, "E404", f"cannot write the report: {parent} "
                                    f"is {why}",
                                    "choose a writable folder for -o"))
            continue
        if target.exists() and not os.access(target, os.W_OK) and not os.access(
                target.parent, os.W_OK):
            diags.append(Diagnostic(out, 0, 0, "E404", "cannot write the report: permission "
                                    "denied", "choose a writable path for -o"))
            continue
        hit = next((p for p in resolved_inputs if _same_or_inside(target, p)), None)
        if hit is not None:
            what = "is" if hit == target else "is inside"
            diags.append(Diagnostic("-o", 0, 0, "E403", f"output {out!r} {what} an input of "
                                    f"this run ({hit}); writing it would destroy the input",
                                    "write reports outside the config's inputs, e.g. "
                                    "-o reports/aimscheck.txt"))
    if diags:
        raise UsageError(diags)


def _through_link(path: Path) -> Path | None:
    """Where a symbolic link leads for writing: its final target, or None to write in place.

    In place (None) when any hop of the link lies in ``/proc`` or ``/dev`` (``/dev/stdout``
    → ``/proc/self/fd/1``: a stream of this process, whatever file it is), or when the
    target exists and is not a regular file (a device, a FIFO).
    """
    hop, seen = path.absolute(), 0
    while hop.is_symlink() and seen < 40:
        if hop.parts[1:2] in (("proc",), ("dev",)):
            return None
        hop, seen = (hop.parent / os.readlink(hop)).absolute(), seen + 1
    if hop.parts[1:2] in (("proc",), ("dev",)):
        return None
    final = Path(os.path.realpath(path))
    try:
        mode = final.stat().st_mode
    except OSError:
        return final  # a link to a file not yet written: it is created there
    return final if stat.S_ISREG(mode) else None


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers never see a half-written one.

    Raises:
        UsageError: E404 when the file cannot be written (the OS's reason is named).

    An existing target that is not a regular file (``/dev/null``, a FIFO) is written to in
    place: replacing it would turn a device node into a plain file. A symbolic link is
    written through, never replaced: to the file it names (atomically), or in place when it
    leads into ``/proc`` or ``/dev`` — ``/dev/stdout`` links to ``/proc/self/fd/1``, which
    is a regular file when standard output is redirected to one, and replacing the link
    would turn ``/dev/stdout`` itself into a plain file.
    """
    tmp: str | None = None
    try:
        if path.is_symlink():
            target = _through_link(path)
            if target is None:
                with open(path, "w", encoding="utf-8", newline="\n") as out:
                    out.write(text)
                return
            path = target
        if path.exists() and not path.is_file() and not path.is_dir():
            with open(path, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; reports are ordinary files
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise UsageError(Diagnostic(str(path), 0, 0, "E404", f"cannot write the report: "
                                    f"{exc.strerror or exc}",
                                    "check that the folder exists and is writable, and that "
                                    "the path is not a folder")) from None
    except BaseException:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise
