"""Real data for tests: scikit-learn's breast-cancer set (STYLE.md "Tests": real data where it exists)."""

from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def _breast_cancer():
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


def breast_cancer():
    """``(X, y)``: the 30 feature columns as a DataFrame and the 0/1 ``target`` Series.

    Loaded once per session; each call returns copies, so a test that edits
    its frame cannot change what the next test sees.
    """
    X, y = _breast_cancer()
    return X.copy(), y.copy()
