"""How many threads a model's own compiled code may use, per calling thread.

scikit-learn's compiled estimators (HistGradientBoosting, k-neighbours, ...)
run OpenMP loops, and OpenMP (libgomp) keeps one team of worker threads per
*calling* thread. A server whose request threads each call ``predict`` ends up
with a team per request thread on a machine of 2 cores, and every team slows
the others: on this machine a 1,000-row HistGradientBoosting predict takes
3.1 ms while one thread has a team, 7.4 ms once a second thread has its own
(docs/serving.md "Big requests"). So the server predicts small requests on the
request's thread with OpenMP held to one thread (no team is made), and big
ones on a single batch thread that keeps the one team (server/predictor.py).

Limits go through threadpoolctl (a scikit-learn dependency). An OpenMP limit
set this way holds for the calling thread only, which is what is wanted here.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_local = threading.local()


def hold_to_one_thread(model) -> None:
    """From now on, OpenMP loops started on this thread use one thread (set once per thread and model).

    Per model, because a newly served model may bring an OpenMP library of its
    own (XGBoost, LightGBM) that the earlier limit did not reach.
    """
    if getattr(_local, "model_id", None) == id(model):
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="openmp")
    _local.model_id = id(model)


@contextmanager
def one_thread():
    """OpenMP held to one thread on this thread inside the block (a model's check on its example)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield
