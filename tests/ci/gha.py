"""Just enough of a GitHub Actions runner to run a workflow job or a composite action here.

It evaluates the ``${{ … }}`` expressions the examples use (context paths, ``||``, ``&&``,
``!``, ``==``/``!=``, string literals, ``always()``, ``success()``, ``failure()``,
``cancelled()``, ``hashFiles()``), runs each ``run:`` step the way the runner does
(``bash --noprofile --norc -eo pipefail`` on a script file, with ``GITHUB_PATH``,
``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_ENV`` and ``RUNNER_TEMP``), and hands
each ``uses:`` step to a handler the test supplies (which checks what the step would
consume: the SARIF file, the JUnit file, the artifact path). An expression it does not
understand fails the test rather than being guessed.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\)|,)
                        |(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*))""", re.X)


@dataclass
class Step:
    """What a step did."""

    name: str
    skipped: bool = False
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


def _lookup(ctx: Mapping[str, Any], path: str) -> Any:
    cur: Any = ctx
    for part in path.split("."):
        if not isinstance(cur, Mapping):
            return ""
        if part not in cur:
            if cur is ctx:
                raise AssertionError(f"unknown expression context {path!r}")
            return ""
        cur = cur[part]
    return cur


def evaluate(expr: str, ctx: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
             ) -> Any:
    """Evaluate one expression (without the ``${{ }}``)."""
    out: list[str] = []
    values: dict[str, Any] = {}
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None or m.end() == pos:
            raise AssertionError(f"expression not understood: {expr!r} at {pos}")
        pos = m.end()
        if m["str"] is not None:
            key = f"_v{len(values)}"
            values[key] = m["str"][1:-1].replace("''", "'")
            out.append(key)
        elif m["op"] is not None:
            out.append({"&&": " and ", "||": " or ", "!": " not "}.get(m["op"], m["op"]))
        elif m["num"] is not None:
            out.append(m["num"])
        else:
            name = m["name"]
            nxt = expr[pos:].lstrip()
            if nxt.startswith("("):
                if name not in functions:
                    raise AssertionError(f"unknown function {name}() in {expr!r}")
                key = f"_f_{name}"
                values[key] = functions[name]
                out.append(key)
            elif name in ("true", "false"):
                out.append("True" if name == "true" else "False")
            else:
                key = f"_v{len(values)}"
                values[key] = _lookup(ctx, name)
                out.append(key)
    # GitHub's ``==`` compares strings case-insensitively; enough for the examples
    return eval("".join(out), {"__builtins__": {}}, values)


def substitute(text: str, ctx: Mapping[str, Any],
               functions: Mapping[str, Callable[..., Any]]) -> str:
    """Replace every ``${{ … }}`` in a string."""
    def one(m: re.Match[str]) -> str:
        v = evaluate(m.group(1), ctx, functions)
        return "true" if v is True else "false" if v is False else str(v)

    return _EXPR.sub(one, text)


def condition(text: Any, ctx: Mapping[str, Any],
              functions: Mapping[str, Callable[..., Any]]) -> bool:
    """A step's ``if:`` (default ``success()``); ``${{ }}`` around it is optional."""
    if text is None:
        text = "success()"
    if isinstance(text, bool):
        return text
    inner = _EXPR.fullmatch(str(text).strip())
    expr = inner.group(1) if inner else str(text)
    names = re.findall(r"\b(always|success|failure|cancelled)\(", expr)
    if not names:
        expr = f"success() && ({expr})"
    return bool(evaluate(expr, ctx, functions))


UsesHandler = Callable[[str, dict[str, str], Path], None]


@dataclass
class Runner:
    """Runs the steps of one job (or one composite action) in ``workspace``."""

    workspace: Path
    env: dict[str, str]
    ctx: dict[str, Any]
    uses: UsesHandler
    failed: bool = False
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.temp = self.workspace.parent / "runner-temp"
        self.temp.mkdir(exist_ok=True)
        self.files = {k: self.temp / f"{k.lower()}.txt" for k in
                      ("GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV")}
        for f in self.files.values():
            f.touch()
        self.ctx.setdefault("steps", {})
        self.ctx.setdefault("runner", {"temp": str(self.temp), "os": "Linux"})

    def functions(self) -> dict[str, Callable[..., Any]]:
        def hash_files(*patterns: str) -> str:
            hit = any(any(self.workspace.glob(p)) for p in patterns)
            return "0" * 64 if hit else ""

        return {"always": lambda: True, "success": lambda: not self.failed,
                "failure": lambda: self.failed, "cancelled": lambda: False,
                "hashFiles": hash_files}

    def _step_env(self, extra: Mapping[str, Any] | None) -> dict[str, str]:
        env = dict(self.env)
        env.update({"CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(self.temp),
                    "GITHUB_WORKSPACE": str(self.workspace)})
        env.update({k: str(v) for k, v in self.files.items()})
        for line in self.files["GITHUB_ENV"].read_text("utf-8").splitlines():
            if "=" in line:
                k, v = line.split("=", 1)
                env[k] = v
        added = [p for p in self.files["GITHUB_PATH"].read_text("utf-8").splitlines() if p]
        if added:
            env["PATH"] = os.pathsep.join([*reversed(added), env.get("PATH", "")])
        for k, v in (extra or {}).items():
            env[k] = substitute(str(v), self.ctx, self.functions())
        return env

    def run_steps(self, steps: list[dict[str, Any]], default_shell: str | None = None) -> None:
        """Run steps in order, as the runner does (a failed step skips later ``success()``)."""
        for i, step in enumerate(steps):
            name = str(step.get("name") or step.get("id") or step.get("uses") or f"step {i}")
            if not condition(step.get("if"), self.ctx, self.functions()):
                self.steps.append(Step(name, skipped=True))
                continue
            env = self._step_env(step.get("env"))
            if "uses" in step:
                with_ = {k: substitute(str(v), self.ctx, self.functions())
                         for k, v in (step.get("with") or {}).items()}
                self.uses(step["uses"], with_, self.workspace)
                self.steps.append(Step(name))
                continue
            shell = step.get("shell", default_shell)
            assert shell in (None, "bash"), f"{name}: only bash steps are run here"
            script = self.temp / f"step-{i}.sh"
            script.write_text(substitute(step["run"], self.ctx, self.functions()), "utf-8")
            self.files["GITHUB_OUTPUT"].write_text("", "utf-8")
            wd = self.workspace / step.get("working-directory", ".")
            proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                                   str(script)], cwd=wd, env=env, capture_output=True,
                                  text=True, timeout=900, check=False)
            outputs = dict(line.split("=", 1) for line in
                           self.files["GITHUB_OUTPUT"].read_text("utf-8").splitlines()
                           if "=" in line)
            res = Step(name, returncode=proc.returncode, stdout=proc.stdout,
                       stderr=proc.stderr, outputs=outputs)
            self.steps.append(res)
            if "id" in step:
                self.ctx["steps"][step["id"]] = {"outputs": outputs,
                                                 "outcome": "success" if proc.returncode == 0
                                                 else "failure"}
            if proc.returncode != 0 and not step.get("continue-on-error"):
                self.failed = True

    @property
    def summary(self) -> str:
        """What the steps appended to ``$GITHUB_STEP_SUMMARY``."""
        return self.files["GITHUB_STEP_SUMMARY"].read_text("utf-8")
