"""A two-language job on the local engine: each person hears their language (voice, prompts,
phrases) and answers in it through the same flow and bots, and the report holds what was said."""

from __future__ import annotations

import csv
from pathlib import Path

from backend.domain.models import CallStatus
from backend.local.engine import LocalEngine
from backend.local.simulator import SimulatedPerson
from backend.local.store import SqliteStore
from tests.fakes.bilingual import ANSWERS, SPOKEN, bilingual_job


def test_each_person_is_called_and_understood_in_their_language(tmp_path: Path) -> None:
    job = bilingual_job("two-languages")
    people = {rid: [SimulatedPerson(utterances=said)] for rid, said in SPOKEN.items()}
    store = SqliteStore(tmp_path / "callouts.db")
    engine = LocalEngine(store, people=people, report_dir=tmp_path / "out")

    results = {result.receiver_id: result for result in engine.run(job)}

    assert {rid: r.status for rid, r in results.items()} == dict.fromkeys(
        SPOKEN, CallStatus.CALL_COMPLETED
    )
    assert {rid: r.answers for rid, r in results.items()} == ANSWERS

    def heard(receiver_id: str) -> str:
        (row,) = store.transcripts(job.job_id, receiver_id)
        return " ".join(str(line) for line in row.lines)

    assert "Hola Ana, le llama la escuela Sunny." in heard("es1")
    assert "Para no recibir más llamadas, diga alto o pulse asterisco." in heard("es1")
    assert "Diga sí o no, o pulse 1 para sí y 2 para no." in heard("es1")
    assert "Gracias, adiós." in heard("es2")
    assert "Hello Ann, this is Sunny School." in heard("en1")
    assert "Hola" not in heard("en1")
    assert "Hello" not in heard("es1")

    with open(tmp_path / "out" / f"{job.job_id}.csv", encoding="utf-8-sig", newline="") as file:
        rows = {row["receiver_id"]: row for row in csv.DictReader(file)}
    assert {rid: row["language"] for rid, row in rows.items()} == {
        "en1": "",
        "es1": "es-US",
        "es2": "es-US",  # written es_us: kept canonical
        "en2": "en-US",
    }
    assert rows["es2"]["Question 2"] == "3.5"


def test_a_spanish_stop_opts_out_with_a_spanish_goodbye(tmp_path: Path) -> None:
    job = bilingual_job("alto")
    people = {
        "es1": [SimulatedPerson(utterances=["sí", "no me llame más"])],
        **{rid: [SimulatedPerson(utterances=SPOKEN[rid])] for rid in ("en1", "es2", "en2")},
    }
    store = SqliteStore(tmp_path / "callouts.db")
    engine = LocalEngine(store, people=people, report_dir=None)

    results = {result.receiver_id: result for result in engine.run(job)}

    assert results["es1"].status is CallStatus.OPTED_OUT
    assert results["es1"].answers[0] == "Yes"
    (row,) = store.transcripts(job.job_id, "es1")
    assert "Este servicio no lo volverá a llamar" in " ".join(str(line) for line in row.lines)


def test_preview_shows_the_person_language_and_voice(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from backend.cli import app
    from tests.fakes.bilingual import bilingual_payload

    path = tmp_path / "job.json"
    path.write_text(json.dumps(bilingual_payload()), encoding="utf-8")
    shown = CliRunner().invoke(app, ["preview", str(path), "--receiver", "es1"])
    assert shown.exit_code == 0, shown.output
    assert "Speaks Spanish (US) (Lupe). Languages: English (US) 2, Spanish (US) 2." in shown.output
    assert "Hola Ana" in shown.output
