"""The one check runner: a student's function against Keras on many inputs, behind every notebook check.

A topic module (autograder/topics/*.py) states, per exercise, its inputs (hand-picked Cases, or a hypothesis
strategy of Cases), its Keras reference and its known mistakes; the mechanics are here, written once:
- `run_cases(run_one, cases=..., strategy=...)`: run a per-case comparison on the hand-picked cases in order,
  or on drawn ones (deterministic, shrunk to the simplest failing input, a flaky answer named);
- `check_cases` / `check_property`: the same with the standard comparison (`compare_once`);
- `check_rejects`: every invalid input must raise ValueError with a message;
- `report_pass` / `report_properties` / `report_rejects` / `rejects_tail`: the one-line success messages;
- `invalid_inputs`: which invalid inputs a visible or a hidden check runs.
"""
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import FlakyFailure
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.internal.conjecture import providers as _providers

from autograder.checks.compare import RTOL, compare_arrays, matching_mistake
from autograder.checks.describe import describe_call
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import as_array, call_student, expect_value_error

# Hypothesis caches what it learns under ./.hypothesis; a notebook's folder is no place for that.
set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), f"keras-by-hand-hypothesis-{os.getuid()}"))
# Hypothesis also mixes in numeric constants it finds in the source of "local" (non-site-packages) modules,
# which includes this editable package and whatever a notebook imported. The drawn inputs would then change
# with every edit of the library and differ between a student's session and grading, and the first check of
# a notebook would pay for parsing those files. Inputs must depend only on the strategy: no local constants.
# (Private API of the pinned hypothesis version; an upgrade that renames it fails loudly here.)
_providers._get_local_constants = lambda: _providers._local_constants


@dataclass(frozen=True)
class Case:
    """One input to an exercise: positional and keyword arguments."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def _count(count, noun):
    return f"{count} {noun}" if count == 1 or noun.endswith("s") else f"{count} {noun}s"


def report_pass(name, reference, count, *, noun="input", also=""):
    """The success line: "✓ {name} matches {reference} on {count} inputs{also}."."""
    print(f"\u2713 {name} matches {reference} on {_count(count, noun)}{also}.")


def report_properties(name, properties, count, *, noun="case"):
    """The success line of a check by properties (random output has no single right value):
    "✓ {name}: {properties} ({count} cases)."."""
    print(f"\u2713 {name}: {properties} ({_count(count, noun)}).")


def rejects_tail(count):
    """The end of a success line whose check also ran `count` invalid inputs ("" when it ran none)."""
    return f" and raises ValueError on all {_count(count, 'invalid input')}" if count else ""


def invalid_inputs(cases, invalid, default):
    """The invalid inputs a check runs: `invalid` when the caller gives them, else the exercise's `default`
    on a visible check (no hand-picked `cases`) and none on a hidden one."""
    if invalid is not None:
        return list(invalid)
    return list(default) if cases is None else []


def report_rejects(name, count, *, what="invalid inputs", also=""):
    """The success line of an input check: "✓ {name} raises ValueError on all {count} {what}{also}."."""
    verb = "raise" if " and " in name else "raises"
    print(f"\u2713 {name} {verb} ValueError on all {count} {what}{also}.")


def check_rejects(student_fn, invalid, *, name, what="invalid inputs", also="", quiet=False, allow_keras=False):
    """Each invalid input must make the student's function raise ValueError with a message.

    Args:
        invalid: list of (args tuple, kwargs dict, reason str) or (args, kwargs, reason, words): `reason` says
            in words what is wrong with the input; the message must mention each of `words` (see
            `calling.expect_value_error`).
    Returns the number of invalid inputs checked.
    """
    invalid = list(invalid)
    if not invalid:
        raise ValueError("check_rejects needs at least one invalid input")  # a check that runs nothing cannot fail
    for args, kwargs, reason, *words in invalid:
        expect_value_error(student_fn, *args, name=name, reason=reason, words=words[0] if words else (),
                           allow_keras=allow_keras, **kwargs)
    if not quiet:
        report_rejects(name, len(invalid), what=what, also=also)
    return len(invalid)


def compare_once(student_fn, reference_fn, case, *, name, rtol=RTOL, atol=None, exact=False, mistakes_fn=None,
                 error_hint=None, allow_keras=False):
    """Compare the student's and the reference's results on one Case; raise CheckFailed if they differ.

    Args:
        mistakes_fn: callable(*args, **kwargs) -> list of Mistake on this case, or None. A Mistake whose result
            the student's matches is named; one whose `raises` holds the type of the error the student's
            function raised on this (valid) input is named as its likely cause.
        error_hint: callable(case, error) -> str or None: a hint added when the student's function raises.
    """
    try:
        result = call_on_case(student_fn, case, name=name, mistakes_fn=mistakes_fn, error_hint=error_hint,
                              allow_keras=allow_keras)
        expected = np.asarray(reference_fn(*case.args, **case.kwargs))
        mistakes = mistakes_fn(*case.args, **case.kwargs) if mistakes_fn else ()
        try:
            got = as_array(result, name)
        except CheckFailed as failure:  # the wrong kind of thing; a known mistake may still explain its numbers
            mistake = matching_mistake(result, expected, mistakes, rtol, atol, exact)
            if mistake:
                raise failure.restated(f"{failure}\n  {mistake.hint}", exercise=name, mistake=mistake) from None
            raise
        compare_arrays(got, expected, what=describe_call(name, case.args, case.kwargs), rtol=rtol, atol=atol,
                       exact=exact, mistakes=mistakes)
    except CheckFailed as failure:
        failure.exercise = failure.exercise or name
        failure.input_size = failure.input_size if failure.input_size is not None else input_size(case)
        raise


def call_on_case(student_fn, case, *, name, mistakes_fn=None, error_hint=None, allow_keras=False):
    """The student's result on one Case (see `calling.call_student`); when their function raises on this input,
    which Keras accepts, the CheckFailed carries the hint `raised_hint` finds."""
    try:
        return call_student(student_fn, *case.args, name=name, allow_keras=allow_keras, **case.kwargs)
    except CheckFailed as failure:
        hint, mistake = raised_hint(case, failure.__cause__, mistakes_fn, error_hint)
        if hint:
            raise failure.restated(f"{failure}\n  Hint: {hint}", exercise=name, mistake=mistake) from failure.__cause__
        raise


def input_size(case):
    """How many numbers a Case's inputs hold (arrays, nested lists and plain numbers; 0 for the rest)."""
    def size(value):
        if isinstance(value, np.ndarray):
            return int(value.size)
        if isinstance(value, (list, tuple)):
            return sum(size(v) for v in value)
        if isinstance(value, dict):
            return sum(size(v) for v in value.values())
        return 1 if isinstance(value, (int, float, np.number)) and not isinstance(value, bool) else 0

    return size(list(case.args)) + size(case.kwargs)


def raised_hint(case, error, mistakes_fn=None, error_hint=None):
    """(hint, Mistake or None) for a student's function that raised `error` on `case`, an input Keras accepts:
    the topic's own hint for that error, else the first registered Mistake known to raise it there."""
    if error is None:
        return None, None
    hint = error_hint(case, error) if error_hint else None
    if hint:
        return hint, None
    for mistake in (mistakes_fn(*case.args, **case.kwargs) if mistakes_fn else ()):
        if mistake.raises and isinstance(error, mistake.raises):
            return (f"Keras accepts this input; code that raises {type(error).__name__} here usually has this "
                    f"mistake: {mistake.description}.", mistake)
    return None, None


def _run_in_order(run_one, cases, name):
    try:
        for case in cases:
            run_one(case)
    except CheckFailed as failure:
        if failure.exercise is None:
            failure.exercise = name  # the record and the note's heading name the exercise
        raise
    return len(cases)


def run_cases(run_one, *, name, cases=None, strategy=None, max_examples=30, first=(), fixed=()):
    """Call `run_one(case)`, which raises CheckFailed when the student's answer is wrong on that Case.

    A hidden check passes its own hand-picked `cases` and runs only those, in order, so its score depends on its
    inputs alone. A visible check runs the `first` Cases (inputs whose failure explains itself best), then
    `max_examples` Cases drawn from the hypothesis `strategy` (deterministic; a failure is shrunk to the simplest
    input that still fails), then the `fixed` Cases (inputs a rule decides on that drawing may miss).
    Returns how many distinct inputs passed."""
    if cases is not None:
        cases = list(cases)
        if not cases:
            raise ValueError("run_cases needs at least one Case")  # a check that runs nothing cannot fail
        return _run_in_order(run_one, cases, name)
    if strategy is None:
        raise ValueError("run_cases needs cases or a strategy")
    count = _run_in_order(run_one, list(first), name)
    distinct = set()

    @property_settings(max_examples)
    @given(strategy)
    def run(case):
        distinct.add(repr(case))
        run_one(case)

    try:
        run()
        for case in fixed:
            distinct.add(repr(case))
            run_one(case)
    except CheckFailed as failure:  # already shrunk to the simplest failing input; drop hypothesis's frames
        raise failure.restated(str(failure), exercise=failure.exercise or name) from failure.__cause__
    except FlakyFailure as flaky:  # failed once, passed on the same input later
        failed = next((e for e in flaky.exceptions if isinstance(e, CheckFailed)), None)
        note = (f"\n  Note: `{name}` gave different results for the same input; its result must depend only on "
                "its arguments (unseeded randomness? state kept between calls?).")
        if failed is not None:
            raise failed.restated(f"{failed}{note}", exercise=failed.exercise or name) from None
        raise CheckFailed(f"{flaky}{note}", exercise=name) from None
    return count + len(distinct)


def check_cases(student_fn, reference_fn, cases, *, name, reference, quiet=False, **compare_options):
    """Compare on every Case in `cases`, in order; print one success line unless `quiet`."""
    count = run_cases(lambda case: compare_once(student_fn, reference_fn, case, name=name, **compare_options),
                      name=name, cases=cases)
    if not quiet:
        report_pass(name, reference, count)
    return count


def property_settings(max_examples):
    """Deterministic hypothesis settings for notebooks: same examples every run, no files, no deadline."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    print_blob=False, report_multiple_bugs=False, phases=(Phase.explicit, Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck))


def warm_up():
    """Pay hypothesis's one-time start-up cost (engine, caches) now, in the setup cell, not in the first check."""
    from hypothesis import strategies as st

    @property_settings(2)
    @given(st.integers())
    def run(value):
        pass

    run()


def check_property(student_fn, reference_fn, cases_strategy, *, name, reference, max_examples=30, quiet=False,
                   cases=None, first=(), fixed=(), invalid=(), **compare_options):
    """Compare on `max_examples` Cases drawn from a hypothesis strategy of Case (with the `first` and `fixed`
    ones, see `run_cases`); shrink a failure to the simplest input that still fails, so the message shows a
    small example. Given hand-picked `cases` (a hidden check's), compare on those only. Then each of the
    `invalid` inputs must raise ValueError (`check_rejects`). Returns the number of distinct inputs."""
    count = run_cases(lambda case: compare_once(student_fn, reference_fn, case, name=name, **compare_options),
                      name=name, cases=cases, strategy=cases_strategy, max_examples=max_examples, first=first,
                      fixed=fixed)
    rejected = check_rejects(student_fn, invalid, name=name, quiet=True) if invalid else 0
    if not quiet:
        report_pass(name, reference, count, also=rejects_tail(rejected))
    return count
