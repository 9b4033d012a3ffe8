"""aimscheck: ISO/IEC 42001 accountability as policy-as-code.

Public API: load a config, load rules, collect evidence, evaluate, report. See
:mod:`checker.run` for the one run path (``ScanRequest`` → ``run``) and :mod:`checker.cli`
for the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

#: The source repository (also in pyproject's [project.urls]); rule help links point into
#: it at the release tag ``v<version>``, and the CI examples install from it.
SOURCE_URL = "https://github.com/aimscheck/aimscheck"

__all__ = ["SOURCE_URL", "__version__"]
