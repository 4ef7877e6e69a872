"""Batched purges: the pause between their batches, and their progress on a terminal."""

import sys
import time

from django.db import DEFAULT_DB_ALIAS, connections
from tqdm import tqdm

# SQLite keeps no queue of waiting writers: its busy handler retries a waiting login's write
# every 100 ms (after a few quicker tries), and a purge that starts its next batch at once
# takes the lock again before the login looks. Back to back, batches kept a login waiting
# 2.9 s in SQLite's rollback-journal mode; in the WAL mode this project sets, a median
# 0.13 s, against 0.05 s with this pause. A pause a little longer than the retry interval
# lets every waiting write in.
SQLITE_BATCH_PAUSE_SECONDS = 0.12


def batch_pause(*, using: str = DEFAULT_DB_ALIAS) -> float:
    """Seconds a purge waits between two batches on this database, so that logins get in.

    Other databases lock rows, not the database: there a login does not queue for a purge.
    """
    return SQLITE_BATCH_PAUSE_SECONDS if connections[using].vendor == "sqlite" else 0.0


class BatchProgress:
    """Follows a purge that reports each batch; its callbacks fit the purge services' hooks."""

    def __init__(self, *, verbosity: int, pause: float = 0.0):
        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        self.bar = tqdm(
            unit="rows", unit_scale=True, file=sys.stderr, disable=None if verbosity else True
        )
        self.started = self.last_mark = time.perf_counter()
        # The longest batch is the longest time a login may wait for the purge's lock; the
        # purge's pause before each batch but the first is no part of it.
        self.pause = pause
        self.batches = 0
        self.longest = 0.0
        self.elapsed = 0.0

    def __enter__(self) -> "BatchProgress":
        return self

    def __exit__(self, *exc_info) -> None:
        self.bar.close()
        self.elapsed = time.perf_counter() - self.started

    def start(self, total: int | None = None) -> None:
        """The purge has counted its rows; its first batch starts now.

        The count is a read, which holds no lock a login waits for: no part of any batch.
        """
        self.bar.reset(total)
        self.last_mark = time.perf_counter()

    def batch_done(self, rows: int, *_) -> None:
        mark = time.perf_counter()
        took = mark - self.last_mark - (self.pause if self.batches else 0.0)
        self.longest, self.last_mark = max(self.longest, took), mark
        self.batches += 1
        self.bar.update(rows)
