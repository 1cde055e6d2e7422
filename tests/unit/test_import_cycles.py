"""No file-level import cycles in rtcc_console, except imports made only for type checking.

grimp (installed with import-linter) builds the module graph, including imports inside
functions (a lazy import that closes a cycle is still a cycle of design); imports under
``if TYPE_CHECKING:`` are left out. A strongly connected component of more than one
module is a cycle.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from collections.abc import Iterable
from pathlib import Path

import grimp

#: Cycles still to be broken: each entry is the sorted module names of one component.
KNOWN: set[tuple[str, ...]] = set()


def _type_only_imports(package_dir: Path, package: str) -> set[tuple[str, str]]:
    """(importer, imported) pairs that appear only under ``if TYPE_CHECKING:``."""
    pairs: set[tuple[str, str]] = set()
    for path in package_dir.rglob("*.py"):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        module = ".".join(parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
                continue
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom):
                    base = sub.module or ""
                    if sub.level:
                        anchor = parts if path.name == "__init__.py" else parts[:-1]
                        base = ".".join(
                            anchor[: len(anchor) - sub.level + 1] + ([base] if base else [])
                        )
                    pairs.add((module, base))
                    pairs.update((module, f"{base}.{alias.name}") for alias in sub.names)
                elif isinstance(sub, ast.Import):
                    pairs.update((module, alias.name) for alias in sub.names)
    return pairs


def import_cycles(package: str, package_dir: Path) -> list[tuple[str, ...]]:
    """Strongly connected components (> 1 module) of the runtime import graph."""
    graph = grimp.build_graph(package, include_external_packages=False, cache_dir=None)
    type_only = _type_only_imports(package_dir, package)
    edges = {
        m: {i for i in graph.find_modules_directly_imported_by(m) if (m, i) not in type_only}
        for m in graph.modules
    }
    return _components(edges)


def _components(edges: dict[str, set[str]]) -> list[tuple[str, ...]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
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
                found.append(tuple(sorted(component)))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(edges):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(found)


def _write(root: Path, files: Iterable[tuple[str, str]]) -> None:
    for name, text in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


def test_rtcc_console_has_no_import_cycles_but_type_only_ones() -> None:
    import rtcc_console

    package_dir = Path(rtcc_console.__file__).parent
    assert set(import_cycles("rtcc_console", package_dir)) <= KNOWN


def test_the_finder_sees_a_lazy_cycle_and_ignores_a_type_only_one(tmp_path: Path) -> None:
    _write(
        tmp_path,
        [
            ("cyc/__init__.py", ""),
            ("cyc/a.py", "from cyc import b\n"),
            ("cyc/b.py", "def f() -> None:\n    from cyc import a  # lazy, still a cycle\n"),
            ("cyc/c.py", "from cyc import d\n"),
            (
                "cyc/d.py",
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from cyc.c import X\n",
            ),
        ],
    )
    sys.path.insert(0, str(tmp_path))
    try:
        assert import_cycles("cyc", tmp_path / "cyc") == [("cyc.a", "cyc.b")]
    finally:
        sys.path.remove(str(tmp_path))
