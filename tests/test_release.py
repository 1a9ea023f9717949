"""release/ is exactly what nbgrader generates from source/, and gives nothing away."""
import re

import nbformat
import pytest

from autograder.tools.course import REPO_ROOT, assignments, build_release, differences

ASSIGNMENTS = assignments()
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def test_release_is_what_nbgrader_generates(tmp_path):
    build_release(tmp_path / "release")
    assert differences(REPO_ROOT / "release", tmp_path / "release") == []


def secret_lines(assignment, region):
    """Lines inside `region` in the source notebook that appear nowhere else in it (a line the notebook also
    shows in its narrative code, such as `inputs = keras.Input(...)`, is not a secret)."""
    source = nbformat.read(REPO_ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    lines, public = [], []
    for cell in source.cells:
        for body in region.findall(cell.source):
            lines += [line.strip() for line in body.splitlines() if len(line.strip()) > 12]
        public += [line.strip() for line in region.sub("", cell.source).splitlines()]
    return [line for line in lines if line not in set(public)]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
@pytest.mark.parametrize("region", [SOLUTION_REGION, HIDDEN_REGION], ids=["solutions", "hidden-tests"])
def test_release_contains_no_solution_or_hidden_test(assignment, region):
    secret = secret_lines(assignment, region)
    assert secret, "the source notebook should have this kind of region"
    text = (REPO_ROOT / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
    release = nbformat.reads(text, as_version=4)
    code = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    leaked = [line for line in secret if line in code and not line.startswith(("return", "raise", "#"))]
    assert leaked == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_outputs(assignment):
    release = nbformat.read(REPO_ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in release.cells if cell.cell_type == "code")


@pytest.mark.parametrize("tool", ["course", "timing"])
def test_the_instructor_tools_name_an_unknown_assignment_and_the_known_ones(tool, capsys):
    import importlib

    argv = ["execute", "09"] if tool == "course" else ["09"]
    assert importlib.import_module(f"autograder.tools.{tool}").main(argv) == 2
    err = capsys.readouterr().err
    assert "no assignment 09 in" in err and "09_cnn_backprop" in err
