"""`python -m autograder.tools.scaffold`: a new topic that runs, passes its checks, is accepted by nbgrader, whose
registered wrong answers are caught, and that never overwrites anything.

The topic is scaffolded into a temporary course: nbgrader_config.py, a copy of the autograder package (the new
topic module has to be importable; PYTHONPATH puts the copy before the installed one, for the kernel and for
nbgrader alike) and tests/wrong_answers/__init__.py. One kernel runs the notebook top to bottom with nbclient
then the wrong and right answers of the scaffolded wrong-answer file and the scaffolded test module, while
`course release NAME --root COURSE` (nbgrader's generate_assignment, of this assignment alone) runs beside it.
"""
import copy
import importlib.util
import shutil
import threading

import nbformat
import pytest

from autograder.tools import scaffold
from autograder.tools.course import REPO_ROOT, replace_in_answer
from autograder.tools.course import main as course_command

NAME, TITLE = "11_elu_example", "More activations: ELU"
TOPIC = NAME[3:]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("scaffold") / "course"
    root.mkdir()
    shutil.copy(REPO_ROOT / "nbgrader_config.py", root)
    shutil.copytree(REPO_ROOT / "autograder", root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    (root / "tests" / "wrong_answers").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "tests" / "wrong_answers" / "__init__.py", root / "tests" / "wrong_answers")
    assert scaffold.main([NAME, TITLE, "--root", str(root)]) == 0
    return root


def in_background(target):
    """Run `target()` in a thread; the returned function joins it and gives its result (or raises its error)."""
    box = {}

    def run():
        try:
            box["result"] = target()
        except BaseException as error:  # noqa: BLE001 (re-raised in the test)
            box["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result():
        thread.join(timeout=600)
        if "error" in box:
            raise box["error"]
        return box["result"]

    return result


def wrong_answer_module(root):
    path = root / "tests" / "wrong_answers" / f"a{NAME}.py"
    spec = importlib.util.spec_from_file_location(f"scaffolded_a{NAME}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def output_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def run(course):
    """Everything that needs a kernel or nbgrader, run once: {"notebook": the executed notebook, "answers": the
    scaffolded wrong-answer module, "caught": {wrong answer: the grade cells it failed (all of them when it lists
    `loses`, else up to the first)}, "accepted": {right answer: the grade cells it failed}, "release": the
    released notebook, "tests": the output of the scaffolded test module's pytest run}."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    patch = pytest.MonkeyPatch()
    patch.setenv("PYTHONPATH", str(course))
    try:
        other = course / "release" / "00_workflow" / "00_workflow.ipynb"  # what `release NAME` must leave alone
        other.parent.mkdir(parents=True)
        other.write_text("not regenerated")
        released = in_background(lambda: course_command(["release", NAME, "--root", str(course)]))
        path = course / "source" / NAME / f"{NAME}.ipynb"
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": str(path.parent)}})
        answers = wrong_answer_module(course)
        solved = copy.deepcopy(nb)
        index = {c.metadata["nbgrader"]["grade_id"]: i for i, c in enumerate(solved.cells) if "nbgrader" in c.metadata}
        grade_ids = [c.metadata["nbgrader"]["grade_id"] for c in solved.cells
                     if c.metadata.get("nbgrader", {}).get("grade")]

        def failing_cells(answer_id, old, new, every=True):
            """Run the answer cell with `old` replaced by `new`, then the grade cells (all of them, or with
            every=False up to the first that fails); the ids of those that fail. (nbclient stores each cell it
            ran in `nb`: the executed notebook is kept apart, in `executed`.)"""
            edited = replace_in_answer(solved, answer_id, old, new)
            failed = set()
            for grade_id in [answer_id, *grade_ids]:
                if failed - {answer_id} and not every:
                    break
                try:
                    client.execute_cell(copy.deepcopy(edited.cells[index[grade_id]]), index[grade_id],
                                        store_history=False)
                except CellExecutionError:
                    failed.add(grade_id)
            client.execute_cell(copy.deepcopy(solved.cells[index[answer_id]]), index[answer_id], store_history=False)
            return failed - {answer_id}

        with client.setup_kernel():
            for number, cell in enumerate(nb.cells):
                client.execute_cell(cell, number)  # raises CellExecutionError if a cell fails
            executed = copy.deepcopy(nb)
            caught = {w.student: failing_cells(w.answer, w.old, w.new, every=w.loses is not None)
                      for w in answers.WRONG_ANSWERS}
            accepted = {r.name: failing_cells(r.answer, r.old, r.new) for r in answers.RIGHT_ANSWERS}
            # The scaffolded test module, in this kernel (which has imported Keras already: one import less).
            tests_path = course / "tests" / f"test_topic_{TOPIC}.py"
            tests = nbformat.v4.new_code_cell(
                "import pytest\n"
                f"code = pytest.main(['-q', '-p', 'no:cacheprovider', {str(tests_path)!r}])\n"
                "print('pytest exit code', int(code))")
            client.execute_cell(tests, 0, store_history=False)
        assert released() == 0
        assert other.read_text() == "not regenerated"
        release = nbformat.read(course / "release" / NAME / f"{NAME}.ipynb", as_version=4)
        return {"notebook": executed, "answers": answers, "caught": caught, "accepted": accepted, "release": release,
                "tests": output_text(tests)}
    finally:
        patch.undo()


class TestTheScaffoldedTopic:
    """What the scaffold writes: four files that form a working topic."""

    def test_it_writes_one_folder_one_module_one_wrong_answer_file_and_one_test_module(self, course):
        made = sorted(str(p.relative_to(course)) for p in course.rglob("*") if p.is_file() and (
            NAME in str(p) or TOPIC in p.name))
        assert made == [f"autograder/topics/{TOPIC}.py", f"source/{NAME}/{NAME}.ipynb",
                        f"tests/test_topic_{TOPIC}.py", f"tests/wrong_answers/a{NAME}.py"]

    def test_the_notebook_runs_top_to_bottom_and_every_check_passes(self, run):
        cells = {c.id: c for c in run["notebook"].cells}
        assert not [c.id for c in run["notebook"].cells if any(o.output_type == "error" for o in c.get("outputs", []))]
        for check in ("elu_check", "elu_hidden"):
            lines = output_text(cells[check]).splitlines()
            assert lines[0].startswith("\u2713 elu matches keras.activations.elu on "), lines
            assert lines[1] == "\u2713 elu raises ValueError on all 2 negative alphas."

    def test_the_cells_follow_the_course_layout(self, course):
        nb = nbformat.read(course / "source" / NAME / f"{NAME}.ipynb", as_version=4)
        meta = {c.id: c.metadata.get("nbgrader") for c in nb.cells}
        assert meta["setup"] == {"grade": False, "grade_id": "setup", "locked": True, "schema_version": 3,
                                 "solution": False}
        assert meta["elu_answer"] == {"grade": False, "grade_id": "elu_answer", "locked": False, "schema_version": 3,
                                      "solution": True}
        for check in ("elu_check", "elu_hidden"):
            assert meta[check] == {"grade": True, "grade_id": check, "locked": True, "points": 1,
                                   "schema_version": 3, "solution": False}
        sources = {c.id: c.source for c in nb.cells}
        assert sources["md-01"].startswith(f"# 11 · {TITLE}\n")
        assert (f"**How to work:** as in [00 · How to work](../00_workflow/00_workflow.ipynb#How-to-work): run the "
                f"setup cell first, write code only at `YOUR CODE HERE`, run the check under each exercise, and "
                f"validate (`python -m autograder.tools.validate {NAME}.ipynb`) before you submit.") in sources["md-01"]
        assert "### BEGIN SOLUTION" in sources["elu_answer"] and "### END SOLUTION" in sources["elu_answer"]
        assert "### BEGIN HIDDEN TESTS" in sources["elu_hidden"]
        demos = [i for i, c in enumerate(nb.cells) if "demo" in c.metadata.get("tags", [])]
        assert demos and all(nb.cells[i + 1].cell_type == "markdown"
                             and nb.cells[i + 1].source.startswith("**What to look for.**") for i in demos)
        assert not [c.id for c in nb.cells if c.cell_type == "markdown" and "\n#" in c.source]  # headings open cells

    def test_nbgrader_generate_assignment_accepts_it_through_course_release_of_this_assignment_alone(self, run):
        release = run["release"]
        answer = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "elu_answer")
        hidden = next(c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "elu_hidden")
        assert "YOUR CODE HERE" in answer.source and "np.expm1" not in answer.source
        assert "BEGIN HIDDEN TESTS" not in hidden.source and "check_elu(elu, cases" not in hidden.source

    def test_the_wrong_answer_it_registers_fails_the_visible_check(self, run):
        losers = [w for w in run["answers"].WRONG_ANSWERS if w.loses]
        assert losers
        for wrong in losers:
            assert "elu_check" in run["caught"][wrong.student]
            assert run["caught"][wrong.student] == set(wrong.loses)

    def test_every_wrong_answer_is_caught_and_every_right_answer_passes(self, run):
        assert {name: cells for name, cells in run["caught"].items() if not cells} == {}
        assert run["accepted"] == {name: set() for name in run["accepted"]}
        answers = run["answers"]
        assert set(answers.RULES) == {w.rule for w in answers.WRONG_ANSWERS} and len(answers.RIGHT_ANSWERS) >= 2

    def test_its_test_module_passes(self, run):
        assert run["tests"].rstrip().endswith("pytest exit code 0") and " passed" in run["tests"], run["tests"]


class TestRefusals:
    """The scaffold writes nothing over an existing file and nothing for a bad name."""

    def test_scaffolding_the_same_topic_again_is_refused_and_changes_nothing(self, course, capsys):
        before = {p: p.read_bytes() for p in scaffold.targets(NAME, course).values()}
        assert scaffold.main([NAME, TITLE, "--root", str(course)]) == 2
        assert "already exists; the scaffold never overwrites" in capsys.readouterr().err
        assert {p: p.read_bytes() for p in before} == before

    def test_one_existing_file_is_enough_to_write_nothing(self, tmp_path):
        existing = tmp_path / "tests" / "test_topic_softsign.py"
        existing.parent.mkdir(parents=True)
        existing.write_text("# mine\n")
        with pytest.raises(scaffold.ScaffoldError, match="tests/test_topic_softsign.py already exists"):
            scaffold.scaffold("10_softsign", "Softsign", tmp_path)
        assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
            "tests/test_topic_softsign.py"]
        assert existing.read_text() == "# mine\n"

    def test_a_topic_that_is_a_package_already_is_refused(self, tmp_path):
        (tmp_path / "autograder" / "topics" / "compile").mkdir(parents=True)
        with pytest.raises(scaffold.ScaffoldError, match="autograder/topics/compile already exists"):
            scaffold.scaffold("10_compile", "Compile again", tmp_path)
        assert not (tmp_path / "source").exists()

    def test_a_number_already_taken_is_refused(self, tmp_path):
        (tmp_path / "source" / "03_compile").mkdir(parents=True)
        with pytest.raises(scaffold.ScaffoldError, match="number 03 is taken by source/03_compile"):
            scaffold.scaffold("03_metrics", "Metrics", tmp_path)

    @pytest.mark.parametrize("name", ["9_elu", "09-elu", "09_Elu", "09_", "elu", "09_elu_", "09__elu", "09_2elu",
                                      "09_class", "100_elu"])
    def test_a_bad_name_is_refused_with_what_a_name_looks_like(self, tmp_path, name, capsys):
        assert scaffold.main([name, "Title", "--root", str(tmp_path)]) == 2
        error = capsys.readouterr().err
        assert error.startswith("scaffold: ")
        assert "expected NN_topic" in error or "cannot name a Python module" in error
        assert list(tmp_path.iterdir()) == []

    def test_a_title_of_several_lines_is_refused(self, tmp_path):
        with pytest.raises(scaffold.ScaffoldError, match="one line"):
            scaffold.scaffold("10_softsign", "Two\nlines", tmp_path)
