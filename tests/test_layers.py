"""The layers the README promises, checked by walking every module's imports (no import is run).

Runtime modules are what runs on the user's device when ``astute annotate`` runs; they may import the core
and each other, never a tool. ``report.py`` counts as runtime: the drive report is written at the end of
``annotate``. To add a module, put its name in one list below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "astute_cli"

CORE = ["types", "boxes", "geometry", "signs", "ffmpeg", "files", "paths", "checks"]
RUNTIME = ["source", "detector", "tiling", "tracker", "announcer", "speech", "render", "sink", "pipeline",
           "reader", "values", "limits", "plates", "schedule", "background", "report", "batch", "timing", "interrupts",
           "haze", "daylight"]
TOOLS = ["synth", "train", "train_reader", "export", "quantize", "eval", "labels", "fetch"]


def imported_modules(path: Path) -> set[str]:
    """First name under ``astute_cli`` of every import in the file, wherever it sits (lazy ones included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level:
                raise AssertionError(f"{path.name}: relative import of {node.module!r}")
            names = [node.module] if node.module != "astute_cli" else [f"astute_cli.{a.name}" for a in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("astute_cli.")}
    return found


def module_file(name: str) -> Path | None:
    for path in (PACKAGE / f"{name}.py", PACKAGE / name / "__init__.py"):
        if path.exists():
            return path
    return None


def test_every_module_is_in_a_layer():
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in PACKAGE.glob("*.py")} | packages
    unplaced = modules - set(CORE) - set(RUNTIME) - set(TOOLS) - {"__init__", "__main__", "cli"}
    assert not unplaced, f"put these modules in a layer in tests/test_layers.py: {sorted(unplaced)}"


@pytest.mark.parametrize("name", [*CORE, *RUNTIME])
def test_runtime_and_core_never_import_tools(name):
    path = module_file(name)
    if path is None:
        pytest.skip(f"{name}.py does not exist yet")
    assert not imported_modules(path) & set(TOOLS)


@pytest.mark.parametrize("name", CORE)
def test_core_imports_only_core(name):
    path = module_file(name)
    if path is None:
        pytest.skip(f"{name}.py does not exist yet")
    assert imported_modules(path) <= set(CORE)


def test_nothing_imports_the_cli():
    cli = PACKAGE / "cli"  # the CLI's own files import each other
    users = [p.name for p in PACKAGE.rglob("*.py")
             if "cli" in imported_modules(p) and p.name != "__main__.py" and cli not in p.parents]
    assert not users


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("import astute_cli.train\n", {"train"}, id="import"),
        pytest.param("def f():\n    from astute_cli.eval.clips import x\n", {"eval"}, id="lazy-from-subpackage"),
        pytest.param("from astute_cli import export, tracker\n", {"export", "tracker"}, id="from-package"),
        pytest.param("import numpy\nfrom pathlib import Path\n", set(), id="outside-package"),
    ],
)
def test_imported_modules_sees_every_form(tmp_path, source, expected):
    path = tmp_path / "m.py"
    path.write_text(source)
    assert imported_modules(path) == expected
