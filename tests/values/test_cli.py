"""`flask values load`: loads the shipped frameworks once, says what it did, refuses a silent change."""

from __future__ import annotations

from sqlalchemy import update

from procure.values import services
from procure.values.models import ValueCriterion


def test_values_load_adds_the_frameworks_once_and_says_so(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["values", "load"])
    assert first.exit_code == 0, first.output
    assert "wellbeing-goals version 1: added" in first.output
    assert "Value frameworks: 3 added, 0 unchanged." in first.output
    second = runner.invoke(args=["values", "load"])
    assert second.exit_code == 0, second.output
    assert "solution-quality version 1: already loaded" in second.output
    assert "Value frameworks: 0 added, 3 unchanged." in second.output
    assert len(services.list_frameworks(db)) == 3


def test_values_load_refuses_when_a_loaded_version_differs_from_the_seed(app, db):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["values", "load"]).exit_code == 0
    db.execute(update(ValueCriterion).where(ValueCriterion.code == "innovation")
               .values(name_en="Novelty"))
    result = runner.invoke(args=["values", "load"])
    assert result.exit_code == 1
    assert "solution-quality version 1 is already loaded with different content" in result.output
    assert "bump the version" in result.output
