"""The batch workers of ``lc-core serve``: requests arriving together share one backend call."""

from __future__ import annotations

import concurrent.futures
import queue
import threading
import time
from typing import Any

from lc_core.inference.base import Backend
from lc_core.inference.serve.protocol import RequestError
from lc_core.logging import get_logger

logger = get_logger(__name__)


class ServerBusy(RequestError):
    """The request queue is full (503); the client should retry later."""


# (kind, payload, config, future): kind "text" -> backend.generate(prompt, config) -> str; "tokens" ->
# backend.generate_tokens(ids, config) -> list[int]; "score" -> backend.score_tokens(ids, top_k=config) -> TokenScores
_Job = tuple[str, Any, Any, "concurrent.futures.Future[Any]"]


class _Batcher:
    """Gathers requests arriving together into ``backend.generate`` calls, run by ``workers`` threads.

    With more than one worker a long batch does not hold up requests that arrive while it runs. The
    worker threads are not daemons: :meth:`close` lets each finish its batch and joins it, so the
    interpreter never exits in the middle of a backend call.
    """

    def __init__(self, backend: Backend, max_batch_size: int, wait_s: float, workers: int = 2, max_queued: int = 256) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.backend = backend
        self.max_batch_size = max_batch_size
        self.wait_s = wait_s
        self.max_queued = max_queued
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._take = threading.Lock()  # one worker gathers a batch at a time
        self._closed = False
        self._threads = [
            threading.Thread(target=self._run, name=f"lc-serve-batcher-{i}", daemon=False) for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, prompt: Any, config: Any, kind: str = "text") -> concurrent.futures.Future[Any]:
        if self._closed:
            raise ServerBusy("the server is shutting down", status=503)
        if self._queue.qsize() >= self.max_queued:
            raise ServerBusy(f"the server has {self.max_queued} requests queued; retry later", status=503)
        fut: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._queue.put((kind, prompt, config, fut))
        return fut

    def _gather(self) -> list[_Job] | None:
        with self._take:
            item = self._queue.get()
            if item is None:
                return None
            batch = [item]
            deadline = time.monotonic() + self.wait_s
            while len(batch) < self.max_batch_size:
                try:
                    nxt = self._queue.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                batch.append(nxt)
            return batch

    def _run(self) -> None:
        while True:
            batch = self._gather()
            if batch is None:
                return
            groups: dict[Any, list[_Job]] = {}
            for job in batch:
                # score jobs group by top_k (one score_tokens call each)
                groups.setdefault((job[0], job[2]) if job[0] == "score" else job[0], []).append(job)
            for jobs in groups.values():
                self._execute(jobs)

    def _execute(self, jobs: list[_Job]) -> None:
        kind = jobs[0][0]
        try:
            if kind == "text":
                outs = self.backend.generate([j[1] for j in jobs], [j[2] for j in jobs])
            elif kind == "tokens":
                outs = self.backend.generate_tokens([j[1] for j in jobs], [j[2] for j in jobs])
            else:
                outs = self.backend.score_tokens([j[1] for j in jobs], top_k=jobs[0][2])
        except Exception as e:
            logger.exception("backend failed on a batch of %d %s requests", len(jobs), kind)
            for *_, fut in jobs:
                fut.set_exception(e)
            return
        for (*_, fut), out in zip(jobs, outs, strict=True):
            fut.set_result(out)

    def close(self, timeout: float | None = None) -> None:
        """Stop the workers after their current batch and join them; queued requests fail with 503."""
        self._closed = True
        pending = []
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                pending.append(item)
        for *_, fut in pending:
            fut.set_exception(ServerBusy("the server is shutting down", status=503))
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join(timeout)
            if t.is_alive():
                logger.warning("batch worker %s is still running a backend call", t.name)
