"""No import cycles in the package: the import graph of ``bench``, read from the source.

Each ``import`` / ``from … import`` naming a ``bench`` module is an edge, of one of three
kinds: ``module`` (runs when the importing module is imported: top level, class bodies,
``try``/``if`` blocks), ``type_checking`` (under ``if TYPE_CHECKING:``, never run) and
``function`` (inside a function body, run when it is called). ``from X import y`` is an
edge to ``X`` and, when ``X.y`` is a module, to ``X.y``; a package's ``__init__`` that
a submodule's import runs implicitly is not an edge (Python tolerates it).
Dynamic imports (``importlib.import_module``) are not seen.

A cycle fails the tests, whatever the kind of its edges (a function-level import that
closes a cycle hides it, it does not break it). ``python tests/test_imports.py`` prints
the cycles of each kind of edge.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

KINDS = ("module", "type_checking", "function")
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "bench"  # the source, not an install

Graph = dict[str, set[str]]


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted module name -> source file, for every ``.py`` file under ``package_dir``."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = path.relative_to(package_dir.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    nodes: Iterable[ast.AST], kind: str
) -> Iterator[tuple[str, ast.Import | ast.ImportFrom]]:
    """Every import statement in ``nodes`` (and below) with its kind of edge."""
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield kind, node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _imports(ast.iter_child_nodes(node), "function")
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _imports(node.body, "type_checking" if kind == "module" else kind)
            yield from _imports(node.orelse, kind)
        else:
            yield from _imports(ast.iter_child_nodes(node), kind)


def _targets(
    module: str, is_package: bool, statement: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The modules of ``known`` that ``statement`` (in ``module``) imports."""
    if isinstance(statement, ast.Import):
        return {alias.name for alias in statement.names} & known
    base = statement.module or ""
    if statement.level:  # relative: from the package of ``module``
        package = module.split(".")
        package = package[: len(package) - statement.level + (1 if is_package else 0)]
        base = ".".join(package + ([base] if base else []))
    found = {base} | {f"{base}.{alias.name}" for alias in statement.names}
    return found & known


def import_graph(package_dir: Path) -> dict[str, Graph]:
    """The package's import graph per kind of edge: module -> the modules it imports."""
    modules = module_names(package_dir)
    known = set(modules)
    graphs: dict[str, Graph] = {kind: {name: set() for name in modules} for kind in KINDS}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for kind, statement in _imports(tree.body, "module"):
            is_package = path.name == "__init__.py"
            graphs[kind][name] |= _targets(name, is_package, statement, known) - {name}
    return graphs


def merged(graphs: dict[str, Graph]) -> Graph:
    """Every edge, whatever its kind."""
    return {name: set().union(*(g[name] for g in graphs.values())) for name in graphs["module"]}


def cycles(graph: Graph) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan), each a cycle
    or several cycles sharing modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: set[frozenset[str]] = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cycle_path(graph: Graph, component: frozenset[str]) -> list[str]:
    """One cycle through the component's first module, for the message: a -> b -> a."""
    start = min(component)
    paths = [[start]]
    seen = {start}
    while paths:
        path = paths.pop(0)
        for target in sorted(graph[path[-1]] & component):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                paths.append([*path, target])
    raise AssertionError(f"{sorted(component)} is not a cycle")


def describe(graph: Graph, components: set[frozenset[str]]) -> str:
    return "; ".join(" -> ".join(cycle_path(graph, c)) for c in sorted(components, key=sorted))


def test_no_cycle_among_module_level_imports():
    graph = import_graph(PACKAGE_DIR)["module"]
    assert not cycles(graph), f"import cycles: {describe(graph, cycles(graph))}"


def test_no_cycle_through_any_import():
    graph = merged(import_graph(PACKAGE_DIR))
    assert not cycles(graph), f"import cycles: {describe(graph, cycles(graph))}"


def test_the_graph_sees_the_package():
    graph = import_graph(PACKAGE_DIR)
    assert "bench.runner" in graph["module"]
    assert {"bench.tasks", "bench.data.dataset"} <= graph["module"]["bench.runner"]
    # cli.py imports the runner only once a model is chosen
    assert "bench.runner" in graph["function"]["bench.cli"]
    assert "bench.runner" not in graph["module"]["bench.cli"]


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "pkg"


def test_a_module_level_cycle_is_found_and_named(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "",
        "a.py": "from pkg import b\n",
        "b.py": "try:\n    from pkg.sub.c import x\nexcept ImportError:\n    pass\n",
        "sub/__init__.py": "",
        "sub/c.py": "class C:\n    from .. import a\n",
    })  # fmt: skip
    graph = import_graph(package)["module"]
    assert cycles(graph) == {frozenset({"pkg.a", "pkg.b", "pkg.sub.c"})}
    assert describe(graph, cycles(graph)) == "pkg.a -> pkg.b -> pkg.sub.c -> pkg.a"


def test_function_and_type_checking_imports_are_listed_apart(tmp_path):
    package = _package(tmp_path, {
        "__init__.py": "from pkg.a import f\n",
        "a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n"
                "def f():\n    from . import b\n",
        "b.py": "import pkg.a\n",
    })  # fmt: skip
    graphs = import_graph(package)
    assert graphs["module"] == {"pkg": {"pkg.a"}, "pkg.a": set(), "pkg.b": {"pkg.a"}}
    assert graphs["type_checking"]["pkg.a"] == {"pkg.b"}
    assert graphs["function"]["pkg.a"] == {"pkg", "pkg.b"}
    assert cycles(graphs["module"]) == set()
    assert cycles(merged(graphs)) == {frozenset({"pkg", "pkg.a", "pkg.b"})}


if __name__ == "__main__":
    graphs = import_graph(PACKAGE_DIR)
    for kind in KINDS:
        print(f"{kind}: {describe(graphs[kind], cycles(graphs[kind])) or 'no cycle'}")
    every = merged(graphs)
    print(f"any import: {describe(every, cycles(every)) or 'no cycle'}")
