"""``aimscheck evidence pull|verify``, ``aimscheck history`` and ``aimscheck diff``.

Exit codes: ``evidence pull`` 0 (3 when a source failed: the snapshot still records what
was collected and why the rest was not); ``evidence verify`` 0 intact, 1 tampered or
chain broken; ``history``/``diff`` 0, 2 on a usage or store error.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from checker.config import load_config
from checker.errors import Diagnostic, UsageError
from checker.run import run

from ._common import config_option, guard, request_from

__all__ = ["diff", "evidence", "history", "verify_result"]


@click.group()
def evidence() -> None:
    """The evidence locker: pull snapshots, verify them (replay with 'scan --evidence')."""


@evidence.command("pull")
@config_option
@click.option("-o", "--output", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="A new folder for the snapshot.")
@click.option("--previous", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="The previous snapshot, chained into this one by its digest.")
@click.option("--pseudonymise", is_flag=True,
              help="Replace individuals' names and handles by keyed pseudonyms "
              "(key: $AIMSCHECK_PSEUDONYM_KEY).")
@click.option("--as-of", "as_of", metavar="DATE|TIMESTAMP",
              help="The snapshot's as-of (default: now).")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path), metavar="PEM",
              help="Sign the manifest with this Ed25519 private key (DSSE envelope "
              "manifest.sig.json; passphrase from $AIMSCHECK_SIGNING_KEY_PASSPHRASE). "
              "Create a key pair with 'aimscheck evidence keygen'.")
@click.option("--progress/--no-progress", default=None)
@guard
def evidence_pull(config_path: Path, out_dir: Path, previous: Path | None, pseudonymise: bool,
                  as_of: str | None, sign_key: Path | None, progress: bool | None) -> None:
    """Run every source and write raw payloads, records and a hashed manifest.

    The sources are read by the one scan path, under the same record limit as a scan.
    """
    from checker.locker import prepare_pull, write_snapshot

    loaded = load_config(config_path)
    target = prepare_pull(out_dir, previous=previous, pseudonymise=pseudonymise,
                          settings=loaded.config.settings, sign_key=sign_key)
    outcome = run(request_from(config_path, loaded=loaded, as_of=as_of, progress=progress,
                               read_all=True, capture_raw=True))
    manifest, digest = write_snapshot(target, outcome)
    failed = [s for s in manifest["sources"] if s["status"]["status"] == "error"]
    for s in manifest["sources"]:
        st = s["status"]
        click.echo(f"  {st['status']:5} {s['name']} ({s['adapter']} {s['adapter_version']}): "
                   f"{st['records']} records, {len(s['raw'])} raw payloads", err=True)
    for d in outcome.diagnostics:
        click.echo(d.render(), err=True)
    click.echo(f"wrote snapshot {out_dir} ({len(manifest['files'])} files), digest {digest}"
               + (f", chained to {manifest['previous']['digest']}" if manifest["previous"]
                  else ""), err=True)
    click.echo(digest)
    if failed or outcome.result.exit_code == 3:
        click.echo(f"aimscheck: {len(failed)} source(s) failed; the snapshot records why "
                   "(scans of it fail closed)", err=True)
        sys.exit(3)


@evidence.command("verify")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--previous", type=click.Path(file_okay=False, path_type=Path),
              help="Where the previous snapshot is, when not at the path its successor "
              "recorded.")
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), metavar="PEM",
              help="Require every snapshot's signature to verify under this Ed25519 public "
              "key. Without it, only the hashes are checked: a consistent edit (record and "
              "its hash) is not detected (SECURITY.md).")
@guard
def evidence_verify(folder: Path, previous: Path | None, public_key: Path | None) -> None:
    """Detect changed, added or removed files, chain breaks and edits after signing (exit 1).

    With --public-key, an edit made after signing is detected however consistent it is.
    """
    from checker.locker import verify

    report = verify(folder, previous, public_key=public_key)
    for d in report.problems:
        click.echo(d.render(), err=True)
    for path, digest, n in report.checked:
        click.echo(f"{'ok      ' if n == 0 else 'TAMPERED'} {path} {digest}")
    for note in report.notes:
        click.echo(f"note: {note}", err=True)
    if not report.ok:
        click.echo(f"aimscheck: {len(report.problems)} integrity problem(s)", err=True)
        sys.exit(1)


@evidence.command("keygen")
@click.argument("private", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("public", type=click.Path(dir_okay=False, path_type=Path))
@guard
def evidence_keygen(private: Path, public: Path) -> None:
    """Write a new Ed25519 key pair for signing snapshots (PRIVATE is created 0600).

    Keep PRIVATE where only the puller can read it (a CI secret); give PUBLIC to whoever
    verifies or scans snapshots.
    """
    from checker.signing import generate_keypair

    if private.exists() or public.exists():
        raise UsageError(Diagnostic(str(private if private.exists() else public), 0, 0,
                                    "E005", "file exists", "keys are never overwritten"))
    kid = generate_keypair(private, public)
    click.echo(f"wrote {private} (private, keep secret) and {public} (public); key id {kid}",
               err=True)


@click.command()
@config_option
@click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL")
@click.option("-n", "--limit", type=int, default=None, help="Only the last N scans.")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@guard
def history(config_path: Path, history_url: str | None, limit: int | None, fmt: str) -> None:
    """Readiness over time: every recorded scan, oldest first."""
    from checker.history import History, default_url, shown_url

    url = history_url or default_url(config_path)
    rows = History(url).scans(limit)
    if fmt == "json":
        click.echo(json.dumps([asdict(r) for r in rows], indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo(f"no recorded scans in {shown_url(url)} (record with 'scan --record')")
        return
    click.echo(f"{'#':>4}  {'as of':20}  {'readiness':>9}  {'pass':>5} {'fail':>5} "
               f"{'error':>5} {'waived':>6}  {'failing':>7}  evidence")
    prev: float | None = None
    for r in rows:
        trend = "" if prev is None else (" ↑" if r.readiness > prev else
                                         " ↓" if r.readiness < prev else " =")
        prev = r.readiness
        click.echo(f"{r.id:>4}  {r.as_of:20}  {r.readiness:>8.1f}%  {r.passed:>5} "
                   f"{r.failed:>5} {r.errors:>5} {r.waived:>6}  {r.failing:>7}  "
                   f"{(r.evidence_digest or '-')[:19]}{trend}")


@click.command()
@click.argument("a", type=int, required=False)
@click.argument("b", type=int, required=False)
@config_option
@click.option("--history-url", envvar="AIMSCHECK_HISTORY_URL", metavar="URL")
@click.option("-f", "--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@guard
def diff(a: int | None, b: int | None, config_path: Path, history_url: str | None,
         fmt: str) -> None:
    """New, resolved and still-open findings between recorded scans A and B (default: last two)."""
    from checker.history import History, default_url

    url = history_url or default_url(config_path)
    d = History(url).diff(a, b)
    if fmt == "json":
        click.echo(json.dumps({"a": asdict(d.a), "b": asdict(d.b),
                               "new": [asdict(e) for e in d.new],
                               "resolved": [asdict(e) for e in d.resolved],
                               "still_open": [asdict(e) for e in d.still_open]},
                              indent=2, ensure_ascii=False))
        return
    click.echo(f"scan #{d.a.id} (as of {d.a.as_of}, readiness {d.a.readiness:.1f}%) → "
               f"scan #{d.b.id} (as of {d.b.as_of}, readiness {d.b.readiness:.1f}%)")
    for title, items, verb in (("New", d.new, "open"), ("Resolved", d.resolved, "was open"),
                               ("Still open", d.still_open, "open")):
        click.echo(f"\n{title} ({len(items)})")
        for e in items:
            click.echo(f"  {e.severity:8} {e.rule_id} {e.target}: {verb} {e.open_days} "
                       f"day{'s' if e.open_days != 1 else ''} (since {e.open_since[:10]}) — "
                       f"owner {e.owner}")


@click.command("verify-result")
@click.argument("result", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--public-key", type=click.Path(dir_okay=False, path_type=Path), metavar="PEM",
              required=True, help="The signer's Ed25519 public key (from 'aimscheck evidence "
              "keygen').")
@click.option("--signature", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="The DSSE envelope (default: RESULT.sig.json beside the result).")
@guard
def verify_result(result: Path, public_key: Path, signature: Path | None) -> None:
    """Check a signed scan result ('scan --sign-key') with the signer's public key.

    Exit 0 when the JSON result is byte for byte what the key's holder signed; 1 when it
    is not signed (E405), the signature does not verify (E406) or the result was changed
    after signing (E407) — one edited finding is enough.
    """
    from checker.signing import key_id, load_public_key, verify_result

    pub = load_public_key(public_key)
    problems, predicate = verify_result(result, pub, signature)
    for d in problems:
        click.echo(d.render(), err=True)
    if problems:
        click.echo(f"aimscheck: the scan result {result} cannot be trusted", err=True)
        sys.exit(1)
    summary = predicate.get("summary") or {}
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.items())
                       if isinstance(v, int)) if isinstance(summary, dict) else ""
    click.echo(f"ok {result}: signed by key {key_id(pub)} for {predicate.get('organisation')} "
               f"as of {predicate.get('as_of')}, exit code {predicate.get('exit_code')}"
               + (f" ({counts})" if counts else ""))
