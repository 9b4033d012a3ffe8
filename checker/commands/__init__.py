"""The CLI commands, one module per area; :mod:`checker.cli` adds them to ``main``.

Each module defines plain click commands (or groups) and imports only downward
(:mod:`checker.commands._common`, :mod:`checker.run` and the core). A new command is a
function here plus one line in ``checker/cli.py``.
"""
