"""The package layout is the course's architecture: imports only run downwards.

``utils/`` is what a learner imports, in layers: the top-level basics, statistics (bootstrap
intervals), plotting, then data, models and training, decoding, tasks, the checks, and last the two modules a notebook starts and ends with
(``course.setup()``, ``results.save()``).
``course_tools/`` builds, publishes and grades the course on top of all of it. A module may import
its own unit (its own subpackage) and any unit of a lower layer, never a higher one or a peer:
these tests hold the rule for every module and every solution notebook, so the layout cannot
silently decay.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Lowest first. A unit is a module or a subpackage; a unit may import the units of lower layers.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("utils", "utils.mode", "utils.files"),  # "utils" is the package's own __init__
    ("utils.stats",),  # bootstrap intervals: plain NumPy, for data, decoding and tasks alike
    ("utils.plotting",),
    ("utils.data",),
    ("utils.models",),
    ("utils.training",),
    ("utils.decoding",),
    ("utils.tasks",),
    ("utils.checks",),
    ("utils.course",),
    ("utils.results",),
    ("course_tools",),
)
LAYER_OF = {unit: index for index, units in enumerate(LAYERS) for unit in units}
PACKAGES = ("utils", "course_tools")


def unit_of(module: str) -> str:
    """The unit a dotted module name belongs to (the longest listed prefix)."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix in LAYER_OF:
            return prefix
    raise KeyError(f"{module} belongs to no unit of LAYERS: add its package to LAYERS in tests/test_layout.py.")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, package: str) -> set[str]:
    """Every course module ``source`` imports (``from x import y`` counts ``x.y`` when that is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the importing package
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PACKAGES and _exists(name)}


def _exists(name: str) -> bool:
    path = REPO.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def course_modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPO / package).rglob("*.py")
                  if "__pycache__" not in path.parts)


def test_every_module_belongs_to_a_unit():
    for path in course_modules():
        unit_of(module_name(path))


def test_the_layout_has_no_stray_modules():
    """The top of ``utils/`` holds only the basics and the two modules every notebook uses."""
    top = sorted(path.stem for path in (REPO / "utils").glob("*.py") if path.stem != "__init__")
    assert top == ["course", "files", "mode", "plotting", "results"]


@pytest.mark.parametrize("path", course_modules(), ids=lambda path: str(path.relative_to(REPO)))
def test_imports_only_run_downwards(path: Path):
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    unit = unit_of(name)
    wrong = []
    for imported in sorted(imported_modules(path.read_text(encoding="utf-8"), package)):
        other = unit_of(imported)
        if other != unit and LAYER_OF[other] >= LAYER_OF[unit]:
            wrong.append(f"{imported} ({other}, layer {LAYER_OF[other]})")
    assert not wrong, (f"{name} ({unit}, layer {LAYER_OF[unit]}) imports upwards or sideways: "
                       + ", ".join(wrong) + ". Move the shared code down a layer, or this module up.")


def test_lesson_code_never_imports_the_course_tools():
    for path in sorted((REPO / "utils").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert not {m for m in imported_modules(text, module_name(path)) if m.startswith("course_tools")}, path


@pytest.mark.parametrize("folder", ["solutions", "chapters"])
def test_notebooks_import_lesson_code_only(folder: str):
    for notebook in sorted((REPO / folder).glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                imported = imported_modules(source, "")
            except SyntaxError:
                continue
            assert not {m for m in imported if m.startswith("course_tools")}, (
                f"{notebook.name} imports a build or grading tool: {sorted(imported)}")


def test_the_rule_catches_an_upward_import():
    """The checker itself: a model module that imported a checker would be caught."""
    source = "from utils.checks import ch04\nfrom utils.data import text\n"
    imported = imported_modules(source, "utils.models")
    assert imported == {"utils.checks", "utils.checks.ch04", "utils.data", "utils.data.text"}
    upward = [m for m in imported if LAYER_OF[unit_of(m)] > LAYER_OF["utils.models"]]
    assert sorted(upward) == ["utils.checks", "utils.checks.ch04"]
