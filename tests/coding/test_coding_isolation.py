"""The coding module stands alone: standard library only, no Flask, no SQLAlchemy, no siblings."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "supply_app" / "coding"

PROBE = """
import sys
before = set(sys.modules)
import supply_app.coding
new = set(sys.modules) - before
outside = sorted(
    name for name in new
    if name.split(".")[0] not in sys.stdlib_module_names
    and name != "supply_app" and not name.startswith("supply_app.coding")
)
print(outside)
assert "flask" not in sys.modules and "sqlalchemy" not in sys.modules, "flask or sqlalchemy"
assert not outside, outside
"""


def test_importing_coding_in_a_fresh_interpreter_loads_no_flask_or_sqlalchemy() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "[]"


def test_every_import_in_the_package_is_standard_library_or_the_package_itself() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                allowed = top in sys.stdlib_module_names or name.startswith("supply_app.coding")
                assert allowed or top == "__future__", f"{path.name} imports {name}"
