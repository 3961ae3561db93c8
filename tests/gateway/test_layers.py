"""The gateway's seams: it reads the database through typed functions, never models, and
knows no HTTP and no portal."""

from __future__ import annotations

import ast
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def imports(path: Path) -> list[tuple[str, str]]:
    tree = ast.parse(path.read_text())
    found: list[tuple[str, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((alias.name, "") for alias in node.names)
    return found


def test_the_gateway_uses_no_model_class_and_no_portal() -> None:
    offenders = [
        f"{path.relative_to(GATEWAY.parent)}: {module}.{name}"
        for path in GATEWAY.rglob("*.py")
        for module, name in imports(path)
        if (module == "db.schema.models" and name != "utcnow")
        or module.split(".")[0] in {"portal", "quart", "werkzeug"}
    ]
    assert offenders == []
