"""Check many files: in one process for a few files, in a process pool for many.

Workers receive the settings once (pool initializer), check files and return results;
they never print. The parent orders the results, so output is the same for any --jobs.

A worker that dies (a segfault in a native parser, the OOM killer) breaks the whole pool.
The files it left unfinished are then re-checked each in a child of its own, so the file
that kills its child becomes one OPT000 finding and every other file is still reported.
"""

from __future__ import annotations

import os

from optlint.static.linter import check_path
from optlint.findings import FileResult
from optlint.settings import Settings
from optlint.static.source import SourceError, error_finding

_worker_settings: list[Settings] = []

#: What a worker calls per file. Tests replace it (before the pool forks) to make a worker die.
check_one = check_path

#: Below this many files a pool costs more (start-up, pickling) than it saves.
MIN_FILES_FOR_POOL = 3


def _init_worker(settings: list[Settings]) -> None:
    global _worker_settings
    _worker_settings = settings


def _check_in_worker(paths: list[tuple[str, int]]) -> list[FileResult]:
    return [check_one(path, _worker_settings[index]) for path, index in paths]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


#: Below this many bytes in all, one process finishes before a pool has started working
#: (measured on training-code trees: pytorch/examples and Lightning src/ ran faster in one).
MIN_BYTES_FOR_POOL = 6 * 1024 * 1024


def check_files(files: list[str], settings, jobs: int | None = None, cache=None) -> list[FileResult]:
    """Check `files` with at most `jobs` processes: a small run stays in this one.

    `settings` is one Settings for every file, or a function giving each file's (a monorepo
    has one config per project); each distinct Settings reaches a worker once. With `cache`
    (optlint.cache.ResultCache), files whose cached result still holds are not checked."""
    settings_for = settings if callable(settings) else (lambda path, one=settings: one)
    if cache is None:
        return _check_files(files, settings_for, jobs)
    hits, misses = cache.lookup(files, settings_for)
    checked = _check_files(misses, settings_for, jobs) if misses else []
    cache.store(checked, settings_for)
    cache.save()
    hits.update(zip(misses, checked))
    return [hits[path] for path in files]


def _check_files(files: list[str], settings_for, jobs: int | None) -> list[FileResult]:
    table: list[Settings] = []
    index: dict[int, int] = {}
    of: dict[str, int] = {}
    for path in files:
        chosen = settings_for(path)
        if id(chosen) not in index:
            index[id(chosen)] = len(table)
            table.append(chosen)
        of[path] = index[id(chosen)]
    jobs = default_jobs() if jobs is None or jobs < 1 else jobs
    jobs = min(jobs, len(files))
    if jobs <= 1 or len(files) < MIN_FILES_FOR_POOL or sum(map(_size, files)) < MIN_BYTES_FOR_POOL:
        return [check_path(path, table[of[path]]) for path in files]
    # Warm what every worker needs before they fork from this process: the analysis modules
    # (imported lazily) and the compiled pre-filter, so no worker pays for them again.
    import optlint.static.context  # noqa: F401
    import optlint.static.model.optimizers  # noqa: F401
    import optlint.static.fix.split_groups  # noqa: F401

    for each in table:
        each.static_rules, each._tests  # noqa: B018 (cached on first access)
    # The process machinery costs ~20 ms to import: only a run that uses a pool pays for it.
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    context = _context()
    # Big files first, in small chunks: a few large files parsed last would leave a core idle.
    order = sorted(files, key=lambda path: -_size(path))
    chunksize = max(1, len(files) // (jobs * 64))
    chunks = [[(p, of[p]) for p in order[i : i + chunksize]] for i in range(0, len(order), chunksize)]
    done: dict[str, FileResult] = {}
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker, initargs=(table,))
    try:
        futures = [pool.submit(_check_in_worker, chunk) for chunk in chunks]
        for chunk, future in zip(chunks, futures):
            try:
                done.update(zip((p for p, _ in chunk), future.result()))
            except BrokenProcessPool:
                break  # every unfinished chunk fails the same way: re-check them one by one
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    unfinished = [path for path in order if path not in done]
    if unfinished:
        done.update(_check_isolated(unfinished, lambda path: table[of[path]], jobs, context))
    return [done[path] for path in files]


def _context():
    # fork shares the already-imported modules with workers; elsewhere fall back to the default.
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _isolated_child(path: str, settings: Settings, writer) -> None:
    import pickle

    writer.send_bytes(pickle.dumps(check_one(path, settings)))
    writer.close()


def _check_isolated(paths: list[str], settings_for, jobs: int, context) -> dict[str, FileResult]:
    """Each file in a child of its own, `jobs` at a time; a child that dies costs its file only."""
    import pickle
    from multiprocessing.connection import wait

    out: dict[str, FileResult] = {}
    queue = list(reversed(paths))
    running: dict = {}  # reader -> (path, process)
    while queue or running:
        while queue and len(running) < jobs:
            path = queue.pop()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_isolated_child, args=(path, settings_for(path), writer), daemon=True)
            process.start()
            writer.close()  # the child holds the only writer: its death means EOF here
            running[reader] = (path, process)
        for reader in wait(list(running)):
            path, process = running.pop(reader)
            try:
                out[path] = pickle.loads(reader.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                process.join()
                out[path] = _crashed(path, process.exitcode)
            finally:
                reader.close()
                process.join()
    return out


def _crashed(path: str, exitcode: int | None) -> FileResult:
    import signal

    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit status {exitcode}"
    message = f"internal error: the process checking this file died ({how}); please report it"
    return error_finding(FileResult(path), SourceError(message))


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0
