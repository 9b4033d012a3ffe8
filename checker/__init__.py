"""aimscheck: ISO/IEC 42001 accountability as policy-as-code.

Public API: load a config, load rules, collect evidence, evaluate, report. See
:mod:`checker.pipeline` for the stages and :mod:`checker.cli` for the command line.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
