"""The wheel works outside the clone: build it, install it into a fresh virtual environment, run
the example job from an empty folder, and get the clone's answers.

Offline by construction: the wheel is built with the build tools already in this environment
(`--no-build-isolation`, setuptools and wheel are dev dependencies), installed with `--no-index
--no-deps`, and its dependencies come from this environment's site-packages through a `.pth` line
(a plain path entry: the editable install's own `.pth` hook there is not run, so `backend` can
only come from the wheel, which the test checks).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backend.cli import app

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "backend", "bot")
DATA = ("contact_flows", "lex_bots")

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _clean_env() -> dict[str, str]:
    """No CALLOUTS_* settings, no PYTHONPATH: the installed package on its own."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CALLOUTS_", "PYTHON")) and key != "VIRTUAL_ENV"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing behind in the clone
    for name in (*SOURCES, *DATA):
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(origin, source / name)
    env = _clean_env()
    pip = [sys.executable, "-m", "pip"]
    built = _run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", "dist", "."],
        source,
        env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (source / "dist").glob("callouts_for_slack-*.whl")

    venv = work / "venv"
    created = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], work, env)
    assert created.returncode == 0, created.stderr
    python = venv / "bin" / "python"
    done = _run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        work,
        env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], work, env
    )
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    Path(site.stdout.strip(), "callouts_dependencies.pth").write_text(
        "\n".join(sorted(dependencies)) + "\n"
    )
    return venv / "bin"


def test_wheel_works_from_an_empty_folder_and_refuses_without_its_flow(
    installed: Path, tmp_path: Path
) -> None:
    env = _clean_env()
    python = str(installed / "python")
    probe = _run(
        [python, "-c", "import backend.flows as f; print(f.__file__, f.OUTBOUND_CALL_FLOW)"],
        tmp_path,
        env,
    )
    assert probe.returncode == 0, probe.stderr
    package, flow = (Path(word) for word in probe.stdout.split())
    venv = installed.parent
    assert package.is_relative_to(venv)  # the wheel's code, not the clone's
    assert flow.is_relative_to(venv)
    assert flow.read_bytes() == (ROOT / "contact_flows" / "outbound_call.json").read_bytes()
    bots = sorted(path.name for path in (flow.parents[1] / "lex_bots").glob("*.json"))
    assert bots == sorted(path.name for path in (ROOT / "lex_bots").glob("*.json"))

    folder = tmp_path / "anywhere"
    folder.mkdir()
    for name in ("call_job.xlsx", "answers.csv"):
        shutil.copy2(ROOT / "examples" / name, folder / name)
    ran = _run(
        [str(installed / "callouts"), "run", "call_job.xlsx", "--answers", "answers.csv"],
        folder,
        env,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    (report,) = (folder / "out").glob("*.json")
    assert _answers(report) == _answers(_clone_report(tmp_path / "clone"))

    # The same installation without its contact flow: refused before anyone is called.
    flow.unlink()
    again = _run(
        [str(installed / "callouts"), "run", "call_job.xlsx", "--out", "out2", "--job-id", "x"],
        folder,
        env,
    )
    assert again.returncode == 1, again.stdout + again.stderr
    assert "outbound_call.json" in again.stderr
    assert "Nobody was called" in again.stderr
    assert "Traceback" not in again.stderr
    assert not (folder / "out2").exists()  # no report of failures it caused itself


def _clone_report(work: Path) -> Path:
    """The example run by the clone's own code (this environment), in process."""
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(ROOT / "examples" / "call_job.xlsx"),
            "--answers",
            str(ROOT / "examples" / "answers.csv"),
            "--out",
            str(work / "out"),
            "--db",
            str(work / "callouts.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    (report,) = (work / "out").glob("*.json")
    return report


def _answers(report: Path) -> dict[str, tuple[str, list[str | None]]]:
    data = json.loads(report.read_text())
    answers = {r["receiver_id"]: (r["status"], r["answers"]) for r in data["results"]}
    assert any(status == "CallCompleted" for status, _ in answers.values())
    return answers
