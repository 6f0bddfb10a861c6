"""The report on real data: languages merged to base codes, a true time axis that marks thin months,
and a warning when what it shows is not what study.yaml says."""

from __future__ import annotations

import json
from datetime import date
from types import SimpleNamespace

import pytest

from flows.report import svg
from flows.report.corpus import base_language


@pytest.mark.parametrize(("tag", "base"), [
    ("en", "en"), ("en-gb", "en"), ("en-US", "en"), ("en_US", "en"), ("pt-BR", "pt"), ("in", "id"), ("iw", "he"),
    ("und", "und"), ("unknown", "und"), ("", "und"), (None, "und"), ("N/A", "und"), ("qme", "und"), ("zxx", "und"),
])
def test_languages_become_bcp47_base_codes(tag, base):
    assert base_language(tag) == base


def test_time_axis_leaves_room_for_empty_months_and_marks_thin_ones():
    months = [date(2014, 1, 1), date(2014, 2, 1), date(2014, 12, 1), date(2015, 1, 1)]
    assert svg.month_positions(months) == [0.0, 1.0, 11.0, 12.0]
    chart = svg.lines([m.isoformat()[:7] for m in months], [("code", [10.0, 100.0, 20.0, 30.0])], title="t",
                      positions=svg.month_positions(months), low=[False, True, False, False])
    assert chart.count('fill="#fff"') == 1 and "(few posts)" in chart  # the thin month: hollow
    assert chart.count("<polyline") == 1  # no line through it: only Dec-Jan is joined
    xs = [float(x) for x in __import__("re").findall(r'<circle cx="([0-9.]+)"', chart)]
    assert xs[2] - xs[1] > 5 * (xs[1] - xs[0])  # ten empty months take their room


def test_a_topic_run_fitted_with_other_settings_is_flagged():
    from flows.report.topics import _settings_warning

    run = {"run_id": "run-1", "settings": json.dumps({"seed": 2015, "model": "minilm", "min_topic_size": 10})}
    same = SimpleNamespace(study={"topic_settings": {"seed": 2015, "model": "minilm", "min_topic_size": 10}})
    assert _settings_warning(same, run) is None
    seeded = SimpleNamespace(study={"topic_settings": {"seed": 7, "model": "minilm", "min_topic_size": 10}})
    note = _settings_warning(seeded, run)
    assert "seed: run 2015, study.yaml 7" in note.text and "--refit" in note.text
