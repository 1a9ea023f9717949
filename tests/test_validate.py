"""`python -m autograder.tools.validate`: a validation a student and a script can trust (exit status, whole messages)."""
import subprocess
import sys

import nbformat
import pytest

from autograder.tools.course import REPO_ROOT, replace_in_answer, solved_submission

ASSIGNMENT = "01_to_categorical"


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("validate") / ASSIGNMENT
    folder.mkdir()
    release = nbformat.read(REPO_ROOT / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    source = nbformat.read(REPO_ROOT / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
    solved = solved_submission(release, source)
    nbformat.write(solved, folder / f"{ASSIGNMENT}.ipynb")
    wrong = replace_in_answer(solved, "to_categorical_answer", "num_classes = int(labels.max()) + 1",
                              "num_classes = int(labels.max())")
    nbformat.write(wrong, folder / "wrong.ipynb")
    return folder


def validate(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder.tools.validate", *args], cwd=cwd, text=True,
                          capture_output=True, timeout=600)


def test_a_solved_notebook_passes_with_exit_status_0(notebooks):
    result = validate(ASSIGNMENT, cwd=notebooks.parent)  # an assignment folder names its notebook
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"\u2713 {ASSIGNMENT}/{ASSIGNMENT}.ipynb: all 4 checks pass."
    assert result.stderr == ""


def test_a_failed_check_exits_1_and_shows_its_whole_message_without_internal_frames(notebooks):
    result = validate("wrong.ipynb", cwd=notebooks)
    assert result.returncode == 1
    out = result.stdout
    assert "\u2717 to_categorical_check\n\u2717 to_categorical is not right yet\n" in out
    # the hint names the mistake, in full (nbgrader validate cuts every line at 90 characters)
    assert "num_classes is max(y) instead of max(y) + 1 (labels start at 0)." in " ".join(out.split())
    assert "Where your code raised it:" in out and "return np.eye(int(num_classes))[labels]" in out
    assert "autograder/" not in out and "site-packages" not in out and "\x1b[" not in out
    assert out.strip().endswith("wrong.ipynb: 1 of 4 checks failed. If you submit it as it is, you will not get "
                                "full marks.")


def test_a_missing_notebook_is_one_sentence_and_exit_status_2(tmp_path):
    result = validate("nothing.ipynb", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "nothing.ipynb: no such notebook" and result.stdout == ""
