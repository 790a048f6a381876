"""server.predictor: small requests predict on their own thread with OpenMP held to one thread,
big ones on the one batch thread; errors pass through; close() stops the batch thread."""

from __future__ import annotations

import os
import threading

import pytest
from threadpoolctl import threadpool_info

from modeldesk.server.predictor import Predictor


def _openmp_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "openmp"]


@pytest.fixture
def predictor():
    import sklearn.ensemble  # noqa: F401  (loads scikit-learn's OpenMP runtime)

    p = Predictor(batch_rows=100)
    yield p
    p.close()


def test_small_requests_run_here_with_one_openmp_thread(predictor):
    model = object()
    seen = {}

    def call():
        seen["thread"] = threading.current_thread()
        seen["openmp"] = _openmp_threads()
        return "answer"

    worker_result = {}

    def request_thread():
        worker_result["value"] = predictor.call(model, 99, call)

    t = threading.Thread(target=request_thread, name="request")
    t.start()
    t.join()
    assert worker_result["value"] == "answer" and seen["thread"].name == "request"
    assert seen["openmp"] and set(seen["openmp"]) == {1}
    if (os.cpu_count() or 1) > 1:   # the limit held that request thread only, not a new one
        other = {}
        t = threading.Thread(target=lambda: other.update(openmp=_openmp_threads()))
        t.start()
        t.join()
        assert max(other["openmp"]) > 1


def test_big_requests_run_on_the_batch_thread_with_every_openmp_thread(predictor):
    seen = {}

    def call():
        seen["thread"] = threading.current_thread().name
        seen["openmp"] = _openmp_threads()
        return [1, 2]

    assert predictor.call(object(), 100, call) == [1, 2]
    assert seen["thread"].startswith("modeldesk-batch-predict")
    if (os.cpu_count() or 1) > 1:
        assert max(seen["openmp"]) > 1


def test_a_model_error_reaches_the_caller_from_either_lane(predictor):
    def boom():
        raise ValueError("bad rows")

    for rows in (1, 500):
        with pytest.raises(ValueError, match="bad rows"):
            predictor.call(object(), rows, boom)


def test_close_stops_the_batch_thread():
    p = Predictor(batch_rows=1)
    p.call(object(), 5, lambda: None)
    assert any(t.name.startswith("modeldesk-batch-predict") for t in threading.enumerate())
    p.close()
    assert not any(t.name.startswith("modeldesk-batch-predict") for t in threading.enumerate())


def test_a_big_request_after_close_still_gets_its_answer():
    p = Predictor(batch_rows=1)
    p.close()
    assert p.call(object(), 5, lambda: threading.current_thread().name) == threading.current_thread().name
