"""``python -m checker``: the same command line as ``aimscheck``."""

from __future__ import annotations

from checker.cli import main

if __name__ == "__main__":
    main(prog_name="aimscheck")
