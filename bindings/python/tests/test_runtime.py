"""The rtfs Python module: evaluation, calls, conversions, callbacks, errors, the GIL."""

import threading
import time

import pytest

import rtfs
from rtfs import Keyword, Runtime, RtfsError


def test_eval_keeps_definitions_between_calls():
    rt = Runtime()
    rt.eval("(defn sq [x] (* x x))")
    assert rt.eval("(sq 7)") == 49
    assert rt.call("sq", 9) == 81


def test_values_convert_both_ways():
    rt = Runtime()
    rt.eval("(defn id [x] x)")
    cases = [None, True, False, 0, -5, 2**62, 1.5, "héllo", [1, [2, 3]], (1, "a"),
             {"a": 1, Keyword("k"): [None]}, {1, 2, 3}, Keyword("done")]
    for v in cases:
        assert rt.call("id", v) == v, v
    assert rt.eval("{:a [1 2] :b #{:x}}") == {Keyword("a"): [1, 2], Keyword("b"): {Keyword("x")}}
    assert rt.eval("'(1 2)") == (1, 2)
    assert Keyword(":x") == Keyword("x")
    assert str(Keyword("x")) == ":x"
    assert repr(Keyword("x")) == "Keyword(\"x\")"


def test_unconvertible_values_are_type_errors():
    rt = Runtime()
    rt.eval("(defn id [x] x)")
    with pytest.raises(TypeError):
        rt.call("id", object())
    with pytest.raises(OverflowError):
        rt.call("id", 2**70)


def test_function_values_round_trip():
    rt = Runtime()
    inc = rt.eval("(fn [x] (+ x 1))")
    assert rt.call(inc, 41) == 42


def test_python_functions_and_capabilities():
    rt = Runtime()
    rt.register_function("py-add", lambda a, b: a + b, 2, 2)
    assert rt.eval("(py-add 2 3)") == 5
    seen = []
    rt.register_capability("demo.log", lambda msg: seen.append(msg) or "ok")
    assert rt.eval('(call :demo.log "hi")') == "ok"
    assert seen == ["hi"]


def test_errors_carry_kind_message_and_location():
    rt = Runtime()
    with pytest.raises(RtfsError) as e:
        rt.eval("(/ 1 0)")
    assert e.value.kind == "division-by-zero"
    assert "zero" in e.value.message
    assert e.value.location is not None
    with pytest.raises(RtfsError) as e:
        rt.eval("(let [x] x)")
    assert e.value.kind == "compile-error"
    with pytest.raises(RtfsError) as e:
        rt.eval("(+ 1")
    assert e.value.kind == "parse-error"


def test_python_exceptions_become_rtfs_errors():
    rt = Runtime()

    def boom():
        raise ValueError("bad")

    rt.register_function("boom", boom)
    with pytest.raises(RtfsError) as e:
        rt.eval("(boom)")
    assert e.value.kind == "python-error"
    assert "ValueError: bad" in e.value.message
    assert rt.eval('(try (boom) (catch e "caught"))') == "caught"


def test_reentrant_calls_are_refused_not_deadlocked():
    rt = Runtime()
    rt.register_function("again", lambda: rt.eval("1"))
    with pytest.raises(RtfsError) as e:
        rt.eval("(again)")
    assert "busy" in e.value.message


def test_gil_is_released_while_rtfs_runs():
    rt = Runtime()
    rt.eval("(defn spin [n] (loop [i 0] (if (< i n) (recur (inc i)) i)))")
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        rt.call("spin", 3_000_000)
    finally:
        done.set()
        t.join()
    assert len(ticks) > 5, "another Python thread ran while RTFS computed"


def test_module_exports():
    assert {"Runtime", "Keyword", "RtfsError"} <= set(dir(rtfs))
