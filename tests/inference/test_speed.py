"""`time_predict` / `compare_speed`: warm-up and timed calls (a stub model, no kernels)."""

import math
import time

import numpy as np
import pytest

from keras_binary import inference


class _CallLog:
    """Stands in for a model: each ``predict_on_batch`` call sleeps ``seconds`` and records when
    it ended."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.ends: list[float] = []

    def predict_on_batch(self, x):
        time.sleep(self.seconds)
        self.ends.append(time.perf_counter())
        return np.full((1, 2), len(self.ends), "float32")


def test_time_predict_without_warmup_seconds_makes_warmup_plus_repeats_calls():
    model = _CallLog(0.001)
    ms, y = inference.time_predict(model, None, repeats=3, warmup=2, warmup_seconds=0)
    assert len(model.ends) == 5
    assert ms >= 1.0  # each timed call sleeps 1 ms
    assert y[0, 0] == 5  # the last call's output


def test_time_predict_warms_up_for_warmup_seconds_before_the_timed_calls():
    model = _CallLog(0.005)
    inference.time_predict(model, None, repeats=4, warmup=1, warmup_seconds=0.1)
    warmup_ends = model.ends[:-4]
    assert len(warmup_ends) >= 2  # the compiling call and at least one more
    # The last warm-up call ended warmup_seconds after the first (compiling) one, and the one
    # before it had not (1 ms allowed for the time between a call's end and the loop's check).
    assert warmup_ends[-1] - warmup_ends[0] >= 0.1 - 1e-3
    assert warmup_ends[-2] - warmup_ends[0] < 0.1 + 1e-3


def test_time_predict_warmup_count_is_a_minimum():
    model = _CallLog(0.0)
    inference.time_predict(model, None, repeats=1, warmup=6, warmup_seconds=0)
    assert len(model.ends) == 7


@pytest.mark.parametrize("bad", [-0.1, math.nan, "1", True])
def test_time_predict_rejects_bad_warmup_seconds(bad):
    with pytest.raises(ValueError, match="warmup_seconds"):
        inference.time_predict(_CallLog(0.0), None, warmup_seconds=bad)


def test_time_predict_accepts_numpy_seconds():
    model = _CallLog(0.0)
    inference.time_predict(model, None, repeats=1, warmup=1, warmup_seconds=np.float32(0))
    assert len(model.ends) == 2
