"""The house rules of the import graph, read from the source (every import counts: at module
level, inside a function, or under TYPE_CHECKING, since each is a dependency a reader must
follow):

- no import circle anywhere: the modules of the project form a DAG;
- `domain/` is pure and imports nothing of ours outside itself;
- `server/` never imports the CLI (`cli/`, `commands/`), and `cli/` never imports a command;
- no module is over the size the project allows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("cli", "commands", "domain", "server")
MAX_LINES = 450  # "no module over ~400 lines"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The project module an import of `name` loads last (`a.b.c` -> the longest known)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                prefix = ".".join(base)
                stem = f"{prefix}.{node.module}" if node.module else prefix
            else:
                stem = node.module or ""
            # `from pkg import sub` means the submodule `pkg.sub` when there is one (Python
            # loads the package first for any submodule: that is not a use of its names)
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            names = [sub for sub in subs if sub in MODULES]
            if len(names) < len(subs):
                names.append(stem)
        else:
            continue
        for name in names:
            resolved = _resolve(name)
            if resolved is not None and resolved != module:
                targets.add(resolved)
    return targets


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    cycles = _cycles()
    assert not cycles, "import circles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        ("domain", ("cli", "commands", "server")),
        ("server", ("cli", "commands")),
        ("cli", ("commands",)),
    ],
)
def test_layers_only_import_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module.split(".")[0] == layer
        for target in targets
        if target.split(".")[0] in forbidden
    )
    assert not wrong, wrong


def test_modules_stay_small() -> None:
    sizes = {
        module: len(path.read_text(encoding="utf-8").splitlines())
        for module, path in MODULES.items()
    }
    # A migration is written once by Alembic from the models and never edited after it
    # lands: its length is the schema's, not a design choice.
    oversized = {
        m: n
        for m, n in sizes.items()
        if n > MAX_LINES and not m.startswith("server.migrations.versions.")
    }
    assert not oversized, f"over {MAX_LINES} lines: {oversized}"
