"""The instructor's class report (autograder/class_grading/report.py) on synthetic courses built in a temporary folder.

The gradebook is made with nbgrader's own API (as nbgrader's tests/api do) and the autograded notebooks with
nbformat, holding failure records as the checks write them; nbgrader's autograde is never run. Known inputs,
exact tables; 200 students × 9 assignments within 30 s; the HTML in Debian's Chromium (as tests/test_browser.py
drives it), with a screenshot in tests/screenshots/class-report.png.
"""
import csv
import json
import random
import statistics
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.class_grading import report as class_report
from autograder.class_grading.report import RECORD_MIME, write_report
from autograder.class_grading.grade import _path_with_python_bin

from conftest import SCREENSHOTS
ZOE = "zoe<b>"  # a student id that must be escaped

# the small course: assignment a1, checks in notebook order with their points
A1_CHECKS = {"foo_check": 1, "foo_hidden": 1, "bar_check": 2, "baz_check": 1, "qux_check": 1, "nope_check": 1,
             "odd_check": 1}
A1_SCORES = {  # student: points per check, in A1_CHECKS order
    "alice": [1, 1, 2, 1, 1, 0, 0],
    "bob": [0, 0, 2, 1, 1, 0, 0],
    "carol": [0, 1, 0, 1, 1, 0, 0],
    "dave": [0, 0, 0, 1, 1, 0, 1],
    ZOE: [0, 0, 0, 0, 1, 0, 1],
}
OFF_BY_ONE = {"kind": "wrong_values", "mistake": "off-by-one", "mistake_text": "num_classes is max(y)"}
A1_RECORDS = {  # (student, check): the record of a failed cell; a failed cell not listed has none
    ("bob", "foo_check"): OFF_BY_ONE,
    ("bob", "foo_hidden"): {"kind": "raised"},
    ("carol", "foo_check"): OFF_BY_ONE,
    ("dave", "foo_check"): {"kind": "wrong_shape", "mistake": "transposed", "mistake_text": "rows & columns <swapped>"},
    ("dave", "foo_hidden"): {"kind": "raised"},
    (ZOE, "foo_check"): {**OFF_BY_ONE, "mistake_text": "num_classes is max(y) <script>"},
    (ZOE, "foo_hidden"): {"kind": "raised"},
    (ZOE, "bar_check"): {"kind": "not_implemented"},
    ("alice", "odd_check"): {"kind": "wrong_values", "exercise": "oddity"},
    ("bob", "nope_check"): {"kind": "timed_out"},
}
STUDENTS = sorted([*A1_SCORES, "frank"])  # frank is in the gradebook and hands in nothing


def record(grade_id, kind, mistake=None, mistake_text=None, exercise=None):
    return {"exercise": exercise, "grade_id": grade_id, "kind": kind, "mistake": mistake,
            "mistake_text": mistake_text, "input_size": 3}


def notebook(checks, records, timing=None):
    """An autograded notebook: one code cell per check (grade cells as nbgrader marks them), a record output in
    each failed cell that has one, and nbclient's execution timestamps when `timing` = (start, end) is given."""
    cells = [nbformat.v4.new_markdown_cell("# An assignment")]
    for grade_id, points in checks.items():
        cell = nbformat.v4.new_code_cell(f"check_{grade_id}()", execution_count=len(cells))
        cell.metadata["nbgrader"] = {"grade": True, "grade_id": grade_id, "points": points, "solution": False,
                                     "locked": True, "schema_version": 3}
        if grade_id in records:
            cell.outputs.append(nbformat.v4.new_output("display_data", data={
                RECORD_MIME: records[grade_id], "text/plain": f"✗ {grade_id}"}))
        if timing:
            cell.metadata["execution"] = {"iopub.execute_input": timing[0], "shell.execute_reply": timing[1]}
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


def course_root(tmp_path):
    _path_with_python_bin()  # nbgrader's gradebook runs `alembic`
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    return root


def gradebook(root):
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{root / 'gradebook.db'}")


def write_notebook(root, student, assignment, nb):
    path = root / "autograded" / student / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    """a1 as above (plus a manually graded markdown cell, which is no check); a2 with one check, handed in by
    alice and bob only, whose notebooks carry execution timestamps (2.5 s and 4 s)."""
    root = course_root(tmp_path_factory.mktemp("small"))
    with gradebook(root) as gb:
        for student in STUDENTS:
            gb.add_student(student)
        gb.add_assignment("a1")
        gb.add_notebook("a1", "a1")
        for grade_id, points in A1_CHECKS.items():
            gb.add_grade_cell(grade_id, "a1", "a1", max_score=points, cell_type="code")
        gb.add_grade_cell("written_answer", "a1", "a1", max_score=5, cell_type="markdown")
        for student, points in A1_SCORES.items():
            gb.add_submission("a1", student)
            for grade_id, score in zip(A1_CHECKS, points):
                grade = gb.find_grade(grade_id, "a1", "a1", student)
                grade.auto_score, grade.needs_manual_grade = score, False
            gb.db.commit()
        gb.add_assignment("a2")
        gb.add_notebook("a2", "a2")
        gb.add_grade_cell("x_check", "a2", "a2", max_score=3, cell_type="code")
        for student, score in (("alice", 3), ("bob", 0)):
            gb.add_submission("a2", student)
            gb.find_grade("x_check", "a2", "a2", student).auto_score = score
            gb.db.commit()
    for student in A1_SCORES:
        records = {g: record(g, **r) for (s, g), r in A1_RECORDS.items() if s == student}
        write_notebook(root, student, "a1", notebook(A1_CHECKS, records))
    write_notebook(root, "alice", "a2", notebook({"x_check": 3}, {}, ("2024-05-01T10:00:00.000Z",
                                                                       "2024-05-01T10:00:02.500Z")))
    write_notebook(root, "bob", "a2", notebook({"x_check": 3}, {"x_check": record("x_check", "raised")},
                                               ("2024-05-01T10:00:00Z", "2024-05-01T10:00:04Z")))
    out = root / "reports"
    tables = write_report(root)
    return root, out, tables


def by_name(tables, assignment):
    return next(t for t in tables["assignments"] if t["assignment"] == assignment)


def test_the_module_imports_without_matplotlib():
    import subprocess
    import sys

    code = "import sys, autograder.class_grading.report; print('matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).parents[1])
    assert done.stdout.split() == ["False"]


def test_summary_and_not_submitted(small_course):
    _, _, tables = small_course
    assert [t["assignment"] for t in tables["assignments"]] == ["a1", "a2"]  # default: every assignment
    totals = {s: sum(p) for s, p in A1_SCORES.items()}
    a1 = by_name(tables, "a1")
    assert a1["totals"] == totals
    assert a1["summary"] == {"students": 6, "submitted": 5, "max_score": 8.0, "mean": 3.6, "median": 3,
                             "full_marks": 0, "zeros": 0, "not_submitted": ["frank"]}
    a2 = by_name(tables, "a2")["summary"]
    assert (a2["submitted"], a2["full_marks"], a2["zeros"]) == (2, 1, 1)
    assert a2["not_submitted"] == sorted(["carol", "dave", "frank", ZOE])


def test_checks_pass_rates_kinds_and_exercises(small_course):
    checks = {c["check"]: c for c in by_name(small_course[2], "a1")["checks"]}
    assert list(checks) == list(A1_CHECKS)  # notebook order; the markdown grade cell is not a check
    passed = {g: [s for s, p in A1_SCORES.items() if p[i] >= A1_CHECKS[g]] for i, g in enumerate(A1_CHECKS)}
    for g, c in checks.items():
        assert (c["passed"], c["students"]) == (len(passed[g]), 5), g
        assert c["pass_rate"] == c["difficulty"] == len(passed[g]) / 5, g
    assert checks["foo_check"]["kinds"] == {
        "wrong_values": {"count": 3, "students": ["bob", "carol", ZOE]},
        "wrong_shape": {"count": 1, "students": ["dave"]}}
    assert checks["foo_hidden"]["kinds"] == {"raised": {"count": 3, "students": ["bob", "dave", ZOE]}}
    # failed without a record: "error"
    assert checks["bar_check"]["kinds"] == {"error": {"count": 2, "students": ["carol", "dave"]},
                                            "not_implemented": {"count": 1, "students": [ZOE]}}
    assert checks["nope_check"]["kinds"] == {"error": {"count": 4, "students": ["alice", "carol", "dave", ZOE]},
                                             "timed_out": {"count": 1, "students": ["bob"]}}
    assert checks["qux_check"]["kinds"] == {}
    assert {g: c["exercise"] for g, c in checks.items()} == {
        "foo_check": "foo", "foo_hidden": "foo", "bar_check": "bar", "baz_check": "baz", "qux_check": "qux",
        "nope_check": "nope", "odd_check": "oddity"}  # the record's exercise wins


def test_mistakes_most_common_first_with_their_students(small_course):
    mistakes = by_name(small_course[2], "a1")["mistakes"]
    assert mistakes[0]["count"] == 4 and (mistakes[0]["check"], mistakes[0]["kind"]) == ("nope_check", "error")
    assert mistakes[1] == {"check": "foo_check", "exercise": "foo", "kind": "wrong_values", "mistake": "off-by-one",
                           "mistake_text": "num_classes is max(y)", "count": 3, "students": ["bob", "carol", ZOE]}
    counts = [m["count"] for m in mistakes]
    assert counts == sorted(counts, reverse=True)
    assert {(m["check"], m["kind"], m["mistake"]): m["students"] for m in mistakes} == {
        ("foo_check", "wrong_values", "off-by-one"): ["bob", "carol", ZOE],
        ("foo_check", "wrong_shape", "transposed"): ["dave"],
        ("foo_hidden", "raised", None): ["bob", "dave", ZOE],
        ("bar_check", "error", None): ["carol", "dave"],
        ("bar_check", "not_implemented", None): [ZOE],
        ("baz_check", "error", None): [ZOE],
        ("nope_check", "error", None): ["alice", "carol", "dave", ZOE],
        ("nope_check", "timed_out", None): ["bob"],
        ("odd_check", "wrong_values", None): ["alice"],
        ("odd_check", "error", None): ["bob", "carol"]}
    # a named mistake comes before an unnamed failure of the same count
    assert mistakes.index(next(m for m in mistakes if m["mistake"] == "transposed")) < \
        mistakes.index(next(m for m in mistakes if m["kind"] == "not_implemented"))


def test_item_analysis_against_numpy(small_course):
    checks = {c["check"]: c for c in by_name(small_course[2], "a1")["checks"]}
    students = sorted(A1_SCORES)
    scores = np.array([A1_SCORES[s] for s in students], dtype=float)
    points = np.array(list(A1_CHECKS.values()), dtype=float)
    totals = scores.sum(axis=1)
    for i, g in enumerate(A1_CHECKS):
        passed = (scores[:, i] >= points[i]).astype(float)
        rest = totals - scores[:, i]
        if passed.std() == 0:
            assert checks[g]["point_biserial"] is None, g
            assert checks[g]["upper_lower"] == 0.0, g
            continue
        assert checks[g]["point_biserial"] == pytest.approx(np.corrcoef(passed, rest)[0, 1], abs=1e-12), g
        # with the check itself in the total, r would be another number: the test can tell the two apart
        assert abs(checks[g]["point_biserial"] - np.corrcoef(passed, totals)[0, 1]) > 0.01, g
        # 27% of 5 students is one: the best minus the weakest student by the rest of the assignment
        order = sorted(range(5), key=lambda k: (-rest[k], k))
        assert checks[g]["upper_lower"] == passed[order[0]] - passed[order[-1]], g
    assert checks["odd_check"]["point_biserial"] < 0
    assert checks["odd_check"]["upper_lower"] == -1.0
    assert {g: c["flags"] for g, c in checks.items()} == {
        "foo_check": [], "foo_hidden": [], "bar_check": [], "baz_check": [],
        "qux_check": ["everybody passes"], "nope_check": ["nobody passes"],
        "odd_check": ["discrimination below 0.2"]}


@pytest.mark.parametrize("rest, flagged", [([6, 4, 6, 5, 5, 5, 4, 6, 5, 5], True),  # r = 0.14
                                           ([7, 4, 5, 6, 5, 5, 5, 5, 4, 4], False)])  # r = 0.22
def test_low_discrimination_flag(rest, flagged):
    students = [f"s{i}" for i in range(10)]
    passed = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
    assignment = {"checks": {"t_check": {"notebook": "n", "max_score": 1.0},
                             "rest_check": {"notebook": "n", "max_score": 10.0}},
                  "order": ["t_check", "rest_check"], "records": {},
                  "scores": {s: {"t_check": p, "rest_check": r} for s, p, r in zip(students, passed, rest)}}
    check = class_report.assignment_tables("n", assignment, students)["checks"][0]
    assert check["point_biserial"] == pytest.approx(np.corrcoef(passed, rest)[0, 1])
    assert check["flags"] == (["discrimination below 0.2"] if flagged else [])


def test_upper_lower_uses_27_percent():
    # 10 students: round(2.7) = 3 in each group
    passed = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
    rest = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]
    assert class_report.upper_lower_index(passed, rest) == pytest.approx(2 / 3 - 0)
    assert class_report.upper_lower_index(passed[::-1], rest[::-1]) == pytest.approx(2 / 3)


def test_heatmap_and_timing(small_course):
    tables = small_course[2]
    a1 = by_name(tables, "a1")
    assert a1["exercises"] == ["foo", "bar", "baz", "qux", "nope", "oddity"]
    assert a1["heatmap"]["carol"] == {"foo": 0.5, "bar": 0.0, "baz": 1.0, "qux": 1.0, "nope": 0.0, "oddity": 0.0}
    assert a1["heatmap"][ZOE]["oddity"] == 1.0
    assert "frank" not in a1["heatmap"]
    assert a1["timing"] is None  # no timestamps in a1's notebooks and no grade_class results
    timing = by_name(tables, "a2")["timing"]
    assert timing["source"] == "notebook"
    assert timing["per_student"] == {"alice": 2.5, "bob": 4.0}
    assert (timing["median"], timing["max"]) == (3.25, 4.0)


def test_grade_class_timings_win(small_course, tmp_path):
    root = small_course[0]
    tables = write_report(root, ["a1"], tmp_path, timings={("alice", "a1"): 7.0, ("bob", "a1"): 5.0,
                                                           ("alice", "a2"): 1.0})
    assert [t["assignment"] for t in tables["assignments"]] == ["a1"]
    timing = tables["assignments"][0]["timing"]
    assert (timing["source"], timing["per_student"], timing["median"]) == ("grade_class", {"alice": 7.0,
                                                                                          "bob": 5.0}, 6.0)
    assert "7.0 s" in (tmp_path / "report.html").read_text()


def test_files_html_escaped_json_csv(small_course):
    _, out, tables = small_course
    page = (out / "report.html").read_text()
    assert ZOE not in page and "zoe&lt;b&gt;" in page
    assert "<script>" not in page and "rows &amp; columns &lt;swapped&gt;" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch
    assert "more, less common" not in page  # 10 rows: all shown
    assert page.count("data:image/png;base64,") == 4  # a histogram and a heat map per assignment
    assert "<details><summary>3 students</summary><div>bob, carol, zoe&lt;b&gt;</div></details>" in page
    assert "No timing" in page  # a1
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(tables))
    with open(out / "mistakes.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    second = rows[1]
    assert (second["assignment"], second["check"], second["mistake"], second["count"], second["students"]) == \
        ("a1", "foo_check", "off-by-one", "3", f"bob carol {ZOE}")
    with open(out / "summary.csv", newline="") as file:
        summary = {r["assignment"]: r for r in csv.DictReader(file)}
    assert summary["a1"]["not_submitted"] == "frank"
    assert {p.name for p in out.iterdir()} == {"report.html", "report.json", "summary.csv", "checks.csv",
                                               "mistakes.csv", "heatmap.csv", "timing.csv"}


def test_command_line(small_course, tmp_path, capsys):
    root = small_course[0]
    assert class_report.main(["--course", str(root), "a2", "--out", str(tmp_path)]) == 0
    assert json.loads((tmp_path / "report.json").read_text())["assignments"][0]["assignment"] == "a2"
    assert class_report.main(["--course", str(root), "nope"]) == 2
    assert "no assignment 'nope'" in capsys.readouterr().err


# --- a large synthetic class ----------------------------------------------------------------------------

MISTAKES = [("wrong_values", "off-by-one", "an index one too far"),
            ("wrong_shape", "transposed", "rows and columns swapped"),
            ("wrong_values", "no-bias", "the bias is left out"),
            ("wrong_values", "wrong-axis", "summed over the wrong axis")]


def synthetic_class(root, students, assignments, checks_per_assignment=8, seed=0):
    """A class whose students have an ability each; a check is passed with a probability that grows with it. The
    gradebook rows are added as Gradebook.add_submission adds them (nbgrader's ORM), committed once per
    assignment for speed; the notebooks are written as JSON."""
    from nbgrader.api import Grade, SubmittedAssignment, SubmittedNotebook

    rng = random.Random(seed)
    ids = [f"student{i:03d}" for i in range(students)]
    ability = {s: rng.random() for s in ids}
    with gradebook(root) as gb:
        for s in ids:
            gb.add_student(s)
        for a in range(assignments):
            name = f"{a:02d}_topic"
            gb.add_assignment(name)
            gb.add_notebook(name, name)
            grade_ids = [f"ex{e}_{part}" for e in range(checks_per_assignment // 2) for part in ("check", "hidden")]
            cells = {g: gb.add_grade_cell(g, name, name, max_score=1 + (g.endswith("hidden")), cell_type="code")
                     for g in grade_ids}
            assignment = gb.find_assignment(name)
            notebook_row = assignment.notebooks[0]
            for s in ids:
                if rng.random() < 0.05:
                    continue  # not submitted
                submission = SubmittedAssignment(assignment=assignment, student=gb.find_student(s))
                nb = SubmittedNotebook(notebook=notebook_row, assignment=submission)
                records, cell_json = {}, []
                for g in grade_ids:
                    hard = 0.3 + 0.5 * (int(g[2]) / checks_per_assignment)
                    ok = rng.random() < ability[s] + 0.5 - hard
                    Grade(cell_id=cells[g].id, notebook=nb, auto_score=cells[g].max_score if ok else 0,
                          needs_manual_grade=False)
                    outputs = []
                    if not ok:  # each check has its typical mistakes; some failures are not named
                        typical = MISTAKES[grade_ids.index(g) % len(MISTAKES):][:2] + [("raised", None, None)]
                        kind, mistake, text = rng.choice(typical)
                        outputs.append({"output_type": "display_data", "metadata": {}, "data": {
                            RECORD_MIME: record(g, kind, mistake, text), "text/plain": "failed"}})
                    cell_json.append({"cell_type": "code", "execution_count": 1, "source": "", "outputs": outputs,
                                      "metadata": {"nbgrader": {"grade": True, "grade_id": g, "points": 1}}})
                gb.db.add(submission)
                path = root / "autograded" / s / name / f"{name}.ipynb"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps({"cells": cell_json, "metadata": {}, "nbformat": 4,
                                            "nbformat_minor": 5}))
            gb.db.commit()
    return ids


def test_200_students_9_assignments_under_30_s(tmp_path):
    root = course_root(tmp_path)
    synthetic_class(root, 200, 9)
    started = time.perf_counter()
    tables = write_report(root)
    seconds = time.perf_counter() - started
    print(f"class report of 200 students × 9 assignments: {seconds:.1f} s")
    assert seconds < 30
    assert len(tables["assignments"]) == 9
    first = tables["assignments"][0]
    assert first["summary"]["submitted"] + len(first["summary"]["not_submitted"]) == 200
    assert all(c["students"] == first["summary"]["submitted"] for c in first["checks"])
    # ability drives every check: discrimination is clearly positive
    assert statistics.mean(c["point_biserial"] for c in first["checks"]) > 0.3


# --- in a real browser ----------------------------------------------------------------------------------

def test_report_in_chromium(chromium, small_course, tmp_path):
    root = course_root(tmp_path)
    synthetic_class(root, 24, 2, seed=3)
    write_report(root, timings={(f"student{i:03d}", "00_topic"): 3.0 + i / 10 for i in range(24)})
    for report in (root / "reports" / "report.html", small_course[1] / "report.html"):
        page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors, requests = [], []
        page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(report.as_uri(), wait_until="load")
        images = page.evaluate("Array.from(document.images).map(i => i.complete && i.naturalWidth > 0)")
        assert images and all(images), report
        assert errors == [], report
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
        if report.parent.parent == root:
            page.locator("details").first.click()  # open one list of students
            assert page.locator("details[open] div").first.is_visible()
            page.screenshot(path=str(SCREENSHOTS / "class-report.png"), full_page=True)
        else:
            assert page.locator("text=zoe<b>").count() > 0  # shown as text, not markup
        page.context.close()
