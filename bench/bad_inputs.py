"""Bad and tricky inputs through every intake door: the worst case of each class.

Each case is an input for one door (workbook, JSON job, job-queue message, Slack form) and what
intake must answer: refused or accepted, and a problem whose text and location say what and
where. tests/unit/core/test_intake_corpus.py runs every case in a subprocess with a memory limit
and a time limit per case; `make bench` prints each case's time and peak memory.

Run alone: .venv/bin/python -m bench.bad_inputs
"""

from __future__ import annotations

import io
import json
import re
import resource
import subprocess
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HK = ("51234567", "51234568", "61234567")
LRM, ZWSP, RLM, BOM, NBSP = "\u200e", "\u200b", "\u200f", "\ufeff", "\u00a0"


@dataclass(frozen=True)
class Case:
    name: str
    door: str  # workbook | json | queue | form
    build: Callable[[], Any]
    ok: bool  # True: the job is accepted; False: refused
    fragment: str = ""  # in some problem's message (refused) or in a value of the job (accepted)
    where: str = ""  # in that problem's location ("sheet Configures, row 2, column Value")


# ---- builders ----------------------------------------------------------------------------------


def _workbook(
    config: dict[str, str] | None = None,
    questions: list[tuple[str, str]] | None = None,
    header: tuple[str, ...] = ("id", "phone_number", "name"),
    rows: list[tuple[Any, ...]] | None = None,
    extra_sheets: Callable[[Any], None] | None = None,
) -> bytes:
    """A workbook as Excel writes it (one shared-strings table: a value repeated is stored once)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    settings = {"greeting": "Hello {{ name }}.", "ending": "Goodbye.", "phone_prefix": "+852"}
    settings.update(config or {})
    sheet = book.create_sheet("Configures")
    sheet.append(["Key", "Value"])
    for key, value in settings.items():
        sheet.append([key, value])
    sheet = book.create_sheet("Questions")
    sheet.append(["question_template", "question_type"])
    for row in questions if questions is not None else [("Will you come?", "Yes/No")]:
        sheet.append(list(row))
    sheet = book.create_sheet("Receivers")
    sheet.append(list(header))
    for row in rows if rows is not None else [(1, HK[0], "Ann"), (2, HK[1], "Bob")]:
        sheet.append(list(row))
    if extra_sheets is not None:
        extra_sheets(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _rewrite(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    source, target = io.BytesIO(data), io.BytesIO()
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for item in old.infolist():
            content = old.read(item.filename)
            new.writestr(item, change(content) if item.filename == part else content)
    return target.getvalue()


def _dimension_lie() -> bytes:
    """`<dimension ref="A1:XFD1048576">` and one formatted cell in the sheet's last row."""

    def lie(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:XFD1048576"/>', xml)
        if b"<dimension" not in xml:
            xml = xml.replace(b"<sheetData", b'<dimension ref="A1:XFD1048576"/><sheetData', 1)
        return xml.replace(
            b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>'
        )

    return _rewrite(_workbook(), "xl/worksheets/sheet3.xml", lie)


def _strict() -> bytes:
    return _rewrite(
        _workbook(),
        "xl/workbook.xml",
        lambda xml: xml.replace(
            b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
            b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        ),
    )


def _two_receiver_sheets() -> bytes:
    def old_sheet(book: Any) -> None:
        sheet = book.create_sheet("Receiver")
        sheet.sheet_state = "hidden"
        sheet.append(["id", "phone_number", "name"])
        sheet.append([9, HK[2], "Old"])

    return _workbook(extra_sheets=old_sheet)


def _chart_sheet() -> bytes:
    import openpyxl
    from openpyxl.chart import BarChart

    book = openpyxl.load_workbook(io.BytesIO(_workbook()))
    del book["Receivers"]
    book.create_chartsheet("Receivers").add_chart(BarChart())
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _shared_string(data: bytes, placeholder: str, value: str) -> bytes:
    """Every `placeholder` cell of the Receivers sheet made one shared string, as Excel stores
    a value repeated on many rows: the file stays small however often the value is used."""
    inline = f'"inlineStr"><is><t>{placeholder}</t></is>'.encode()
    data = _rewrite(
        data,
        "xl/worksheets/sheet3.xml",
        lambda xml: xml.replace(
            b'inlineStr"><is><t>' + placeholder.encode() + b"</t></is>", b's"><v>0</v>'
        ).replace(inline, b'"s"><v>0</v>'),
    )
    strings = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
        f'uniqueCount="1"><si><t>{value}</t></si></sst>'
    ).encode()
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    data = _rewrite(
        data,
        "[Content_Types].xml",
        lambda xml: xml.replace(
            b"</Types>",
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kind}"/></Types>'.encode(),
        ),
    )
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    data = _rewrite(
        data,
        "xl/_rels/workbook.xml.rels",
        lambda xml: xml.replace(
            b"</Relationships>",
            f'<Relationship Type="{relation}" Target="sharedStrings.xml" Id="rId99"/>'
            "</Relationships>".encode(),
        ),
    )
    target = io.BytesIO(data)
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", strings)
    return target.getvalue()


def _render_cost() -> bytes:
    """One 32,000-character cell on 10,000 rows, said 60 times by the greeting (a 100 KB file)."""
    rows = [(i, f"5{1_000_000 + i * 7:07d}", "Ann", "NOTES") for i in range(1, 10_001)]
    data = _workbook(
        config={"greeting": "{{ notes }}" * 60},
        header=("id", "phone_number", "name", "notes"),
        rows=rows,
    )
    return _shared_string(data, "NOTES", "x" * 32_000)


def _many_columns() -> bytes:
    header = ("id", "phone_number", *(f"c{i}" for i in range(300)))
    rows = [(i, f"5{1_000_000 + i * 7:07d}", *(["v"] * 300)) for i in range(1, 21)]
    return _workbook(header=header, rows=rows)


def _many_cells() -> bytes:
    """1,100,000 empty formatted cells: about 1 MB zipped, refused before openpyxl parses."""
    row = b"".join(b'<c r="%s1" s="0"/>' % bytes(f"A{i}", "ascii") for i in range(100))
    rows = b"".join(b'<row r="%d">%s</row>' % (r, row) for r in range(10, 11_010))
    return _rewrite(
        _workbook(),
        "xl/worksheets/sheet3.xml",
        lambda xml: xml.replace(b"</sheetData>", rows + b"</sheetData>"),
    )


def _job(**changes: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job_id": "corpus-1",
        "greeting": "Hello {{ name }}.",
        "ending": "Goodbye.",
        "phone_prefix": "+852",
        "questions": [{"template": "Will you come?", "type": "Yes/No"}],
        "receivers": [
            {"id": "1", "phone_number": HK[0], "fields": {"name": "Ann"}},
            {"id": "2", "phone_number": HK[1], "fields": {"name": "Bob"}},
        ],
    }
    job.update(changes)
    return job


def _form(receivers: str, greeting: str = "Hello {{ name }}.") -> dict[str, Any]:
    def text(value: str) -> dict[str, Any]:
        return {"value": {"type": "plain_text_input", "value": value}}

    values = {
        "job_name": text("corpus"),
        "greeting": text(greeting),
        "ending": text("Goodbye."),
        "phone_prefix": text("+852"),
        "receivers": text(receivers),
        "q0_template": text("Will you come?"),
        "q0_type": {"value": {"type": "static_select", "selected_option": {"value": "YesNo"}}},
    }
    return {"state": {"values": values}, "private_metadata": json.dumps({"c": "C1", "r": [0]})}


DEEP = "[" * 200_000 + "]" * 200_000
BOMB = "{{ 'a' * 1000 * 1000 * 1000 }}"
NESTED = "{{ " + "(" * 1_000 + "name" + ")" * 1_000 + " }}"

CASES: tuple[Case, ...] = (
    # templates
    Case("workbook: misspelt filter", "workbook",
         lambda: _workbook({"greeting": "Hello {{ name|capitalise }}"}), False,
         "did you mean 'capitalize'", "sheet Configures, row 2"),
    Case("workbook: template nested 1,000 deep", "workbook",
         lambda: _workbook(questions=[(NESTED, "OK")]), False,
         "nested too deeply", "sheet Questions, row 2"),
    Case("workbook: 'a' * 1000 * 1000 * 1000", "workbook",
         lambda: _workbook({"ending": BOMB}), False, "10,000 characters", "sheet Configures"),
    Case("workbook: unknown test", "workbook",
         lambda: _workbook({"greeting": "{% if name is capitalised %}Hi{% endif %}"}), False,
         "capitalised", "sheet Configures, row 2"),
    Case("workbook: syntax error", "workbook",
         lambda: _workbook({"greeting": "Hello {{ name "}), False,
         "template error", "sheet Configures, row 2"),
    Case("workbook: break over 10 s", "workbook",
         lambda: _workbook({"greeting": 'Hello <break time="100s"/> {{ name }}'}), False,
         "longer than 10 seconds", "sheet Configures, row 2"),
    Case("workbook: column named self", "workbook",
         lambda: _workbook({"greeting": "Hello {{ self }}"}, header=("id", "phone_number", "self"),
                           rows=[(1, HK[0], "Ann")]), False,
         "rename the column", "sheet Configures, row 2"),
    # size and cost
    Case("workbook: 32,000-char cell x 10,000 rows x 60 references", "workbook", _render_cost,
         False, "over the limit of 3,000", "sheet Receivers, row 2, column notes"),
    Case("workbook: <dimension> A1:XFD1048576", "workbook", _dimension_lie, True, "Ann"),
    Case("workbook: 300 columns", "workbook", _many_columns, False,
         "more than 200 columns", "sheet Receivers, row 1"),
    Case("workbook: 1,100,000 empty formatted cells", "workbook", _many_cells, False,
         "more than 1,000,000 cells"),
    # sheets and files
    Case("workbook: chart sheet named Receivers", "workbook", _chart_sheet, False,
         "is a chart", "sheet Receivers"),
    Case("workbook: Strict Open XML", "workbook", _strict, False, "Strict Open XML"),
    Case("workbook: hidden Receiver + visible Receivers", "workbook", _two_receiver_sheets,
         False, "(hidden)", "sheet Receivers"),
    # numbers
    Case("workbook: invisible characters in a number", "workbook",
         lambda: _workbook(rows=[(1, f"{BOM}{LRM}5123{ZWSP}4567{RLM}", "Ann"),
                                 (2, f"+852{NBSP}5123\u20604568", "Bob")]), True, "+85251234567"),
    # JSON jobs
    Case("json: 200,000 deep", "json", lambda: DEEP, False, "nested too deeply"),
    Case("json: unknown time zone", "json",
         lambda: _job(settings={"timezone": "Asia/Hongkong_X"}), False,
         "not a time zone", "field settings.timezone"),
    Case("json: unknown allowed_countries", "json",
         lambda: _job(settings={"allowed_countries": ["HK", "XX"]}), False,
         "XX is not a two-letter", "field settings.allowed_countries"),
    Case("json: max_attempts true", "json", lambda: _job(settings={"max_attempts": True}),
         False, "whole number", "field settings.max_attempts"),
    Case("json: no greeting", "json", lambda: _job(greeting=""), False, "greeting is empty",
         "field greeting"),
    Case("json: no ending", "json", lambda: {k: v for k, v in _job().items() if k != "ending"},
         False, "ending is empty", "field ending"),
    Case("json: misspelt filter", "json", lambda: _job(greeting="{{ name|capitalise }}"), False,
         "capitalise", "field greeting"),
    Case("json: invisible characters in a number", "json",
         lambda: _job(receivers=[{"id": "1", "phone_number": f"{LRM}+852 5123 4567{RLM}",
                                  "fields": {"name": "Ann"}}]), True, "+85251234567"),
    # queue messages
    Case("queue: 200,000 deep", "queue", lambda: DEEP, False, "nested too deeply"),
    Case("queue: memory bomb", "queue", lambda: json.dumps(_job(greeting=BOMB)), False,
         "10,000 characters", "field greeting"),
    Case("queue: not JSON", "queue", lambda: "\x00\xff{", False, "not valid JSON"),
    # Slack form
    Case("form: quoted name with a comma", "form",
         lambda: _form('S1, 91234567, "Chan, Tai Man"'), True, "Chan, Tai Man"),
    Case("form: header line ID, Phone, Name", "form",
         lambda: _form("ID, Phone, Name\nS1, 91234567, Ann"), True, "Ann"),
    Case("form: ; separated with a comma in the name", "form",
         lambda: _form("S1; 91234567; Chan, Tai Man"), True, "Chan, Tai Man"),
    Case("form: direction marks around the number", "form",
         lambda: _form(f"S1, {LRM}9123 4567{RLM}, Ann"), True, "+85291234567"),
    Case("form: misspelt filter", "form",
         lambda: _form("S1, 91234567, Ann", "Hi {{ name|capitalise }}"), False, "capitalise",
         "sheet Settings"),
)  # fmt: skip


# ---- running one case --------------------------------------------------------------------------


def _intake(case: Case, payload: Any) -> tuple[Any, list[Any]]:
    """(job or None, problems) through the case's door, as production runs it."""
    if case.door == "workbook":
        from backend.domain.intake import read_workbook

        result = read_workbook(payload, filename="corpus.xlsx")
        return result.job if result.ok else None, result.problems
    if case.door == "json":
        from backend.domain.intake import job_from_json

        text = payload if isinstance(payload, str) else json.dumps(payload)
        result = job_from_json(text)
        return result.job if result.ok else None, result.problems
    if case.door == "queue":
        from backend.aws.starter import BadJobMessage, JobStarter

        starter = JobStarter(None, None, None, None, "", 1, 1)  # type: ignore[arg-type]
        try:
            return starter.parse(payload), []
        except BadJobMessage as error:
            return None, error.problems
    from bot.slack.commands import modal_job
    from bot.slack.modal import read_modal

    form = read_modal(payload)
    result = modal_job(form, payload["state"]["values"])
    problems = list(result.problems)
    if form.problems:
        from backend.domain.problems import Problem

        problems += [Problem(message, field=block) for block, message in form.problems.items()]
    return (result.job if result.ok and not form.problems else None), problems


def _warm(door: str) -> None:
    """Import what the door needs first: module imports are not intake time."""
    import backend.domain.intake

    if door == "queue":
        import backend.aws.starter  # noqa: F401
    if door == "form":
        import bot.slack.commands  # noqa: F401


class CaseTimeout(BaseException):
    """A case over its time (BaseException: intake's own `except Exception` cannot hide it)."""


def run_case(case: Case, on_start: Callable[[], Any] | None = None) -> dict[str, Any]:
    """The verdict as plain data; a crash is reported as its traceback, not raised.

    `on_start` runs once the input is built and imports are done (the worker's alarm).
    """
    payload = case.build()
    _warm(case.door)
    if on_start is not None:
        on_start()
    started = time.perf_counter()
    try:
        job, problems = _intake(case, payload)
        error = None
    except BaseException:  # a hang (CaseTimeout) or MemoryError is a verdict too
        job, problems, error = None, [], traceback.format_exc(limit=3)
    return {
        "name": case.name,
        "seconds": time.perf_counter() - started,
        "accepted": job is not None,
        "job": json.dumps(job.model_dump(mode="json"))[:5_000] if job is not None else "",
        "problems": [{"where": p.where(), "message": p.message} for p in problems[:50]],
        "error": error,
    }


def _worker(names: list[str], seconds: int, memory_mb: int) -> None:
    """Runs the named cases under an address-space limit and a per-case alarm; one JSON line
    per case on stdout."""
    import signal

    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))

    def timeout(*_: Any) -> None:
        raise CaseTimeout(f"intake took over {seconds} s")

    signal.signal(signal.SIGALRM, timeout)
    by_name = {case.name: case for case in CASES}
    for name in names:
        try:
            outcome = run_case(by_name[name], lambda: signal.alarm(seconds))
        except BaseException:  # the corpus reports every failure, even MemoryError
            outcome = {"name": name, "error": traceback.format_exc(limit=3)}
        signal.alarm(0)
        print(json.dumps(outcome), flush=True)


def run_all(
    names: list[str], *, seconds: int = 20, memory_mb: int = 1_500, timeout: int = 300
) -> list[dict[str, Any]]:
    """Run cases in one limited subprocess; the verdict of each as run_case gives it."""
    code = f"from bench.bad_inputs import _worker; _worker({names!r}, {seconds}, {memory_mb})"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )
    outcomes = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if len(outcomes) < len(names):
        raise RuntimeError(f"the corpus worker stopped early: {done.stderr[-2_000:]}")
    return outcomes


def _measure(name: str) -> None:
    outcome = run_case(next(case for case in CASES if case.name == name))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": outcome["seconds"], "mb": peak, "error": outcome["error"]}))


def main() -> None:
    print(
        "Intake of the worst bad input of each class (each in its own process; seconds of "
        "intake alone; peak RSS includes building the input):"
    )
    print(f"{'case':62} {'seconds':>8} {'peak MB':>8}")
    for case in CASES:
        code = f"from bench.bad_inputs import _measure; _measure({case.name!r})"
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=REPO,
        )
        try:
            figures = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{case.name:62} failed: {done.stderr[-300:]}")
            continue
        mark = "  CRASHED" if figures["error"] else ""
        print(f"{case.name:62} {figures['seconds']:8.2f} {figures['mb']:8.0f}{mark}")


if __name__ == "__main__":
    main()
