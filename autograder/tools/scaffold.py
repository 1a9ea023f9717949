"""Start a new topic: one notebook folder, one topic module, one wrong-answer file and one test module.

Command line (from the repository root):
    python -m autograder.tools.scaffold 11_more_activations "More activations: ELU"
    python -m autograder.tools.scaffold 11_more_activations "More activations: ELU" --root /tmp/course-copy

writes, for NN_name,
    source/NN_name/NN_name.ipynb          the notebook, with nbgrader's cell metadata (solved, no outputs yet)
    autograder/topics/name.py             its topic module: the Keras reference, the inputs, the known mistakes
    tests/wrong_answers/aNN_name.py       RULES, WRONG_ANSWERS and RIGHT_ANSWERS (tests/test_mutations.py)
    tests/test_topic_name.py              the topic module's tests

with one real, runnable exercise as the pattern to follow and then replace: `elu(x, alpha=1.0)` in NumPy,
checked against `keras.activations.elu`. The notebook has the course's layout: a title cell with the one-line
"How to work" link, the locked setup cell, the exercise (task, answer cell between `### BEGIN SOLUTION` and
`### END SOLUTION` whose docstring gives every shape, a visible and a hidden check cell), a demonstration
tagged `demo` followed by its "**What to look for.**" cell, and "Check yourself". It runs top to bottom and
passes its own checks as it is. Nothing is overwritten: if any of the four files exists, or the number NN or
the topic name is taken, nothing is written. Next steps: README, "Adding a topic".
"""
import argparse
import keyword
import re
import sys
from pathlib import Path

import nbformat

from autograder.tools.course import REPO_ROOT

NAME = re.compile(r"(?P<number>\d\d)_(?P<topic>[a-z][a-z0-9]*(?:_[a-z0-9]+)*)")


class ScaffoldError(ValueError):
    """A name the scaffold refuses, or a file it would overwrite; the message says which and why."""


def targets(name, root=REPO_ROOT):
    """{what: path} of the four files a topic `name` (NN_topic) consists of, under the course `root`."""
    root = Path(root)
    topic = name[3:]
    return {
        "notebook": root / "source" / name / f"{name}.ipynb",
        "topic module": root / "autograder" / "topics" / f"{topic}.py",
        "wrong answers": root / "tests" / "wrong_answers" / f"a{name}.py",
        "tests": root / "tests" / f"test_topic_{topic}.py",
    }


def check_name(name, title, root=REPO_ROOT):
    """Raise ScaffoldError unless `name` is a new NN_topic and `title` one line of text."""
    match = NAME.fullmatch(name)
    if not match:
        raise ScaffoldError(f"{name!r} is not a topic name: expected NN_topic, two digits, '_', then lower-case "
                            "words joined by '_' (letters and digits, starting with a letter), "
                            "e.g. 11_more_activations")
    topic = match.group("topic")
    if keyword.iskeyword(topic):
        raise ScaffoldError(f"{name!r}: {topic!r} cannot name a Python module; choose another topic name")
    if not title.strip() or "\n" in title:
        raise ScaffoldError("the title must be one line of text, e.g. \"More activations: ELU\"")
    folders = [Path(root) / "source" / name, Path(root) / "autograder" / "topics" / topic]  # a topic may be a package
    existing = [str(path.relative_to(root)) for path in [*targets(name, root).values(), *folders] if path.exists()]
    if existing:
        raise ScaffoldError(f"{name!r}: {', '.join(dict.fromkeys(existing))} already exists; the scaffold "
                            "never overwrites, so nothing was written")
    source = Path(root) / "source"
    taken = sorted(p.name for p in source.glob(f"{match.group('number')}_*")) if source.is_dir() else []
    if taken:
        raise ScaffoldError(f"{name!r}: the number {match.group('number')} is taken by source/{taken[0]}; "
                            "nothing written")


# --- the notebook --------------------------------------------------------------------------------------------

def _nbgrader(grade_id, *, solution=False, points=None):
    meta = {"grade": points is not None, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


ANSWER = '''def elu(x, alpha=1.0):
    """The exponential linear unit, like keras.activations.elu, with a clear error for a negative alpha.

    Args:
        x: float array of any shape (...,), including 0-d and empty arrays.
        alpha: float >= 0, the scale of the negative part (elu tends to -alpha as x goes to -inf).

    Returns:
        float array of shape x.shape: x where x > 0, alpha * (exp(x) - 1) where x <= 0.

    Raises:
        ValueError: alpha is negative.
    """
    ### BEGIN SOLUTION
    if alpha < 0:
        raise ValueError(f"alpha must be 0 or more; got {alpha}")
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))
    ### END SOLUTION'''

HIDDEN = '''# Hidden tests for this exercise run when your notebook is graded.
### BEGIN HIDDEN TESTS
check_elu(elu, cases=[
    Case((np.array([-1e-30, -0.0, 0.0, 1e-30], np.float32),)),
    Case((np.array([[-700.0, -20.0], [3.0, 1000.0]]),), {"alpha": 0.25}),
    Case((np.linspace(-5.0, 5.0, 11),), {"alpha": 0.0}),
    Case((np.zeros((0, 3), np.float32),), {"alpha": 2.0}),
], invalid=[((np.array([0.5]),), {"alpha": -2.0}, "alpha must be 0 or more"),
             ((np.array(-1.0),), {"alpha": -1.0}, "alpha must be 0 or more")])
### END HIDDEN TESTS'''


def notebook(name, title):
    """The new notebook: nbformat 4.5, the kernel and metadata of the course's notebooks, no outputs."""
    number, topic = name[:2], name[3:]
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    cells = [
        md(f"# {number} · {title}\n\n"
           "In this notebook you will **implement `elu(x, alpha=1.0)`**, the exponential linear unit, in NumPy, and "
           "compare it with `keras.activations.elu`.\n\n"
           f"**How to work:** as in [00 · How to work](../00_workflow/00_workflow.ipynb#How-to-work): run the setup "
           "cell first, write code only at `YOUR CODE HERE`, run the check under each exercise, and validate "
           f"(`python -m autograder.tools.validate {name}.ipynb`) before you submit.", id="md-01"),
        code("from autograder import setup_notebook\nsetup_notebook()\n\nimport numpy as np\nimport keras\n\n"
             f"from autograder.checks.runner import Case\nfrom autograder.topics.{topic} import check_elu",
             id="setup", metadata=_nbgrader("setup")),
        md("## 1. Exercise: `elu`\n\n"
           "Implement `elu(x, alpha=1.0)` with NumPy only (no Keras inside your function: the check notices). It "
           "must give what `keras.activations.elu` gives:\n\n"
           "* `x` where `x > 0`, and `alpha * (exp(x) - 1)` where `x <= 0`, so the curve is smooth at 0 and tends "
           "to `-alpha` for very negative `x`;\n"
           "* a result of the same shape as `x`, for any shape (0-d and empty arrays too).\n\n"
           "Unlike Keras, raise `ValueError` with a message when `alpha` is negative.", id="md-02"),
        code(ANSWER, id="elu_answer", metadata=_nbgrader("elu_answer", solution=True)),
        md("Run the check. It draws up to 30 arrays (float32 and float64, any shape, with and without `alpha`) "
           "and compares your result with `keras.activations.elu` on each, then tries a negative `alpha`.",
           id="md-03"),
        code("check_elu(elu)", id="elu_check", metadata=_nbgrader("elu_check", points=1)),
        code(HIDDEN, id="elu_hidden", metadata=_nbgrader("elu_hidden", points=1)),
        md("## 2. Your `elu` next to Keras's", id="md-04"),
        code('x = np.linspace(-4.0, 3.0, 8)\nprint("x:        ", np.round(x, 2))\n'
             'print("Keras elu:", np.round(keras.ops.convert_to_numpy(keras.activations.elu(x)), 4))\n'
             'print("your elu: ", np.round(elu(x), 4))', id="code-01", metadata={"tags": ["demo"]}),
        md("**What to look for.** The two rows agree; on the left they approach -1 (that is `-alpha`) instead "
           "of staying at 0 like relu, and from 0 on they are `x` itself.", id="md-05"),
        md("## Check yourself\n\n"
           "* *What is `elu(0)`?* 0, from both sides: `alpha * (exp(0) - 1) = 0`.\n"
           "* *Why `np.expm1`?* For tiny `x`, `exp(x) - 1` loses every digit; `expm1(x)` keeps them.",
           id="md-06"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                          "pygments_lexer": "ipython3", "version": "3.11.7"}})
    nb.nbformat_minor = 5
    return nb


# --- the topic module, the wrong answers, the tests ----------------------------------------------------------

TOPIC_MODULE = '''"""Notebook {name}: {title}. The check of `elu` against live `keras.activations.elu`.

The expected values come from Keras on the same inputs; the known mistakes are computed with NumPy on the same
inputs, so a failing check names the mistake. (Scaffolded by autograder/tools/scaffold.py: replace the example
exercise with the notebook's own, keeping this shape: reference, inputs, mistakes, check.)
"""
import numpy as np
from hypothesis import strategies as st

from autograder.checks import keras_reference
from autograder.checks.compare import RTOL, Mistake
from autograder.checks.runner import Case, check_property, check_rejects
from autograder.checks.strategies import float_arrays

# The negative part lies in [-alpha, 0]: its natural scale is alpha, not the largest |x| of the input. An input
# of tiny values only (x = -1e-30) gives -1e-30, which `alpha * (np.exp(x) - 1)` (a right answer) rounds to 0:
# without a fixed absolute floor its relative error would fail it (see compare.py).
ELU_ATOL = RTOL

ELU_INVALID = [
    ((np.array([1.0, -1.0]),), {{"alpha": -0.5}}, "alpha must be 0 or more"),
    ((np.zeros((2, 2)),), {{"alpha": -1e-3}}, "alpha must be 0 or more, even a tiny negative one"),
]
"""A negative alpha, which Keras accepts silently: elu must raise ValueError with a message."""


def keras_elu(x, alpha=1.0):
    """keras.activations.elu on the same input, as a NumPy array."""
    keras = keras_reference.keras()
    return keras.ops.convert_to_numpy(keras.activations.elu(x, alpha=alpha))


def elu_mistakes(x, alpha=1.0):
    """What the usual mistakes give on this input."""
    x = np.asarray(x, dtype=np.float64)
    negative = np.minimum(x, 0.0)
    return [
        Mistake("you compute alpha * exp(x) for x <= 0: the negative part is alpha * (exp(x) - 1), which is 0 at 0",
                np.where(x > 0, x, alpha * np.exp(negative))),
        Mistake("you multiply the positive part by alpha too: elu(x) is x itself for x > 0",
                np.where(x > 0, alpha * x, alpha * np.expm1(negative))),
        Mistake("you ignore alpha: the negative part is alpha * (exp(x) - 1)", np.where(x > 0, x, np.expm1(negative))),
    ]


@st.composite
def elu_cases(draw):
    """A float32 or float64 array of any shape, with the default alpha or one of a few others (0 included)."""
    x = draw(float_arrays(max_magnitude=100.0))
    kwargs = draw(st.sampled_from([{{}}, {{"alpha": 0.5}}, {{"alpha": 2.0}}, {{"alpha": 0.0}}]))
    return Case((x,), kwargs)


def check_elu(elu, cases=None, max_examples=30, invalid=ELU_INVALID):
    """Compare with keras.activations.elu on drawn inputs (or on the given Cases), then check that every input
    of `invalid` raises ValueError."""
    options = dict(name="elu", reference="keras.activations.elu", atol=ELU_ATOL, mistakes_fn=elu_mistakes)
    check_property(elu, keras_elu, elu_cases(), max_examples=max_examples, cases=cases, **options)
    check_rejects(elu, invalid, name="elu", what="negative alphas")
'''

WRONG_ANSWERS_FILE = '''"""Wrong answers for {name}, the rules of the exercises' text they break, and right answers."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "{name}"

RULES = {{
    "elu.positive_part": "x where x > 0",
    "elu.negative_part": "alpha * (exp(x) - 1) where x <= 0",
    "elu.alpha": "alpha is the scale of the negative part",
    "elu.any_shape": "a result of the same shape as x, for any shape (0-d and empty arrays too)",
    "elu.negative_alpha": "raise ValueError with a message when alpha is negative",
}}

WRONG_ANSWERS = [
    WrongAnswer("forgets-minus-one", "elu_answer",
                "alpha * np.expm1(np.minimum(x, 0.0))", "alpha * np.exp(np.minimum(x, 0.0))",
                frozenset({{"elu_check", "elu_hidden"}}), rule="elu.negative_part"),
    WrongAnswer("scales-positive-part", "elu_answer",
                "np.where(x > 0, x, ", "np.where(x > 0, alpha * x, ", rule="elu.positive_part"),
    WrongAnswer("ignores-alpha", "elu_answer",
                "alpha * np.expm1(", "np.expm1(", rule="elu.alpha"),
    WrongAnswer("flattens", "elu_answer",
                "x = np.asarray(x, dtype=np.float64)", "x = np.asarray(x, dtype=np.float64).ravel()",
                rule="elu.any_shape"),
    WrongAnswer("no-alpha-check", "elu_answer", "if alpha < 0:", "if False:", rule="elu.negative_alpha"),
]

RIGHT_ANSWERS = [
    RightAnswer("exp-minus-one", "elu_answer",
                "alpha * np.expm1(np.minimum(x, 0.0))", "alpha * (np.exp(np.minimum(x, 0.0)) - 1.0)"),
    RightAnswer("boolean-mask", "elu_answer",
                "    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))\\n",
                "    out = x.copy()\\n"
                "    negative = x <= 0\\n"
                "    out[negative] = alpha * np.expm1(x[negative])\\n"
                "    return out\\n"),
]
'''

TEST_MODULE = '''"""Tests of autograder/topics/{topic}.py (notebook {name}): right answers pass, mistakes are named."""
import numpy as np
import pytest

from autograder.checks.errors import CheckFailed
from autograder.topics.{topic} import check_elu


def right_elu(x, alpha=1.0):
    if alpha < 0:
        raise ValueError(f"alpha must be 0 or more; got {{alpha}}")
    x = np.asarray(x, dtype=np.float64)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


class TestElu:
    """check_elu: compared with keras.activations.elu; a negative alpha must raise ValueError."""

    def test_the_success_lines_name_the_reference_and_the_invalid_inputs(self, capsys):
        check_elu(right_elu, max_examples=10)
        lines = capsys.readouterr().out.splitlines()
        assert lines[0].startswith("\\u2713 elu matches keras.activations.elu on ")
        assert lines[1] == "\\u2713 elu raises ValueError on all 2 negative alphas."

    def test_alpha_exp_without_minus_one_is_named(self):
        def wrong(x, alpha=1.0):
            x = np.asarray(x, dtype=np.float64)
            return np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0.0)))

        with pytest.raises(CheckFailed, match=r"alpha \\* \\(exp\\(x\\) - 1\\)"):
            check_elu(wrong, max_examples=10)

    def test_alpha_ignored_is_named(self):
        def wrong(x, alpha=1.0):
            x = np.asarray(x, dtype=np.float64)
            return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))

        with pytest.raises(CheckFailed, match="you ignore alpha"):
            check_elu(wrong, max_examples=10)

    def test_a_negative_alpha_accepted_fails(self):
        def lenient(x, alpha=1.0):
            x = np.asarray(x, dtype=np.float64)
            return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))

        with pytest.raises(CheckFailed, match="ValueError"):
            check_elu(lenient, max_examples=10)
'''


def files(name, title):
    """{what: text} of the four files of a new topic."""
    topic = name[3:]
    return {
        "notebook": nbformat.writes(notebook(name, title)) + "\n",
        "topic module": TOPIC_MODULE.format(name=name, title=title.rstrip(".")),
        "wrong answers": WRONG_ANSWERS_FILE.format(name=name),
        "tests": TEST_MODULE.format(name=name, topic=topic),
    }


def scaffold(name, title, root=REPO_ROOT):
    """Write the four files of topic `name` under the course `root`; return {what: path}. Raise ScaffoldError
    (nothing written) for a bad or taken name or if any of the files exists."""
    check_name(name, title, root)
    paths = targets(name, root)
    texts = files(name, title)
    for what, path in paths.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as file:  # "x": fails rather than overwrite, even in a race
            file.write(texts[what])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.scaffold", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="NN_topic, e.g. 11_more_activations")
    parser.add_argument("title", help="the notebook's title, e.g. \"More activations: ELU\"")
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="the course root to write into (default: this repository)")
    args = parser.parse_args(argv)
    try:
        paths = scaffold(args.name, args.title, args.root.resolve())
    except ScaffoldError as error:
        print(f"scaffold: {error}", file=sys.stderr)
        return 2
    root = args.root.resolve()
    for what, path in paths.items():
        print(f"created {path.relative_to(root)}  ({what})")
    print("Next (README, \"Adding a topic\"): replace the example exercise with the topic's own, then\n"
          f"  python -m autograder.tools.course execute {args.name}\n"
          f"  KBH_ONLY={args.name} python -m pytest -q tests/test_mutations.py tests/test_topic_{args.name[3:]}.py\n"
          f"  python -m autograder.tools.course release {args.name}\n"
          f"and add row {args.name[:2]} to autograder/topics/CONTRACT.md and to the README's table of notebooks.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
