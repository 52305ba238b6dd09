"""The web UI is an adapter: it calls services, and never storage, the engine or SQL."""

from __future__ import annotations

import ast
from pathlib import Path

WEB = Path(__file__).parents[2] / "src" / "propsync" / "web"


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import in ``path``."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
    return found


def test_the_web_ui_reaches_data_only_through_the_services():
    for path in WEB.glob("*.py"):
        for module, names in imports(path):
            assert not module.startswith(("propsync.storage", "propsync.sync")), (path, module)
            if module.startswith("sqlalchemy"):
                assert names == ["Engine"], (path, module, names)
