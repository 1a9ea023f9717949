"""`python -m autograder.class_grading.grade` (grading a class in parallel) and `python -m autograder.tools.benchmark`.

Kept small for CI: only 01_to_categorical (the fastest notebook), a handful of students, and trimmed notebooks
(without the closing Keras demo) where only the grading itself is under test.
"""
import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path, PurePosixPath

import nbformat
import pytest

from autograder.tools import benchmark
from autograder.class_grading import grade as grade_class
from autograder.class_grading import lms_import
from autograder.tools.course import generate_assignments, make_course, replace_in_answer, solved_submission
from autograder.grading.preprocessors import HIDDEN_REGION
from redteam.cases import trimmed

ASSIGNMENT = "01_to_categorical"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
# Sandbox uids of these tests' grader processes (each worker uses UID_BASE + i): not shared with other gradings.
UID_BASE = int(os.environ.get("KBH_TEST_UID_BASE", 64040))


def run_module(module, *args, timeout=900):
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, "-m", module, *args], text=True, capture_output=True, env=env,
                          timeout=timeout)


# --- the benchmark at its smallest: plain nbgrader and grade_class on the same class -----------------------

@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    base = tmp_path_factory.mktemp("benchmark")
    result = run_module("autograder.tools.benchmark", "--students", "3", "--assignments", ASSIGNMENT, "--workers", "2",
                        "--uid-base", str(UID_BASE), "--keep", str(base))
    return base, result


def test_benchmark_reports_identical_scores_and_a_ratio(bench):
    base, result = bench
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Scores: identical" in result.stdout
    ratio = re.search(r"Wall time: plain nbgrader ([\d.]+) s, grade_class ([\d.]+) s with 2 workers: ratio ([\d.]+)x",
                      result.stdout)
    assert ratio, result.stdout
    plain, fast, shown = map(float, ratio.groups())
    assert abs(plain / fast - shown) < 0.01


def test_benchmark_prints_each_notebooks_time_and_slowest_visible_check(bench):
    _, result = bench
    row = re.search(rf"^  {ASSIGNMENT}\s+([\d.]+)(?:\s+[\d.]+){{8}}\s+(\w+_check) ([\d.]+)s", result.stdout, re.M)
    assert row, result.stdout
    top_to_bottom, check, seconds = float(row.group(1)), row.group(2), float(row.group(3))
    assert 0 < seconds < top_to_bottom
    assert check in {"to_categorical_check", "from_categorical_check"}


def test_grade_class_gradebook_equals_sequential_nbgrader(bench):
    """Every cell score of the parallel run equals plain sequential `nbgrader autograde`'s, on a class with a
    right, a wrong and a broken (syntax error) submission."""
    base, _ = bench
    plain = benchmark.cell_scores(base / "plain")
    fast = benchmark.cell_scores(base / "grade_class")
    assert plain == fast
    totals = {}
    for (student, *_), (score, _) in plain.items():
        totals[student] = totals.get(student, 0) + score
    assert sorted(totals.values()) == [2.0, 6.0, 8.0]  # syntax error, wrong answer, correct
    assert benchmark.read_grades_csv(base / "plain" / "grades.csv") == \
        benchmark.read_grades_csv(base / "grade_class" / "grades.csv")


def test_the_class_report_of_the_synthetic_class_shows_what_each_student_handed_in(bench):
    """The class report of the benchmark's class, graded by grade_class: the correct notebook fails nothing; the
    registered wrong answer fails exactly the cells it loses, under exactly its named mistakes; the notebook with
    a syntax error fails only with records saying its function was never defined, never a bare error."""
    from autograder.class_grading.report import build_tables, failures_by_student, read_course
    from wrong_answers import WRONG_ANSWERS

    root = bench[0] / "grade_class"
    handed_in = json.loads((root / benchmark.CLASS_FILE).read_text())
    failed = failures_by_student(build_tables(read_course(root, [ASSIGNMENT]))["assignments"][0])
    assert sorted(entry["kind"] for entry in handed_in) == ["correct", "syntax error", "wrong answer"]
    for entry in handed_in:
        lost = failed.get(entry["student"], {})
        if entry["kind"] == "correct":
            assert lost == {}
        elif entry["kind"] == "wrong answer":
            wrong = next(w for w in WRONG_ANSWERS[ASSIGNMENT] if w.student == entry["wrong_answer"])
            assert set(lost) == set(wrong.loses)
            assert {mistake for _, mistake in lost.values() if mistake} == set(wrong.mistakes)
        else:
            assert lost and {kind for kind, _ in lost.values()} == {"not_defined"}, lost


def test_the_synthetic_class_mixes_right_wrong_and_broken_submissions():
    assert {"correct", "wrong answer", "syntax error", "raises", "missing function", "blank"} <= set(benchmark.KINDS)
    assert benchmark.KINDS[:3] == ["correct", "wrong answer", "syntax error"]  # what a 3-student class gets


# --- a class with bad input, graded in parallel -----------------------------------------------------------

def write(root, relative, content):
    path = root / "submitted" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        nbformat.write(content, path)


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    """alice and erin are right (erin also uploaded a blank copy), bob is wrong; carol's notebook is not JSON,
    dave's is under the wrong name, frank's assignment does not exist, and an assignment folder sits where a
    student belongs."""
    root = make_course(tmp_path_factory.mktemp("messy") / "course")
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solved = trimmed(solved_submission(release, nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)))
    write(root, f"alice/{ASSIGNMENT}/{NOTEBOOK}", solved)
    write(root, f"bob/{ASSIGNMENT}/{NOTEBOOK}", replace_in_answer(solved, "from_categorical_answer",
                                                                   "np.argmax(scores, axis=-1)",
                                                                   "np.argmax(scores, axis=0)"))
    write(root, f"carol/{ASSIGNMENT}/{NOTEBOOK}", b"{this is not json")
    write(root, f"dave/{ASSIGNMENT}/Untitled.ipynb", solved)
    write(root, f"erin/{ASSIGNMENT}/{NOTEBOOK}", solved)
    write(root, f"erin/{ASSIGNMENT}/{ASSIGNMENT} (1).ipynb", release)
    write(root, f"frank/99_no_such_assignment/99_no_such_assignment.ipynb", solved)
    write(root, f"{ASSIGNMENT}/{NOTEBOOK}", solved)
    write(root, ".DS_Store", b"junk")
    report = root.parent / "report.json"
    result = run_module("autograder.class_grading.grade", ASSIGNMENT, "99_no_such_assignment", "--course", str(root),
                        "--workers", "2", "--uid-base", str(UID_BASE), "--json", str(report),
                        "--log-dir", str(root.parent / "logs"))
    return root, result, json.loads(report.read_text())


def test_a_second_checkout_with_the_first_ones_package_grades_nothing_and_says_why(tmp_path):
    """A course root with its own copy of the package while the environment's editable install is another
    (a second checkout of the course, its venv pointing at the first): the check before grading names both
    copies, nothing is graded or recorded, and the exit code is 1, instead of zeros with exit code 0."""
    root = make_course(tmp_path / "second-checkout")
    shutil.copytree(Path(grade_class.__file__).parents[1], root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__"))
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    write(root, f"alice/{ASSIGNMENT}/{NOTEBOOK}", solved_submission(
        release, nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)))
    result = run_module("autograder.class_grading.grade", ASSIGNMENT, "--course", str(root), "--workers", "1",
                        "--uid-base", str(UID_BASE), "--no-feedback")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Nothing was graded: grading does not work here." in result.stderr
    assert "two copies of the course's package" in result.stderr and str(root / "autograder") in result.stderr
    assert not (root / "autograded").exists() and benchmark.cell_scores(root) == {}


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGINT"])
def test_killed_mid_run_then_run_again_each_notebook_is_graded_once_with_its_real_score(tmp_path, stop):
    """grade_class killed with SIGKILL while it grades (as the OOM killer or a power cut would), or interrupted
    (Ctrl-C: SIGINT to its whole process group, as a terminal sends it), then run again: the notebook it was cut
    off in is graded again, not skipped as "already autograded" and kept as 0; every score equals an undisturbed
    run's, submitted/ is untouched, and the summary says what was graded again."""
    import hashlib
    import signal
    import threading
    import time

    root = make_course(tmp_path / "course")
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solved = trimmed(solved_submission(release, nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)))
    wrong = replace_in_answer(solved, "from_categorical_answer", "np.argmax(scores, axis=-1)",
                              "np.argmax(scores, axis=0)")
    expected = {"alice": 8.0, "bob": 6.0, "carol": 8.0, "dave": 6.0}
    for student, total in expected.items():
        write(root, f"{student}/{ASSIGNMENT}/{NOTEBOOK}", solved if total == 8.0 else wrong)

    def digest():
        return hashlib.sha256(b"".join(p.read_bytes() for p in sorted((root / "submitted").rglob("*.ipynb")))).hexdigest()

    before = digest()
    command = [sys.executable, "-m", "autograder.class_grading.grade", ASSIGNMENT, "--course", str(root), "--workers",
               "1", "--uid-base", str(UID_BASE), "--no-feedback"]
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    first = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
                             start_new_session=True)
    progress = threading.Event()
    threading.Thread(target=lambda: [progress.set() for line in first.stderr if re.match(r"\[ *1/4\]", line)],
                     daemon=True).start()
    assert progress.wait(300), "grade_class never finished its first notebook"

    tasks = [grade_class.Task(s, ASSIGNMENT) for s in expected]
    # nbgrader writes the sanitized notebook to autograded/ first, then executes it and saves the scores: kill
    # in between, where a plain rerun would skip it as "already autograded"
    deadline = time.monotonic() + 120
    while not grade_class.find_interrupted(root, tasks) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.1)
    os.killpg(first.pid, getattr(signal, stop))  # the command, its worker, the checker and the answer kernel
    assert first.wait(timeout=120) == (-signal.SIGKILL if stop == "SIGKILL" else 130)
    cut_short = grade_class.find_interrupted(root, [grade_class.Task(s, ASSIGNMENT) for s in expected])
    assert cut_short, "the kill left no notebook cut short: the test did not test anything"

    again = run_module("autograder.class_grading.grade", ASSIGNMENT, "--course", str(root), "--workers", "2",
                       "--uid-base", str(UID_BASE), "--no-feedback")
    assert again.returncode == 0, again.stdout + again.stderr
    assert gradebook_totals(root) == expected
    assert f"Graded again ({len(cut_short)}; an earlier grading of each was cut short" in again.stdout, again.stdout
    for task in cut_short:
        assert f"  {task.student}/{ASSIGNMENT}: " in again.stdout
    assert digest() == before
    assert grade_class.find_interrupted(root, [grade_class.Task(s, ASSIGNMENT) for s in expected]) == []


@pytest.mark.parametrize("kills", [1, 2])
def test_a_worker_killed_mid_notebook_is_replaced_and_the_notebook_graded_again(tmp_path, kills):
    """The grader process grading a notebook killed with SIGKILL (as the OOM killer would): a fresh one grades
    that notebook again in the same run, its score is its real one, and the summary says so. Killed a second
    time on the same notebook, it is reported as failed, not tried again, and the rest is graded."""
    import signal
    import time

    root = make_course(tmp_path / "course")
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solved = trimmed(solved_submission(release, nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)))
    expected = {"alice": 8.0, "bob": 8.0}
    for student in expected:
        write(root, f"{student}/{ASSIGNMENT}/{NOTEBOOK}", solved)
    logs, scratch = tmp_path / "logs", tmp_path / "tmp"
    scratch.mkdir()
    command = [sys.executable, "-m", "autograder.class_grading.grade", ASSIGNMENT, "--course", str(root), "--workers",
               "1", "--uid-base", str(UID_BASE), "--no-feedback", "--log-dir", str(logs)]
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
               TMPDIR=str(scratch))
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def grading_now(killed):
        """The pid of the grader process (not yet killed) that is grading alice: her submission is in its
        scratch course root (kbh-grader-<pid>-*/course-*/submitted/)."""
        for folder in scratch.glob(f"kbh-grader-*/course-*/submitted/alice/{ASSIGNMENT}"):
            pid = int(folder.parents[3].name.split("-")[2])
            if pid not in killed and Path(f"/proc/{pid}").exists():
                return pid
        return None

    killed = []
    for _ in range(kills):
        deadline = time.monotonic() + 300
        while not grading_now(killed) and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        victim = grading_now(killed)
        assert victim and run.poll() is None, "no worker was grading alice's notebook"
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
    out, err = run.communicate(timeout=600)
    if kills == 1:
        assert run.returncode == 0, out + err
        assert gradebook_totals(root) == expected
        assert "Graded again (1; an earlier grading of each was cut short" in out, out
        assert "alice/01_to_categorical: the grader process died (or left) while grading it" in out, out
    else:
        assert run.returncode == 1, out + err
        assert ("alice/01_to_categorical: the grader process died (or left) while grading this, 2 times: not tried "
                "again") in out, out
        assert gradebook_totals(root, ["bob"]) == {"bob": 8.0}


def gradebook_totals(root, students=None):
    totals = {}
    for (student, *_), (score, _) in benchmark.cell_scores(root).items():
        if students is None or student in students:
            totals[student] = totals.get(student, 0) + score
    return totals


def test_bad_input_does_not_stop_the_rest(messy):
    root, result, _ = messy
    assert result.returncode == 1, result.stdout + result.stderr
    # carol's unreadable notebook scores 0, as under `nbgrader autograde` (it records the submission, then fails)
    assert gradebook_totals(root) == {"alice": 8.0, "bob": 6.0, "carol": 0.0, "erin": 8.0}


@pytest.mark.parametrize("message", [
    r"carol/01_to_categorical: nbformat\.reader\.NotJSONError: Notebook does not appear to be JSON",
    r"submitted/dave/01_to_categorical: not graded: notebook under the wrong name: found Untitled\.ipynb, "
    r"expected 01_to_categorical\.ipynb",
    r"submitted/erin/01_to_categorical/01_to_categorical \(1\)\.ipynb: duplicate submission: only "
    r"01_to_categorical\.ipynb is graded",
    r"99_no_such_assignment: not graded: there is no assignment '99_no_such_assignment' \(known: .*01_to_categorical",
    r"submitted/01_to_categorical: not graded: unknown student '01_to_categorical': this looks like an assignment "
    r"folder",
], ids=["not-json", "wrong-name", "duplicate", "no-such-assignment", "unknown-student-folder"])
def test_each_bad_input_gets_a_clear_message_in_the_summary(messy, message):
    _, result, _ = messy
    summary = result.stdout
    assert re.search(message, summary), summary


def test_the_duplicate_did_not_replace_the_named_notebook(messy):
    root, _, _ = messy
    graded = nbformat.read(root / "autograded" / "erin" / ASSIGNMENT / NOTEBOOK, as_version=4)
    assert "raise NotImplementedError" not in "".join(c.source for c in graded.cells)


def test_progress_lines_and_summary(messy):
    _, result, report = messy
    progress = re.findall(r"^\[ *(\d+)/(\d+)\] +[\d.]+s  (\w+)  01_to_categorical  (.*?)   \(elapsed", result.stderr,
                          re.M)
    assert sorted(p[2] for p in progress) == ["alice", "bob", "carol", "erin"]
    assert sorted(int(p[0]) for p in progress) == [1, 2, 3, 4] and {p[1] for p in progress} == {"4"}
    assert {p[2]: p[3] for p in progress}["bob"] == "6/8"
    assert re.search(r"^Graded 3 notebooks of 4 students in \S+ \([\d.]+ s, 2 workers\): 3 graded, 0 skipped "
                     r"\(already graded\), 1 failed, 3 not graded$", result.stdout, re.M), result.stdout
    assert re.search(r"01_to_categorical +3 notebooks +mean 7\.33/8 +full marks 2 +zero 0 +\[8×2, 6×1\]",
                     result.stdout), result.stdout
    assert {(r["student"], r["status"]) for r in report["results"]} == {
        ("alice", "graded"), ("bob", "graded"), ("erin", "graded"), ("carol", "failed")}
    graders = {r["worker"] for r in report["results"] if r["status"] == "graded"}
    assert 1 <= len(graders) <= 2 and all(re.fullmatch(r"tcp://127\.0\.0\.1:\d+ \(pid \d+\)", w) for w in graders)


def test_grades_csv_and_feedback_without_hidden_tests(messy):
    root, _, _ = messy
    with open(root / "grades.csv", newline="") as handle:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(handle)}
    assert rows[("alice", ASSIGNMENT)] == 8.0 and rows[("bob", ASSIGNMENT)] == 6.0
    pages = sorted(p.parts[-3] for p in (root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert pages == ["alice", "bob", "erin"]
    source = nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    secret = [line.strip() for cell in source.cells for region in HIDDEN_REGION.findall(cell.source)
              for line in region.splitlines()[1:-1] if len(line.strip()) > 15]
    assert secret
    for page in (root / "feedback").glob(f"*/{ASSIGNMENT}/*.html"):
        text = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and not [line for line in secret if line in text], page


def test_roster_only_reports_a_student_not_in_the_gradebook(messy):
    """Run again with --roster-only after a new student appears: the newcomer is reported, the others are not
    graded again (already autograded) and keep their scores."""
    root, _, _ = messy
    solved = nbformat.read(root / "submitted" / "alice" / ASSIGNMENT / NOTEBOOK, as_version=4)
    write(root, f"zed/{ASSIGNMENT}/{NOTEBOOK}", solved)
    try:
        result = run_module("autograder.class_grading.grade", ASSIGNMENT, "--course", str(root), "--workers", "1",
                            "--uid-base", str(UID_BASE), "--roster-only", "--no-feedback",
                            "--log-dir", str(root.parent / "logs"))
    finally:
        shutil.rmtree(root / "submitted" / "zed")
    assert "submitted/zed: not graded: unknown student 'zed' (not on the gradebook's roster" in result.stdout
    assert re.search(r"0 graded, 3 skipped", result.stdout), result.stdout
    assert gradebook_totals(root) == {"alice": 8.0, "bob": 6.0, "carol": 0.0, "erin": 8.0}


def test_each_grader_on_a_machine_holds_its_own_sandbox_uid_until_it_exits(tmp_path):
    """Two grader processes never share a sandbox uid (RLIMIT_NPROC counts every process of a uid); a uid held
    by a grader that was killed is free again."""
    claim = ("import sys, time; from autograder.class_grading.cluster import claim_uid; "
             f"print(claim_uid({UID_BASE}, {str(tmp_path)!r}), flush=True); time.sleep(120)")
    holders = [subprocess.Popen([sys.executable, "-c", claim], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    try:
        claimed = {int(h.stdout.readline()): h for h in holders}
        assert sorted(claimed) == [UID_BASE, UID_BASE + 1, UID_BASE + 2]
        claimed[UID_BASE + 1].kill()
        claimed[UID_BASE + 1].wait()
        again = subprocess.Popen([sys.executable, "-c", claim], stdout=subprocess.PIPE, text=True)
        holders.append(again)
        assert int(again.stdout.readline()) == UID_BASE + 1
    finally:
        for h in holders:
            h.kill()
            h.wait()


# --- importing an LMS export ----------------------------------------------------------------------------

@pytest.mark.parametrize("path,student", [
    ("doejane_12345_67890_01_to_categorical.ipynb", "doejane"),                        # Canvas
    ("doejane_LATE_12345_67890_01_to_categorical-1.ipynb", "doejane"),                 # Canvas, late, resubmitted
    ("Jane Doe_1234_assignsubmission_file_01_to_categorical.ipynb", "jane_doe"),      # Moodle, flat
    ("José Núñez_77_assignsubmission_file_/my notebook.ipynb", "jose_nunez"),        # Moodle, a folder each
    ("alice_anything at all.ipynb", "alice"),                                          # <student>_<anything>
    ("Bob/Untitled.ipynb", "bob"),                                                     # <student>/<file>
])
def test_lms_names_map_to_students(path, student):
    assert lms_import.student_from_export_path(PurePosixPath(path), ASSIGNMENT) == (student, None)


@pytest.mark.parametrize("path", ["01_to_categorical.ipynb", "notebook.ipynb", "a/b/c.ipynb", "_x.ipynb"])
def test_lms_names_without_a_student_are_not_mapped(path):
    student, why = lms_import.student_from_export_path(PurePosixPath(path), ASSIGNMENT)
    assert student is None and why


@pytest.fixture
def empty_course(tmp_path):
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text(Path(grade_class.__file__).parents[2].joinpath(
        "nbgrader_config.py").read_text())
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(), root / "source" / ASSIGNMENT / NOTEBOOK)
    return root


def notebook_bytes(text):
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text, id="cell")])).encode()


def lms_export(folder):
    files = {
        "doejane_12345_67890_01_to_categorical.ipynb": notebook_bytes("jane"),
        "Max Mustermann_1234_assignsubmission_file_01_to_categorical.ipynb": notebook_bytes("max"),
        "smithbob_111_222_01_to_categorical.ipynb": notebook_bytes("bob 1"),
        "smithbob_LATE_111_333_01_to_categorical-1.ipynb": notebook_bytes("bob 2"),
        "01_to_categorical.ipynb": notebook_bytes("whose?"),
        "readme.txt": b"not a notebook",
        "__MACOSX/._doejane_12345_67890_01_to_categorical.ipynb": b"resource fork",
    }
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def test_lms_import_maps_reports_and_never_overwrites(empty_course, tmp_path):
    export = lms_export(tmp_path / "export")
    existing = empty_course / "submitted" / "max_mustermann" / ASSIGNMENT / NOTEBOOK
    existing.parent.mkdir(parents=True)
    existing.write_bytes(notebook_bytes("an earlier upload"))
    imported, problems = lms_import.import_lms(export, ASSIGNMENT, empty_course)
    assert imported == [("doejane_12345_67890_01_to_categorical.ipynb", "doejane")]
    jane = empty_course / "submitted" / "doejane" / ASSIGNMENT / NOTEBOOK
    assert jane.read_bytes() == notebook_bytes("jane")
    assert existing.read_bytes() == notebook_bytes("an earlier upload")
    text = "\n".join(map(str, problems))
    assert re.search(r"duplicate submission: smithbob_111_222_01_to_categorical\.ipynb, "
                     r"smithbob_LATE_111_333_01_to_categorical-1\.ipynb all map to student 'smithbob'; none imported",
                     text), text
    assert not (empty_course / "submitted" / "smithbob").exists()
    assert "01_to_categorical.ipynb: could not map to a student" in text
    assert "not replaced by Max Mustermann_1234_assignsubmission_file_01_to_categorical.ipynb" in text
    assert "readme.txt: not a notebook; skipped" in text
    assert "__MACOSX" not in text
    fatal = sorted(p.where.split(":")[-1] for p in problems if p.fatal)
    assert len(fatal) == 3 and "readme.txt" not in " ".join(fatal)


def test_lms_import_from_a_zip_through_the_command(empty_course, tmp_path, capsys):
    export = lms_export(tmp_path / "export")
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(export.rglob("*")):
            if path.is_file():
                zipped.write(path, path.relative_to(export).as_posix())
        zipped.writestr("../evil_1_2_x.ipynb", notebook_bytes("escape"))
    code = grade_class.main(["--course", str(empty_course), "--import-lms", str(archive), "--assignment", ASSIGNMENT,
                             "--import-only"])
    err = capsys.readouterr().err
    assert code == 1  # some notebooks could not be imported
    assert "Imported 2 notebooks from" in err
    assert "doejane_12345_67890_01_to_categorical.ipynb -> doejane" in err
    assert "Max Mustermann_1234_assignsubmission_file_01_to_categorical.ipynb -> max_mustermann" in err
    assert "unsafe path in the zip" in err and not (tmp_path / "evil_1_2_x.ipynb").exists()
    assert sorted(p.name for p in (empty_course / "submitted").iterdir()) == ["doejane", "max_mustermann"]
    # Importing the same export again changes nothing and says so.
    assert grade_class.main(["--course", str(empty_course), "--import-lms", str(archive), "--assignment",
                             ASSIGNMENT, "--import-only"]) == 1
    assert "already imported" in capsys.readouterr().err


def test_import_for_an_assignment_that_does_not_exist_is_refused(empty_course, tmp_path, capsys):
    export = lms_export(tmp_path / "export")
    code = grade_class.main(["--course", str(empty_course), "--import-lms", str(export), "--assignment", "99_nope"])
    assert code == 2
    assert "--assignment 99_nope: there is no such assignment (known: 01_to_categorical)" in capsys.readouterr().err
    assert not (empty_course / "submitted").exists()


# --- a grader that must stop (the sandbox cannot be built) stops the batch, with the reason ------------------

class FakeAPI:
    def __init__(self, outcome):
        self.outcome = outcome

    def autograde(self, assignment, student, force, create):
        return self.outcome


def test_a_grader_that_exits_stops_the_batch_with_its_reason(tmp_path, monkeypatch):
    from distributed import LocalCluster

    from autograder.class_grading import cluster

    stop = {"success": False, "log": "[CRITICAL] Grading stopped", "error": "Traceback (most recent call last):\n"
            "  ...\nSystemExit: nbgrader autograde stopped: the grading sandbox is not available: no bwrap"}
    result = cluster.autograde(FakeAPI(stop), {"student": "s", "assignment": "a"}, True)
    assert result["status"] == "stopped"
    assert result["reason"] == "nbgrader autograde stopped: the grading sandbox is not available: no bwrap"

    calls = tmp_path / "calls"  # the task runs on a copy of this function (Dask pickles it), so calls go to a file

    def fake_grade(course, submission, student, assignment, db_url, feedback):
        with open(calls, "a") as file:
            file.write(student + "\n")
        return {**result, "student": student, "assignment": assignment}

    @contextlib.contextmanager
    def in_process(workers, uid_base, log_dir, scheduler=None):  # one worker thread in this process
        from distributed import Client

        with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as local, \
                Client(local) as client:
            yield client, True

    monkeypatch.setattr(cluster, "grade_task", fake_grade)
    monkeypatch.setattr(cluster, "grading_cluster", in_process)
    monkeypatch.setattr(grade_class, "gradebook_url", lambda root: "sqlite:///:memory:")
    monkeypatch.setattr(cluster, "course_files", lambda root, assignment: {})
    tasks = [grade_class.Task(f"s{i}", "a") for i in range(6)]
    results = grade_class.grade_on_cluster(tmp_path, tasks, 1, UID_BASE, tmp_path / "logs", out=io.StringIO())
    called = calls.read_text().split()
    assert called[0] == "s0" and len(called) <= 2  # the one running when the first stopped may finish
    assert len(results) == 6 and {r.status for r in results} == {"not graded"}
    assert all("grading stopped: nbgrader autograde stopped: the grading sandbox" in r.reason for r in results)


def test_a_failure_reason_is_the_underlying_error_not_nbgraders_closing_line():
    from autograder.class_grading import cluster

    log = ("[INFO] Sanitizing x\n[ERROR] There was an error processing assignment: x\n"
           "[ERROR] Traceback (most recent call last):\n      File \"a.py\", line 1, in f\n        g()\n"
           "    ValueError: inner\n    \n    The above exception was the direct cause of the following exception:\n"
           "    \n    Traceback (most recent call last):\n      File \"b.py\", line 2, in h\n"
           "    nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{x'\n    \n"
           "[ERROR] Please see the the above traceback for details on the specific errors on the above failures.\n")
    outcome = {"success": False, "log": log, "error": "NbGraderException: Please see the the above traceback"}
    assert cluster.failure_reason(outcome) == "nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{x'"


def test_shards_split_the_students_between_machines(tmp_path):
    for student in [f"s{i:02d}" for i in range(30)]:
        (tmp_path / "submitted" / student / ASSIGNMENT).mkdir(parents=True)
        (tmp_path / "submitted" / student / ASSIGNMENT / NOTEBOOK).write_text("{}")
    known = {ASSIGNMENT: [ASSIGNMENT]}
    everyone, _ = grade_class.scan_submissions(tmp_path, known)
    shards = [grade_class.scan_submissions(tmp_path, known, shard=(k, 3))[0] for k in (1, 2, 3)]
    students = [sorted(t.student for t in tasks) for tasks in shards]
    assert sorted(sum(students, [])) == sorted(t.student for t in everyone) and len(everyone) == 30
    assert all(students) and all(not set(a) & set(b) for a in students for b in students if a is not b)


# --- one gradebook, several writers ------------------------------------------------------------------------

def test_sqlite_gradebook_gets_a_busy_timeout_and_other_databases_are_left_alone():
    assert grade_class.with_busy_timeout("sqlite:////c/gradebook.db") == "sqlite:////c/gradebook.db?timeout=600"
    assert grade_class.with_busy_timeout("sqlite:////c/g.db?mode=rw") == "sqlite:////c/g.db?mode=rw&timeout=600"
    assert grade_class.with_busy_timeout("postgresql://grader@db/course") == "postgresql://grader@db/course"


def test_a_writer_waits_for_another_workers_lock_instead_of_failing(empty_course):
    """sqlite3 gives up after 5 s by default ("database is locked"); the gradebook URL the workers use waits."""
    import sqlite3
    import threading
    import time

    from nbgrader.api import Gradebook

    url = grade_class.gradebook_url(empty_course)
    with Gradebook(url) as gb:
        gb.update_or_create_student("first")
    holder = sqlite3.connect(empty_course / "gradebook.db", check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(6.0, holder.commit)
    release.start()
    started = time.perf_counter()
    try:
        with Gradebook(url) as gb:
            gb.update_or_create_student("second")
    finally:
        release.join()
        holder.close()
    assert time.perf_counter() - started >= 5.5
    with Gradebook(url) as gb:
        assert {s.id for s in gb.students} == {"first", "second"}
