"""Scan history: every recorded scan, for readiness over time and scan-to-scan diffs.

The store is SQLite by default — a file beside the config, ``.aimscheck-history.sqlite``,
no server to run — or PostgreSQL (``--history-url postgresql://user@host/db``) for a team
sharing one history. Both go through SQLAlchemy Core, so the SQL is written once; the
PostgreSQL driver is psycopg 3, installed with the ``postgres`` extra
(``pip install 'aimscheck[postgres]'``); SQLite needs nothing beyond the standard
library. Passwords in URLs are never printed.

Readiness is ``(pass + warn) / (total − not_applicable)``: the share of applicable checks
that hold today. Waived findings are counted apart (an accepted exception is not
readiness).

The schema is versioned: ``aimscheck_schema`` holds one row per applied migration, and
:data:`MIGRATIONS` lists them in order. Opening a store applies the missing ones; every
step is idempotent (``CREATE … IF NOT EXISTS``) and a concurrent opener that already
applied a step is not an error, so two ``scan --record`` on a fresh database never race.
A store written by a newer aimscheck (an unknown version) is refused, not altered.

Only recording writes. Every read (``history``, ``diff``, the ages and closed findings of a
scan, ``review``) opens the store read-only — SQLite with ``mode=ro``, PostgreSQL in a
read-only transaction — and never creates or migrates anything: a SQLite file that does not
exist yet, or a database without the tables, reads as a store with no recorded scan
(:meth:`History.missing` tells the caller which, to say so).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import quote, unquote

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.schema import CreateIndex, CreateTable

from .config import DEFAULT_HISTORY_FILE
from .errors import Diagnostic, UsageError, redact, register_url_secrets
from .findings import FAILING, ScanResult
from .timeutil import format_ts, parse_ts

__all__ = [
    "DEFAULT_FILE",
    "DiffEntry",
    "DiffResult",
    "History",
    "ScanRow",
    "default_url",
]

DEFAULT_FILE = DEFAULT_HISTORY_FILE

_meta = sa.MetaData()
scans = sa.Table(
    "aimscheck_scans", _meta,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("as_of", sa.String(32), nullable=False),
    sa.Column("organisation", sa.String(300), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("tool_version", sa.String(40), nullable=False),
    sa.Column("evidence_digest", sa.String(80)),
    sa.Column("exit_code", sa.Integer, nullable=False),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("passed", sa.Integer, nullable=False),
    sa.Column("warned", sa.Integer, nullable=False),
    sa.Column("failed", sa.Integer, nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("waived", sa.Integer, nullable=False),
    sa.Column("not_applicable", sa.Integer, nullable=False),
    sa.Column("failing", sa.Integer, nullable=False),
    sa.Column("readiness", sa.Float, nullable=False),
)
findings = sa.Table(
    "aimscheck_findings", _meta,
    sa.Column("scan_id", sa.Integer, sa.ForeignKey("aimscheck_scans.id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("rule_id", sa.String(80), nullable=False),
    sa.Column("target_kind", sa.String(40), nullable=False),
    sa.Column("target_id", sa.String(300), nullable=False),
    sa.Column("target_name", sa.Text, nullable=False),
    sa.Column("severity", sa.String(10), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("owner_id", sa.String(300), nullable=False),
    sa.Column("owner_name", sa.Text, nullable=False),
    sa.Column("owner_email", sa.Text),
    sa.Column("message", sa.Text, nullable=False),
)


schema_versions = sa.Table(
    "aimscheck_schema", sa.MetaData(),
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("description", sa.String(200), nullable=False),
)


def _create_v1(conn: Connection) -> None:
    """Version 1: the scans and findings tables."""
    for table in (scans, findings):
        conn.execute(CreateTable(table, if_not_exists=True))
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            conn.execute(CreateIndex(index, if_not_exists=True))


#: The migrations, in order: (version, description, step). Append, never edit.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "scans and findings", _create_v1),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _already_exists(exc: SQLAlchemyError) -> bool:
    text = str(getattr(exc, "orig", None) or exc).lower()
    return ("already exists" in text or "duplicate" in text or "unique constraint" in text
            or "locked" in text)


def default_url(config_path: Path) -> str:
    """The SQLite file beside the config."""
    return f"sqlite:///{(config_path.resolve().parent / DEFAULT_FILE).as_posix()}"


def _engine_url(url: str) -> str:
    # psycopg 3 is the driver we install; SQLAlchemy's bare scheme would mean psycopg2
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names (None: not SQLite, in memory, or unparseable)."""
    try:
        u = sa.make_url(url)
    except ArgumentError:
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    if str(u.query.get("uri", "")).lower() in ("true", "1"):
        if not u.database.startswith("file:") or u.query.get("mode") == "memory":
            return None
        name = unquote(u.database[len("file:"):].partition("?")[0])
        if name.startswith("//"):  # file://host/path: only an empty host or localhost
            name = "/" + name[2:].partition("/")[2]
        return Path(name) if name and name != ":memory:" else None
    return Path(u.database)


def shown_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        # the password, and any secret in the query (``?password=`` for some drivers)
        return redact(sa.make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return "(unparseable URL)"


@dataclass(frozen=True)
class ScanRow:
    """One recorded scan."""

    id: int
    recorded_at: str
    as_of: str
    organisation: str
    mode: str
    tool_version: str
    evidence_digest: str | None
    exit_code: int
    total: int
    passed: int
    warned: int
    failed: int
    errors: int
    waived: int
    not_applicable: int
    failing: int
    readiness: float


@dataclass(frozen=True)
class DiffEntry:
    """A finding in a diff, with how long it has been (or was) failing."""

    rule_id: str
    target: str
    target_name: str
    severity: str
    status: str
    owner: str
    open_since: str
    open_days: int
    message: str


@dataclass(frozen=True)
class DiffResult:
    """New, resolved and still-open failing findings between scans A and B."""

    a: ScanRow
    b: ScanRow
    new: list[DiffEntry]
    resolved: list[DiffEntry]
    still_open: list[DiffEntry]


def _readiness(s: dict[str, Any]) -> float:
    applicable = int(s.get("total", 0)) - int(s.get("not_applicable", 0))
    ok = int(s.get("pass", 0)) + int(s.get("warn", 0))
    return round(100.0 * ok / applicable, 2) if applicable else 100.0


class History:
    """A history store (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = url
        register_url_secrets(url)
        self._ready = False
        self._reader: Engine | None = None
        # SQLite: wait for a concurrent writer (another scan --record) instead of failing
        args: dict[str, Any] = {"timeout": 60} if url.startswith("sqlite") else {}
        try:
            self.engine: Engine = sa.create_engine(_engine_url(url), future=True,
                                                   connect_args=args)
        except ImportError as exc:  # the PostgreSQL driver is an extra
            raise UsageError(Diagnostic("--history-url", 0, 0, "E388",
                                        f"cannot use history store {shown_url(url)}: "
                                        f"the database driver is not installed ({exc.name})",
                                        "PostgreSQL needs the extra: "
                                        "pip install 'aimscheck[postgres]'")) from None
        except (ArgumentError, NoSuchModuleError) as exc:
            raise UsageError(Diagnostic("--history-url", 0, 0, "E388",
                                        f"cannot use history store {shown_url(url)}: "
                                        f"{redact(str(exc).splitlines()[0])}",
                                        "use sqlite:///PATH or postgresql://USER@HOST/DB"
                                        )) from None

    def missing(self) -> Path | None:
        """The SQLite file this store names when it does not exist yet (else None).

        Reading such a store creates nothing and finds no recorded scan; only
        :meth:`record` creates the file.
        """
        path = _sqlite_file(self.url)
        return path if path is not None and not path.exists() else None

    def _read_engine(self) -> Engine:
        """The engine for reads: SQLite opened with ``mode=ro`` (never creates the file)."""
        if self._reader is None:
            self._reader = self.engine
            url = sa.make_url(_engine_url(self.url))
            if url.get_backend_name() == "sqlite" and _sqlite_file(self.url) is not None:
                query = dict(url.query)
                if str(query.get("uri", "")).lower() not in ("true", "1"):
                    path = Path(url.database or "").absolute().as_posix()
                    url = url.set(database="file:" + quote(path, safe="/:"))
                query.update(mode="ro", uri="true")
                self._reader = sa.create_engine(url.set(query=query), connect_args={
                    "timeout": 60})
        return self._reader

    def migrate(self) -> None:
        """Create the store or bring its schema to :data:`SCHEMA_VERSION` (a write).

        Tolerates concurrent openers. Readers never call it: :meth:`record` does.
        """
        if self._ready:
            return
        for attempt in range(3):
            try:
                with self.engine.begin() as conn:
                    conn.execute(CreateTable(schema_versions, if_not_exists=True))
                with self.engine.begin() as conn:
                    done = {int(r[0]) for r in conn.execute(
                        sa.select(schema_versions.c.version))}
                    self._refuse_newer(done)
                    for version, description, step in MIGRATIONS:
                        if version not in done:
                            step(conn)
                            conn.execute(schema_versions.insert().values(
                                version=version, description=description))
                self._ready = True
                return
            except (sa.exc.IntegrityError, sa.exc.OperationalError,
                    sa.exc.ProgrammingError) as exc:
                # another process created a table or recorded a step between our look and
                # our write: look again (its work is what we wanted)
                if attempt == 2 or not _already_exists(exc):
                    raise

    @contextmanager
    def _failures(self, *, writing: bool) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or exc
            text = (str(cause).splitlines() or [type(cause).__name__])[0]
            need = ("may create tables and write" if writing else
                    "may read the store's tables (a read never creates or changes them)")
            raise UsageError(Diagnostic(
                shown_url(self.url), 0, 0, "E388", f"history store failed: {redact(text)}",
                f"check the URL, that the database is reachable and that the user {need}")
                              ) from None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._failures(writing=True):
            self.migrate()
            with self.engine.begin() as conn:
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection | None]:
        """A read-only connection; None when there is no store or no scans table yet."""
        if self.missing() is not None:
            yield None
            return
        with self._failures(writing=False), self._read_engine().connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            tables = set(sa.inspect(conn).get_table_names())
            if schema_versions.name in tables:
                done = {int(r[0]) for r in conn.execute(
                    sa.select(schema_versions.c.version))}
                self._refuse_newer(done)
            # a later migration that readers depend on must refuse an older store here
            # ("record a scan to upgrade it"): reads never migrate
            yield conn if scans.name in tables else None

    def _refuse_newer(self, done: set[int]) -> None:
        unknown = sorted(v for v in done if v > SCHEMA_VERSION)
        if unknown:
            raise UsageError(Diagnostic(
                shown_url(self.url), 0, 0, "E388", f"the history store has schema "
                f"version {unknown[-1]}; this aimscheck knows up to "
                f"{SCHEMA_VERSION}", "upgrade aimscheck, or use another store"))

    def record(self, result: ScanResult, recorded_at: datetime | None = None) -> int:
        """Store a scan and its findings; return its id."""
        s = result.summary
        when = format_ts(recorded_at or datetime.now(UTC))
        with self._write() as conn:
            scan_id = conn.execute(scans.insert().values(
                recorded_at=when, as_of=result.as_of, organisation=result.organisation,
                mode=result.mode, tool_version=result.tool_version,
                evidence_digest=result.evidence_digest, exit_code=result.exit_code,
                total=int(s.get("total", 0)), passed=int(s.get("pass", 0)),
                warned=int(s.get("warn", 0)), failed=int(s.get("fail", 0)),
                errors=int(s.get("error", 0)), waived=int(s.get("waived", 0)),
                not_applicable=int(s.get("not_applicable", 0)),
                failing=int(s.get("failing", 0)), readiness=_readiness(s),
            ).returning(scans.c.id)).scalar_one()
            rows = [{
                "scan_id": scan_id, "rule_id": f.rule_id, "target_kind": f.target_kind,
                "target_id": f.target_id, "target_name": redact(f.target_name),
                "severity": f.severity, "status": f.status, "owner_id": f.owner.id,
                "owner_name": f.owner.name, "owner_email": f.owner.email,
                "message": redact(f.message)} for f in result.all_findings()]
            if rows:
                conn.execute(findings.insert(), rows)
        return int(scan_id)

    def scans(self, limit: int | None = None) -> list[ScanRow]:
        """Recorded scans, oldest first (the last ``limit`` when given)."""
        q = sa.select(scans).order_by(scans.c.id.desc())
        if limit:
            q = q.limit(limit)
        with self._read() as conn:
            rows = [] if conn is None else [ScanRow(**dict(r._mapping))
                                            for r in conn.execute(q)]
        return list(reversed(rows))

    def failing_since(self, as_of: str) -> dict[tuple[str, str, str], str]:
        """(rule, kind, id) → as-of of the first scan of its unbroken failing run.

        Only scans with an as-of up to ``as_of`` count, ordered by as-of (then id), so the
        answer depends on the as-of and the recorded scans, never on the clock. A key
        missing from the answer was not failing in the latest of those scans.
        """
        with self._read() as conn:
            if conn is None:
                return {}
            limit = parse_ts(as_of)
            rows = [(parse_ts(str(r[1])), int(r[0]), str(r[1])) for r in conn.execute(
                sa.select(scans.c.id, scans.c.as_of).where(scans.c.mode == "scan"))]
            order = [(text, i) for when, i, text in sorted(rows) if when <= limit]
            if not order:
                return {}
            ids = [i for _, i in order]
            failing: dict[int, set[tuple[str, str, str]]] = {i: set() for i in ids}
            for r in conn.execute(sa.select(findings.c.scan_id, findings.c.rule_id,
                                            findings.c.target_kind, findings.c.target_id)
                                  .where(findings.c.scan_id.in_(ids))
                                  .where(findings.c.status.in_(sorted(FAILING)))):
                failing[int(r[0])].add((str(r[1]), str(r[2]), str(r[3])))
        since: dict[tuple[str, str, str], str] = {}
        for when, sid in order:  # oldest first: a gap restarts the run
            now = failing[sid]
            since = {k: since.get(k, when) for k in now}
        return since

    def timeline(self, as_of: str) -> list[tuple[str, dict[tuple[str, str, str], tuple[str, str]]]]:
        """Recorded scans up to ``as_of``, oldest first: (as-of, key → (status, severity)).

        Only ``scan`` runs count (not gates); of several scans recorded with the same
        as-of, the last recorded one stands. Ordered by as-of, so the answer depends on
        the as-of and the recorded scans, never on the clock.
        """
        limit = parse_ts(as_of)
        with self._read() as conn:
            if conn is None:
                return []
            latest: dict[str, int] = {}
            for sid, text in conn.execute(sa.select(scans.c.id, scans.c.as_of)
                                          .where(scans.c.mode == "scan")
                                          .order_by(scans.c.id)):
                if parse_ts(str(text)) <= limit:
                    latest[str(text)] = int(sid)
            order = sorted(latest.items(), key=lambda x: parse_ts(x[0]))
            ids = [i for _, i in order]
            by_scan: dict[int, dict[tuple[str, str, str], tuple[str, str]]] = {
                i: {} for i in ids}
            if ids:
                for r in conn.execute(sa.select(findings.c.scan_id, findings.c.rule_id,
                                                findings.c.target_kind, findings.c.target_id,
                                                findings.c.status, findings.c.severity)
                                      .where(findings.c.scan_id.in_(ids))):
                    by_scan[int(r[0])][(str(r[1]), str(r[2]), str(r[3]))] = (str(r[4]),
                                                                             str(r[5]))
        return [(text, by_scan[i]) for text, i in order]

    def _where_missing(self) -> str:
        path = self.missing()
        return f" (no store at {path} yet)" if path is not None else ""

    @staticmethod
    def _no_scan(scan_id: int | None) -> NoReturn:
        raise UsageError(Diagnostic(str(scan_id), 0, 0, "E389",
                                    f"no recorded scan #{scan_id}",
                                    "see 'aimscheck history' for the scan ids"))

    def _scan(self, conn: Connection, scan_id: int) -> ScanRow:
        r = conn.execute(sa.select(scans).where(scans.c.id == scan_id)).first()
        if r is None:
            self._no_scan(scan_id)
        return ScanRow(**dict(r._mapping))

    def diff(self, a: int | None = None, b: int | None = None) -> DiffResult:
        """Compare two recorded scans (default: the last two)."""
        with self._read() as conn:
            if conn is None:
                if a is not None or b is not None:
                    self._no_scan(a if a is not None else b)
                raise UsageError(Diagnostic(shown_url(self.url), 0, 0, "E389",
                                            "0 recorded scan(s); a diff needs two"
                                            + self._where_missing(),
                                            "record scans with 'aimscheck scan --record'"))
            if a is None or b is None:
                ids = [r[0] for r in conn.execute(
                    sa.select(scans.c.id).order_by(scans.c.id.desc()).limit(2))]
                if len(ids) < 2:
                    raise UsageError(Diagnostic(shown_url(self.url), 0, 0, "E389",
                                                f"{len(ids)} recorded scan(s); a diff needs two",
                                                "record scans with 'aimscheck scan --record'"))
                b_id = b if b is not None else ids[0]
                a_id = a if a is not None else (ids[1] if b_id == ids[0] else ids[0])
            else:
                a_id, b_id = a, b
            sa_, sb = self._scan(conn, a_id), self._scan(conn, b_id)
            order = [r[0] for r in conn.execute(
                sa.select(scans.c.id).where(scans.c.id <= max(a_id, b_id))
                .order_by(scans.c.id))]
            as_of = {r[0]: r[1] for r in conn.execute(sa.select(scans.c.id, scans.c.as_of))}
            failing_by_scan: dict[int, set[tuple[str, str, str]]] = {i: set() for i in order}
            for r in conn.execute(sa.select(findings.c.scan_id, findings.c.rule_id,
                                            findings.c.target_kind, findings.c.target_id)
                                  .where(findings.c.scan_id.in_(order))
                                  .where(findings.c.status.in_(sorted(FAILING)))):
                failing_by_scan[r[0]].add((r[1], r[2], r[3]))
            cur = {(r.rule_id, r.target_kind, r.target_id): r for r in conn.execute(
                sa.select(findings).where(findings.c.scan_id == b_id))}
            old = {(r.rule_id, r.target_kind, r.target_id): r for r in conn.execute(
                sa.select(findings).where(findings.c.scan_id == a_id))}

        def since(key: tuple[str, str, str], upto: int) -> str:
            start = upto
            for sid in reversed([i for i in order if i <= upto]):
                if key in failing_by_scan.get(sid, set()):
                    start = sid
                else:
                    break
            return str(as_of[start])

        def entry(key: tuple[str, str, str], row: Any, upto: int, end_as_of: str) -> DiffEntry:
            opened = since(key, upto)
            days = (parse_ts(end_as_of) - parse_ts(opened)).days
            owner = (f"{row.owner_name} <{row.owner_email}>" if row.owner_email
                     else str(row.owner_name))
            return DiffEntry(rule_id=key[0], target=f"{key[1]}/{key[2]}",
                             target_name=row.target_name, severity=row.severity,
                             status=row.status, owner=owner, open_since=opened,
                             open_days=days, message=row.message)

        fb, fa = failing_by_scan.get(b_id, set()), failing_by_scan.get(a_id, set())
        new = [entry(k, cur[k], b_id, sb.as_of) for k in sorted(fb - fa)]
        still = [entry(k, cur[k], b_id, sb.as_of) for k in sorted(fb & fa)]
        resolved = [entry(k, old[k], a_id, sb.as_of) for k in sorted(fa - fb)]
        return DiffResult(sa_, sb, new, resolved, still)
