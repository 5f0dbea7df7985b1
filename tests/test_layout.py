"""The package layout: folders follow the data flow, and a lower stage never imports a higher one.

Stages, lowest first (README, "Layout"). A module may import its own stage and any stage
below it. Lazy imports inside functions count: they run too. Imports under
``if TYPE_CHECKING:`` never run, so they do not count for the direction (``qa`` names the
scene record in type hints; ``scene`` draws the questions); they do count for circles.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
import types
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

#: What may sit at the package root besides the entry points: small shared helpers (at most
#: six; each must also be a stage-0 entry above).
ROOT_HELPERS = {"errors", "constants", "geometry", "progress"}
ENTRY_POINTS = {"__init__", "__main__", "cli"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(node: ast.If, typing_flag: bool) -> bool:
    """``if TYPE_CHECKING:`` with the flag imported from typing (a local one is not trusted)."""
    test = node.test
    return typing_flag and ((isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        and isinstance(test.value, ast.Name) and test.value.id == "typing"))


def lazy_exports_of(modules: dict[str, str]) -> dict[str, str]:
    """``"binsynth.pkg.Name" -> "binsynth.pkg.submodule"`` from every package's
    ``lazy_exports(__name__, {submodule: "names"})`` table, so an import of a lazily exported
    name counts as an import of the submodule that defines it."""
    found = {}
    for name, source in modules.items():
        for node in ast.walk(parse(source)):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports"
                    and len(node.args) == 2 and isinstance(node.args[1], ast.Dict)):
                for sub, names in ast.literal_eval(node.args[1]).items():
                    found.update({f"{name}.{n}": f"{name}.{sub}" for n in names.split()})
    return found


@functools.lru_cache(maxsize=None)
def parse(source: str) -> ast.Module:
    return ast.parse(source)


def imports_of(source: str, module: str, modules: dict[str, str], exported: dict[str, str],
               type_only: bool = False) -> list[tuple[str, int]]:
    """binsynth modules that ``source`` (module ``module``) imports when it runs, with line
    numbers; with ``type_only``, also those imported under ``if TYPE_CHECKING:``. ``exported``
    is :func:`lazy_exports_of` of ``modules``.

    ``from binsynth.x import y`` names module ``binsynth.x.y`` when that module exists, the
    submodule that defines ``y`` when ``binsynth.x`` exports it lazily, else ``binsynth.x``;
    relative imports are resolved against ``module``; ``importlib.import_module("binsynth.…")``
    and ``__import__("binsynth.…")`` with a literal name count as imports.
    """
    known = set(modules)
    is_package = module in packages_of(known)
    tree = parse(source)
    typing_flag = any(isinstance(n, ast.ImportFrom) and n.module == "typing"
                      and any(a.name == "TYPE_CHECKING" for a in n.names) for n in ast.walk(tree)) or any(
        isinstance(n, ast.Import) and any(a.name == "typing" for a in n.names) for n in ast.walk(tree))
    found: list[tuple[str, int]] = []

    def resolve(name: str) -> str:
        while name not in known and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking_only(node, typing_flag) and not type_only:
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
                    found.append((sub if sub in known else exported.get(sub, resolve(target)), node.lineno))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str) and node.args[0].value.split(".")[0] == "binsynth"
              and getattr(node.func, "id", getattr(node.func, "attr", None)) in ("import_module", "__import__")):
            found.append((resolve(node.args[0].value), node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def packages_of(modules: set[str]) -> set[str]:
    """The names in ``modules`` that are packages (another module sits under them)."""
    return {m.rsplit(".", 1)[0] for m in modules if "." in m}


def stage_of(module: str) -> int:
    """The stage of ``module``: the longest stage entry that is the module or a package above
    it. The root entries match only themselves: a new package must be placed in STAGES."""
    best, rank = "", -1
    for i, names in enumerate(STAGES):
        for name in names:
            inside = module.startswith(name + ".") and i > 0
            if (module == name or inside) and len(name) > len(best):
                best, rank = name, i
    if rank < 0:
        raise AssertionError(f"{module} belongs to no stage; add its package to STAGES (and the README)")
    return rank


def upward_imports(modules: dict[str, str]) -> list[str]:
    """'a imports b (line n): stage X above stage Y' for every import of a higher stage.

    ``modules`` maps module name -> source text."""
    exported = lazy_exports_of(modules)
    problems = []
    for name, source in sorted(modules.items()):
        for target, line in imports_of(source, name, modules, exported):
            if stage_of(target) > stage_of(name):
                problems.append(f"{name} imports {target} (line {line}): "
                                f"stage {STAGES[stage_of(target)][0]} is above {STAGES[stage_of(name)][0]}")
    return problems


def import_cycles(modules: dict[str, str]) -> list[list[str]]:
    """Sets of modules that import each other in a circle (Tarjan's strongly connected
    components), type-only imports included: no two files refer to each other at all."""
    exported = lazy_exports_of(modules)
    graph = {name: sorted({t for t, _ in imports_of(src, name, modules, exported, type_only=True) if t != name})
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


def planted(sources: dict[str, str], **extra: str) -> dict[str, str]:
    """The package's sources with code appended to some modules (keyword: module name with
    '_' for '.', after 'binsynth_')."""
    out = dict(sources)
    for key, code in extra.items():
        name = "binsynth." + key.removeprefix("binsynth_").replace("_", ".")
        out[name] += "\n" + code
    return out


def test_a_wrong_import_is_caught_in_every_spelling(sources):
    """The direction check can fail: a DSP helper reaching the pipeline is reported however it
    is spelled (from-import, lazily inside a function, import ... as, by a package's lazily
    exported name, importlib with a literal name)."""
    spellings = [
        "from binsynth.dataset.pipeline import render_dataset",
        "def f():\n    from binsynth.dataset.pipeline import render_dataset",
        "import binsynth.dataset.pipeline as p",
        "from binsynth.dataset import render_dataset",
        "import importlib\nimportlib.import_module('binsynth.dataset.pipeline')",
    ]
    for code in spellings:
        wrong = planted(sources, dsp_fft=code)
        line = wrong["binsynth.dsp.fft"].count("\n") - (code.count("\n") - code.split("\n").index(
            next(s for s in code.split("\n") if "binsynth.dataset" in s)))
        assert upward_imports(wrong) == [
            f"binsynth.dsp.fft imports binsynth.dataset.pipeline (line {line + 1}): "
            "stage binsynth.dataset is above binsynth.dsp"
        ], code


def test_a_circle_is_caught_lazy_type_only_or_through_a_package_export(sources):
    lazy = planted(sources, dsp_fft="def f():\n    from binsynth.dsp.measures import t30_s",
                   dsp_measures="def g():\n    from binsynth.dsp import fft")
    assert import_cycles(lazy) == [["binsynth.dsp.fft", "binsynth.dsp.measures"]]
    typed = planted(sources, dsp_fft="from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                     "    from binsynth.dsp.measures import t30_s",
                    dsp_measures="from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                 "    from binsynth.dsp.fft import fast_fft_len")
    assert import_cycles(typed) == [["binsynth.dsp.fft", "binsynth.dsp.measures"]]
    exported = planted(sources, dataset_rows="def f():\n    from binsynth.dataset import plan_shards")
    assert ["binsynth.dataset.pipeline", "binsynth.dataset.rows"] in [
        [m for m in c if m in ("binsynth.dataset.pipeline", "binsynth.dataset.rows")] for c in import_cycles(exported)]


def test_only_typing_s_type_checking_exempts_an_import(sources):
    hint = "if TYPE_CHECKING:\n    from binsynth.dataset.pipeline import render_dataset"
    assert upward_imports(planted(sources, dsp_fft="from typing import TYPE_CHECKING\n" + hint)) == []
    assert len(upward_imports(planted(sources, dsp_fft="TYPE_CHECKING = True\n" + hint))) == 1


def test_a_module_outside_every_stage_is_refused():
    with pytest.raises(AssertionError, match="binsynth.newstage.x belongs to no stage"):
        stage_of("binsynth.newstage.x")
    assert stage_of("binsynth.errors") == 0 and stage_of("binsynth.dataset.pipeline") == stage_of("binsynth.dataset")


def test_every_module_belongs_to_a_stage(sources):
    for name in sources:
        stage_of(name)


def test_the_root_holds_entry_points_and_a_few_small_helpers():
    root = {p.stem for p in PACKAGE.glob("*.py")}
    assert root - ENTRY_POINTS <= ROOT_HELPERS, f"modules at binsynth/ root: {sorted(root - ENTRY_POINTS - ROOT_HELPERS)}"
    for helper in ROOT_HELPERS:
        lines = (PACKAGE / f"{helper}.py").read_text().count("\n")
        assert lines <= 100, f"binsynth/{helper}.py has {lines} lines; a root helper fits on one screen"


PACKAGES = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def imported_packages(modules: dict[str, str]) -> dict[str, set[str]]:
    """package -> the other packages (stages above the root) its modules import when they run."""
    exported = lazy_exports_of(modules)
    out: dict[str, set[str]] = {}
    for name, source in modules.items():
        parts = name.split(".")
        if len(parts) < 2 or stage_of(name) == 0 or name in ("binsynth.cli", "binsynth.__main__"):
            continue
        for target, _ in imports_of(source, name, modules, exported):
            other = target.split(".")
            if len(other) > 1 and stage_of(target) > 0 and other[1] != parts[1]:
                out.setdefault(parts[1], set()).add(other[1])
    return out


@pytest.fixture(scope="module")
def package_imports(sources) -> dict[str, set[str]]:
    return imported_packages(sources)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_says_what_it_holds_and_may_import_and_exports_its_public_face(package, package_imports):
    module = importlib.import_module(f"binsynth.{package}")
    doc = (module.__doc__ or "").lower()
    assert doc.strip(), f"binsynth/{package}/__init__.py has no docstring"
    assert "import" in doc, f"binsynth/{package}/__init__.py: the docstring should say what the package may import"
    if "every package" not in doc:  # commands: the top may import anything
        missing = package_imports.get(package, set()) - set(re.findall(r"[a-z_]+", doc))
        assert not missing, f"binsynth/{package}/__init__.py: its docstring does not name {sorted(missing)}, which it imports"
    names = getattr(module, "__all__", None)
    if package != "commands":  # the CLI's sub-commands are reached through binsynth.cli
        assert names, f"binsynth.{package} exports nothing (__all__)"
    for name in names or ():
        value = getattr(module, name)
        assert not isinstance(value, types.ModuleType), f"binsynth.{package}.{name} is a module, not the export"
