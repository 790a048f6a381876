"""Where a request's model call runs: on its own thread, or on the one batch thread.

Small requests (fewer than :data:`BATCH_ROWS` rows) predict on the request
thread with OpenMP held to one thread; big ones are handed to a single batch
thread whose OpenMP team uses every core. One team in the process keeps
compiled models (gradient boosting, k-neighbours) as fast as in a notebook;
a team per request thread made a 1,000-row predict 2-3x slower
(core/serving/model_threads.py). Big requests wait for each other on the batch
thread, which is what their OpenMP loops would do anyway on a shared machine;
small ones never wait behind a big one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from ..core.serving.model_threads import hold_to_one_thread

BATCH_ROWS = 256
T = TypeVar("T")


class Predictor:
    """Runs model calls in the lane their size calls for; ``close()`` stops the batch thread."""

    def __init__(self, batch_rows: int = BATCH_ROWS):
        self.batch_rows = batch_rows
        self._batch = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modeldesk-batch-predict")

    def call(self, model, n_rows: int, fn: Callable[[], T]) -> T:
        """``fn()``, which calls ``model``, for a request of ``n_rows`` rows; its exceptions pass through."""
        if n_rows >= self.batch_rows:
            try:
                future = self._batch.submit(fn)
            except RuntimeError:   # closed: a request that outlived the server's stop runs here instead
                pass
            else:
                return future.result()
        hold_to_one_thread(model)
        return fn()

    def close(self) -> None:
        self._batch.shutdown(wait=True)
