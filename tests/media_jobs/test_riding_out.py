"""A job's database step rides out a database that is away for a moment, but never retries inside
a caller's transaction (the caller's earlier statements would be lost with the connection)."""

from __future__ import annotations

import pytest
from django.db import OperationalError, transaction

from media_jobs.jobs.common import riding_out


class Flaky:
    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise OperationalError("server closed the connection unexpectedly")
        return "recorded"


@pytest.mark.django_db(transaction=True)
def test_a_step_is_tried_again_until_the_database_answers(caplog) -> None:
    step = Flaky(failures=2)
    assert riding_out(step, "recording the result") == "recorded"
    assert step.calls == 3
    assert sum("database unavailable while recording the result" in r.message for r in caplog.records) == 2


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_error_goes_up_at_once() -> None:
    step = Flaky(failures=1)
    with pytest.raises(OperationalError), transaction.atomic():
        riding_out(step, "claiming")
    assert step.calls == 1


def test_other_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        riding_out(broken, "finishing the task")
    assert calls == [1]
