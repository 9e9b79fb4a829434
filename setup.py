"""Build hook: the example sequences and their templates ship inside the package.

They live at the top of the checkout (sequences/, templates/), where people edit them. A wheel
copies them to engine/examples/ so that an installed `kadenz demo` (a fresh venv, the Docker
image) finds them; an editable install reads the checkout's own (engine.demo.examples).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildWithExamples(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "engine" / "examples"
        for folder in ("sequences", "templates"):
            source = HERE / folder
            if not source.is_dir():
                raise SystemExit(f"{source} is missing: the wheel needs the example {folder}")
            shutil.copytree(source, target / folder, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithExamples})
