"""The package's imports point one way: no module imports, directly or not, a module that imports it.

Read from the source (``ast``), so a cycle hidden behind ``TYPE_CHECKING`` or inside a function
counts too. The sandbox stands alone (it emulates Whatalo, not this server), the probe is a client
of any MCP server (it knows this one only through the URL rules), and the commands sit on top:
nothing but the command line imports them.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.project import PACKAGE

SOURCE = Path(__file__).resolve().parent.parent / "src" / PACKAGE
COMMANDS = {f"{PACKAGE}.cli", f"{PACKAGE}.__main__", f"{PACKAGE}.devstack", f"{PACKAGE}.checks"}


def module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(SOURCE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """module -> the package's modules it imports (``from . import x`` counts as importing ``x``)."""
    modules = {module_name(path): path for path in SOURCE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                target = ".".join(part for part in (base, node.module or "") if part)
                candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            found |= {candidate for candidate in candidates if candidate in modules}
        graph[name] = found - {name, PACKAGE}  # the package's face (__init__) holds constants only
    return graph


def test_the_graph_is_read():
    graph = imports()
    assert f"{PACKAGE}.auth" in graph[f"{PACKAGE}.app"]
    assert f"{PACKAGE}.whatalo_api" in graph[f"{PACKAGE}.store_context"]


def test_no_import_cycle():
    graph = imports()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            assert state.get(target) != "open", "import cycle: " + " -> ".join([*path, module, target])
            if target not in state:
                visit(target, [*path, module])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [])


def test_the_sandbox_imports_nothing_of_the_server():
    sandbox = f"{PACKAGE}.sandbox"
    for module, targets in imports().items():
        if module == sandbox or module.startswith(sandbox + "."):
            server = {t for t in targets if not (t == sandbox or t.startswith(sandbox + "."))}
            assert not server, f"{module} imports {sorted(server)}"


def test_only_the_command_line_imports_the_commands():
    for module, targets in imports().items():
        if module not in COMMANDS:
            assert not targets & COMMANDS, f"{module} imports {sorted(targets & COMMANDS)}"


def test_the_probe_imports_only_the_url_rules():
    probe = f"{PACKAGE}.probe"
    allowed = {f"{PACKAGE}.urls"}
    for module, targets in imports().items():
        if module == probe or module.startswith(probe + "."):
            server = {t for t in targets if not (t == probe or t.startswith(probe + "."))} - allowed
            assert not server, f"{module} imports {sorted(server)}"
        elif module != f"{PACKAGE}.cli":
            assert not {t for t in targets if t == probe or t.startswith(probe + ".")}, f"{module} imports the probe"
