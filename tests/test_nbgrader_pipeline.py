"""The real nbgrader apps on a temporary copy of the course: generate_assignment, autograde, validate,
generate_feedback and export, with a solved, a blank and several wrong submissions per assignment."""
import csv
import html
import os
import queue
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.tools.course import (assignments, generate_assignments, make_course, replace_in_answer,
                               run_nbgrader, solved_submission)
from autograder.checks.errors import KINDS, RECORD_MIME
from autograder.grading.preprocessors import HIDDEN_REGION, HideHiddenTests
from wrong_answers import WRONG_ANSWERS

# KBH_ONLY=02_dense_activations,03_compile limits the (slow) pipeline tests to some assignments while you work.
ASSIGNMENTS = [a for a in assignments() if not os.environ.get("KBH_ONLY") or a in os.environ["KBH_ONLY"].split(",")]


# Two nbgrader apps run at once (this machine's two cores), each with its own sandbox uid (RLIMIT_NPROC counts
# every process of a uid) and SQLite waiting for the other's writes instead of failing "database is locked".
PARALLEL = 2
UID_BASE = int(os.environ.get("KBH_TEST_UID_BASE", 64040)) + 20


def in_parallel(runs):
    """[run(uid) for run in runs], PARALLEL at a time, each given a sandbox uid of its own."""
    uids = queue.Queue()
    for i in range(PARALLEL):
        uids.put(UID_BASE + i)

    def one(run):
        uid = uids.get()
        try:
            return run({"KBH_SANDBOX_UID": str(uid), "KBH_SANDBOX_GID": str(uid)})
        finally:
            uids.put(uid)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, runs))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with every assignment generated and autograded for: solved, blank, and each wrong answer."""
    root = make_course(tmp_path_factory.mktemp("course"))
    generate_assignments(root, ASSIGNMENTS)
    students = set()
    for name in ASSIGNMENTS:
        release_nb = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        source_nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        solved = solved_submission(release_nb, source_nb)
        submissions = {"solved": solved, "blank": release_nb}
        for wrong in WRONG_ANSWERS.get(name, []):
            submissions[wrong.student] = replace_in_answer(solved, wrong.answer, wrong.old, wrong.new)
        for student, nb in submissions.items():
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
        students |= set(submissions)
    url = f"sqlite:///{root / 'gradebook.db'}"
    with Gradebook(url) as gradebook:  # before two apps could each try to add the same student
        for student in sorted(students):
            gradebook.update_or_create_student(student)
    results = in_parallel([lambda env, name=name: run_nbgrader(
        ["autograde", name, f"--CourseDirectory.db_url={url}?timeout=600"], root, env=env) for name in ASSIGNMENTS])
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def validated(course):
    """{(assignment, student): nbgrader validate's CompletedProcess} for the solved and the blank notebook."""
    runs = [(a, s) for a in ASSIGNMENTS for s in ("solved", "blank")]
    results = in_parallel([lambda env, a=a, s=s: run_nbgrader(["validate", f"submitted/{s}/{a}/{a}.ipynb"], course,
                                                              env=env) for a, s in runs])
    return dict(zip(runs, results))


def cell_scores(root, assignment, student):
    """{grade_id: (score, max_score)} of one autograded notebook, read from nbgrader's gradebook."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}


def cell_outputs(root, assignment, student, grade_ids):
    """What the autograded notebook shows under the cells `grade_ids` (for a failure message)."""
    nb = nbformat.read(root / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    shown = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in grade_ids:
            texts = [o.get("text") or "\n".join(o.get("traceback", [])) or str(o.get("data", ""))
                     for o in cell.get("outputs", [])]
            shown.append(f"--- {grade_id}:\n" + "\n".join(texts))
    return "\n".join(shown)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solved_notebook_scores_full_marks(course, assignment):
    scores = cell_scores(course, assignment, "solved")
    assert scores, "no graded cells found"
    assert {cell: s for cell, s in scores.items() if s[0] != s[1]} == {}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_untouched_release_scores_zero(course, assignment):
    scores = cell_scores(course, assignment, "blank")
    assert sum(score for score, _ in scores.values()) == 0
    assert sum(max_score for _, max_score in scores.values()) > 0


@pytest.mark.parametrize("assignment,wrong", [(a, w) for a in ASSIGNMENTS for w in WRONG_ANSWERS.get(a, [])],
                         ids=lambda v: getattr(v, "student", v))
def test_wrong_answer_loses_exactly_its_exercise(course, assignment, wrong):
    scores = cell_scores(course, assignment, wrong.student)
    lost = {cell for cell, (score, max_score) in scores.items() if score != max_score}
    assert lost == set(wrong.loses), cell_outputs(course, assignment, wrong.student, lost ^ set(wrong.loses))
    assert all(scores[cell][0] == 0 for cell in wrong.loses)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_validate_passes_solved_and_fails_blank(validated, assignment):
    solved, blank = validated[(assignment, "solved")], validated[(assignment, "blank")]
    assert "Success! Your notebook passes all the tests." in solved.stdout, solved.stdout + solved.stderr
    assert "VALIDATION FAILED" in blank.stdout, blank.stdout + blank.stderr


def visible_text(page):
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def hidden_lines(assignment, root):
    source = nbformat.read(root / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    lines = []
    for cell in source.cells:
        for region in HIDDEN_REGION.findall(cell.source):
            lines += [line.strip() for line in region.splitlines()[1:-1] if len(line.strip()) > 15]
    return lines


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_feedback_never_shows_hidden_tests(course, assignment):
    result = run_nbgrader(["generate_feedback", assignment], course)
    assert result.returncode == 0, result.stdout + result.stderr
    secret = hidden_lines(assignment, course)
    assert secret, "this assignment has no hidden tests to protect"
    pages = list((course / "feedback").glob(f"*/{assignment}/*.html"))
    assert {p.parts[-3] for p in pages} >= {"solved", "blank"}
    for page in pages:
        text = visible_text(page.read_text(encoding="utf-8"))
        assert "BEGIN HIDDEN TESTS" not in text
        assert [line for line in secret if line in text] == [], page


@pytest.mark.skipif("01_to_categorical" not in ASSIGNMENTS, reason="KBH_ONLY leaves 01 out")
def test_feedback_shows_a_failed_check_as_the_notebook_does(course):
    """A visible and a hidden check of the wrong answer "num_classes is max(y)": each shows the note the
    student's notebook shows (heading, message, hint), no frame."""
    page = course / "feedback" / "num-classes-is-max" / "01_to_categorical" / "01_to_categorical.html"
    body = re.sub(r"(?s)<(style|script)\b.*?</\1>", "", page.read_text(encoding="utf-8"))
    text = " ".join(visible_text(body).split())
    assert text.count("\u2717 to_categorical is not right yet") == 2
    assert "usually has this mistake: num_classes is max(y) instead of max(y) + 1" in text
    at = text.find("Traceback")
    assert at < 0 and "autograder/" not in text, text[at - 300:at + 300]
    assert RECORD_MIME not in page.read_text(encoding="utf-8") and "input_size" not in text


@pytest.mark.skipif("01_to_categorical" not in ASSIGNMENTS, reason="KBH_ONLY leaves 01 out")
def test_a_failed_check_leaves_a_record_in_the_autograded_notebook(course):
    """For the class report: the failed cells of "num_classes is max(y)" hold a record naming the mistake; the
    cells it passes hold none."""
    nb = nbformat.read(course / "autograded" / "num-classes-is-max" / "01_to_categorical" / "01_to_categorical.ipynb",
                       as_version=4)
    records = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if RECORD_MIME in output.get("data", {}):
                records[output["data"][RECORD_MIME]["grade_id"]] = output["data"][RECORD_MIME]
    assert set(records) == {"to_categorical_check", "to_categorical_hidden"}
    for record in records.values():
        assert record["exercise"] == "to_categorical" and record["kind"] in KINDS
        assert record["mistake"] == "num-classes-is-max-y-instead-of-max", record
        assert record["input_size"] >= 1


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_hidden_tests_would_leak_without_the_course_preprocessor(course, assignment):
    """The autograded notebook that feedback is made from contains the hidden tests; the preprocessor is what
    removes them (so the feedback test above can fail)."""
    graded = nbformat.read(course / "autograded" / "blank" / assignment / f"{assignment}.ipynb", as_version=4)
    secret = hidden_lines(assignment, course)
    before = "\n".join(c.source + str(c.get("outputs", "")) for c in graded.cells)
    assert any(line in before for line in secret)
    cleaned, _ = HideHiddenTests().preprocess(graded, {})
    after = "\n".join(c.source + str(c.get("outputs", "")) for c in cleaned.cells)
    assert [line for line in secret if line in after] == []


def test_export_writes_one_row_per_student_and_assignment(course):
    result = run_nbgrader(["export", "--to", "grades.csv"], course)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(course / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    solved = [r for r in rows if r["student_id"] == "solved"]
    assert len(solved) == len(ASSIGNMENTS)
    assert all(float(r["score"]) == float(r["max_score"]) > 0 for r in solved)
    assert all(float(r["score"]) == 0 for r in rows if r["student_id"] == "blank")


def test_the_class_report_shows_each_wrong_answer_where_it_fails(course):
    """The class report over this course: every wrong answer's student is behind a failure in exactly the cells
    it loses, each a check's own record (not a bare error), and behind exactly its named mistakes; each named
    mistake lists exactly the students whose wrong answer makes it; the solved student is behind none."""
    from autograder.class_grading.report import build_tables, failures_by_student, read_course

    tables = {t["assignment"]: t for t in build_tables(read_course(course, ASSIGNMENTS))["assignments"]}
    wrong_cells, wrong_mistakes, wrong_makers = [], [], []
    for assignment in ASSIGNMENTS:
        failed = failures_by_student(tables[assignment])
        assert "solved" not in failed
        for wrong in WRONG_ANSWERS.get(assignment, []):
            lost = failed.get(wrong.student, {})
            if set(lost) != set(wrong.loses) or "error" in {kind for kind, _ in lost.values()}:
                wrong_cells.append((assignment, wrong.student, lost))
            named = {mistake for _, mistake in lost.values() if mistake}
            if named != set(wrong.mistakes):
                wrong_mistakes.append((assignment, wrong.student, sorted(named)))
        behind = {}  # {mistake id: students behind it in any check}
        for row in tables[assignment]["mistakes"]:
            if row["mistake"]:
                behind.setdefault(row["mistake"], set()).update(row["students"])
        for mistake, students in behind.items():
            makers = {w.student for w in WRONG_ANSWERS.get(assignment, []) if mistake in w.mistakes}
            if students != makers:
                wrong_makers.append((assignment, mistake, sorted(students), sorted(makers)))
    assert wrong_cells == [], "wrong answers whose failed cells (or their kinds) are not as registered"
    assert wrong_mistakes == [], "wrong answers whose named mistakes are not their `mistakes`"
    assert wrong_makers == [], "named mistakes whose students are not the wrong answers that make them"
