"""Build hook: the wheel ships `contact_flows/` and `lex_bots/` as package data.

The one source of both folders stays at the top of the repository (the deploy template and the
tests read them there). At build time they are copied into the wheel as
`backend/flows/contact_flows/` and `backend/flows/lex_bots/`, where `backend/flows/files.py`
finds them in an installed package. An editable install reads the repository's folders directly.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_FOLDERS = ("contact_flows", "lex_bots")
PACKAGE_DIR = Path("backend", "flows")


class BuildPyWithFlows(build_py):
    """`build_py` that also copies each data folder's JSON files into backend/flows/."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        root = Path(__file__).resolve().parent
        for folder in DATA_FOLDERS:
            sources = sorted((root / folder).glob("*.json"))
            if not sources:
                raise FileNotFoundError(f"{folder}/ has no .json files: the wheel would not work")
            target = Path(self.build_lib, PACKAGE_DIR, folder)
            self.mkpath(str(target))
            for source in sources:
                self.copy_file(str(source), str(target / source.name))


setup(cmdclass={"build_py": BuildPyWithFlows})
