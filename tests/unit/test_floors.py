"""The floors look down: every package imports only the floors below it (DESIGN.md).

Walks the real imports of every module (an AST walk, so an import inside a function counts
too) and fails naming the file, the line and the rule it breaks. Imports of the repository's
own modules sit at the top of a module: one placed inside a function to dodge a cycle hides
the arrow this test is here to see. The one other reason to import late, start-up time (a
module that loads a heavy client library only where it is used), is written beside the
import as `# lazy: <why>`; its direction is checked like any other.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from commerce.read.ports import DOMAINS, ES_ALIASES, NEO4J_LABELS, NEO4J_RELATIONSHIPS
from hindsight.topics import topic_name

ROOT = Path(__file__).resolve().parents[2]

# lowest first; a package may import its own modules and those of any floor below it
FLOORS = (
    "hindsight",  # the platform core: settings, events, store, commands, relay, contracts
    "localstack",  # the local stack launcher
    "pipelines",  # the pure projection runtime and read-model types
    "connectors",  # Kafka publisher, sink contract and workers, Elasticsearch/Neo4j sinks
    "jobs",  # the Flink job and its dataflow
    "commerce",  # the worked domain, write side and read side
    "examples",  # a second domain, extending commerce's read side
    "entrypoints",  # what a person or a process starts, and the one composition root
    "benchmarks",  # measures everything above; nothing imports it
)
FLOOR = {name: i for i, name in enumerate(FLOORS)}


def modules() -> Iterator[tuple[str, Path]]:
    for package in FLOORS:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield package, path


LAZY = re.compile(r"#\s*lazy:\s*\S")


def imports(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(line, imported module, hidden) for every import of the file: hidden = inside a
    function without a `# lazy: <why>` on its line."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text, str(path))
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            in_function.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        hidden = id(node) in in_function and not LAZY.search(lines[node.lineno - 1])
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, hidden
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, hidden


def test_every_package_imports_only_floors_below_it() -> None:
    wrong = []
    for package, path in modules():
        for line, module, _ in imports(path):
            target = module.split(".")[0]
            if target in FLOOR and FLOOR[target] > FLOOR[package]:
                wrong.append(f"{path.relative_to(ROOT)}:{line} ({package}) imports {module}")
    assert wrong == []


def test_no_repository_import_hides_inside_a_function() -> None:
    hidden = [
        f"{path.relative_to(ROOT)}:{line} imports {module} inside a function"
        for _, path in modules()
        for line, module, inside in imports(path)
        if inside and module.split(".")[0] in FLOOR
    ]
    assert hidden == []


def commerce_names() -> set[str]:
    """What only commerce may spell: its topics, index aliases, labels, relationship types
    and routes."""
    names = {topic_name(d) for d in DOMAINS} | set(ES_ALIASES)
    names |= set(NEO4J_LABELS) | set(NEO4J_RELATIONSHIPS)
    return names | {f"/{a}" for a in ES_ALIASES}


def strings(path: Path) -> Iterator[tuple[int, str]]:
    """Every string literal of a module but its docstrings (prose may name an example)."""
    tree = ast.parse(path.read_text(), str(path))
    docs = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


# the same word meaning something else, with what it means there
HOMONYMS = {
    ("hindsight/contracts/catalog.py", "products"): "a contracts-test report's data products"
}


def test_the_platform_below_the_domain_never_names_a_commerce_port() -> None:
    """Nothing below commerce/ spells one of its topics, indices, labels or routes, as a
    whole string or as a word of one (a Cypher text, a URL); the settings' defaults name
    commerce's plug-in modules, which is how the shipped deployment points at it."""
    names = commerce_names()
    word = re.compile(r"[A-Za-z_./:-]+")
    below = {p for p in FLOORS if FLOOR[p] < FLOOR["commerce"]}
    named = [
        f"{path.relative_to(ROOT)}:{line} {text!r}"
        for package, path in modules()
        if package in below
        for line, text in strings(path)
        if (text in names or names & set(word.findall(text)))
        and (str(path.relative_to(ROOT)), text) not in HOMONYMS
    ]
    assert named == []


def test_the_rule_sees_a_wrong_import(tmp_path: Path) -> None:
    """The walk finds an upward import, also one inside a function."""
    bad = tmp_path / "m.py"
    bad.write_text(
        "import os\n\ndef f():\n    from entrypoints import bootstrap\n"
        "    from connectors import clients  # lazy: start-up\n"
    )
    assert list(imports(bad)) == [
        (1, "os", False),
        (4, "entrypoints", True),
        (5, "connectors", False),
    ]
