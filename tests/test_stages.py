"""The three-stage frame loop's plumbing: order, back-pressure and error propagation."""

import threading
import time
from contextlib import closing

import pytest

from sanet_video.video._stages import Pool, Stages, prefetch


def run_stages(produce, work, consume, depth=2):
    cancel = threading.Event()
    with Stages(produce, consume, cancel, depth) as stages:
        for item in stages:
            stages.send(work(item))
    return cancel


def test_items_arrive_in_order_through_all_three_stages():
    got = []
    run_stages(lambda: range(50), lambda x: x * 10, got.append)
    assert got == [x * 10 for x in range(50)]


def test_producer_error_reaches_the_caller_after_earlier_items_are_consumed():
    got = []

    def produce():
        yield 1
        yield 2
        raise ValueError("bad frame")

    with pytest.raises(ValueError, match="bad frame"):
        run_stages(produce, lambda x: x, got.append)
    assert got in ([], [1], [1, 2])  # cancelled: what was already sent may or may not be written


def test_consumer_error_stops_the_producer_and_reaches_the_caller():
    produced = []

    def produce():
        for i in range(10_000):
            produced.append(i)
            yield i

    def consume(x):
        if x == 3:
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        run_stages(produce, lambda x: x, consume)
    assert len(produced) < 100  # bounded queues: the producer did not run ahead


def test_caller_error_cancels_both_threads_and_nothing_is_consumed_after():
    got = []
    before = threading.active_count()
    cancel = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        with Stages(lambda: iter(range(1000)), got.append, cancel) as stages:
            for item in stages:
                if item == 5:
                    raise KeyboardInterrupt
                stages.send(item)
    count = len(got)
    time.sleep(0.3)
    assert len(got) == count <= 5
    assert threading.active_count() == before


def test_pool_take_waits_for_a_returned_item_and_honours_cancel():
    cancel = threading.Event()
    pool = Pool(["a"], cancel)
    assert pool.take() == "a"
    threading.Timer(0.2, pool.give, args=("b",)).start()
    assert pool.take() == "b"
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(Exception) as info:
        pool.take()
    assert type(info.value).__name__ == "Cancelled"


def test_prefetch_yields_everything_in_order_and_raises_its_thread_error():
    cancel = threading.Event()
    assert list(prefetch(iter(range(20)), cancel)) == list(range(20))

    def failing():
        yield 1
        raise ValueError("corrupt packet")

    got = []
    with pytest.raises(ValueError, match="corrupt packet"):
        for item in prefetch(failing(), threading.Event()):
            got.append(item)
    assert got == [1]


def test_an_error_two_stages_upstream_reaches_the_caller():
    def decode():
        yield from range(3)
        raise OSError("read error")

    cancel = threading.Event()
    with pytest.raises(OSError, match="read error"):
        with Stages(lambda: (x * 2 for x in prefetch(decode(), cancel)), lambda x: None, cancel) as stages:
            for item in stages:
                stages.send(item)


def test_caller_error_stops_a_chained_prefetch_thread_before_returning():
    """The source is closed right after the stages exit: no thread may still be decoding from it."""
    reading = threading.Event()
    closed_source = []

    def decode():
        for frame in range(1000):
            reading.set()
            time.sleep(0.05)  # a decode call that does not watch the cancel event
            assert not closed_source, "decoded from a closed source"
            yield frame

    before = threading.active_count()
    cancel = threading.Event()
    with pytest.raises(KeyboardInterrupt):
        with Stages(lambda: (x for x in prefetch(decode(), cancel)), lambda x: None, cancel) as stages:
            for item in stages:
                if item == 3:
                    raise KeyboardInterrupt
                stages.send(item)
    closed_source.append(True)
    assert threading.active_count() == before


def test_an_upstream_error_while_the_producer_waits_on_a_full_queue_reaches_the_caller():
    """Issue 21, 3: the decoder fails while the producer is blocked handing an item to a slow caller;
    the producer is cancelled, and the decoder's error must still reach the caller (not an IndexError)."""
    def decode():
        yield from range(6)
        raise OSError("corrupt packet")

    cancel = threading.Event()

    def produce():
        with closing(prefetch(decode(), cancel)) as items:
            yield from items

    with pytest.raises(OSError, match="corrupt packet"):
        with Stages(produce, lambda x: None, cancel, depth=1) as stages:
            for item in stages:
                time.sleep(0.15)  # the producer waits on a full queue when the decoder fails
                stages.send(item)
