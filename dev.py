#!/usr/bin/env python3
"""One-command setup for a fresh machine with only Python 3.11+.

    python3 dev.py serve   # venv + install + migrate + demo data, then serve on SQLite
    python3 dev.py test    # venv + install (+ Chromium for browser tests), then the suite

Extra arguments after `test` go to pytest; after `serve`, `--port N` picks the port.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
CHROMIUM = "/usr/bin/chromium"


def run(*args: str | Path, env: dict | None = None) -> None:
    """Run a command, stopping with its exit code if it fails."""
    print("+", " ".join(str(a) for a in args), flush=True)
    code = subprocess.call([str(a) for a in args], cwd=ROOT, env=env)  # noqa: S603 - our own tools
    if code:
        sys.exit(code)


def ensure_venv() -> None:
    """Create .venv and install the project with its test extras when pyproject changes."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be run by an older python3
        sys.exit("supply_app needs Python 3.11 or newer.")
    if not (BIN / "python").exists():
        run(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[test]")
    stamp.write_text(wanted)


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser tests when it is missing and we can."""
    if Path(CHROMIUM).exists():
        return
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        run(apt, "update", "-qq")
        run(apt, "install", "-y", "-qq", "chromium")
        return
    sys.exit(
        f"The browser tests need Chromium at {CHROMIUM}. Install it "
        "(Debian/Ubuntu: sudo apt-get install -y chromium) and run this again."
    )


def serve(argv: list[str]) -> None:
    """Migrate, load demo data and serve the app on SQLite."""
    port = argv[argv.index("--port") + 1] if "--port" in argv else "5000"
    cli = BIN / "supply-app"
    run(cli, "db", "upgrade")
    run(cli, "demo")
    print(
        f"\nsupply_app is at http://127.0.0.1:{port}/ (sign in with a demo user above)\n"
        f"API docs: http://127.0.0.1:{port}/api/docs   spec: /api/openapi.json\n",
        flush=True,
    )
    os.execv(str(cli), [str(cli), "run", "--host", "127.0.0.1", "--port", port])  # noqa: S606


def test(argv: list[str]) -> None:
    """Run the whole test suite (pass pytest arguments through)."""
    ensure_chromium()
    run(BIN / "python", "-m", "pytest", *argv)


def main() -> None:
    """Dispatch `serve` or `test`."""
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "test"):
        sys.exit(__doc__)
    ensure_venv()
    {"serve": serve, "test": test}[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
