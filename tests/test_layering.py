"""The house rules that keep the code easy to see, checked so that breaking one fails the suite.

- The import contracts in pyproject.toml (engine alone, nothing below the TUI imports Textual or
  Rich, the benchmark harness imported only by the CLI) hold, and every top-level module except
  the TUI and the CLI is named in the "core-without-ui" contract, so a new room cannot escape it.
- No module is over the hard size limit.
- Every `# type: ignore` says why, and there are few of them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "udpscope"
MAX_MODULE_LINES = 600
MAX_TYPE_IGNORES = 20
# Modules allowed to know the screen (or everything): the TUI, the CLI that starts it, and the
# entry points.
UI_MODULES = {"tui", "cli", "__main__", "__init__"}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _top_level_modules() -> set[str]:
    names = set()
    for path in PACKAGE.iterdir():
        if path.suffix == ".py":
            names.add(path.stem)
        elif path.is_dir() and (path / "__init__.py").exists():
            names.add(path.name)
    return names


def test_import_contracts_hold() -> None:
    lint = pytest.importorskip("importlinter.cli", reason="import-linter is in the test extras")
    status = lint.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True)
    assert status == 0, "an import contract is broken: run `lint-imports` to see which"


def test_every_core_module_is_under_the_no_ui_contract() -> None:
    named = {m.removeprefix("udpscope.") for m in _contracts()["core-without-ui"]["source_modules"]}
    missing = _top_level_modules() - UI_MODULES - named
    assert not missing, f"add these to the core-without-ui contract in pyproject.toml: {missing}"


def test_no_module_over_the_size_limit() -> None:
    modules = [*PACKAGE.rglob("*.py"), *(ROOT / "bench").rglob("*.py")]  # the dev harness too
    sizes = {p: len(p.read_text().splitlines()) for p in modules}
    over = {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not over, f"split these modules (limit {MAX_MODULE_LINES} lines): {over}"


_IGNORE = re.compile(r"#\s*type:\s*ignore(\[[^\]]*\])?(?P<rest>.*)$")


def test_type_ignores_are_few_and_explained() -> None:
    ignores = []
    unexplained = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            match = _IGNORE.search(line)
            if match is None:
                continue
            where = f"{path.relative_to(ROOT)}:{number}"
            ignores.append(where)
            if not match["rest"].strip().lstrip("#").strip():
                unexplained.append(where)
    assert not unexplained, f"say why after each `# type: ignore[...]`: {unexplained}"
    assert len(ignores) <= MAX_TYPE_IGNORES, f"{len(ignores)} type: ignore comments: {ignores}"
