"""What a package imports, read from its source: for tests of the folders' boundaries."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def imported_packages(package_dir: Path) -> Iterator[tuple[Path, str]]:
    """(file, top-level package) for every import statement of every module below it."""
    for path in package_dir.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                yield path, name.split(".")[0]
