"""Where things live: the layers, no import cycles, dialects inside kg/, one home per concept.

The layers, bottom to top (ARCHITECTURE.md)::

    core < ingest < generation < refine < pipeline < kg < gnn < evaluation < api < top (cli, demo,
    envcheck, bench, scripts)

Every module may import its own layer and the ones below, never one above; imports inside
functions and under ``TYPE_CHECKING`` count too. The checks read the source (``ast``), so
they see every module, imported or not.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS: tuple[str, ...] = (
    "core",
    "ingest",
    "generation",
    "refine",
    "pipeline",
    "kg",
    "gnn",
    "evaluation",
    "api",
    "top",
)
# top-level package (first name after ``cosmo.``) → layer; the root package is the core's face
PACKAGE_LAYER: dict[str, str] = {
    "": "core",
    "core": "core",
    "ingest": "ingest",
    "generation": "generation",
    "refine": "refine",
    "pipeline": "pipeline",
    "kg": "kg",
    "cypher": "kg",
    "gnn": "gnn",
    "evaluation": "evaluation",
    "api": "api",
    "cli": "top",
    "demo": "top",
    "envcheck": "top",
    "bench": "top",
    "scripts": "top",
}
# Not the project's source: build output, installed packages (any venv, whatever its name),
# caches and state. Hidden folders are skipped as a rule.
SKIPPED_DIRS = frozenset({"build", "node_modules", "__pycache__"})
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 400


@dataclass(frozen=True)
class Module:
    name: str  # cosmo.kg.store
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        parts = self.name.split(".")
        return parts[1] if len(parts) > 1 else ""

    @property
    def layer(self) -> str:
        return PACKAGE_LAYER[self.package]

    @property
    def rel(self) -> str:
        return self.path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["cosmo", *parts])


@cache
def modules(include_tests: bool = False) -> tuple[Module, ...]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        top = parts[0]
        if any(p.startswith(".") or p in SKIPPED_DIRS for p in parts[:-1]):
            continue
        if any((ROOT / Path(*parts[:i]) / "pyvenv.cfg").exists() for i in range(1, len(parts))):
            continue  # a virtual environment, whatever its name
        if top == "tests" and not include_tests:
            continue
        out.append(Module(_module_name(path), path, ast.parse(path.read_text(encoding="utf-8"))))
    return tuple(out)


def _known() -> set[str]:
    return {m.name for m in modules(True)}


def imports(mod: Module) -> Iterator[tuple[int, str, str | None]]:
    """``(line, module, name)`` for every cosmo import of ``mod`` (``name`` for ``from`` imports)."""
    is_pkg = mod.path.name == "__init__.py"
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "cosmo" or a.name.startswith("cosmo."):
                    yield node.lineno, a.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = mod.name.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target == "cosmo" or target.startswith("cosmo."):
                for a in node.names:
                    yield node.lineno, target, a.name


def imported_modules(mod: Module) -> Iterator[tuple[int, str]]:
    """The cosmo modules ``mod`` imports (``from pkg import submodule`` names the submodule)."""
    known = _known()
    for line, target, name in imports(mod):
        sub = f"{target}.{name}" if name else None
        yield line, sub if sub in known else target


def _layer_of(name: str) -> str:
    parts = name.split(".")
    return PACKAGE_LAYER[parts[1] if len(parts) > 1 else ""]


def test_every_package_has_a_layer() -> None:
    assert {m.package for m in modules()} <= set(PACKAGE_LAYER)


def test_modules_import_only_their_layer_or_lower_ones() -> None:
    rank = {layer: i for i, layer in enumerate(LAYERS)}
    wrong = [
        f"{m.rel}:{line} ({m.layer}) imports {target} ({_layer_of(target)})"
        for m in modules()
        for line, target in imported_modules(m)
        if rank[_layer_of(target)] > rank[m.layer]
    ]
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


API_SUBLAYERS: tuple[str, ...] = ("services", "graphql", "http")
"""Inside api/: what answers < the GraphQL layer < the HTTP app."""


def test_api_subpackages_import_only_the_ones_below() -> None:
    def sub(name: str) -> str | None:
        parts = name.split(".")
        return (
            parts[2] if len(parts) > 2 and parts[1] == "api" and parts[2] in API_SUBLAYERS else None
        )

    wrong = [
        f"{m.rel}:{line} imports {target}"
        for m in modules()
        if (own := sub(m.name)) is not None
        for line, target in imported_modules(m)
        if (theirs := sub(target)) is not None
        and API_SUBLAYERS.index(theirs) > API_SUBLAYERS.index(own)
    ]
    assert not wrong, "\n".join(wrong)


def test_there_are_no_import_cycles() -> None:
    graph = {m.name: {t for _, t in imported_modules(m) if t != m.name} for m in modules(True)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                cycles.append(sorted(scc))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" ⇄ ".join(c) for c in cycles)


# -- graph-database dialects stay inside kg/ ------------------------------------------------
_DIALECT = re.compile(r"falkordb|neo4j|db\.idx\.|db\.index\.|vecf32|db\.create\.", re.I)
# the settings configure the backends by name; the `cosmo db` commands choose a server by
# name; the benchmarks in bench/ measure the databases themselves
_MAY_NAME_A_DATABASE = {"core/settings.py", "cli.py"}
_MAY_NAME_A_DATABASE_UNDER = ("bench/",)


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _reads_store_backend(node: ast.AST) -> bool:
    """``<...store>.backend``: a graph store's backend (stores are named ``*store``)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "backend"
        and ast.unparse(node.value).lower().endswith("store")
    )


def test_nothing_outside_kg_reads_the_backend_or_names_a_database() -> None:
    wrong = []
    for m in modules():
        if m.package == "kg":
            continue
        docs = _docstrings(m.tree)
        may_name = m.rel in _MAY_NAME_A_DATABASE or m.rel.startswith(_MAY_NAME_A_DATABASE_UNDER)
        for node in ast.walk(m.tree):
            if _reads_store_backend(node):
                wrong.append(f"{m.rel}:{node.lineno} reads the store's backend")
            elif may_name:
                continue
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and _DIALECT.search(node.value)
            ):
                wrong.append(f"{m.rel}:{node.lineno} names a graph database: {node.value[:60]!r}")
    assert not wrong, "graph-database dialect outside kg/:\n" + "\n".join(wrong)


# -- one home per concept --------------------------------------------------------------------
CONCEPTS: dict[str, tuple[str, ...]] = {
    # home module → the names only it defines (top level or methods, see below)
    "cosmo.core.schema": ("RELATIONS", "relation_type", "query_key", "intention_id", "pair_key"),
    "cosmo.core.records": (
        "BehaviourPair",
        "Candidate",
        "KnowledgeTriple",
        "CANDIDATE_COLUMNS",
        "TRIPLE_COLUMNS",
    ),
    "cosmo.core.artifacts": ("read_candidates", "write_candidates", "write_triples", "read_pairs"),
    "cosmo.core.tables": ("read_table", "resolve_columns"),
    "cosmo.core.jsonl": ("iter_jsonl",),
    "cosmo.core.demo": ("DemoContext",),
    "cosmo.core.embeddings": ("TextVectors",),
    "cosmo.ingest.intentionqa": (
        "RULES",
        "map_assertion",
        "parse_assertion",
        "assertion_text",
        "intention_phrase",
        "Question",
        "load_questions",
        "read_rows",
    ),
    "cosmo.generation.hf": ("TransformersGenerator",),
    "cosmo.refine.intentionqa": ("intentionqa_candidates",),
    "cosmo.refine.annotation.items": ("QUESTIONS",),
    "cosmo.kg.export": ("KGTables", "TABLE_COLUMNS", "read_export", "read_store"),
    "cosmo.kg.store": ("write_batches",),
    "cosmo.kg.search": ("fulltext_words", "property_name"),
}
# names of the old copies, which must not come back anywhere
GONE = ("_RULES", "_RELATION_RULES", "_RELATION_CUES", "relation_of", "intention_text", "load_task")


def definitions(mod: Module) -> Iterator[tuple[str, int]]:
    """Names ``mod`` defines: top-level functions, classes and assignments, and methods."""
    for node in mod.tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield node.name, node.lineno
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        yield item.name, item.lineno
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    yield t.id, node.lineno


@pytest.mark.parametrize("home", sorted(CONCEPTS))
def test_each_concept_has_one_home_that_the_others_import(home: str) -> None:
    names = set(CONCEPTS[home])
    by_name = {m.name: m for m in modules(True)}
    assert home in by_name, f"{home} does not exist"
    defined_at_home = {n for n, _ in definitions(by_name[home])}
    assert names <= defined_at_home, f"{home} lacks {sorted(names - defined_at_home)}"
    elsewhere = [
        f"{m.rel}:{line} defines {name} (its home is {home})"
        for m in modules(True)
        if m.name != home
        for name, line in definitions(m)
        if name in names
    ]
    assert not elsewhere, "\n".join(elsewhere)
    wrong_source = [
        f"{m.rel}:{line} imports {name} from {target}, not from {home}"
        for m in modules(True)
        for line, target, name in imports(m)
        if name in names and target != home and not _reexport_of(target, home)
    ]
    assert not wrong_source, "\n".join(wrong_source)


def _reexport_of(target: str, home: str) -> bool:
    """A package that re-exports from its own subpackage (``cosmo.gnn`` for ``cosmo.gnn.x``)."""
    return home.startswith(target + ".")


def test_the_old_copies_are_gone() -> None:
    found = [
        f"{m.rel}:{line} defines {name}"
        for m in modules(True)
        for name, line in definitions(m)
        if name in GONE
    ]
    assert not found, "\n".join(found)


# -- sizes ---------------------------------------------------------------------------------
def test_no_library_function_is_over_80_lines() -> None:
    long = [
        f"{m.rel}:{node.lineno} {node.name} has {node.end_lineno - node.lineno + 1} lines"
        for m in modules()
        if m.package not in ("bench",)
        for node in ast.walk(m.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, "\n".join(long)


def test_no_module_outside_bench_is_over_400_lines() -> None:
    long = [
        f"{m.rel} has {n} lines"
        for m in modules(True)
        if m.package != "bench"
        and (n := len(m.path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "\n".join(long)
