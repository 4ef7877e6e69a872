"""Progress of a batched purge: a bar on a terminal, and the longest batch it took."""

import sys
import time

from tqdm import tqdm


class BatchProgress:
    """Follows a purge that reports each batch; its callbacks fit the purge services' hooks."""

    def __init__(self, *, verbosity: int):
        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        self.bar = tqdm(
            unit="rows", unit_scale=True, file=sys.stderr, disable=None if verbosity else True
        )
        self.started = self.last_mark = time.perf_counter()
        # The longest batch is the longest time a login may wait for the purge's lock.
        self.longest = 0.0
        self.elapsed = 0.0

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.close()
        self.elapsed = time.perf_counter() - self.started

    def start(self, total: int | None = None) -> None:
        self.bar.reset(total)

    def batch_done(self, rows: int, *_) -> None:
        mark = time.perf_counter()
        self.longest, self.last_mark = max(self.longest, mark - self.last_mark), mark
        self.bar.update(rows)
