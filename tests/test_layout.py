"""The package layout: folders follow the data flow, and a lower stage never imports a higher one.

Stages, lowest first (README, "Layout"). A module may import its own stage and any stage
below it. Lazy imports inside functions count: they run too. Imports under
``if TYPE_CHECKING:`` never run, so they do not count for the direction (``qa`` names the
scene record in type hints; ``scene`` draws the questions); they do count for circles.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "binsynth"

#: Lowest first. Root helpers are one-screen modules every stage may use.
STAGES: tuple[tuple[str, ...], ...] = (
    ("binsynth", "binsynth.errors", "binsynth.constants", "binsynth.geometry", "binsynth.progress"),
    ("binsynth.dsp",),
    ("binsynth.io",),
    ("binsynth.corpora",),
    ("binsynth.acoustics",),
    ("binsynth.qa",),
    ("binsynth.recipe",),
    ("binsynth.scene",),
    ("binsynth.plots",),
    ("binsynth.render",),
    ("binsynth.reference",),
    ("binsynth.dataset",),
    ("binsynth.trainer",),
    ("binsynth.commands", "binsynth.cli", "binsynth.__main__"),
)

#: What may sit at the package root besides the entry points: small shared helpers (≤ 6).
ROOT_HELPERS = {"errors", "constants", "geometry", "progress"}
ENTRY_POINTS = {"__init__", "__main__", "cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(source: str, module: str, is_package: bool, known: set[str],
               type_only: bool = False) -> list[tuple[str, int]]:
    """binsynth modules that ``source`` imports at run time, with line numbers; with
    ``type_only``, also those imported under ``if TYPE_CHECKING:``.

    ``from binsynth.x import y`` names module ``binsynth.x.y`` when that module exists, else
    ``binsynth.x``; relative imports are resolved against ``module``.
    """
    found: list[tuple[str, int]] = []

    def resolve(name: str) -> str:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node) and not type_only:
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((resolve(a.name), node.lineno) for a in node.names if a.name.split(".")[0] == "binsynth")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "binsynth":
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in known else resolve(target), node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(source))
    return found


def packages_of(modules: set[str]) -> set[str]:
    """The names in ``modules`` that are packages (another module sits under them)."""
    return {m.rsplit(".", 1)[0] for m in modules if "." in m}


def stage_of(module: str) -> int:
    best, rank = "", -1
    for i, names in enumerate(STAGES):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > len(best):
                best, rank = name, i
    if rank < 0:
        raise AssertionError(f"{module} belongs to no stage; add its package to STAGES (and the README)")
    return rank


def upward_imports(modules: dict[str, str]) -> list[str]:
    """'a imports b (line n): stage X above stage Y' for every import of a higher stage.

    ``modules`` maps module name -> source text."""
    known = set(modules)
    problems = []
    for name, source in sorted(modules.items()):
        for target, line in imports_of(source, name, name in packages_of(known), known):
            if stage_of(target) > stage_of(name):
                problems.append(f"{name} imports {target} (line {line}): "
                                f"stage {STAGES[stage_of(target)][0]} is above {STAGES[stage_of(name)][0]}")
    return problems


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """Sets of modules that import each other in a circle (Tarjan's strongly connected
    components), type-only imports included: no two files refer to each other at all."""
    known = set(modules)
    packages = packages_of(known)
    graph = {name: sorted({t for t, _ in imports_of(src, name, name in packages, known, type_only=True) if t != name})
             for name, src in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, []):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return cycles


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    return {name: path.read_text() for name, path in all_modules().items()}


def test_no_module_imports_a_higher_stage(sources):
    problems = upward_imports(sources)
    assert not problems, "imports against the data flow:\n" + "\n".join(problems)


def test_no_import_circle_between_files(sources):
    cycles = import_cycles(sources)
    assert not cycles, "import circles (each group reaches itself through imports): " + "; ".join(
        "{" + ", ".join(c) + "}" for c in cycles)


def test_the_checks_catch_a_wrong_import(sources):
    """The two checks above can fail: a DSP helper importing the pipeline is reported, and so
    is a pair of modules importing each other (even lazily, inside a function)."""
    wrong = dict(sources)
    wrong["binsynth.dsp.fft"] += "\nfrom binsynth.dataset.pipeline import render_dataset\n"
    problems = upward_imports(wrong)
    assert problems == [
        f"binsynth.dsp.fft imports binsynth.dataset.pipeline (line {wrong['binsynth.dsp.fft'].count(chr(10))}): "
        "stage binsynth.dataset is above binsynth.dsp"
    ]
    circular = dict(sources)
    circular["binsynth.dsp.fft"] += "\ndef f():\n    from binsynth.dsp.measures import t30_s\n"
    circular["binsynth.dsp.measures"] += "\ndef g():\n    from binsynth.dsp import fft\n"
    assert import_cycles(circular) == [["binsynth.dsp.fft", "binsynth.dsp.measures"]]
    typed = dict(sources)
    typed["binsynth.dsp.fft"] += "\nif TYPE_CHECKING:\n    from binsynth.dsp.measures import t30_s\n"
    typed["binsynth.dsp.measures"] += "\nif TYPE_CHECKING:\n    from binsynth.dsp.fft import fast_fft_len\n"
    assert import_cycles(typed) == [["binsynth.dsp.fft", "binsynth.dsp.measures"]]
    typed["binsynth.dsp.fft"] += "\nif TYPE_CHECKING:\n    from binsynth.dataset.pipeline import render_dataset\n"
    assert upward_imports(typed) == []  # a type hint runs nothing


def test_every_module_belongs_to_a_stage(sources):
    for name in sources:
        stage_of(name)


def test_the_root_holds_entry_points_and_a_few_small_helpers():
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root - ENTRY_POINTS <= ROOT_HELPERS, f"modules at binsynth/ root: {sorted(root - ENTRY_POINTS - ROOT_HELPERS)}"
    assert len(ROOT_HELPERS) <= 6
    for helper in ROOT_HELPERS:
        lines = (PACKAGE / f"{helper}.py").read_text().count("\n")
        assert lines <= 100, f"binsynth/{helper}.py has {lines} lines; a root helper fits on one screen"


PACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_holds_and_exports_its_public_face(package):
    module = importlib.import_module(f"binsynth.{package}")
    doc = module.__doc__ or ""
    assert doc.strip(), f"binsynth/{package}/__init__.py has no docstring"
    assert "import" in doc.lower(), f"binsynth/{package}/__init__.py: the docstring should say what the package may import"
    names = getattr(module, "__all__", None)
    if package != "commands":  # the CLI's sub-commands are reached through binsynth.cli
        assert names, f"binsynth.{package} exports nothing (__all__)"
    for name in names or ():
        assert getattr(module, name) is not None, f"binsynth.{package}.{name}"
