"""Benchmark: one synthetic class graded by plain sequential nbgrader and by `autograder.class_grading.grade`.

    python -m autograder.tools.benchmark                                  # 20 students x every assignment, 2 workers
    python -m autograder.tools.benchmark --students 3 --assignments 01_to_categorical,02_dense_activations
    python -m autograder.tools.benchmark --students 2 --assignments 01_to_categorical --no-timing   # smoke test

1. Builds a temporary course (`--keep DIR` to keep it) with every assignment generated and one submission per
   student and assignment, a fixed mix (see `KINDS`): the solved notebook, a known wrong answer
   (tests/wrong_answers), a syntax error, a function that raises, a missing function, the untouched release.
2. Per notebook: runs each assignment's instructor notebook in a fresh, unsandboxed kernel and prints where the
   time goes: kernel start, importing TensorFlow, the rest of the setup cell, the answers, the visible checks
   (and the slowest one), the hidden checks, and everything else (the demo: Keras models, plots). Also warms
   the disk cache before either grader runs.
3. Plain: `nbgrader autograde <A> --create` for each assignment in turn, then `nbgrader export`, with nbgrader's
   stock autograde steps (its own `Execute`, a local kernel, no sandbox; KBH_UNSANDBOXED=1), i.e. the course
   config with `c.Autograde.sanitize_preprocessors` and `c.Autograde.autograde_preprocessors` reset to
   nbgrader's defaults.
4. `python -m autograder.class_grading.grade <A...> --workers N` on an identical copy, with the course config as it is.
5. Compares every (student, assignment, notebook, cell) score of the two gradebooks and the two grades.csv,
   prints the wall-time ratio. Exit code 1 if any score differs or a grader failed.

With --feedback both also write feedback (plain: `nbgrader generate_feedback <A>` per assignment).
"""
import argparse
import csv
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import nbformat

from autograder.tools.course import (REPO_ROOT, assignments, generate_assignments, make_course, replace_in_answer,
                               solved_submission)
from autograder.grading.checker import TIMES_LINE
from autograder.grading.cells import cell_is_graded, grade_id, has_hidden_tests, is_answer_cell, is_setup_cell
from autograder.tools.timing import CHECK_BUDGET, NOTEBOOK_BUDGET, _seconds

# The submission each student hands in, by (student number + assignment number) % len(KINDS): a class where most
# notebooks are right, and every assignment sees each kind of mistake once there are >= 10 students.
KINDS = ["correct", "wrong answer", "syntax error", "correct", "raises", "wrong answer", "correct",
         "missing function", "blank", "correct"]

PLAIN_CONFIG = """

# --- benchmark: plain nbgrader -------------------------------------------------------------------------
# nbgrader's own autograde steps (its stock Execute: a local kernel, no sandbox) instead of the course's.
from nbgrader.converters import Autograde as _Autograde
c.Autograde.sanitize_preprocessors = _Autograde.class_traits()["sanitize_preprocessors"].default()
c.Autograde.autograde_preprocessors = _Autograde.class_traits()["autograde_preprocessors"].default()
"""


# --- the synthetic class -----------------------------------------------------------------------------------

def _wrong_answers():
    """{assignment: [WrongAnswer]} from tests/wrong_answers (empty if the tests are not there)."""
    tests = REPO_ROOT / "tests"
    if not (tests / "wrong_answers").is_dir():
        return {}
    sys.path.insert(0, str(tests))
    try:
        from wrong_answers import WRONG_ANSWERS

        return WRONG_ANSWERS
    except ImportError:
        return {}
    finally:
        sys.path.remove(str(tests))


def _answer_cells(nb):
    return [c for c in nb.cells if is_answer_cell(c)]


def make_submission(kind, number, solved, release, wrong_answers):
    """(notebook, WrongAnswer or None): the notebook a student of this `kind` hands in, and the registered wrong
    answer it holds; `number` picks which answer is broken or wrong."""
    if kind == "correct":
        return nbformat.from_dict(solved), None
    if kind == "blank":
        return nbformat.from_dict(release), None
    if kind == "wrong answer":
        for offset in range(len(wrong_answers)):
            wrong = wrong_answers[(number + offset) % len(wrong_answers)]
            try:
                return replace_in_answer(solved, wrong.answer, wrong.old, wrong.new), wrong
            except (KeyError, ValueError):  # the solution has changed under the wrong answer: try another
                continue
        kind = "raises"
    nb = nbformat.from_dict(solved)
    cell = _answer_cells(nb)[number % len(_answer_cells(nb))]
    if kind == "syntax error":
        cell.source += "\n\nreturn result)  # a stray edit\n"
    elif kind == "missing function":
        cell.source = "# I did not get to this one.\n"
    elif kind == "raises":
        name = re.search(r"^def (\w+)\(", cell.source, re.M).group(1)
        cell.source += f"\n\n\ndef {name}(*args, **kwargs):\n    raise RuntimeError('my code crashes')\n"
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return nb, None


CLASS_FILE = "class.json"  # in the course root: who handed in what, for tests of what grading makes of it


def build_class(root, names, students):
    """A course in `root` with `names` generated and one submission per student and assignment; returns
    {(student, assignment): kind} and writes CLASS_FILE: a list of {student, assignment, kind, wrong_answer}
    (the registered wrong answer's name, or null)."""
    make_course(root)
    generate_assignments(root, names)
    wrong = _wrong_answers()
    kinds, handed_in = {}, []
    for a_index, name in enumerate(names):
        release = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        source = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        solved = solved_submission(release, source)
        for s_index in range(students):
            student = f"student{s_index + 1:02d}"
            kind = KINDS[(s_index + a_index) % len(KINDS)]
            nb, wrong_answer = make_submission(kind, s_index, solved, release, wrong.get(name, []))
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
            kinds[(student, name)] = kind
            handed_in.append({"student": student, "assignment": name, "kind": kind,
                              "wrong_answer": wrong_answer.student if wrong_answer else None})
    (Path(root) / CLASS_FILE).write_text(json.dumps(handed_in, indent=1))
    return kinds


# --- where a notebook's time goes ----------------------------------------------------------------------------

TF_PROBE = "import autograder, tensorflow  # what every notebook's setup cell imports first"


def profile_notebook(path):
    """Run the notebook at `path` top to bottom in a fresh kernel (a scratch copy of its folder), as
    autograder.tools.timing does, and split its wall time (seconds): {total, kernel (start until ready), tensorflow
    (importing it, in a probe cell run first), setup (the rest of the setup cell), answers, visible, hidden
    (check cells), other (everything else: the demo's Keras models and plots), stop (kernel shutdown and
    messaging), slowest_check, slowest_check_seconds}."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(TF_PROBE)
    nb.cells.insert(0, probe)
    with tempfile.TemporaryDirectory(prefix="kbh-profile-") as scratch:
        shutil.copytree(Path(path).parent, scratch, dirs_exist_ok=True)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True, record_timing=True,
                                resources={"metadata": {"path": scratch}})
        started = time.perf_counter()
        with client.setup_kernel():
            ready = time.perf_counter()
            client.execute_cell(probe, 0)
            probed = time.perf_counter()
            for index, cell in enumerate(nb.cells[1:], start=1):
                client.execute_cell(cell, index)
        total = time.perf_counter() - started
    parts = Counter()
    visible = {}
    for cell in nb.cells[1:]:
        if cell.cell_type != "code":
            continue
        seconds = _seconds(cell)
        if is_setup_cell(cell):
            parts["setup"] += seconds
        elif is_answer_cell(cell):
            parts["answers"] += seconds
        elif cell_is_graded(cell) and has_hidden_tests(cell):
            parts["hidden"] += seconds
        elif cell_is_graded(cell):
            parts["visible"] += seconds
            visible[grade_id(cell)] = seconds
        else:
            parts["other"] += seconds
    slowest = max(visible.items(), key=lambda item: item[1], default=("-", 0.0))
    profile = {"total": total, "kernel": ready - started, "tensorflow": probed - ready,
               **{k: parts[k] for k in ("setup", "answers", "visible", "hidden", "other")}}
    profile["stop"] = total - sum(value for key, value in profile.items() if key != "total")
    profile.update(slowest_check=slowest[0], slowest_check_seconds=slowest[1])
    return profile


def print_profiles(root, names, out=None):
    print("Per notebook (the instructor's solution, a fresh unsandboxed kernel, top to bottom; seconds):", file=out)
    head = (f"  {'notebook':<22} {'top to bottom':>13} {'kernel':>7} {'import TF':>9} {'setup':>6} "
            f"{'answers':>7} {'visible':>7} {'hidden':>7} {'demo etc':>8} {'stop':>5}  slowest visible check")
    print(head, file=out, flush=True)
    profiles = {}
    for name in names:
        p = profiles[name] = profile_notebook(root / "source" / name / f"{name}.ipynb")
        flag = " (over budget)" if p["total"] > NOTEBOOK_BUDGET or p["slowest_check_seconds"] > CHECK_BUDGET else ""
        print(f"  {name:<22} {p['total']:>13.1f} {p['kernel']:>7.1f} {p['tensorflow']:>9.1f} {p['setup']:>6.1f} "
              f"{p['answers']:>7.2f} {p['visible']:>7.1f} {p['hidden']:>7.1f} {p['other']:>8.1f} {p['stop']:>5.1f}  "
              f"{p['slowest_check']} {p['slowest_check_seconds']:.2f}s{flag}", file=out, flush=True)
    return profiles


# --- the two graders ------------------------------------------------------------------------------------

def children_cpu():
    """CPU seconds (user + system) used so far by every finished child process and its descendants: unlike wall
    time, hardly changed by other jobs on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _nbgrader(args, root, env):
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=env, text=True,
                          capture_output=True)


def grade_plain(root, names, feedback=False, out=None):
    """Plain sequential nbgrader on the course in `root` (its config switched to nbgrader's stock autograde
    steps). Returns (seconds, CPU seconds, [failure messages])."""
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as config:
        config.write(PLAIN_CONFIG)
    env = dict(os.environ, KBH_UNSANDBOXED="1")
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    failures = []
    started, cpu = time.perf_counter(), children_cpu()
    steps = [["autograde", name, "--create"] for name in names]
    if feedback:
        steps += [["generate_feedback", name] for name in names]
    steps.append(["export", "--to", "grades.csv"])
    for step in steps:
        t0 = time.perf_counter()
        result = _nbgrader(step, root, env)
        print(f"  plain: nbgrader {' '.join(step)}: {time.perf_counter() - t0:.1f} s"
              f"{'' if result.returncode == 0 else '  (exit code %d)' % result.returncode}", file=out, flush=True)
        if result.returncode != 0:
            failures.append(f"nbgrader {' '.join(step)} exited {result.returncode}: "
                            f"{(result.stderr or result.stdout).strip()[-500:]}")
    return time.perf_counter() - started, children_cpu() - cpu, failures


def grade_fast(root, names, workers, uid_base, feedback=False, out=None):
    """`python -m autograder.class_grading.grade` on the course in `root`. Returns (seconds, CPU seconds, report dict,
    exit code, its stdout+stderr)."""
    report = root / "grade_class.json"
    command = [sys.executable, "-m", "autograder.class_grading.grade", *names, "--course", str(root), "--workers",
               str(workers), "--uid-base", str(uid_base), "--json", str(report),
               "--log-dir", str(root / "grade_class_logs")]
    if not feedback:
        command.append("--no-feedback")
    started, cpu = time.perf_counter(), children_cpu()
    result = subprocess.run(command, text=True, capture_output=True)
    seconds, cpu = time.perf_counter() - started, children_cpu() - cpu
    data = json.loads(report.read_text()) if report.exists() else {}
    return seconds, cpu, data, result.returncode, result.stdout + result.stderr


_AUTOGRADE_HEADER = re.compile(r"^=== nbgrader autograde (\S+) --student (\S+):", re.M)
_CHECKER_TIMES = re.compile(re.escape(TIMES_LINE) + r" ([\d.]+) s \(answer kernel started and answers run "
                            r"([\d.]+) s, checks ([\d.]+) s\)")


def checker_times(log_dir):
    """{(student, assignment): (checker, answer kernel, checks) seconds} from the workers' logs (a local
    cluster writes them to `log_dir`; nbgrader's log of a notebook follows the line that names it)."""
    times = {}
    for log in Path(log_dir).glob("worker-*.log"):
        text = log.read_text(errors="replace")
        headers = list(_AUTOGRADE_HEADER.finditer(text))
        for header, following in zip(headers, headers[1:] + [None]):
            block = text[header.end():following.start() if following else len(text)]
            found = _CHECKER_TIMES.search(block)
            if found:
                times[(header.group(2), header.group(1))] = tuple(float(v) for v in found.groups())
    return times


def print_time_per_phase(report, log_dir):
    """Where a graded notebook's time goes, per assignment (medians): the answer kernel (started in the sandbox,
    the answers run), the checks (the trusted checker calling the answers, Keras references), and nbgrader's own
    steps around them (sanitize, restore the cells, write the notebook and the gradebook)."""
    times = checker_times(log_dir)
    rows = {}
    for result in report.get("results", []):
        phases = times.get((result["student"], result["assignment"]))
        if result["status"] == "graded" and phases:
            checker, kernel, checks = phases
            rows.setdefault(result["assignment"], []).append(
                (result["seconds"], kernel, checks, checker - kernel - checks, result["seconds"] - checker))
    if not rows:
        return
    print("  where a notebook's time goes (median seconds): answer kernel (start, answers) | checks | rest of the "
          "checker | nbgrader around the checker = the notebook")
    for name, values in sorted(rows.items()):
        medians = [statistics.median(column) for column in zip(*values)]
        print(f"    {name:<22} {medians[1]:5.2f} | {medians[2]:5.2f} | {medians[3]:5.2f} | {medians[4]:5.2f} = "
              f"{medians[0]:5.2f}")


# --- comparing ------------------------------------------------------------------------------------------

def cell_scores(root):
    """{(student, assignment, notebook, cell): (score, max_score)} of every graded cell in the gradebook."""
    from nbgrader.api import Gradebook

    scores = {}
    with Gradebook(f"sqlite:///{Path(root) / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        scores[(submission.student.id, assignment.name, notebook.name, grade.name)] = (
                            grade.score, grade.max_score)
    return scores


def read_grades_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return sorted(tuple(sorted(row.items())) for row in csv.DictReader(handle))


def compare(plain_root, fast_root):
    """Lines describing every difference between the two courses' scores (empty: identical)."""
    plain, fast = cell_scores(plain_root), cell_scores(fast_root)
    found = [f"only graded by plain nbgrader: {key}" for key in sorted(set(plain) - set(fast))]
    found += [f"only graded by grade_class: {key}" for key in sorted(set(fast) - set(plain))]
    found += [f"{key}: plain {plain[key]}, grade_class {fast[key]}" for key in sorted(set(plain) & set(fast))
              if plain[key] != fast[key]]
    csv_plain, csv_fast = Path(plain_root) / "grades.csv", Path(fast_root) / "grades.csv"
    if not (csv_plain.exists() and csv_fast.exists()):
        found.append("a grades.csv is missing")
    elif read_grades_csv(csv_plain) != read_grades_csv(csv_fast):
        found.append("grades.csv differs")
    return found, len(plain)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--assignments", default="all", help="comma-separated, or 'all' (default)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="grade_class workers")
    parser.add_argument("--uid-base", type=int, default=64100, help="grade_class --uid-base (sandbox uids)")
    parser.add_argument("--feedback", action="store_true", help="both graders also write feedback")
    parser.add_argument("--no-timing", action="store_true", help="skip the per-notebook time table")
    parser.add_argument("--keep", metavar="DIR", help="build the courses in DIR (kept) instead of a temporary folder")
    args = parser.parse_args(argv)

    names = assignments() if args.assignments == "all" else [a for a in args.assignments.split(",") if a]
    unknown = [a for a in names if a not in assignments()]
    if unknown:
        print(f"unknown assignments: {', '.join(unknown)} (known: {', '.join(assignments())})", file=sys.stderr)
        return 2
    base = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="kbh-benchmark-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        return run(base, names, args)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


def run(base, names, args):
    t0 = time.perf_counter()
    template = base / "template"
    if template.exists():
        shutil.rmtree(template)
    kinds = build_class(template, names, args.students)
    plain_root, fast_root = base / "plain", base / "grade_class"
    for root in (plain_root, fast_root):
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(template, root)
    mix = ", ".join(f"{kind} {n}" for kind, n in Counter(kinds.values()).most_common())
    print(f"Synthetic class: {args.students} students x {len(names)} assignments = {len(kinds)} notebooks "
          f"({mix}); built in {time.perf_counter() - t0:.0f} s under {base}", flush=True)

    if not args.no_timing:
        print_profiles(template, names)

    print("Plain sequential nbgrader (stock autograde steps: nbgrader's Execute, a local kernel, no sandbox):",
          flush=True)
    plain_seconds, plain_cpu, plain_failures = grade_plain(plain_root, names, args.feedback)
    print(f"  plain total: {plain_seconds:.1f} s ({plain_cpu:.1f} CPU seconds)", flush=True)

    print(f"grade_class ({args.workers} workers, the course's own autograde steps):", flush=True)
    fast_seconds, fast_cpu, report, code, output = grade_fast(fast_root, names, args.workers, args.uid_base,
                                                              args.feedback)
    summary_start = output.find("Graded ")
    print("  " + output[summary_start:].strip().replace("\n", "\n  ") if summary_start >= 0 else output, flush=True)
    print(f"  grade_class total: {fast_seconds:.1f} s ({fast_cpu:.1f} CPU seconds; exit code {code})", flush=True)
    per_assignment = {}
    for result in report.get("results", []):
        if result["status"] == "graded":
            per_assignment.setdefault(result["assignment"], []).append(result["seconds"])
    if per_assignment:
        print("  grade_class, seconds per notebook as graded (median, max), each worker busy with one:")
        for name, values in sorted(per_assignment.items()):
            values.sort()
            print(f"    {name:<22} {values[len(values) // 2]:6.1f} {values[-1]:6.1f}")
        print_time_per_phase(report, fast_root / "grade_class_logs")

    differences, cells = compare(plain_root, fast_root)
    ok = not differences and not plain_failures and code == 0
    if differences:
        print(f"Scores DIFFER ({len(differences)}):")
        for line in differences[:50]:
            print(f"  {line}")
    else:
        print(f"Scores: identical ({cells} graded cells in {len(kinds)} notebooks; grades.csv identical)")
    for failure in plain_failures:
        print(f"Plain nbgrader failed: {failure}")
    if code != 0:
        print("grade_class reported failures (see its summary above)")
    print(f"CPU time: plain nbgrader {plain_cpu:.1f} s, grade_class {fast_cpu:.1f} s: ratio "
          f"{plain_cpu / max(fast_cpu, 1e-9):.2f}x (the work per notebook; wall time also shows the parallelism, and "
          f"other jobs on the machine)")
    print(f"Wall time: plain nbgrader {plain_seconds:.1f} s, grade_class {fast_seconds:.1f} s with {args.workers} "
          f"workers: ratio {plain_seconds / fast_seconds:.2f}x", flush=True)
    print(f"Load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (other jobs make wall times "
          f"noisy)", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
