"""The swap gate: calls run side by side; a swap waits for them and holds back new ones."""

from __future__ import annotations

import threading
import time

import pytest

from ragsilo.errors import InputError
from ragsilo.store.gate import SwapGate


def test_calls_run_side_by_side() -> None:
    gate = SwapGate()
    inside = threading.Barrier(2, timeout=5)

    def call() -> None:
        with gate.call():
            inside.wait()  # both calls are in the gate at once, or this times out

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not inside.broken


def test_a_swap_waits_for_calls_under_way_and_holds_back_new_ones() -> None:
    gate = SwapGate()
    events: list[str] = []
    call_started = threading.Event()
    swap_started = threading.Event()
    release_call = threading.Event()

    def slow_call() -> None:
        with gate.call():
            call_started.set()
            release_call.wait(5)
            events.append("first call ends")

    def swap() -> None:
        with gate.exclusive():
            swap_started.set()
            events.append("swap")
            time.sleep(0.1)
            events.append("swap ends")

    def later_call() -> None:
        with gate.call():
            events.append("later call")

    first = threading.Thread(target=slow_call)
    first.start()
    call_started.wait(5)
    swapper = threading.Thread(target=swap)
    swapper.start()
    time.sleep(0.1)
    assert not swap_started.is_set()  # the call under way holds the swap back
    release_call.set()
    swap_started.wait(5)
    later = threading.Thread(target=later_call)
    later.start()
    for t in (first, swapper, later):
        t.join(5)
    assert events == ["first call ends", "swap", "swap ends", "later call"]


def test_the_swapping_thread_calls_through_its_own_swap() -> None:
    gate = SwapGate()
    done = []
    with gate.exclusive(), gate.call():
        done.append(1)
    with gate.call():  # and the gate is open again afterwards
        done.append(2)
    assert done == [1, 2]


def test_a_call_inside_a_call_passes_while_a_swap_waits() -> None:
    gate = SwapGate()
    order: list[str] = []
    outer_in = threading.Event()
    go_on = threading.Event()

    def nested() -> None:
        with gate.call():
            outer_in.set()
            go_on.wait(5)
            with gate.call():  # would wait for the swap, which waits for this call
                order.append("inner call")

    def swap() -> None:
        with gate.exclusive():
            order.append("swap")

    caller = threading.Thread(target=nested)
    caller.start()
    outer_in.wait(5)
    swapper = threading.Thread(target=swap)
    swapper.start()
    time.sleep(0.05)  # the swap is now waiting for the outer call
    go_on.set()
    caller.join(5)
    swapper.join(5)
    assert not caller.is_alive() and not swapper.is_alive()
    assert order == ["inner call", "swap"]


def test_working_alone_from_inside_a_call_is_refused_not_a_deadlock() -> None:
    gate = SwapGate()
    with gate.call(), pytest.raises(InputError, match="would wait"), gate.exclusive():
        pass
    with gate.exclusive():  # the refusal left the gate as it was
        pass
