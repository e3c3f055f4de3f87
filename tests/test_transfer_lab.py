"""The notebook-01 experiment: it must really show the effects the notebook asserts."""

import numpy as np
import pytest

from course_utils import transfer_lab as tl

SEEDS = [0, 1, 2, 3]  # the seeds notebook 01 uses in smoke


def test_pretraining_fits_the_source_task():
    assert tl.world(0).source_accuracy > 0.95


@pytest.mark.slow
def test_transfer_gain_shrinks_as_labels_grow():
    sweep = tl.sweep_labels([2, 5, 50, 100], SEEDS)
    gain = sweep.gain.mean(0)
    assert gain[:2].mean() > 0 and gain[:2].mean() > gain[2:].mean()
    assert sweep.transfer.shape == (len(SEEDS), 4)


@pytest.mark.slow  # several seconds: run by make test, skipped by make test-unit
def test_transfer_gain_falls_and_turns_negative_with_dissimilar_targets():
    gain = tl.sweep_similarity([1.0, 0.0], SEEDS, labels_per_class=5).gain.mean(0)
    assert gain[0] > gain[1] and gain[1] < 0


def test_runs_are_deterministic_per_seed():
    assert tl.run_point(1, 5, 0.5) == tl.run_point(1, 5, 0.5)


def test_similarity_outside_zero_one_is_an_error():
    with pytest.raises(ValueError, match="similarity"):
        tl.target_task(tl.world(0), 1.5)


def test_sweep_table_shows_mean_and_std():
    sweep = tl.Sweep("knob", (1, 2), np.array([[0.5, 0.6], [0.7, 0.8]]), np.array([[0.5, 0.5]] * 2))
    text = sweep.table()
    # the sample standard deviation (ddof=1) of [0.5, 0.7] is 0.1414, the population one 0.100
    assert "0.600 ± 0.141" in text and "0.100 ± 0.141" in text


@pytest.mark.slow
def test_l2_sp_keeps_weights_closer_to_w0_as_lambda_grows():
    free, anchored = tl.l2_sp_finetune(0, 0.0, epochs=60), tl.l2_sp_finetune(0, 1.0, epochs=60)
    assert anchored.distance < free.distance / 5
    assert anchored.train_loss > free.train_loss


def _blas_threads():
    from threadpoolctl import threadpool_info

    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


def test_small_problem_limits_blas_to_one_thread_and_restores_it():
    from course_utils import threads

    before = _blas_threads()
    assert before, "NumPy's BLAS is not visible to threadpoolctl"
    inside = threads.small_problem(_blas_threads)()
    assert inside == [threads.SMALL_PROBLEM_THREADS] * len(before)
    assert _blas_threads() == before


def test_the_experiment_runs_with_one_blas_thread(monkeypatch):
    seen = []
    original = tl.target_task

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(tl, "target_task", spy)
    tl.run_point(0, 2, 1.0)
    tl.sweep_labels([2], [0])
    assert len(seen) == 2 and all(t and set(t) == {1} for t in seen)
