"""No code in the docs that was never run.

Every fenced block in README.md and docs/ is one of: a ``--8<--`` include of a file in
examples/ (which tests/e2e/test_examples.py runs), a ``pycon`` session (``>>>`` prompts and
the output they print, run here with doctest, one namespace per page), a command this suite
or CI runs, the README's example (run here), or the output of the example just above it,
checked line by line against what that example is asserted to print.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_examples import (
    EXAMPLES,
    MANIFESTS,
    NOTEBOOK_CELLS,
    NOTEBOOKS,
    PYTEST,
    RECIPES,
    ROOT,
    SCRIPTS,
    SHELL,
)

DOCS = ROOT / "docs"
PAGES = sorted([ROOT / "README.md", *DOCS.rglob("*.md")])

#: Shell commands shown outside examples/, each with where it is run.
CHECKED_COMMANDS = {
    # .ci/run evals exactly this line (and checks that README.md has it)
    "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest",
    # tests/e2e/test_cli.py::test_demo_walks_the_whole_flow runs `wonder demo`
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/wonder demo",
}

#: Pages other helpers own whose code is not run yet: their test is an expected failure until
#: it is (strict: once the page passes, its entry must go). Tracked in issue #16.
PENDING: dict[str, str] = {}

_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[\w-]*)\n(?P<body>.*?)^(?P=indent)```$", re.M | re.S
)
# An include is a whole file or one section of it (``"examples/NAME.py:section"``).
_INCLUDE = re.compile(r'^--8<-- "examples/(?P<name>[\w.-]+)(?::(?P<section>[\w-]+))?"$')


def _blocks(page: Path) -> list[tuple[str, str]]:
    return [(m["lang"], m["body"].strip()) for m in _FENCE.finditer(page.read_text())]


def _output_patterns(name: str, section: str | None = None) -> list[str] | None:
    if name in NOTEBOOKS and section in NOTEBOOK_CELLS:  # one cell's output, exactly
        return [f"^{re.escape(line)}$" for line in NOTEBOOK_CELLS[section].splitlines()]
    return SCRIPTS.get(name) or SHELL.get(name)


def _pages() -> list[object]:
    params: list[object] = []
    for page in PAGES:
        name = str(page.relative_to(ROOT))
        marks = (
            [pytest.mark.xfail(reason=f"not run yet: {PENDING[name]}", strict=False)]
            if name in PENDING
            else []
        )
        params.append(pytest.param(page, id=name, marks=marks))
    return params


@pytest.mark.parametrize("page", _pages())
def test_every_code_block_is_run(page: Path) -> None:
    """Each block is an included example, a checked command, or checked output."""
    previous_include: str | None = None
    previous_section: str | None = None
    for lang, body in _blocks(page):
        where = f"{page.relative_to(ROOT)}: block {body[:60]!r}"
        include = _INCLUDE.match(body)
        if include:
            name = include["name"]
            assert (EXAMPLES / name).is_file(), f"{where}: examples/{name} does not exist"
            assert name in {*SCRIPTS, *RECIPES, *SHELL, *PYTEST, *MANIFESTS, *NOTEBOOKS}, (
                f"{where}: {name} is not run"
            )
            previous_include, previous_section = name, include["section"]
            continue
        if lang == "text" and previous_include is None:
            pass  # output, diagrams, grammar: not code (label code blocks with their language)
        elif lang == "text":
            patterns = _output_patterns(previous_include, previous_section)
            assert patterns, f"{where}: output shown for {previous_include}, which prints none"
            lines = [line for line in body.splitlines() if line.strip()]
            for line in lines:
                assert any(re.search(p, line) for p in patterns), (
                    f"{where}: the line {line!r} is not what {previous_include} is tested to print"
                )
            for pattern in patterns:
                assert any(re.search(pattern, line) for line in lines), (
                    f"{where}: {previous_include} prints {pattern!r}; the page does not show it"
                )
        elif lang == "pycon" or (lang == "bash" and body in CHECKED_COMMANDS):
            pass  # sessions: test_pycon_sessions_run; commands: see CHECKED_COMMANDS
        elif page.name == "README.md" and lang == "python":
            pass  # run by test_readme_example_runs_as_written
        else:
            pytest.fail(
                f"{where}: code that no test runs. Put it in examples/ (run by "
                f"tests/e2e/test_examples.py) and include it with --8<--, write it as a "
                f"pycon session (run by doctest), or show it inline."
            )
        previous_include = None


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_pycon_sessions_run(page: Path) -> None:
    """Each ``pycon`` block runs under doctest and prints what the page shows."""
    sessions = [body for lang, body in _blocks(page) if lang == "pycon"]
    if not sessions:
        return
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for number, session in enumerate(sessions, 1):
        test = parser.get_doctest(session, namespace, f"{page.name}#{number}", str(page), 0)
        runner.run(test, clear_globs=False)
    assert runner.summarize(verbose=False).failed == 0, f"{page}: a pycon session failed"


def test_readme_example_runs_as_written(tmp_path: Path) -> None:
    """The README's Python block, saved as a file and run, upserts a customer."""
    (python,) = [body for lang, body in _blocks(ROOT / "README.md") if lang == "python"]
    script = tmp_path / "first.py"
    script.write_text(python)
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"customer [0-9a-f-]{36}\n", result.stdout), result.stdout


def test_quickstart_passes_mypy_strict(tmp_path: Path) -> None:
    """The quickstart program type-checks under ``mypy --strict``, as a user's CI would run it."""
    pytest.importorskip("mypy", reason="pip install -e '.[dev]' for mypy")
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir",
         str(tmp_path / "cache"), str(EXAMPLES / "quickstart.py")],
        cwd=tmp_path,  # no project config: strict as given, like a user's own project
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
