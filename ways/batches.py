"""Batched purges: batches sized by time, the pause between them, their progress on a terminal.

A purge deletes in batches, each its own short transaction, so that logins go on while it
runs: a login that needs a lock the purge holds waits for one batch at most. Batches are
sized by time, not by count: each takes about BATCH_SECONDS, on any database and machine.
Fewer, larger batches are cheaper (each batch rewrites the index pages it touches, and a
random session key scatters its entries over the whole primary-key index), so the purge
makes them as large as the time budget allows.
"""

import sys
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Max, Min, QuerySet
from tqdm import tqdm

# How long one batch may hold its locks: the longest a login should wait for a purge.
BATCH_SECONDS = 0.25
# The first batch, before the purge has timed any.
FIRST_BATCH_ROWS = 10_000
# A batch at most this many times the last: its time is a guess from the last one's rate.
MOST_GROWTH = 2
# SQLite keeps no queue of waiting writers: a waiting login's busy handler sleeps and
# retries (SQLite sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, then 100 ms between
# tries), and a purge that starts its next batch at once takes the lock again before the
# login looks. A login that has waited less than one batch retries at least every 50 ms:
# a pause a little longer lets every waiting write in.
SQLITE_BATCH_PAUSE_SECONDS = 0.06


class BatchSizer:
    """How many rows the next batch takes, from the rate the batches so far deleted at.

    A fixed `rows` gives batches of that size, whatever they take.
    """

    def __init__(self, *, seconds: float = BATCH_SECONDS, rows: int | None = None):
        self.seconds = seconds
        self.fixed = rows is not None
        self.size = rows if rows is not None else FIRST_BATCH_ROWS
        if self.size < 1:
            raise ValueError(f"a batch takes at least one row, not {self.size}")

    def took(self, *, rows: int, seconds: float) -> None:
        """A batch of `rows` took `seconds`: size the next one to take self.seconds."""
        if self.fixed or rows < self.size or seconds <= 0:
            return  # the last, short batch says nothing of the rate
        fitting = int(rows / seconds * self.seconds)
        self.size = max(1, min(fitting, self.size * MOST_GROWTH))


def batch_pause(*, using: str = DEFAULT_DB_ALIAS) -> float:
    """Seconds a purge waits between two batches on this database, so that logins get in.

    Other databases lock rows, not the database: there a login does not queue for a purge.
    """
    return SQLITE_BATCH_PAUSE_SECONDS if connections[using].vendor == "sqlite" else 0.0


def dated_rows_delete(
    *,
    rows: QuerySet,
    date_field: str,
    batch_size: int | None = None,
    batch_seconds: float = BATCH_SECONDS,
    pause: float | None = None,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Delete rows oldest first by an indexed date, a batch per statement; returns how many.

    For rows that nothing references and no delete signal watches, so that Django deletes a
    batch in one DELETE without loading it. Batches take about `batch_seconds` each, or
    `batch_size` rows each when given. Between batches it waits `pause` seconds (by default
    batch_pause(): SQLite's writers need it). `on_start`, when given, hears how many rows are
    to go (a count it costs), `on_batch` each batch's count.
    """
    if pause is None:
        pause = batch_pause(using=rows.db)
    if on_start:
        on_start(rows.count())
    sizer = BatchSizer(seconds=batch_seconds, rows=batch_size)
    deleted = 0
    remaining = rows
    while True:
        started = time.perf_counter()
        # The dates that open and close the next batch, off the date's index.
        batch = remaining.order_by(date_field)[: sizer.size]
        bounds = batch.aggregate(first=Min(date_field), last=Max(date_field))
        if bounds["last"] is None:
            return deleted
        # The next batch starts past this one: PostgreSQL leaves the index entries of the
        # rows it deleted until a vacuum, and a search from the oldest date would walk them
        # all again, each batch more of them.
        remaining = rows.filter(**{f"{date_field}__gt": bounds["last"]})
        # Both bounds, though the first is the oldest: with stale statistics PostgreSQL takes
        # a one-sided range for much of the table and scans it all, every batch.
        count, _ = rows.filter(
            **{f"{date_field}__gte": bounds["first"], f"{date_field}__lte": bounds["last"]}
        ).delete()
        deleted += count
        if on_batch:
            on_batch(count)
        full = count >= sizer.size  # more may follow
        sizer.took(rows=count, seconds=time.perf_counter() - started)
        if full:
            time.sleep(pause)


class BatchProgress:
    """Follows a purge that reports each batch; its callbacks fit the purge services' hooks."""

    def __init__(self, *, verbosity: int, pause: float = 0.0):
        # disable=None: a bar on a terminal, nothing in a log or a pipe.
        self.bar = tqdm(
            unit="rows", unit_scale=True, file=sys.stderr, disable=None if verbosity else True
        )
        # Counting the rows first is only worth its scan to a bar that shows the total.
        self.wants_total = not self.bar.disable
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


class PurgeCommand(BaseCommand):
    """A purge for cron: batches sized by time (or a fixed size), progress on a terminal.

    A subclass says what it deletes in `purge`, which takes the batching keywords of the
    purge services and returns the sentence that reports what it deleted.
    """

    # A cron job has nothing for the system checks to find: the server ran them when it
    # started, and on a small table they would be most of the purge's run time.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-seconds",
            type=float,
            default=BATCH_SECONDS,
            help="how long one batch may take, in seconds: the longest a login waits",
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="a fixed number of rows per batch instead"
        )

    def handle(self, *args, batch_size, batch_seconds, verbosity, **options):
        if batch_size is not None and batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, not {batch_size}.")
        if not batch_seconds > 0:
            raise CommandError(f"--batch-seconds must be more than 0, not {batch_seconds}.")
        pause = batch_pause()
        with BatchProgress(verbosity=verbosity, pause=pause) as progress:
            report = self.purge(
                batch_size=batch_size,
                batch_seconds=batch_seconds,
                pause=pause,
                on_start=progress.start if progress.wants_total else None,
                on_batch=progress.batch_done,
            )
        if verbosity:
            self.stdout.write(
                f"Deleted {report} in {progress.elapsed:.2f} s "
                f"(longest batch {progress.longest:.3f} s)."
            )

    def purge(self, **batching) -> str:
        raise NotImplementedError
