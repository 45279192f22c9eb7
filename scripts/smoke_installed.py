"""Smoke test of an installed NetLoom (a wheel, not the checkout): run from a folder outside the
checkout with the environment's python.

Every module of the installed packages must import from the environment's site-packages (never
from a checkout that happens to be on the path), the bundled examples must be there, and the
``netloom`` command must print its version, check the default example and open the editor on it
with ``--screenshot``. Exits 1 with the reasons if anything is missing.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

PACKAGES = ("graphs", "engine", "gui", "resources")


def main() -> int:
    problems: list[str] = []
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    imported = 0
    for name in PACKAGES:
        package = importlib.import_module(name)
        modules = [name] + [m.name for m in pkgutil.walk_packages(package.__path__, f"{name}.")]
        for module_name in modules:
            try:
                module = importlib.import_module(module_name)
            except Exception as err:   # report every broken module, not only the first
                problems.append(f"{module_name}: {type(err).__name__}: {err}")
                continue
            imported += 1
            if not Path(module.__file__).resolve().is_relative_to(site):
                problems.append(f"{module_name} comes from {module.__file__}, not from the installed wheel")
    import resources
    examples = sorted(resources.examples_folder().glob("*.loom"))
    if (len(examples) < 10 or not resources.data_file("loom_notes.txt").is_file()
            or not resources.builtin_blocks_file().is_file()):
        problems.append(f"the bundled resources are missing from {resources.folder()}")
    command = shutil.which("netloom", path=str(Path(sys.executable).parent))
    if command is None:
        problems.append("the netloom command is not installed")
    else:
        with tempfile.TemporaryDirectory() as scratch:
            shot = Path(scratch) / "window.png"
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
            for args in (["--version"], ["check", str(resources.example())], ["--screenshot", str(shot)]):
                result = subprocess.run([command, *args], capture_output=True, text=True, cwd=scratch, env=env,
                                        timeout=300)
                if result.returncode != 0:
                    problems.append(f"netloom {' '.join(args)} exited {result.returncode}: {result.stderr[-800:]}")
            if not shot.is_file() or shot.stat().st_size < 10_000:
                problems.append("netloom --screenshot wrote no picture of the window")
    for problem in problems:
        print(f"smoke test: {problem}", file=sys.stderr)
    print(f"smoke test: {imported} modules imported from {site}, {len(examples)} examples; "
          f"{'FAILED' if problems else 'ok'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
