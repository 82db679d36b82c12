"""Intake pauses the cycle collector while it reads a job and leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from backend.domain.intake import job_from_json, read_workbook
from backend.domain.intake.gc_pause import cycle_collection_paused
from backend.domain.intake.receivers import check_receivers


@pytest.fixture
def collector_state() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("collector_state")
@pytest.mark.parametrize("enabled", [True, False])
def test_paused_inside_and_restored_after_even_on_error(enabled: bool) -> None:
    gc.enable() if enabled else gc.disable()
    seen = []

    def fail_inside() -> None:
        with cycle_collection_paused():
            seen.append(gc.isenabled())
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_inside()
    assert seen == [False]
    assert gc.isenabled() is enabled


@pytest.mark.usefixtures("collector_state")
def test_each_intake_door_pauses_it_and_enables_it_again(
    workbook: Callable[..., bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.enable()
    seen: list[bool] = []
    real = check_receivers

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("backend.domain.intake.assemble.check_receivers", spy)
    assert read_workbook(workbook()).ok
    assert job_from_json({"job_id": "j", "questions": [], "receivers": []}).job is None
    assert seen == [False, False]
    assert gc.isenabled()
