"""Notebook 07's comparison helpers: the table never shows a random-weight accuracy as a result."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils import compare


def _rows():
    return [
        compare.Row("mobilenet_0.25", True, 218_544, 500.0, 60.0, 0.55, 50, (2, 2, 256), val_accuracy=0.52),
        compare.Row("mobilenet_0.5", True, 829_536, 300.0, 40.0, 0.61, 50, (2, 2, 512), val_accuracy=0.50),
        compare.Row("vgg16", False, 14_714_688, 30.0, 9.0, 0.97, 50, (2, 2, 512), val_accuracy=0.99),
    ]


def test_table_shows_random_weights_as_not_checked_never_as_a_number():
    text = compare.table(_rows())
    lines = text.splitlines()
    assert len(lines) == 2 + 3
    assert "0.550" in lines[2] and "0.610" in lines[3]
    assert compare.NOT_CHECKED in lines[4] and "0.970" not in text, "a random-weight accuracy is never shown"
    assert "14.71M" in lines[4] and "30.0" in lines[4]


def test_best_is_chosen_on_validation_among_checked_rows():
    rows = _rows()
    assert compare.best(rows).backbone == "mobilenet_0.25", "validation, not test; random weights never chosen"
    assert compare.best([rows[2]]) is None


def test_save_writes_the_table_and_curves_with_unchecked_accuracies_as_words(tmp_path):
    curves = {"features": {1: [0.2, 0.3], 5: [0.4, 0.5]}, "scratch": {1: [0.1, 0.1], 5: [0.2, 0.3]}}
    compare.save(tmp_path / "out" / "07.json", _rows(), curves, {"profile": "fast"})
    saved = json.loads((tmp_path / "out" / "07.json").read_text())
    assert saved["profile"] == "fast"
    assert [r["accuracy"] for r in saved["table"]] == [0.55, 0.61, compare.NOT_CHECKED]
    assert saved["table"][2]["val_accuracy"] == compare.NOT_CHECKED
    assert saved["few_shot"]["features"] == {"1": [0.2, 0.3], "5": [0.4, 0.5]}


def test_few_shot_table_gives_mean_and_sample_std():
    text = compare.few_shot_table({"features": {1: [0.2, 0.4], 5: [0.5, 0.5]}, "scratch": {1: [0.1, 0.1]}})
    assert "0.300 ± 0.141" in text and "0.500 ± 0.000" in text and "—" in text
    assert compare.mean_std([0.7]) == (0.7, 0.0)


def test_sample_per_class_draws_k_per_class_by_seed_and_refuses_too_few():
    labels = np.repeat(np.arange(3), 10)
    idx = compare.sample_per_class(labels, 4, seed=0)
    assert np.bincount(labels[idx]).tolist() == [4, 4, 4] and len(set(idx)) == 12
    assert np.array_equal(idx, compare.sample_per_class(labels, 4, seed=0))
    assert not np.array_equal(idx, compare.sample_per_class(labels, 4, seed=1))
    with pytest.raises(ValueError, match="fewer than 11"):
        compare.sample_per_class(labels, 11, seed=0)


def test_figures_draw_checked_points_and_mark_unchecked_on_the_axis():
    fig = compare.plot_accuracy_vs_cost(_rows())
    ax = fig.axes[0]
    ys = [line.get_ydata()[0] for line in ax.lines]
    assert ys == [0.55, 0.61, 0.0], "the random-weight backbone sits on the axis, not at its accuracy"
    assert any("not checked" in t.get_text() for t in ax.texts)
    fig2 = compare.plot_few_shot({"a": {1: [0.2, 0.3], 5: [0.5, 0.6]}}, chance=0.1, caveat="random")
    assert fig2.axes[0].get_xlabel().startswith("labelled") and any(t.get_text() == "random" for t in fig2.texts)


def test_speeds_time_after_a_warm_up_call():
    calls = []

    class Model:
        def predict_on_batch(self, x):
            calls.append(len(x))

        def train_on_batch(self, x, y):
            calls.append(-len(x))

    x = np.zeros((4, 2))
    assert compare.extraction_speed(Model(), x, repeats=2, min_seconds=0) > 0 and calls == [4, 4, 4]
    calls.clear()
    assert compare.train_step_speed(Model(), x, np.zeros(4), repeats=3, min_seconds=0) > 0 and calls == [-4] * 4


def test_speed_is_the_median_call_and_runs_for_at_least_min_seconds(monkeypatch):
    durations = iter([0.0, 0.1, 0.0, 0.1, 0.0, 5.0, 0.0, 0.1, 0.0, 0.1])  # start/stop pairs: 0.1, 0.1, 5 (a busy moment), 0.1
    monkeypatch.setattr(compare.time, "perf_counter", lambda: next(durations))
    calls = []
    speed = compare._speed(lambda: calls.append(1), batch_size=8, repeats=3, min_seconds=5.25)
    assert len(calls) == 1 + 4, "a warm-up, then calls until both 3 calls and 5.25 s are reached"
    assert speed == pytest.approx(8 / 0.1), "the slow call does not move the median"


def test_peak_memory_and_cpu_time_are_positive_and_cpu_time_grows():
    assert 1 < compare.peak_memory_mb() < 1_000_000
    before = compare.cpu_seconds()
    sum(i * i for i in range(300_000))
    assert compare.cpu_seconds() > before > 0
