"""`callouts template | validate | preview | report` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
import typer
from typer.testing import CliRunner

from backend.cli import app
from backend.cli.job_files import readable_ssml
from backend.domain.models import CallJob, CallResult, CallStatus, Question, QuestionType, Receiver
from backend.domain.report import results_json
from backend.domain.workbook_template import write_example

runner = CliRunner()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("example") / "call_job.xlsx"
    write_example(path)
    return path


def broken_copy(example: Path, tmp_path: Path) -> Path:
    """The example with an unknown question type and an invalid phone number."""
    book = openpyxl.load_workbook(example)
    book["Questions"]["B3"] = "Essay"
    book["Receivers"]["B4"] = "12ab"
    path = tmp_path / "broken.xlsx"
    book.save(path)
    return path


def _command_paths(group: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and sub-command (`dnc add`) of the app, as its words."""
    paths = []
    for name, command in sorted(getattr(group, "commands", {}).items()):
        paths.append((*path, name))
        paths += _command_paths(command, (*path, name))
    return paths


COMMANDS = [" ".join(words) for words in _command_paths(typer.main.get_command(app))]


def test_the_commands_are_all_listed() -> None:
    assert {"template", "validate", "preview", "report", "run", "status", "bot"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_every_command_has_help_with_an_example_and_no_bool_labels(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
    assert "Example:" in result.output
    assert f"callouts {command}".strip() in result.output.split("Example:")[1]
    assert "<bool>" not in result.output
    assert "<int>" not in result.output


def test_help_names_flags_and_metavars_as_click_users_expect() -> None:
    template = runner.invoke(app, ["template", "--help"]).output
    assert "--force / --no-force" in template
    run = runner.invoke(app, ["run", "--help"]).output
    for option in ("--seed NUMBER", "--concurrency NUMBER", "--out DIR", "--db PATH"):
        assert option in run
    assert "JOB_FILE" in run


def test_at_is_one_option_in_every_command_that_takes_a_start_time() -> None:
    def at_help(command: str) -> str:
        lines = runner.invoke(app, [*command.split(), "--help"]).output.splitlines()
        start = next(i for i, line in enumerate(lines) if "--at, --start-at WHEN" in line)
        block = [lines[start]]
        for line in lines[start + 1 :]:
            if line.lstrip().startswith("-") or not line.strip():
                break
            block.append(line)
        return " ".join(" ".join(block).split())

    helps = {name: at_help(name) for name in ("preview", "run", "estimate", "schedule add")}
    assert len(set(helps.values())) == 1, helps
    assert "start_at" in helps["run"]


def test_template_force_is_a_flag_pair(tmp_path: Path) -> None:
    target = tmp_path / "new.xlsx"
    target.write_text("keep me")
    refused = runner.invoke(app, ["template", str(target), "--no-force"])
    assert refused.exit_code == 1
    assert target.read_text() == "keep me"
    assert runner.invoke(app, ["template", str(target), "--force"]).exit_code == 0
    assert "Receivers" in openpyxl.load_workbook(target).sheetnames


def test_template_writes_a_workbook_and_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "new.xlsx"
    result = runner.invoke(app, ["template", str(target)])
    assert result.exit_code == 0, result.output
    assert {"Configures", "Questions", "Receivers"} <= set(
        openpyxl.load_workbook(target).sheetnames
    )
    again = runner.invoke(app, ["template", str(target)])
    assert again.exit_code == 1
    assert "--force" in again.output
    assert runner.invoke(app, ["template", str(target), "--force"]).exit_code == 0


def test_template_into_a_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    result = runner.invoke(app, ["template", str(tmp_path / "nowhere" / "new.xlsx")])
    assert result.exit_code == 1
    assert "cannot write" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_validate_example_prints_one_line_summary(example: Path) -> None:
    result = runner.invoke(app, ["validate", str(example)])
    assert result.exit_code == 0, result.output
    assert "8 receiver(s), 6 question(s)" in result.output
    assert "name, class" in result.output


def test_validate_prints_every_problem_and_exits_1(example: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(broken_copy(example, tmp_path))])
    assert result.exit_code == 1
    assert "Questions" in result.stdout
    assert "Receivers" in result.stdout
    assert "Essay" in result.stdout
    assert "2 problem(s)" in result.stderr


@pytest.mark.parametrize(
    "content", [b"id,phone_number\n1,5123\n", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b""]
)
def test_validate_unreadable_file_exits_1_without_traceback(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "job.xlsx"
    path.write_bytes(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.output.strip()


def test_validate_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.xlsx")])
    assert result.exit_code == 1
    assert "no such file" in result.output


def test_preview_shows_what_the_first_person_hears(example: Path) -> None:
    result = runner.invoke(app, ["preview", str(example)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Hello Chan Tai Man, this is the class 3A teacher" in text
    assert "<speak>" not in text
    for number, kind in enumerate(
        ["OK", "Yes/No", "Multiple Choice", "Number", "Date", "Time"], start=1
    ):
        assert f"Question {number} ({kind})" in text
    assert "Thank you Chan Tai Man" in text
    assert "51234567" not in text  # the phone number is masked


def test_preview_other_receiver_unescapes_ssml(example: Path) -> None:
    result = runner.invoke(app, ["preview", str(example), "--receiver", "5"])
    assert result.exit_code == 0, result.output
    assert "Hello Lam & Ho Family" in result.stdout
    assert "&amp;" not in result.stdout


def test_preview_unknown_receiver(example: Path) -> None:
    result = runner.invoke(app, ["preview", str(example), "--receiver", "999"])
    assert result.exit_code == 1
    assert "no receiver with id '999'" in result.output
    assert "S07" in result.output


def test_preview_of_an_invalid_job_lists_problems(example: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["preview", str(broken_copy(example, tmp_path))])
    assert result.exit_code == 1
    assert "Essay" in result.stdout


def test_readable_ssml() -> None:
    assert (
        readable_ssml(
            '<speak>Hi <break time="1s"/>Lam &amp; Ho<break/>, <emphasis>now</emphasis></speak>'
        )
        == "Hi [pause 1s] Lam & Ho [pause] , now"
    )


def _results_file(tmp_path: Path) -> Path:
    job = CallJob(
        job_id="j-1",
        questions=(Question(template="Come?", type=QuestionType.YES_NO),),
        receivers=(
            Receiver(id="1", phone_number="+85251234567"),
            Receiver(id="2", phone_number="+85261234567"),
        ),
    )
    results = [
        CallResult(
            job_id="j-1", receiver_id="1", status=CallStatus.CALL_COMPLETED, answers=("Yes",)
        )
    ]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results_json(job, results)))
    return path


def test_report_builds_xlsx_from_results_json(tmp_path: Path) -> None:
    target = tmp_path / "report.xlsx"
    result = runner.invoke(app, ["report", str(_results_file(tmp_path)), str(target)])
    assert result.exit_code == 0, result.output
    assert "1 of 2" in result.output
    rows = list(openpyxl.load_workbook(target)["Results"].iter_rows(values_only=True))
    assert rows[1][:4] == ("j-1", "1", None, "CallCompleted")
    assert rows[1][6] == "Yes"  # Question 1: no extra columns in this job


@pytest.mark.parametrize(
    ("content", "message"),
    [("{oops", "not valid JSON"), ('{"job": {}}', "missing field `results`")],
)
def test_report_bad_json(tmp_path: Path, content: str, message: str) -> None:
    source = tmp_path / "results.json"
    source.write_text(content)
    result = runner.invoke(app, ["report", str(source), str(tmp_path / "out.xlsx")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "out.xlsx").exists()


def test_report_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "none.json"), str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "cannot read" in result.output


@pytest.mark.parametrize("where", ["a_file/out.xlsx", "a_dir", "missing/out.xlsx"])
def test_report_to_an_unwritable_place_exits_1_without_traceback(
    tmp_path: Path, where: str
) -> None:
    (tmp_path / "a_file").write_text("x")
    (tmp_path / "a_dir").mkdir()
    result = runner.invoke(app, ["report", str(_results_file(tmp_path)), str(tmp_path / where)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "cannot write" in result.output
    assert "Traceback" not in result.output


def test_report_refuses_results_of_another_job(tmp_path: Path) -> None:
    source = _results_file(tmp_path)
    data = json.loads(source.read_text())
    data["results"][0]["job_id"] = "another-job"
    source.write_text(json.dumps(data))
    result = runner.invoke(app, ["report", str(source), str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "results[0].job_id" in result.output
    assert "another-job" in result.output
    assert not (tmp_path / "o.xlsx").exists()


def test_report_refuses_results_with_more_answers_than_questions(tmp_path: Path) -> None:
    source = _results_file(tmp_path)
    data = json.loads(source.read_text())
    data["results"][0]["answers"] = ["Yes", "No", "A"]
    source.write_text(json.dumps(data))
    result = runner.invoke(app, ["report", str(source), str(tmp_path / "o.xlsx")])
    assert result.exit_code == 1
    assert "results[0].answers" in result.output


def test_report_into_a_directory_prints_no_traceback_at_exit(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "a_dir").mkdir()
    source = _results_file(tmp_path)
    code = "from backend.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "report", str(source), str(tmp_path / "a_dir")],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "is a directory" in done.stderr


def test_validate_a_directory_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "is a directory" in result.output


# ---- JSON jobs: the same commands, the same checks --------------------------------------------


def _json_job(example: Path, tmp_path: Path, name: str = "job.json", **change: object) -> Path:
    from backend.domain.intake import job_to_json, read_workbook

    job = read_workbook(example).job
    assert job is not None
    data = job_to_json(job)
    data.update(change)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_validate_and_preview_a_json_job(example: Path, tmp_path: Path) -> None:
    path = _json_job(example, tmp_path)
    validated = runner.invoke(app, ["validate", str(path)])
    assert validated.exit_code == 0, validated.output
    assert "8 receiver(s), 6 question(s)" in validated.output
    previewed = runner.invoke(app, ["preview", str(path), "--receiver", "5"])
    assert previewed.exit_code == 0, previewed.output
    assert "Hello Lam & Ho Family" in previewed.stdout


def test_json_job_problems_are_the_workbooks_named_by_field(example: Path, tmp_path: Path) -> None:
    from backend.domain.intake import job_to_json, read_workbook

    job = read_workbook(example).job
    assert job is not None
    data = job_to_json(job)
    data["questions"][1]["type"] = "Essay"
    data["receivers"][2]["phone_number"] = "12ab"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data))
    as_json = runner.invoke(app, ["validate", str(path)])
    as_workbook = runner.invoke(app, ["validate", str(broken_copy(example, tmp_path))])
    assert as_json.exit_code == as_workbook.exit_code == 1
    assert "questions[1].type" in as_json.stdout
    assert "receivers[2].phone_number" in as_json.stdout
    assert "Field" in as_json.stdout
    assert "Sheet" not in as_json.stdout
    for message in ("unknown question type 'Essay'", "phone number '12ab' contains letters"):
        assert message in as_json.stdout
        assert message in as_workbook.stdout
    assert "2 problem(s)" in as_json.stderr


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("job.json", "{oops", "not valid JSON"),
        ("job.json", "[1, 2]", "must be a JSON object"),
        ("job.txt", '{"receivers": []}', "job_id is required"),  # told by content
    ],
)
def test_bad_json_job_exits_1_with_the_intake_message(
    tmp_path: Path, name: str, content: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_workbook_is_read_as_a_workbook_whatever_its_name(example: Path, tmp_path: Path) -> None:
    path = tmp_path / "named_like.json"
    path.write_bytes(example.read_bytes())
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_run_a_json_job_gives_the_workbooks_answers(example: Path, tmp_path: Path) -> None:
    answers = Path(__file__).resolve().parents[3] / "examples" / "answers.csv"

    def run(job_file: Path, where: str) -> dict[str, object]:
        out = tmp_path / where
        db = tmp_path / f"{where}.db"
        result = runner.invoke(
            app,
            ["run", str(job_file), "--answers", str(answers), "--out", str(out), "--db", str(db)],
        )
        assert result.exit_code == 0, result.output
        (report,) = out.glob("*.json")
        data = json.loads(report.read_text())
        return {r["receiver_id"]: (r["status"], r["answers"]) for r in data["results"]}

    from_json = run(_json_job(example, tmp_path), "json")
    assert from_json == run(example, "xlsx")
    assert len(from_json) == 8


def test_run_refuses_to_start_without_its_contact_flow(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.flows import files

    monkeypatch.setattr(files, "OUTBOUND_CALL_FLOW", tmp_path / "gone" / "outbound_call.json")
    out, db = tmp_path / "out", tmp_path / "callouts.db"
    result = runner.invoke(app, ["run", str(example), "--out", str(out), "--db", str(db)])
    assert result.exit_code == 1
    assert "outbound_call.json: file not found" in result.stderr
    assert "Nobody was called" in result.stderr
    assert not out.exists()  # no report of failures it caused itself
    assert not db.exists()  # no job was started


def test_local_bot_refuses_to_start_without_its_contact_flow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.slack.local
    from backend.flows import files

    started: list[object] = []
    monkeypatch.setattr(bot.slack.local, "run", lambda *args, **kwargs: started.append(args))
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setattr(files, "OUTBOUND_CALL_FLOW", tmp_path / "gone" / "outbound_call.json")
    result = runner.invoke(app, ["bot", "--http", "--out", str(tmp_path / "slack")])
    assert result.exit_code == 1
    assert "outbound_call.json: file not found" in result.stderr
    assert started == []
