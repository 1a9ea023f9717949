"""The course holds with other numerics (issue 19): TensorFlow's results depend on its thread counts, so the
notebooks' compared outputs and the grades must not.

tests/conftest.py pins TF_NUM_INTRAOP_THREADS, TF_NUM_INTEROP_THREADS and OMP_NUM_THREADS for the whole run (1
unless TF_NUM_INTRAOP_THREADS is set): the ordinary nbval pass over source/ and the nbgrader pipeline tests run
with that count. Here the same things run once more with the *other* count (4, or 1 if the run uses another):

* every notebook that trains a model, under nbval in a subprocess, must match its stored outputs;
* every solved notebook, graded by nbgrader (through `autograder.class_grading.grade`, nbgrader's Autograde converter with
  the course config, which imports TensorFlow once per worker instead of once per assignment), must keep full
  marks cell by cell: the scores tests/test_nbgrader_pipeline.py requires of the ordinary run;
* and the kernels nbval starts must see the pinned counts, and the counts must change TensorFlow's arithmetic
  (otherwise the second pass would test nothing).

KBH_ONLY=02_dense_activations,03_compile limits the notebooks (as in test_nbgrader_pipeline.py).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.tools.course import REPO_ROOT, assignments, make_course, solved_submission

THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
ASSIGNMENTS = [a for a in assignments() if not os.environ.get("KBH_ONLY") or a in os.environ["KBH_ONLY"].split(",")]
# Sandbox uids of this file's grader processes (UID_BASE + worker): not shared with the other tests' gradings.
UID_BASE = int(os.environ.get("KBH_NUMERICS_UID_BASE", 64070))

# A reduction and a matrix product big enough that TensorFlow splits them over its threads: their last bits
# depend on the thread count. Printed as hex floats, so equal means bit for bit equal.
PROBE = """
import json, os
import autograder  # as every notebook's setup cell: quiet TensorFlow, its plain (non-oneDNN) kernels
import tensorflow as tf
x = tf.random.stateless_uniform((1 << 22,), seed=(1, 2))
a = tf.random.stateless_uniform((512, 4096), seed=(3, 4))
b = tf.random.stateless_uniform((4096, 64), seed=(5, 6))
print(json.dumps({"env": {name: os.environ.get(name) for name in %r},
                  "sum": float(tf.reduce_sum(x)).hex(),
                  "matmul": tf.linalg.matmul(a, b).numpy().sum(dtype="float64").hex()}))
""" % (THREAD_VARIABLES,)


def run_threads():
    return os.environ["TF_NUM_INTRAOP_THREADS"]


def other_threads():
    return "4" if run_threads() == "1" else "1"


def environment(threads):
    env = dict(os.environ)
    env.update({name: threads for name in THREAD_VARIABLES})
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return env


def trains_a_model(path):
    return any(".fit(" in cell.source for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")


def training_notebooks():
    paths = [REPO_ROOT / "source" / name / f"{name}.ipynb" for name in ASSIGNMENTS]
    return [path for path in paths if trains_a_model(path)]


def probe_in_subprocess(threads):
    result = subprocess.run([sys.executable, "-c", PROBE], env=environment(threads), capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def probe_in_nbval_kernel():
    """PROBE in a kernel started exactly as nbval starts the notebooks' kernels (--nbval-current-env)."""
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, RunningKernel

    kernel = RunningKernel(CURRENT_ENV_KERNEL_NAME, cwd=str(REPO_ROOT))
    printed = []

    def keep_stdout(message):
        if message["msg_type"] == "stream" and message["content"]["name"] == "stdout":
            printed.append(message["content"]["text"])

    try:
        reply = kernel.kc.execute_interactive(PROBE, output_hook=keep_stdout, timeout=300)
    finally:
        kernel.stop()
    assert reply["content"]["status"] == "ok", reply["content"]
    return json.loads("".join(printed).strip().splitlines()[-1])


def test_the_run_pins_every_thread_count():
    assert run_threads().isdigit() and other_threads() != run_threads()
    assert {name: os.environ.get(name) for name in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, run_threads())


def test_nbval_kernels_inherit_the_thread_counts_and_they_change_the_numbers():
    in_kernel = probe_in_nbval_kernel()
    assert in_kernel["env"] == dict.fromkeys(THREAD_VARIABLES, run_threads())
    same = probe_in_subprocess(run_threads())
    other = probe_in_subprocess(other_threads())
    assert (in_kernel["sum"], in_kernel["matmul"]) == (same["sum"], same["matmul"])
    # The other count gives other bits: the second nbval pass below really runs with other numerics.
    assert (other["sum"], other["matmul"]) != (same["sum"], same["matmul"])


def test_notebooks_that_train_models_match_their_outputs_with_the_other_thread_count():
    notebooks = training_notebooks()
    assert notebooks, "no notebook trains a model?"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "-q", "--no-header", "-p", "no:cacheprovider",
         *[str(path.relative_to(REPO_ROOT)) for path in notebooks]],
        cwd=REPO_ROOT, env=environment(other_threads()), capture_output=True, text=True, timeout=3600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, (f"with TF_NUM_INTRAOP_THREADS={other_threads()}: {summary}\n"
                                    + result.stdout[-20000:] + result.stderr[-5000:])
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary


@pytest.fixture(scope="module")
def graded_with_other_threads(tmp_path_factory):
    """A course with every assignment's solved notebook, graded with the other thread count."""
    base = tmp_path_factory.mktemp("numerics")
    root = make_course(base / "course")
    for name in ASSIGNMENTS:
        release_nb = nbformat.read(REPO_ROOT / "release" / name / f"{name}.ipynb", as_version=4)
        source_nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        folder = root / "submitted" / "solved" / name
        folder.mkdir(parents=True)
        nbformat.write(solved_submission(release_nb, source_nb), folder / f"{name}.ipynb")
    result = subprocess.run(
        [sys.executable, "-m", "autograder.class_grading.grade", *ASSIGNMENTS, "--workers", "2", "--no-feedback",
         "--uid-base", str(UID_BASE), "--json", str(base / "grades.json")],
        cwd=root, env=environment(other_threads()), capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_notebook_keeps_full_marks_with_the_other_thread_count(graded_with_other_threads, assignment):
    """Cell by cell, the scores tests/test_nbgrader_pipeline.py requires of the ordinary run (full marks)."""
    db = f"sqlite:///{Path(graded_with_other_threads) / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, "solved")
        scores = {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}
    assert scores and sum(max_score for _, max_score in scores.values()) > 0
    assert {cell: s for cell, s in scores.items() if s[0] != s[1]} == {}
