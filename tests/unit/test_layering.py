"""The core is pure: domain modules import only the standard library and each other."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "src" / "propsync" / "domain"


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_domain_imports_only_the_standard_library_and_itself():
    for path in sorted(DOMAIN.glob("*.py")):
        for root in imported_roots(path):
            if root == "propsync":
                text = path.read_text()
                assert "from propsync.domain" in text or "import propsync.domain" in text
                continue
            assert root in sys.stdlib_module_names or root == "__future__", (path.name, root)


def test_domain_never_imports_outer_layers():
    for path in sorted(DOMAIN.glob("*.py")):
        text = path.read_text()
        for outer in ("propsync.storage", "propsync.services", "propsync.api", "propsync.sync"):
            assert outer not in text, (path.name, outer)
