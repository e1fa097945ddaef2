"""Check many files: in one process for a few files, in a process pool for many.

Workers receive the settings once (pool initializer), check files and return results;
they never print. The parent orders the results, so output is the same for any --jobs.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from optlint.checker import check_path
from optlint.findings import FileResult
from optlint.settings import Settings

_worker_settings: Settings | None = None

#: Below this many files a pool costs more (start-up, pickling) than it saves.
MIN_FILES_FOR_POOL = 3


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def _check_in_worker(path: str) -> FileResult:
    return check_path(path, _worker_settings)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def check_files(files: list[str], settings: Settings, jobs: int | None = None) -> list[FileResult]:
    jobs = default_jobs() if jobs is None or jobs < 1 else jobs
    jobs = min(jobs, len(files))
    if jobs <= 1 or len(files) < MIN_FILES_FOR_POOL:
        return [check_path(path, settings) for path in files]
    methods = multiprocessing.get_all_start_methods()
    # fork shares the already-imported modules with workers; elsewhere fall back to the default.
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Big files first, in small chunks: a few large files parsed last would leave a core idle.
    order = sorted(range(len(files)), key=lambda i: -_size(files[i]))
    chunksize = max(1, len(files) // (jobs * 64))
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(settings,)) as pool:
        results = list(pool.map(_check_in_worker, [files[i] for i in order], chunksize=chunksize))
    ordered: list[FileResult] = [None] * len(files)  # type: ignore[list-item]
    for index, result in zip(order, results):
        ordered[index] = result
    return ordered


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
