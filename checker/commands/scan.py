"""``aimscheck scan`` and ``aimscheck gate release``: one request, one run, the reports."""

from __future__ import annotations

import time
from pathlib import Path

import click

from checker.run import GateSpec, run

from ._common import (
    common_options,
    debug_dump,
    emit_timed,
    finish,
    guard,
    pair_outputs,
    request_from,
    run_options,
)

__all__ = ["gate", "scan"]


@click.command()
@common_options
@run_options
@guard
def scan(config_path: Path, as_of: str | None, formats: tuple[str, ...],
         outputs: tuple[str, ...], fail_on: str | None, progress: bool | None, quiet: bool,
         evidence: Path | None, waivers: Path | None, record: bool, history_url: str | None,
         baseline: Path | None) -> None:
    """Scan all evidence against all rules; findings grouped by who must act."""
    started = time.perf_counter()
    pair_outputs(formats, outputs, "text")  # before the run: no evidence read in vain
    req = request_from(config_path, as_of=as_of, fail_on=fail_on, progress=progress,
                       evidence=evidence, waivers=waivers, baseline=baseline, record=record,
                       history_url=history_url, outputs=outputs)
    outcome = run(req)
    emit_timed(outcome, formats, outputs, started)
    debug_dump(outcome.config.model_dump(mode="json"), outcome.result, outcome.timings)
    finish(outcome, quiet=quiet)


@click.group()
def gate() -> None:
    """Gates for CI: block a release unless the evidence says it may ship."""


@gate.command("release")
@click.option("--model", required=True, help="Registered model name.")
@click.option("--version", "version", required=True, help="Model version.")
@common_options
@run_options
@guard
def gate_release(model: str, version: str, config_path: Path, as_of: str | None,
                 formats: tuple[str, ...], outputs: tuple[str, ...], fail_on: str | None,
                 progress: bool | None, quiet: bool, evidence: Path | None,
                 waivers: Path | None, record: bool, history_url: str | None,
                 baseline: Path | None) -> None:
    """Decide one release: exit 0 to release, 1 to block, 3 when evidence is missing.

    Waivers (the config's or --waivers), a snapshot (--evidence), a baseline and the
    history apply exactly as in 'scan'.
    """
    started = time.perf_counter()
    pair_outputs(formats, outputs, "text")  # before the run: no evidence read in vain
    req = request_from(config_path, as_of=as_of, fail_on=fail_on, progress=progress,
                       gate=GateSpec(model, version), evidence=evidence, waivers=waivers,
                       baseline=baseline, record=record, history_url=history_url,
                       outputs=outputs)
    outcome = run(req)
    emit_timed(outcome, formats, outputs, started)
    debug_dump(outcome.config.model_dump(mode="json"), outcome.result, outcome.timings)
    finish(outcome, quiet=quiet)
