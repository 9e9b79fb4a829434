"""The capability layout holds: import contracts kept, packages small, README in step.

The contracts live in `.importlinter` (docs/architecture.md). Running `lint-imports` here as
well as in `make lint` means a forbidden import fails the suite, not only the linter; the
second test proves the contracts can fail by adding one to a copy of the tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ENGINE = ROOT / "engine"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CAPABILITIES = ("outbound", "inbound", "people", "reporting", "workspace", "embedded")


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"lint-imports is not installed beside {sys.executable} (make install)")
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / ".importlinter"), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_import_contracts_are_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("engine/core/rules.py", "import sqlalchemy", "The pure core imports no database"),
        ("engine/people/scores.py", "import engine.cli.main", "never import the faces"),
        ("engine/store/db.py", "import engine.outbound.send", "Faces on top"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    shutil.copy(ROOT / ".importlinter", tree / ".importlinter")
    for package in ("engine", "workers"):
        shutil.copytree(
            ROOT / package, tree / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    target = tree / module
    text = target.read_text()
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + "\n" + rest)
    result = _lint_imports(tree)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, result.stdout


def _lines(path: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in path.rglob("*.py") if _counted(p))


def _counted(path: Path) -> bool:
    return "migrations" not in path.parts and "__pycache__" not in path.parts


def test_no_package_holds_more_than_30_percent_of_the_engine() -> None:
    total = _lines(ENGINE)
    shares = {p.name: _lines(p) / total for p in ENGINE.iterdir() if (p / "__init__.py").exists()}
    assert max(shares.values()) <= 0.30, shares


def test_no_folder_holds_more_than_20_modules() -> None:
    crowded = {
        str(d.relative_to(ROOT)): n
        for d in [ENGINE, *ENGINE.rglob("*")]
        if d.is_dir() and _counted(d) and (n := len(list(d.glob("*.py")))) > 20
    }
    assert not crowded, crowded


def test_every_package_says_what_it_owns() -> None:
    for init in ENGINE.rglob("__init__.py"):
        if not _counted(init):
            continue
        doc = init.read_text().strip()
        assert doc.startswith('"""') and len(doc) > 40, f"{init}: write what it owns"


def test_readme_layout_table_names_every_engine_package() -> None:
    readme = (ROOT / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `engine/` |"))
    named = set(re.findall(r"`([a-z_/]+)`", row))
    packages = {p.name for p in ENGINE.iterdir() if (p / "__init__.py").exists()}
    assert packages - {"testing"} <= named, packages - named
    assert {n.split("/")[0] for n in named if n != "engine/" and "run" not in n} <= packages
    for capability in CAPABILITIES:
        assert (ENGINE / capability / "__init__.py").exists()
