"""The memo of Keras references (`keras_reference.same_for_every_student`): one computation per distinct input
for as long as the checker process lives, keyed by value, never handing out a shared array or a result computed
for another input."""
import importlib
import sys

import numpy as np
import pytest

from autograder.checks import keras_reference
from autograder.checks.runner import Case

calls = []


@keras_reference.same_for_every_student
def doubled(x, factor=2):
    calls.append(x)
    return np.asarray(x) * factor


def scaled_by(factor):
    def scale(x):
        calls.append(x)
        return np.asarray(x) * factor
    return keras_reference.same_for_every_student(scale)


@pytest.fixture(autouse=True)
def fresh_calls():
    keras_reference.forget_remembered()
    calls.clear()


def test_equal_inputs_are_computed_once_and_handed_out_as_copies():
    first = doubled(np.arange(3.0))
    first[0] = 99.0  # a check that changes what it got must not change what the next student is compared with
    second = doubled(np.arange(3.0))
    assert len(calls) == 1
    np.testing.assert_array_equal(second, [0.0, 2.0, 4.0])


@pytest.mark.parametrize("other", [np.arange(3.0, dtype=np.float32), np.arange(3.0).reshape(3, 1),
                                   np.arange(3.0) + 1e-12, [0.0, 1.0, 2.0], (0.0, 1.0, 2.0)])
def test_a_different_dtype_shape_value_or_type_is_another_input(other):
    doubled(np.arange(3.0))
    doubled(other)
    assert len(calls) == 2


def test_keyword_arguments_and_closed_over_values_are_part_of_the_key():
    doubled(np.ones(2))
    doubled(np.ones(2), factor=3)
    assert len(calls) == 2
    np.testing.assert_array_equal(scaled_by(2)(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(scaled_by(5)(np.ones(2)), [5.0, 5.0])  # same code, another captured value
    assert len(calls) == 4


def test_anything_but_plain_data_is_computed_every_time():
    class Lying(float):  # a float subclass could compare equal to anything: never a key
        pass

    @keras_reference.same_for_every_student
    def first(x, extra=None):
        calls.append(x)
        return x

    for _ in range(2):
        first(Lying(1.0))
        first(1.0, extra=lambda: 2)  # a function of no course module (a student's, say)
        first(np.array([object()], dtype=object))
    assert len(calls) == 6
    assert keras_reference.memo_counts()["not kept"] >= 6


def test_an_error_is_not_remembered():
    @keras_reference.same_for_every_student
    def fails_once(x):
        calls.append(x)
        if len(calls) == 1:
            raise ValueError("first time")
        return x

    with pytest.raises(ValueError):
        fails_once(1)
    assert fails_once(1) == 1
    assert len(calls) == 2


def test_the_course_dataclasses_are_keyed_by_their_fields():
    @keras_reference.same_for_every_student
    def first_argument(case):
        calls.append(case)
        return case.args[0]

    for a in (1, 1, 2):
        first_argument(Case((np.ones(2),), {"a": a}))
    assert len(calls) == 2


def test_a_reference_is_remembered_across_notebooks_of_one_checker_process():
    """Between two notebooks the checker drops the topic modules and imports them afresh (reset_checker): the
    key of a reference must not change with the import (no addresses in it: keras_paths holds comprehensions,
    nested code objects whose repr has one), or every student would compute everything again. (The modules are
    re-imported here by hand: reset_checker would also close notebook 04's helper thread under other tests.)"""
    package = "autograder.topics.compile"
    module = f"{package}.optimizers"
    cases = [Case((np.ones(2), np.full((3, 2), 0.5)), {"learning_rate": 0.1})]
    first = importlib.import_module(module)
    expected = first.keras_paths("SGD", cases)
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name.startswith(package)}
    try:
        again_module = importlib.import_module(module)
        assert again_module is not first and again_module.keras_paths.__wrapped__ is not first.keras_paths.__wrapped__
        before = keras_reference.memo_counts().get("hit", 0)
        again = again_module.keras_paths("SGD", cases)
        assert keras_reference.memo_counts().get("hit", 0) == before + 1
    finally:
        for name in [n for n in sys.modules if n.startswith(package)]:
            del sys.modules[name]
        sys.modules.update(saved)  # the other tests keep the modules they imported
    np.testing.assert_array_equal(again[0], expected[0])
    np.testing.assert_allclose(expected[0], [[0.95, 0.95], [0.9, 0.9], [0.85, 0.85]])
