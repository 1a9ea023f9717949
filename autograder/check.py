"""Running a student's function against Keras on many inputs: the engine behind every notebook check.

A topic module (autograder/topics/*.py) supplies, per exercise, the Keras reference, the inputs (hand-picked
cases and/or a hypothesis strategy) and the known mistakes; this module calls the student safely, compares
and prints one short line on success.
"""
from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings

from autograder.compare import RTOL, compare_arrays
from autograder.describe import describe_call
from autograder.student import as_array, call_student


@dataclass(frozen=True)
class Case:
    """One input to an exercise: positional and keyword arguments."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def report_pass(name, reference, count):
    print(f"\u2713 {name} matches {reference} on {count} input{'s' if count != 1 else ''}.")


def compare_once(student_fn, reference_fn, case, *, name, rtol=RTOL, atol=None, exact=False, mistakes_fn=None,
                 allow_keras=False):
    """Compare the student's and the reference's results on one Case; raise CheckFailed if they differ."""
    got = as_array(call_student(student_fn, *case.args, name=name, allow_keras=allow_keras, **case.kwargs), name)
    expected = np.asarray(reference_fn(*case.args, **case.kwargs))
    mistakes = mistakes_fn(*case.args, **case.kwargs) if mistakes_fn else ()
    compare_arrays(got, expected, what=describe_call(name, case.args, case.kwargs), rtol=rtol, atol=atol,
                   exact=exact, mistakes=mistakes)


def check_cases(student_fn, reference_fn, cases, *, name, reference, quiet=False, **compare_options):
    """Compare on every Case in `cases`, in order; print one success line unless `quiet`."""
    cases = list(cases)
    for case in cases:
        compare_once(student_fn, reference_fn, case, name=name, **compare_options)
    if not quiet:
        report_pass(name, reference, len(cases))
    return len(cases)


def property_settings(max_examples):
    """Deterministic hypothesis settings for notebooks: same examples every run, no files, no deadline."""
    return settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                    print_blob=False, phases=(Phase.explicit, Phase.generate, Phase.shrink),
                    suppress_health_check=list(HealthCheck))


def check_property(student_fn, reference_fn, cases_strategy, *, name, reference, max_examples=30, quiet=False,
                   **compare_options):
    """Compare on `max_examples` Cases drawn from a hypothesis strategy of Case; shrink a failure to the
    simplest input that still fails, so the message shows a small example."""

    @property_settings(max_examples)
    @given(cases_strategy)
    def run(case):
        compare_once(student_fn, reference_fn, case, name=name, **compare_options)

    run()
    if not quiet:
        report_pass(name, reference, max_examples)
    return max_examples
