"""Architecture rules of backend/app (DESIGN.md "Layers"), read from the source with ``ast``:

* no import cycle between modules of ``app`` (imports inside functions count: a lazy import is still a
  dependency; imports under ``if TYPE_CHECKING:`` do not, they never run);
* no private name (``_x``) imported from another module of ``app``;
* ``app.analytics`` imports only ``app.analytics``, ``app.domain`` and ``app.core`` (never db, agents,
  orchestrator or the interfaces cli/api/web);
* ``import app.cli`` loads neither riskfolio, cvxpy nor matplotlib (checked in a fresh interpreter).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
#: besides these, the root package ``app`` itself (it holds ENGINE_VERSION and imports nothing)
ANALYTICS_MAY_IMPORT = ("app.analytics", "app.domain", "app.core")
HEAVY_LIBRARIES = ("riskfolio", "cvxpy", "matplotlib")


@dataclass(frozen=True)
class Import:
    """``importer`` imports ``names`` from module ``target`` (both ``app.*``) at ``line``."""

    importer: str
    target: str
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(BACKEND).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of ``app``: dotted name -> file."""
    return {module_name(p): p for p in sorted((BACKEND / "app").rglob("*.py"))}


def is_type_checking_block(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            if not (isinstance(child, ast.If) and is_type_checking_block(child)):
                stack.append(child)
    return found


def absolute(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = modules()[importer].name == "__init__.py"
    base = importer.split(".")[: len(importer.split(".")) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def owning_module(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is a module of ``app``."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in modules():
            return ".".join(parts[:end])
    return None


@cache
def imports() -> tuple[Import, ...]:
    """Every import of one ``app`` module by another, one entry per target module."""
    found: list[Import] = []
    for importer, path in modules().items():
        for node in import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    target = owning_module(alias.name)
                    if target and target != importer:
                        found.append(Import(importer, target, (), node.lineno))
                continue
            source = absolute(importer, node)
            if not source.startswith("app"):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                target = submodule if submodule in modules() else owning_module(source)
                if target and target != importer:
                    names = () if target == submodule else (alias.name,)
                    found.append(Import(importer, target, names, node.lineno))
    return tuple(found)


def where(imp: Import) -> str:
    return f"{modules()[imp.importer].relative_to(BACKEND.parent)}:{imp.line}"


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph[start])
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(graph[node])
    return seen


def import_cycles() -> list[list[str]]:
    """Groups of modules that import each other (directly or through others), each sorted."""
    graph: dict[str, set[str]] = {name: set() for name in modules()}
    for imp in imports():
        graph[imp.importer].add(imp.target)
    reach = {name: reachable(graph, name) for name in graph}
    groups = {tuple(sorted(n for n in reach[name] if name in reach[n])) for name in graph if name in reach[name]}
    return sorted(list(g) for g in groups)


def test_no_import_cycle() -> None:
    cycles = import_cycles()
    assert not cycles, "import cycles (modules that import each other):\n" + "\n".join(
        " <-> ".join(group) for group in cycles
    )


def test_no_private_name_imported_across_modules() -> None:
    private = [
        f"{where(imp)} imports {name} from {imp.target}"
        for imp in imports()
        for name in imp.names
        if name.startswith("_") and not name.startswith("__")
    ]
    assert not private, "private names imported across modules:\n" + "\n".join(private)


def test_analytics_imports_only_domain_and_core() -> None:
    wrong = [
        f"{where(imp)} imports {imp.target}"
        for imp in imports()
        if imp.importer.startswith("app.analytics")
        and imp.target != "app"
        and not any(imp.target == allowed or imp.target.startswith(allowed + ".") for allowed in ANALYTICS_MAY_IMPORT)
    ]
    assert not wrong, "analytics may import only analytics, domain and core:\n" + "\n".join(wrong)


def test_importing_the_cli_loads_no_solver_or_plotting_library() -> None:
    code = (
        "import sys, app.cli; "
        f"print(','.join(m for m in {HEAVY_LIBRARIES!r} if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(BACKEND) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"import app.cli loaded {out.stdout.strip()}"


def test_the_rules_see_the_code() -> None:
    """Guard against a checker that silently reads nothing; the root package stays a leaf."""
    assert not [imp for imp in imports() if imp.importer == "app"]
    assert "app.cli.main" in modules() and "app.analytics" in modules()
    assert any(imp.importer == "app.cli.main" and imp.target == "app.cli.common" for imp in imports())


#: the dashboard (an interface) reads and writes only through the transport-neutral service; it may use the layers
#: below the interfaces for types and errors, never the database, another interface or the REST/gRPC transports
WEB_MAY_IMPORT = ("app.web", "app.api.service", "app.api.problems", "app.orchestrator", "app.agents", "app.domain",
                  "app.core")
INTERFACES = ("app.cli", "app.api", "app.web")


def _within(target: str, prefixes: tuple[str, ...]) -> bool:
    return any(target == p or target.startswith(p + ".") for p in prefixes)


def test_web_imports_only_the_service_and_below() -> None:
    wrong = [f"{where(imp)} imports {imp.target}" for imp in imports()
             if imp.importer.startswith("app.web") and imp.target != "app" and not _within(imp.target, WEB_MAY_IMPORT)]
    assert not wrong, "app.web may import only app.api.service/problems and the layers below:\n" + "\n".join(wrong)
    assert any(imp.importer.startswith("app.web") and imp.target == "app.api.service" for imp in imports())


def test_layers_below_the_interfaces_import_no_interface() -> None:
    wrong = [f"{where(imp)} imports {imp.target}" for imp in imports()
             if not _within(imp.importer, INTERFACES) and imp.importer != "app.bootstrap"
             and _within(imp.target, INTERFACES)]
    assert not wrong, "only interfaces may import cli/api/web:\n" + "\n".join(wrong)
