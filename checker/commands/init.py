"""``aimscheck init``: a commented starter config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checker import SOURCE_URL, __version__
from checker.errors import Diagnostic, UsageError

from ._common import guard, write_atomic

__all__ = ["STARTER", "init", "schema_url"]


def schema_url(name: str = "config") -> str:
    """The schema in the source repository at this release's tag (for editors)."""
    raw = SOURCE_URL.replace("https://github.com/", "https://raw.githubusercontent.com/")
    return f"{raw}/v{__version__}/checker/schemas/{name}.schema.json"


STARTER = f"# yaml-language-server: $schema={schema_url()}\n" + """\
# aimscheck configuration. Paths are relative to this file.
# Docs: README.md; the format: checker/schemas/config.schema.json (with the adapters you
# installed: 'aimscheck schema config -o aimscheck.schema.json' and point the line above at it).
version: 1
organisation: Example Ltd
# The last link of every finding-owner chain: an active individual in HR.
accountable_executive: ceo@example.com
rule_packs: [iso42001]      # installed packs by name, or folders of your own rules
fail_on: low                # lowest severity that fails 'scan' and 'gate'

sources:
  # The AIMS register: AI systems, models, datasets, risks, controls, vendors, policies.
  - adapter: register
    path: register.yaml
  # People from an HR export; map your columns to ours.
  - adapter: hr_csv
    path: hr/people.csv
    columns: {id: employee_id, email: work_email, name: full_name, status: status,
              hired: hire_date, terminated: termination_date}
  # Training completions from the LMS.
  - adapter: lms_csv
    path: training/completions.csv
    columns: {person: email, course: course_id, completed: completed_on}
  # Anything else (approvals, reviews, incidents, releases …) as JSON Lines.
  - adapter: jsonl
    path: evidence/
    kinds: [approval, review, release, incident, event, alert]

settings:
  production_stages: [production]
  production_aliases: [production, prod, champion]

# Per-rule overrides: see 'aimscheck rules show RULE-ID' for each rule's params.
rules: {}
#  AIMS-RSK-001:
#    params: {cadence_days: 60}
"""


def _with_hr_preset(text: str, preset: str) -> str:
    """The starter config with its hr_csv entry spelled out from an adapter preset.

    The hr_csv adapter is found through the adapter registry (checker never imports
    evidence_adapters); it renders its own preset as a ``sources:`` entry.
    """
    from checker.adapters import adapter_registry

    cls: Any = adapter_registry().get("hr_csv")
    names: list[str] = cls.preset_names()
    if preset not in names:
        from checker.registry import did_you_mean

        raise UsageError(Diagnostic("--hr", 0, 0, "E001", f"unknown HR preset {preset!r}",
                                    did_you_mean(preset, names)
                                    or "available: " + ", ".join(names)))
    start = text.index("  - adapter: hr_csv\n")
    end = text.index("  # Training completions", start)
    snippet: str = cls.preset_source_yaml(preset)
    return text[:start] + snippet + text[end:]


@click.command()
@click.option("-o", "--output", default="aimscheck.yaml", show_default=True,
              type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.option("--hr", "hr_preset", default=None, metavar="PRESET",
              help="Write the column mapping of an HR export preset (workday, bamboohr, "
                   "personio) into the hr_csv source.")
@guard
def init(output: Path, force: bool, hr_preset: str | None) -> None:
    """Write a commented starter config."""
    if output.exists() and not force:
        raise UsageError(Diagnostic(str(output), 0, 0, "E005", "file exists",
                                    "use --force to overwrite it"))
    text = STARTER
    if hr_preset is not None:
        text = _with_hr_preset(text, hr_preset)
    write_atomic(output, text)
    click.echo(f"wrote {output}")
