"""Overlapping stages joined by bounded queues: producer thread(s), caller, consumer thread.

The caller iterates what a producer thread makes (which may itself read a
:func:`prefetch` thread) and sends its results to a consumer thread; recycled buffers go
round in :class:`Pool`\\ s. An error in any stage cancels the
others (every blocking wait watches one shared event) and is raised in the caller once
both threads have stopped, so nothing touches the sink after the caller gives up.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_END = object()
_POLL_S = 0.1


class Cancelled(Exception):
    """Raised in a stage's thread when another stage has failed."""


def _get(source: queue.Queue, cancel: threading.Event) -> Any:
    while True:
        try:
            return source.get(timeout=_POLL_S)
        except queue.Empty:
            if cancel.is_set():
                raise Cancelled from None


def _put(target: queue.Queue, item: Any, cancel: threading.Event) -> None:
    while True:
        try:
            return target.put(item, timeout=_POLL_S)
        except queue.Full:
            if cancel.is_set():
                raise Cancelled from None


class Pool(Generic[T]):
    """Reusable buffers handed between stages; :meth:`take` waits for a free one."""

    def __init__(self, items: Iterable[T], cancel: threading.Event) -> None:
        self._free: queue.Queue = queue.Queue()
        self._cancel = cancel
        for item in items:
            self._free.put(item)

    def take(self) -> T:
        return _get(self._free, self._cancel)

    def give(self, item: T) -> None:
        self._free.put(item)


def prefetch(items: Iterable[T], cancel: threading.Event, depth: int = 2) -> Generator[T, None, None]:
    """``items``, made in a thread of their own up to ``depth`` ahead (a stage before a stage).

    An error there is raised here, after its thread has stopped, also where this generator
    is closed meanwhile (the reader's stage was cancelled by that very error). Closing this
    generator early (or an error while reading it) sets ``cancel`` and waits for the thread,
    so nothing still reads the source once the reader has given up.
    """
    made: queue.Queue = queue.Queue(depth)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for item in items:
                _put(made, item, cancel)
            _put(made, _END, cancel)
        except Cancelled:
            pass
        except BaseException as err:  # noqa: BLE001 - re-raised in the reader
            errors.append(err)
            cancel.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    finished = False
    try:
        while (item := _get(made, cancel)) is not _END:
            yield item
        finished = True
    finally:
        if not finished:  # the reader failed or was closed early: its thread must stop too
            cancel.set()
        thread.join()
        if errors:  # the cause of it all, whatever stopped the reader
            raise errors[0] from None


class Stages:
    """Run ``produce`` and ``consume`` in threads around the caller's loop.

    Use as a context manager; iterate it for the produced items and :meth:`send` each
    result to ``consume``, in order. Leaving the block normally waits until every sent
    item is consumed; leaving it by an exception cancels both threads.

    Args:
        produce: makes the iterator of items (called in the producer thread).
        consume: takes each sent item (called in the consumer thread).
        cancel: the event shared with the stages' :class:`Pool`\\ s.
        depth: items that may wait between two stages.
    """

    def __init__(self, produce: Callable[[], Iterable[Any]], consume: Callable[[Any], None],
                 cancel: threading.Event, depth: int = 2) -> None:
        self._produce, self._consume, self._cancel = produce, consume, cancel
        self._made: queue.Queue = queue.Queue(depth)
        self._sent: queue.Queue = queue.Queue(depth)
        self._errors: list[BaseException] = []
        self._threads = [threading.Thread(target=self._guard, args=(self._producer,), daemon=True),
                         threading.Thread(target=self._guard, args=(self._consumer,), daemon=True)]

    def _guard(self, stage: Callable[[], None]) -> None:
        try:
            stage()
        except Cancelled:
            pass
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller
            self._errors.append(err)
            self._cancel.set()

    def _producer(self) -> None:
        items = self._produce()
        try:
            for item in items:
                _put(self._made, item, self._cancel)
            _put(self._made, _END, self._cancel)
        finally:  # closing it stops (and joins) any prefetch thread chained inside
            if isinstance(items, Generator):
                items.close()

    def _consumer(self) -> None:
        while (item := _get(self._sent, self._cancel)) is not _END:
            self._consume(item)

    def __enter__(self) -> "Stages":
        for thread in self._threads:
            thread.start()
        return self

    def __iter__(self) -> Iterator[Any]:
        try:
            while (item := _get(self._made, self._cancel)) is not _END:
                yield item
        except Cancelled:
            self._raise()

    def send(self, item: Any) -> None:
        try:
            _put(self._sent, item, self._cancel)
        except Cancelled:
            self._raise()

    def _raise(self) -> None:
        for thread in self._threads:
            thread.join()
        raise self._errors[0]

    def __exit__(self, kind: type | None, error: BaseException | None, trace: object) -> None:
        if kind is None:
            self.send(_END)
        else:
            self._cancel.set()
        for thread in self._threads:
            thread.join()
        if kind is None and self._errors:
            raise self._errors[0]
