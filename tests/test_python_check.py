"""The README's first step: a Python that cannot run the course gets one clear sentence, before any install."""
import re
import subprocess
import sys

import pytest

from autograder.tools.course import REPO_ROOT
from autograder.tools.python_check import SUPPORTED, problem


@pytest.mark.parametrize("version", [(3, 11, 0), (3, 12, 3), (3, 13, 0)])
def test_supported_pythons_pass(version):
    assert problem(version, "cpython") is None


@pytest.mark.parametrize("version,implementation", [((3, 10, 13), "cpython"), ((3, 14, 0), "cpython"),
                                                    ((3, 11, 7), "pypy")])
def test_others_get_one_sentence_naming_what_is_needed_and_what_was_found(version, implementation):
    sentence = problem(version, implementation)
    found = ".".join(map(str, version))
    assert "\n" not in sentence and sentence.endswith(").")
    assert "needs CPython 3.11 to 3.13" in sentence and f"{implementation} {found}" in sentence


def test_it_runs_as_a_file_with_the_standard_library_only():
    result = subprocess.run([sys.executable, "-S", "-I", str(REPO_ROOT / "autograder" / "tools" / "python_check.py")],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_supported_range_is_pyprojects():
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    low, high = re.search(r'requires-python = ">=(\d+\.\d+),<(\d+\.\d+)"', pyproject).groups()
    assert f"{SUPPORTED[0][0]}.{SUPPORTED[0][1]}" == low
    assert f"{SUPPORTED[1][0]}.{SUPPORTED[1][1] + 1}" == high
