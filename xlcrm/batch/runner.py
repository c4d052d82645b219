"""Spread a batch's files over an executor and collect an outcome for every one of them.

One code path over ``concurrent.futures``: a spawn process pool by default, the executor of
an existing Dask cluster when given its address, or this process (``--jobs 0``, for a small
batch or a debugger). At most as many files are in flight as there are workers, so each
one's time is measured from its start and only those in flight can be blamed when a worker
dies:

- A worker that dies (a crash the pre-flight check did not prevent) breaks a process pool:
  the files that were in flight are run again one at a time in a fresh pool, and the one
  that breaks it alone is marked unusable with that reason. On Dask the scheduler reports
  the lost task (``KilledWorker``) and the same happens to that file.
- A worker stops itself when a file takes longer than ``timeout`` (a watchdog in the worker
  process ends the process: Python cannot stop a thread stuck in a parser); the client marks
  that file unusable and runs the others again. Should the watchdog not fire, the client
  gives up on the file ``GRACE`` seconds later all the same.
- Ctrl-C kills the workers and is raised to the caller, which has written nothing yet.

A process pool's workers keep their temporary files (the copy of a sheet being read) in one
private folder of the run, removed when the run ends: a worker killed in the middle of a file
(its timeout, a crash, the pool killed for another's) leaves nothing behind in the system's
temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from xlcrm.batch.discover import UNUSABLE, Reason
from xlcrm.batch.worker import Outcome, Task, check_file
from xlcrm.errors import InputError
from xlcrm.interrupts import held
from xlcrm.phrase import Phrase

Work = Callable[[Task], Outcome]
GRACE = 10.0  # seconds past the timeout before the client stops waiting for a worker
EXIT_TIMEOUT = 124  # the exit status of a worker its watchdog ended


def guarded(work: Work, task: Task, timeout: float | None) -> Outcome:
    """Run ``work`` in a worker process whose watchdog ends it after ``timeout`` seconds."""
    timer = None
    if timeout:
        timer = threading.Timer(timeout, os._exit, (EXIT_TIMEOUT,))
        timer.daemon = True
        timer.start()
    try:
        return work(task)
    finally:
        if timer is not None:
            timer.cancel()


class InlineExecutor(Executor):
    """Runs each call at once in the calling process (no isolation, no timeout)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` now; the returned future is already done."""
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class Backend:
    """Where the work runs: this process."""

    isolated = False  # workers are other processes (their watchdog may end them)
    breaks = False  # a dead worker breaks the whole executor (a process pool)

    def start(self) -> Executor:
        """A fresh executor."""
        return InlineExecutor()

    def capacity(self) -> int:
        """How many files to keep in flight."""
        return 1

    def stop(self, executor: Executor, *, kill: bool) -> None:
        """Shut ``executor`` down; with ``kill``, end its workers now."""
        executor.shutdown(wait=not kill, cancel_futures=True)

    def close(self) -> None:
        """Release what the backend holds."""

    def describe(self) -> str:
        """For the manifest's record of the run."""
        return "inline"


class ProcessBackend(Backend):
    """A spawn process pool of ``jobs`` workers, each with cores // jobs polars threads."""

    isolated = True
    breaks = True

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.threads = max(1, (os.cpu_count() or 1) // jobs)
        self._saved: str | None = None
        self._scratch: str | None = None  # the workers' temporary folder, while the pool exists

    def start(self) -> Executor:
        """A new pool; its processes inherit POLARS_MAX_THREADS (set while the pool exists)."""
        import polars as pl

        pl.thread_pool_size()  # this process's pool is sized before the variable changes
        if self._saved is None:
            self._saved = os.environ.get("POLARS_MAX_THREADS", "")
        os.environ["POLARS_MAX_THREADS"] = str(self.threads)
        if self._scratch is None:
            # made and remembered together (a signal in between would leave it); without a
            # temporary folder the workers use the system's
            with held(), contextlib.suppress(OSError):
                self._scratch = tempfile.mkdtemp(prefix="xlcrm-workers-")
        return ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=get_context("spawn"),
            initializer=_worker_setup,
            initargs=(self._scratch,),
        )

    def capacity(self) -> int:
        """One file per worker."""
        return self.jobs

    def stop(self, executor: Executor, *, kill: bool) -> None:
        """Shut the pool down, first killing its processes if asked."""
        if kill:
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()  # a worker stuck in a parser never reads a shutdown message
        executor.shutdown(wait=not kill, cancel_futures=True)

    def close(self) -> None:
        """Restore POLARS_MAX_THREADS; remove the workers' temporary folder, whatever they left in it."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        if self._saved is not None:
            if self._saved:
                os.environ["POLARS_MAX_THREADS"] = self._saved
            else:
                os.environ.pop("POLARS_MAX_THREADS", None)
            self._saved = None

    def describe(self) -> str:
        """``process pool: 2 × 1 thread``."""
        return f"process pool: {self.jobs} × {self.threads} polars thread(s)"


def _worker_setup(scratch: str | None) -> None:
    """In a pool's worker: temporary files in the run's folder, and a quick exit.

    The worker leaves without tearing the interpreter down once the pool shuts down: it has
    nothing left to write then (each file's temporaries are gone when its check ends), and the
    teardown of its polars, pandera and frames is what the client otherwise waits for at the
    end of every month (~0.15 s of the serial part).
    """
    if scratch is not None:
        tempfile.tempdir = scratch
    atexit.register(os._exit, 0)


class DaskBackend(Backend):
    """An existing Dask cluster, through ``distributed.Client(address).get_executor()``."""

    isolated = True

    def __init__(self, address: str, client: Any = None) -> None:
        self.address = address
        self.owns_client = client is None
        try:
            if client is None:
                import distributed

                client = distributed.Client(address, timeout=30, set_as_default=False)  # type: ignore[no-untyped-call]
            versions = client.run(worker_version)
        except ImportError:
            raise InputError(
                "scheduler",
                address,
                detail=Phrase("需要 pip install 'xlcrm[cluster]'", "needs pip install 'xlcrm[cluster]'"),
            ) from None
        except Exception as exc:  # connection refused, timeouts, workers without xlcrm
            raise InputError("scheduler", address, detail=f"{type(exc).__name__}: {exc}"[:200]) from None
        mine = worker_version()
        wrong = sorted(w for w, v in versions.items() if v != mine)
        if wrong:
            raise InputError("scheduler", address, detail=f"xlcrm {mine} ≠ workers {', '.join(wrong)}")
        self.client = client

    def start(self) -> Executor:
        """The cluster's executor (tasks never cached: a file may be run again)."""
        return self.client.get_executor(pure=False)  # type: ignore[no-any-return]

    def capacity(self) -> int:
        """One file per worker thread."""
        return max(1, int(sum(self.client.nthreads().values())))

    def stop(self, executor: Executor, *, kill: bool) -> None:
        """Cancel what is left; a running task ends with its worker's watchdog."""
        executor.shutdown(wait=False)

    def close(self) -> None:
        """Close the client this backend opened."""
        if self.owns_client:
            self.client.close()

    def describe(self) -> str:
        """``dask: tcp://…``."""
        return f"dask: {self.address}"


def worker_version() -> str:
    """The version of xlcrm where this runs (a Dask worker), with the format of what its workers return."""
    from xlcrm import __version__
    from xlcrm.batch.worker import WIRE

    return f"{__version__}/{WIRE}"


@dataclass(slots=True)
class _Flight:
    task: Task
    started: float
    alone: bool


def run(
    tasks: Sequence[Task],
    backend: Backend,
    *,
    timeout: float | None,
    work: Work = check_file,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """An outcome for every task, in the tasks' order, whatever happens to the workers."""
    with _running(backend) as state:
        state.timeout = timeout if backend.isolated else None
        state.work, state.on_done = work, on_done
        state.queue.extend(tasks)
        state.loop()
    return [state.results[t.position] for t in tasks]


@contextmanager
def _running(backend: Backend) -> Iterator[_Run]:
    state = _Run(backend)
    try:
        yield state
    except BaseException:
        backend.stop(state.executor, kill=True)
        raise
    else:
        backend.stop(state.executor, kill=False)
    finally:
        backend.close()


class _Run:
    """The state of one batch run: the queue, the files in flight, the outcomes."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.executor = backend.start()
        self.timeout: float | None = None
        self.work: Work = check_file
        self.on_done: Callable[[Outcome], None] | None = None
        self.queue: deque[Task] = deque()
        self.suspects: deque[Task] = deque()  # in flight when a pool broke: run alone next
        self.flights: dict[Future[Outcome], _Flight] = {}
        self.results: dict[int, Outcome] = {}

    def loop(self) -> None:
        while self.queue or self.suspects or self.flights:
            self._fill()
            done, _ = wait(list(self.flights), timeout=self._until_deadline(), return_when=FIRST_COMPLETED)
            broken: list[_Flight] = []
            for future in done:
                self._collect(future, broken)
            if broken:
                self._recover(broken)
            self._give_up_overdue()

    def _fill(self) -> None:
        if self.suspects:
            if not self.flights:
                self._submit(self.suspects.popleft(), alone=True)
            return
        while self.queue and len(self.flights) < self.backend.capacity():
            self._submit(self.queue.popleft(), alone=False)

    def _submit(self, task: Task, *, alone: bool) -> None:
        future = self.executor.submit(guarded, self.work, task, self.timeout)
        self.flights[future] = _Flight(task, time.monotonic(), alone)

    def _until_deadline(self) -> float | None:
        if self.timeout is None or not self.flights:
            return None
        first = min(f.started for f in self.flights.values())
        return max(0.05, first + self.timeout + GRACE - time.monotonic())

    def _collect(self, future: Future[Outcome], broken: list[_Flight]) -> None:
        flight = self.flights.pop(future)
        try:
            self._finish(future.result())
        except BrokenProcessPool:
            broken.append(flight)
        except Exception as exc:  # Dask: the worker died with the task (KilledWorker) and so on
            overdue = self.timeout is not None and time.monotonic() - flight.started >= self.timeout
            self._finish(
                _timed_out(flight.task, self.timeout) if overdue and self.timeout else _lost(flight.task, exc)
            )

    def _recover(self, broken: list[_Flight]) -> None:
        """A pool broke: collect every file it held, blame the right one, start a new pool."""
        leftover, _ = wait(list(self.flights), timeout=GRACE)
        for future in leftover:
            self._collect(future, broken)
        for flight in self.flights.values():  # never answered: treat as broken too
            broken.append(flight)
        self.flights.clear()
        now = time.monotonic()
        slowest = max(broken, key=lambda f: now - f.started)
        if self.timeout is not None and now - slowest.started >= self.timeout:
            self._finish(_timed_out(slowest.task, self.timeout))  # its watchdog ended the worker
            self.queue.extendleft(reversed([f.task for f in broken if f is not slowest]))
        elif len(broken) == 1:  # it was alone in that pool
            self._finish(_lost(slowest.task, BrokenProcessPool("the worker process died")))
        else:
            self.suspects.extend(f.task for f in broken)
        self.backend.stop(self.executor, kill=True)
        self.executor = self.backend.start()

    def _give_up_overdue(self) -> None:
        """Files past timeout + GRACE whose worker did not stop itself."""
        if self.timeout is None:
            return
        now = time.monotonic()
        overdue = [(fu, fl) for fu, fl in self.flights.items() if now - fl.started > self.timeout + GRACE]
        if not overdue:
            return
        for future, flight in overdue:
            del self.flights[future]
            future.cancel()
            self._finish(_timed_out(flight.task, self.timeout))
        if self.backend.breaks:  # the pool's worker is stuck: replace the pool, rerun the rest
            self.queue.extendleft(reversed([f.task for f in self.flights.values()]))
            self.flights.clear()
            self.backend.stop(self.executor, kill=True)
            self.executor = self.backend.start()

    def _finish(self, outcome: Outcome) -> None:
        if outcome.position in self.results:
            return
        self.results[outcome.position] = outcome
        if self.on_done is not None:
            self.on_done(outcome)


def _lost(task: Task, exc: BaseException) -> Outcome:
    detail = f"{type(exc).__name__}: {exc}".strip().rstrip(":")[:200]
    return Outcome(
        task.position, task.file, UNUSABLE, Reason("worker_lost", task.file, (("detail", detail),))
    )


def _timed_out(task: Task, timeout: float) -> Outcome:
    seconds = int(timeout) if float(timeout).is_integer() else timeout
    return Outcome(task.position, task.file, UNUSABLE, Reason("timeout", task.file, (("seconds", seconds),)))
