"""Grade a whole class with nbgrader, in parallel, in one command.

    python -m autograder.class_grading.grade                          # every assignment that has submissions
    python -m autograder.class_grading.grade 01_to_categorical 03_compile --workers 2
    python -m autograder.class_grading.grade --import-lms canvas.zip --assignment 01_to_categorical
    python -m autograder.class_grading.grade --import-lms moodle_folder/ --assignment 01_to_categorical --import-only

Reads nbgrader's layout, submitted/<student>/<assignment>/<assignment>.ipynb, under the course root (the
folder with nbgrader_config.py; default: the working folder) and writes what nbgrader writes: the gradebook,
autograded/, feedback/<student>/<assignment>/*.html (nbgrader's generate_feedback, so hidden tests are stripped
as the course config says) and grades.csv (`nbgrader export`). It is nbgrader underneath: every (student,
assignment) is autograded by nbgrader's own `Autograde` converter through `NbGraderAPI`, with the config
`nbgrader autograde` reads (whatever autograde preprocessors nbgrader_config.py names), so the scores are
nbgrader's. Assignments in source/ that the gradebook does not know yet are registered first (as
`nbgrader generate_assignment` does, release/ untouched).

On Dask distributed (autograder/class_grading/cluster.py): by default a local cluster of `--workers` grader
processes (one per CPU core), with `--scheduler tcp://HOST:8786` an existing cluster (`dask scheduler`, `dask
worker`). Each worker imports nbgrader once, keeps its checker process, grades in a scratch course root of its
own (no shared file system: a task carries the submission and returns the autograded folder) and has its own
sandbox uid (from --uid-base up; RLIMIT_NPROC counts all processes of a uid, so concurrent graders must not
share one). All write the one gradebook, nbgrader's: students are created before grading starts (no two
workers insert the same row), SQLite gets a generous busy timeout (a write waits for another worker's instead
of failing with "database is locked"), and a cluster's workers write to PostgreSQL (c.CourseDirectory.db_url).
A kernel run by nbclient (nbgrader's stock Execute) is stopped at once after the last cell instead of waiting
~2 s for a TensorFlow kernel to exit (KBH_GRADE_GRACEFUL_SHUTDOWN=1 keeps nbclient's default).

Bad input is reported and the rest is graded: an unknown student folder (an invalid id, an assignment folder
put where a student belongs, or with --roster-only a student not in the gradebook), a folder that is not an
assignment, a notebook under the wrong name, a duplicate notebook, an assignment that does not exist. One
progress line per finished notebook goes to stderr, the summary to stdout. Exit code 0 when every submission
was graded, 1 if any could not be (or a feedback page failed), 2 on usage errors, 130 when interrupted.

LMS import (--import-lms FOLDER_OR_ZIP --assignment A) copies each notebook of an LMS export to
submitted/<student>/A/A.ipynb (autograder/class_grading/lms_import.py, which gives the naming rule). Several
machines: --shard K/N (see README, "Grading a class").
"""
import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
import zlib
from collections import Counter, defaultdict
from pathlib import Path

from autograder.class_grading.lms_import import IGNORED_NAMES, Problem, bad_id, import_lms

DEFAULT_UID_BASE = 64100
BUSY_TIMEOUT_S = 600  # SQLite waits this long for another worker's write instead of "database is locked"


@dataclasses.dataclass
class Task:
    student: str
    assignment: str
    interrupted: str = ""  # why an earlier grading of it did not finish: graded again (force), not skipped


@dataclasses.dataclass
class Result:
    student: str
    assignment: str
    status: str  # "graded", "skipped" (already autograded), "failed", "not graded" (grading was stopped)
    reason: str = ""
    seconds: float = 0.0
    score: float = None
    max_score: float = None
    feedback: str = ""  # "", "written", "failed: <reason>"
    worker: str = ""  # the Dask worker that graded it (address and pid)


# --- the course -----------------------------------------------------------------------------------------

def _path_with_python_bin():
    """nbgrader runs its `alembic` script from PATH: put this Python's bin folder first."""
    bin_dir = os.path.dirname(sys.executable)
    if os.environ.get("PATH", "").split(os.pathsep)[:1] != [bin_dir]:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def with_busy_timeout(url, seconds=BUSY_TIMEOUT_S):
    """The gradebook URL, for SQLite with a busy timeout (SQLAlchemy passes `timeout` to sqlite3): a write waits
    up to `seconds` for another worker's instead of failing with "database is locked". Other databases (e.g. a
    PostgreSQL gradebook shared by several machines) are left as they are."""
    if url.startswith("sqlite:") and "timeout=" not in url:
        return f"{url}{'&' if '?' in url else '?'}timeout={seconds}"
    return url


_APPS = {}


def course_app(root):
    """nbgrader's app for the course in `root`, initialised as `nbgrader autograde` would be: the same config
    files (Jupyter's config folders, the working folder, the course's nbgrader_config.py)."""
    root = str(Path(root).resolve())
    if root not in _APPS:
        from nbgrader.apps.baseapp import NbGrader

        app = NbGrader()
        app.initialize([], root=root)
        _APPS[root] = app
    return _APPS[root]


def gradebook_url(root):
    return with_busy_timeout(course_app(root).coursedir.db_url)


def source_assignments(root):
    """{assignment: [notebook names]} of the course's source/ folder."""
    source = Path(root) / "source"
    if not source.is_dir():
        return {}
    return {p.name: sorted(nb.stem for nb in p.glob("*.ipynb")) for p in sorted(source.iterdir())
            if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb"))}


def gradebook_state(root):
    """({assignment: [notebook names]}, {student ids}) recorded in the course's gradebook (created if absent)."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(root)) as gb:
        assignments = {a.name: sorted(n.name for n in a.notebooks) for a in gb.assignments}
        students = {s.id for s in gb.students}
    return assignments, students


def register_assignments(root, names, log):
    """Record assignments that are in source/ but not yet in the gradebook, as `nbgrader generate_assignment`
    does, without touching release/ (the release goes to a temporary folder)."""
    from autograder.tools.course import run_nbgrader

    for name in names:
        with tempfile.TemporaryDirectory(prefix="kbh-register-") as scratch:
            result = run_nbgrader(["generate_assignment", name, "--force",
                                   f"--CourseDirectory.release_directory={scratch}"], root)
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.stdout}\n{result.stderr}")
        log(f"registered assignment {name} in gradebook.db (nbgrader generate_assignment; release/ untouched)")


def create_students(root, students):
    """Create the students in the gradebook before the workers start, so no two workers insert the same row."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(root)) as gb:
        for student in students:
            gb.update_or_create_student(student)


# --- what is there to grade -----------------------------------------------------------------------------

def _is_notebook(path):
    return path.is_file() and path.suffix == ".ipynb" and not path.name.startswith(".")


def in_shard(student, shard):
    """True if `student` belongs to `shard` = (k, n), k in 1..n: a stable hash of the name, so every machine
    that sees the same submitted/ folder agrees without talking to the others."""
    return shard is None or zlib.crc32(student.encode()) % shard[1] == shard[0] - 1


def scan_submissions(root, known, requested=None, roster=None, shard=None):
    """Decide what to grade under submitted/. Returns (tasks, problems).

    known: {assignment: [notebook names]} (source/ and gradebook); requested: assignment names to grade (None:
    every assignment that has submissions); roster: None to grade every student folder (nbgrader creates the
    students, its default), or the set of student ids that may be graded; shard: (k, n) to look only at the
    student folders of shard k of n (`in_shard`)."""
    problems, tasks = [], []
    submitted = Path(root) / "submitted"
    wanted = None if requested is None else set(requested)
    if not submitted.is_dir():
        return tasks, [Problem("submitted/", "no such folder: nothing to grade")]
    folders = sorted(submitted.iterdir())
    lower = Counter(p.name.lower() for p in folders if p.is_dir())
    for folder in folders:
        where = f"submitted/{folder.name}"
        if folder.name.startswith(".") or folder.name in IGNORED_NAMES or not in_shard(folder.name, shard):
            continue
        if not folder.is_dir():
            problems.append(Problem(where, "not a student folder (a file); ignored", fatal=False))
            continue
        reason = bad_id(folder.name)
        if reason:
            problems.append(Problem(where, f"not graded: not a valid student id ({reason}); rename the folder"))
            continue
        if folder.name in known:
            problems.append(Problem(where, f"not graded: unknown student {folder.name!r}: this looks like an "
                                           f"assignment folder; the layout is submitted/<student>/{folder.name}/"))
            continue
        if roster is not None and folder.name not in roster:
            problems.append(Problem(where, f"not graded: unknown student {folder.name!r} (not on the gradebook's "
                                           f"roster; add with `nbgrader db student add {folder.name}`)"))
            continue
        if not any(not p.name.startswith(".") and (p.is_dir() or _is_notebook(p)) for p in folder.iterdir()):
            problems.append(Problem(where, "nothing to grade: no assignment folder inside (the layout is "
                                           "submitted/<student>/<assignment>/<notebook>.ipynb)", fatal=False))
            continue
        if lower[folder.name.lower()] > 1:
            problems.append(Problem(where, "another student folder differs from this one only in upper/lower case; "
                                           "both are graded, as two students", fatal=False))
        for entry in sorted(folder.iterdir()):
            inner = f"{where}/{entry.name}"
            if entry.name.startswith(".") or entry.name in IGNORED_NAMES:
                continue
            if not entry.is_dir():
                belongs = next((a for a in known if entry.suffix == ".ipynb" and entry.stem in known[a]), None)
                if belongs and (wanted is None or belongs in wanted):
                    problems.append(Problem(inner, f"not graded: not in an assignment folder (move it to "
                                                   f"{where}/{belongs}/{entry.name})"))
                elif belongs is None:
                    problems.append(Problem(inner, "not in an assignment folder; ignored", fatal=False))
                continue
            if entry.name not in known:
                if wanted is None or entry.name in wanted:
                    problems.append(Problem(inner, f"not graded: there is no assignment {entry.name!r} "
                                                   f"(known: {', '.join(sorted(known)) or 'none'})"))
                continue
            if wanted is not None and entry.name not in wanted:
                continue
            task, found = _check_assignment_folder(entry, inner, known[entry.name])
            problems += found
            if task:
                tasks.append(Task(folder.name, entry.name))
    return tasks, problems


def find_interrupted(root, tasks):
    """Mark each task whose earlier grading was cut short (grade_class or nbgrader killed mid-notebook) to be
    graded again rather than skipped and kept as 0: the gradebook has its submission but autograded/ does not
    (grade_class writes autograded/ only once a notebook is graded), or the autograded folder exists (so plain
    nbgrader would skip it) but a notebook in it is missing, or a test cell has no score in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    root = Path(root)
    with Gradebook(gradebook_url(root)) as gb:
        for task in tasks:
            folder = root / "autograded" / task.student / task.assignment
            try:
                submission = gb.find_submission(task.assignment, task.student)
            except MissingEntry:
                if folder.is_dir():
                    task.interrupted = "autograded/ has it but the gradebook does not"
                continue
            if not folder.is_dir():
                task.interrupted = "the gradebook has it but autograded/ does not: its grading never finished"
                continue
            for notebook in submission.notebooks:
                if not (folder / f"{notebook.name}.ipynb").is_file():
                    task.interrupted = f"{notebook.name}.ipynb was never written to autograded/"
                elif any(grade.auto_score is None and grade.cell.cell_type == "code" for grade in notebook.grades):
                    task.interrupted = f"{notebook.name}.ipynb has test cells without a score"
    return [t for t in tasks if t.interrupted]


def _looks_like_copy(name, expected):
    stem = Path(name).stem.lower()
    return any(stem.startswith(e.lower()) or e.lower() in stem for e in expected)


def _check_assignment_folder(folder, where, expected):
    """(gradable?, problems) for one submitted/<student>/<assignment>/ folder."""
    notebooks = sorted(p.name for p in folder.iterdir() if _is_notebook(p))
    present = [e for e in expected if f"{e}.ipynb" in notebooks]
    others = [n for n in notebooks if Path(n).stem not in expected]
    want = " and ".join(f"{e}.ipynb" for e in expected)
    if not present:
        if others:
            return False, [Problem(where, f"not graded: notebook under the wrong name: found "
                                          f"{', '.join(others)}, expected {want} (rename it and grade again)")]
        return False, [Problem(where, f"not graded: no notebook submitted (expected {want})")]
    problems = []
    for name in others:
        kind = "duplicate submission" if _looks_like_copy(name, expected) else "extra notebook"
        problems.append(Problem(f"{where}/{name}", f"{kind}: only {', '.join(f'{e}.ipynb' for e in present)} is "
                                                   "graded (nbgrader ignores other notebooks)", fatal=False))
    for name in expected:
        if name not in present:
            problems.append(Problem(where, f"{name}.ipynb missing: its cells score 0", fatal=False))
    return True, problems


# --- grading on the cluster ----------------------------------------------------------------------------------

def grader_env(uid):
    """The environment of a process that grades as one worker: this Python's bin first on PATH (nbgrader runs
    `alembic` from there) and its own sandbox uid."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["KBH_SANDBOX_UID"] = env["KBH_SANDBOX_GID"] = str(uid)
    return env


class GradingCheck:
    """`python -m autograder.grading.sandbox check ROOT`, run as a worker would run it (its folder, its sandbox
    uid): the sandbox builds, and a real answer kernel starts, imports this copy of the package and answers. What
    fails there would fail every notebook, so no notebook is graded before it has passed. It runs while the
    local cluster starts; `passed()` waits for it."""

    def __init__(self, root, uid, say=lambda text: None):
        self.say = say
        self.process = subprocess.Popen([sys.executable, "-m", "autograder.grading.sandbox", "check", str(root)],
                                        cwd=root, env=grader_env(uid), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
        self.lock = threading.Lock()
        self.output = None

    def passed(self):
        with self.lock:
            if self.output is None:
                try:
                    self.output = self.process.communicate(timeout=600)[0].strip()
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
                    self.output = "the check did not finish within 600 s"
                if self.process.returncode == 0:
                    self.say(self.output)
            return self.process.returncode == 0

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def _score(result):
    if result.get("score") is None:
        return ""
    return f"{result['score']:g}/{result['max_score']:g}"


def _recorded_scores(root, tasks):
    """{(student, assignment): (score, max score)} of the tasks' submissions in the gradebook, (None, None) if none:
    one gradebook session for all of them."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    if tasks:
        with Gradebook(gradebook_url(root)) as gb:
            for task in tasks:
                try:
                    submission = gb.find_submission(task.assignment, task.student)
                    scores[task.student, task.assignment] = submission.score, submission.max_score
                except MissingEntry:
                    scores[task.student, task.assignment] = None, None
    return scores


class Progress:
    """One line per finished notebook: its time, score or failure, and the time left."""

    def __init__(self, total, out):
        self.total, self.out, self.done, self.started = total, out, 0, time.perf_counter()

    def __call__(self, result):
        self.done += 1
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done)
        outcome = dataclasses.asdict(result)
        detail = {"graded": _score(outcome), "skipped": f"{_score(outcome)} skipped: {result.reason}",
                  "failed": f"FAILED: {result.reason}", "not graded": f"NOT GRADED: {result.reason}"}
        extra = f"  feedback {result.feedback}" if result.feedback.startswith("failed") else ""
        print(f"[{self.done:>{len(str(self.total))}}/{self.total}] {result.seconds:5.1f}s  {result.student}  "
              f"{result.assignment}  {detail.get(result.status, result.status)}{extra}"
              f"   (elapsed {_clock(elapsed)}, ~{_clock(left)} left)", file=self.out, flush=True)


def grade_on_cluster(root, tasks, workers, uid_base, log_dir, force=False, feedback=True, out=None, gate=None,
                     scheduler=None, say=lambda text: None):
    """Grade `tasks` on Dask (autograder/class_grading/cluster.py): a local cluster of `workers` grader processes
    (nbgrader's log of each in `log_dir`/worker-<pid>.log), or the cluster at `scheduler`. Prints one progress
    line per finished notebook to `out` (default: sys.stderr at the time of the call); returns the list of
    Result (in the order they finished). A task whose autograded/ folder exists is skipped unless `force` or
    `task.interrupted`. `gate`: called once the local cluster is up, before any notebook is sent; a false
    answer grades nothing. A task during which a worker died gets `task.interrupted` set (it was graded again)."""
    from distributed import KilledWorker, as_completed

    from autograder.class_grading import cluster

    out = out if out is not None else sys.stderr
    root = Path(root)
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    progress = Progress(len(tasks), out)
    results = []
    graded_before, todo = [], []
    for task in tasks:
        graded = not force and not task.interrupted and (root / "autograded" / task.student / task.assignment).is_dir()
        (graded_before if graded else todo).append(task)
    for (student, assignment), (score, top) in _recorded_scores(root, graded_before).items():
        results.append(Result(student, assignment, "skipped", "already autograded (--force to grade again)",
                              score=score, max_score=top))
        progress(results[-1])
    if not todo:
        return results
    db_url = gradebook_url(root)
    with cluster.grading_cluster(workers, uid_base, log_dir, scheduler) as (client, local):
        if not local:
            if db_url.startswith("sqlite:") and not cluster.worker_hosts(client) <= cluster.local_hosts():
                raise RuntimeError("the gradebook is an SQLite file on this machine, which workers on other "
                                   "machines cannot write: set c.CourseDirectory.db_url in nbgrader_config.py to a "
                                   "PostgreSQL URL (README, \"Grading on a cluster\")")
            checks = client.run(cluster.check_worker)
            for address, (passed, text) in sorted(checks.items()):
                say(f"{address}: {text}")
            if not all(passed for passed, _ in checks.values()):
                raise RuntimeError("the grading check failed on a worker: " + "; ".join(
                    text for passed, text in checks.values() if not passed))
        if gate is not None and not gate():
            return results
        # Each task carries its course files itself: a task that depended on data held by one worker would be sent
        # to that worker (Dask's data locality) and the others would idle.
        shared = {a: cluster.course_files(root, a) for a in sorted({t.assignment for t in todo})}
        futures, waiting = {}, list(reversed(todo))

        def submit_next():
            task = waiting.pop()
            submission = cluster.pack(root / "submitted" / task.student / task.assignment)
            future = client.submit(cluster.grade_task, shared[task.assignment], submission, task.student,
                                   task.assignment, db_url, feedback, pure=False,
                                   key=f"grade-{task.assignment}-{task.student}-{uuid.uuid4().hex[:8]}")
            futures[future] = task
            return future

        # As many notebooks in flight as the cluster has threads, no more: a worker then holds only the notebook
        # it grades, and when it dies Dask counts that death against that notebook alone (not against others
        # queued behind it), so "killed its worker twice" means what it says.
        running = as_completed([submit_next() for _ in range(min(len(waiting), cluster.threads(client)))])
        stopped_reason = None
        try:
            for future in running:
                if waiting and not stopped_reason:
                    for _ in range(max(1, cluster.threads(client) - running.count())):
                        if waiting:
                            running.add(submit_next())
                task = futures.pop(future)
                if future.status == "cancelled":
                    continue
                try:
                    outcome = future.result()
                    if cluster.deaths(client, [future.key]).get(future.key):
                        task.interrupted = "; ".join(filter(None, [task.interrupted, "the grader process died (or "
                                                                   "left) while grading it; another one graded it "
                                                                   "again"]))
                    future.release()  # else a worker that leaves later loses it and Dask grades it again
                except KilledWorker:  # it took down MAX_DEATHS workers
                    outcome = {"status": "failed", "reason": f"the grader process died (or left) while grading "
                               f"this, {cluster.MAX_DEATHS} times: not tried again"}
                except Exception as error:  # the grading machinery on the worker, not the student's notebook
                    outcome = {"status": "failed", "reason": f"grading failed on the worker: "
                                                             f"{type(error).__name__}: {error}"[:300]}
                files = outcome.pop("files", {})
                if outcome.get("retried"):
                    task.interrupted = "; ".join(filter(None, [task.interrupted, outcome["retried"]]))
                if outcome.get("status") == "stopped":  # the grader refuses to go on (e.g. no sandbox)
                    stopped_reason = stopped_reason or outcome["reason"]
                    outcome["status"], outcome["reason"] = "not graded", f"grading stopped: {outcome['reason']}"
                    for other in futures:
                        other.cancel()
                    waiting.clear()
                if outcome.get("status") == "graded":
                    cluster.install(files.get("autograded", {}), root / "autograded" / task.student / task.assignment)
                    if files.get("feedback"):
                        cluster.install(files["feedback"], root / "feedback" / task.student / task.assignment)
                result = Result(**{**{k: v for k, v in outcome.items() if k in Result.__dataclass_fields__},
                                   "student": task.student, "assignment": task.assignment})
                results.append(result)
                progress(result)
                if stopped_reason:
                    break
        except KeyboardInterrupt:
            for future in futures:
                future.cancel()
            raise
    done = {(r.student, r.assignment) for r in results}
    for task in tasks:
        if (task.student, task.assignment) not in done:
            results.append(Result(task.student, task.assignment, "not graded",
                                  f"grading stopped: {stopped_reason or 'a grader process failed'}"))
    return results


# --- the command ----------------------------------------------------------------------------------------

def export_grades(root, csv_path, pauses=(2, 5, 10, 20, 30)):
    """`nbgrader export`, tried again while the gradebook does not answer (a database server restarting)."""
    from autograder.tools.course import run_nbgrader

    for pause in pauses + (None,):
        result = run_nbgrader(["export", "--to", str(csv_path)], root)
        if result.returncode == 0 or "OperationalError" not in result.stderr + result.stdout or pause is None:
            return result
        time.sleep(pause)


def summary(results, problems, seconds, workers, outputs, retried=()):
    """The closing report, as text; `retried`: the tasks graded again because an earlier grading was cut short."""
    lines = []
    by_status = Counter(r.status for r in results)
    students = {r.student for r in results}
    not_graded = [p for p in problems if p.fatal and p.where != "nbgrader export"]
    lines.append(f"Graded {by_status['graded']} notebooks of {len(students)} students in {_clock(seconds)} "
                 f"({seconds:.1f} s, {workers} workers): {by_status['graded']} graded, {by_status['skipped']} "
                 f"skipped (already graded), {by_status['failed']} failed, "
                 f"{by_status['not graded'] + len(not_graded)} not graded")
    per_assignment = defaultdict(list)
    for r in results:
        if r.status in ("graded", "skipped") and r.score is not None:
            per_assignment[r.assignment].append(r)
    if per_assignment:
        lines.append("Scores (autograded points; count of each total):")
        for assignment, rows in sorted(per_assignment.items()):
            scores = [r.score for r in rows]
            top = rows[0].max_score
            spread = ", ".join(f"{s:g}×{n}" for s, n in sorted(Counter(scores).items(), reverse=True))
            per_notebook = sorted(r.seconds for r in rows if r.status == "graded")
            timing = (f"; {per_notebook[len(per_notebook) // 2]:.1f} s per notebook (median)"
                      if per_notebook else "")
            lines.append(f"  {assignment:<24} {len(rows):>3} notebooks  mean {sum(scores) / len(scores):.2f}/{top:g}"
                         f"  full marks {sum(s == top for s in scores)}  zero {sum(s == 0 for s in scores)}"
                         f"  [{spread}]{timing}")
    failed = [r for r in results if r.status in ("failed", "not graded") or r.feedback.startswith("failed")]
    export = [p for p in problems if p.where == "nbgrader export"]
    if failed or export:
        lines.append("Failures:")
        for r in sorted(failed, key=lambda r: (r.assignment, r.student)):
            reason = r.reason if r.status in ("failed", "not graded") else f"feedback {r.feedback}"
            lines.append(f"  {r.student}/{r.assignment}: {reason}")
        lines += [f"  {p}" for p in export]
    if not_graded:
        lines.append("Not graded (bad input):")
        lines += [f"  {p}" for p in not_graded]
    if retried:
        lines.append(f"Graded again ({len(retried)}; an earlier grading of each was cut short, e.g. killed):")
        lines += [f"  {t.student}/{t.assignment}: {t.interrupted}" for t in retried]
    notes = [p for p in problems if not p.fatal]
    if notes:
        lines.append("Notes:")
        lines += [f"  {p}" for p in notes]
    lines += [f"Wrote {text}" for text in outputs]
    return "\n".join(lines)


def _worker_count(requested, tasks):
    count = requested or os.cpu_count() or 1
    return max(1, min(count, len(tasks) or 1))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.class_grading.grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="assignments to grade (default: every assignment that has "
                                                       "submissions)")
    parser.add_argument("--course", default=".", help="course root, the folder with nbgrader_config.py (default: .)")
    parser.add_argument("--workers", type=int, default=0, help="grader processes of the local cluster (default: one "
                                                                "per CPU core)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786", help="grade on this existing Dask cluster (workers "
                        "started with `dask worker`) instead of a local one (README, \"Grading on a cluster\")")
    parser.add_argument("--uid-base", type=int, default=int(os.environ.get("KBH_GRADE_UID_BASE", DEFAULT_UID_BASE)),
                        help=f"sandbox uid of worker i is UID_BASE + i (default {DEFAULT_UID_BASE}, or "
                             "$KBH_GRADE_UID_BASE)")
    parser.add_argument("--force", action="store_true", help="grade again what is already autograded")
    parser.add_argument("--roster-only", action="store_true",
                        help="grade only students already in the gradebook (`nbgrader db student add/import`); also "
                             "the case when nbgrader_config.py sets c.Autograde.create_student = False")
    parser.add_argument("--no-feedback", action="store_true", help="do not write feedback HTML")
    parser.add_argument("--csv", default="grades.csv", help="grades file, relative to the course (default grades.csv)")
    parser.add_argument("--import-lms", metavar="FOLDER_OR_ZIP", help="first import an LMS export into submitted/")
    parser.add_argument("--assignment", help="the assignment an LMS export is for (with --import-lms)")
    parser.add_argument("--import-only", action="store_true", help="import the LMS export, do not grade")
    parser.add_argument("--shard", metavar="K/N", help="grade only the students of shard K of N (a stable hash of "
                                                        "the name; for several machines), and do not export")
    parser.add_argument("--log-dir", help="nbgrader's log of each worker goes here (default: a new temporary folder)")
    parser.add_argument("--json", metavar="PATH", help="also write every result as JSON (for scripts)")
    parser.add_argument("--report", action="store_true", help="then write the class report of the graded "
                        "assignments to reports/ (python -m autograder.class_grading.report; README, \"Class report\")")
    args = parser.parse_args(argv)

    root = Path(args.course).resolve()
    if not (root / "nbgrader_config.py").is_file():
        print(f"{root}: no nbgrader_config.py here; pass the course root with --course", file=sys.stderr)
        return 2
    if args.import_lms and not args.assignment:
        print("--import-lms needs --assignment NAME (the assignment the export is for)", file=sys.stderr)
        return 2
    shard = None
    if args.shard:
        match = re.fullmatch(r"(\d+)/(\d+)", args.shard)
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            print(f"--shard {args.shard}: expected K/N with 1 <= K <= N, e.g. 2/4", file=sys.stderr)
            return 2
        shard = int(match.group(1)), int(match.group(2))
    _path_with_python_bin()
    started = time.perf_counter()
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

    source = source_assignments(root)
    registered, roster = gradebook_state(root)
    known = {**source, **registered}
    problems = []
    requested = list(dict.fromkeys(args.assignments + ([args.assignment] if args.assignment else []))) or None
    if requested:
        for name in requested:
            if name not in known:
                problems.append(Problem(name, f"not graded: there is no assignment {name!r} "
                                              f"(known: {', '.join(sorted(known)) or 'none'})"))
        requested = [name for name in requested if name in known]

    if args.import_lms:
        if args.assignment not in known:
            print(f"--assignment {args.assignment}: there is no such assignment (known: {', '.join(sorted(known))})",
                  file=sys.stderr)
            return 2
        try:
            imported, import_problems = import_lms(args.import_lms, args.assignment, root,
                                                   (known[args.assignment] or [args.assignment])[0])
        except (FileNotFoundError, zipfile.BadZipFile) as error:
            print(f"--import-lms: {error}", file=sys.stderr)
            return 2
        say(f"Imported {len(imported)} notebooks from {args.import_lms} into submitted/<student>/{args.assignment}/")
        for relative, student in imported:
            say(f"  {relative} -> {student}")
        for problem in import_problems:
            say(f"  {problem}")
        problems += import_problems
        if args.import_only:
            return 1 if any(p.fatal for p in problems) else 0

    if requested == []:
        print("\n".join(str(p) for p in problems), file=sys.stderr)
        return 1
    roster_only = args.roster_only or not course_app(root).config.Autograde.get("create_student", True)
    tasks, found = scan_submissions(root, known, requested, roster if roster_only else None, shard)
    problems += found
    for name in sorted({t.assignment for t in tasks} - set(registered)):
        try:
            register_assignments(root, [name], say)
        except RuntimeError as error:
            problems.append(Problem(name, f"not graded: could not register it in the gradebook: "
                                          f"{str(error).strip().splitlines()[-1][:300]}"))
            tasks = [t for t in tasks if t.assignment != name]
    retried = [] if args.force else find_interrupted(root, tasks)
    check = GradingCheck(root, args.uid_base, say) if tasks and not args.scheduler else None
    create_students(root, sorted({t.student for t in tasks}))
    workers = _worker_count(args.workers, tasks)
    log_dir = Path(args.log_dir or tempfile.mkdtemp(prefix="kbh-grade-class-")).resolve()
    say(f"Grading {len(tasks)} notebooks ({len({t.student for t in tasks})} students, "
        f"{len({t.assignment for t in tasks})} assignments) "
        + (f"on the Dask cluster at {args.scheduler}; nbgrader's log: each worker's own" if args.scheduler else
           f"with {workers} workers; nbgrader's log: {log_dir}/worker-*.log"))
    for problem in problems:
        say(f"  {'NOT GRADED' if problem.fatal else 'note'}: {problem}")
    for task in retried:
        say(f"  graded again: {task.student}/{task.assignment}: an earlier grading was cut short ({task.interrupted})")
    # Longest first: assignments with more cells tend to take longer, and a long one started last leaves a core idle.
    tasks.sort(key=lambda t: (-_cost(root, t.assignment), t.assignment, t.student))
    try:
        results = (grade_on_cluster(root, tasks, workers, args.uid_base, log_dir, args.force, not args.no_feedback,
                                    gate=check.passed if check else None, scheduler=args.scheduler, say=say)
                   if tasks else [])
        if check is not None and not check.passed():
            print(f"Nothing was graded: grading does not work here.\n{check.output}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        if check is not None:
            check.stop()
        say("Interrupted: the grader processes were stopped; what finished is in the gradebook. Run the same "
            "command again to grade the rest (finished notebooks are skipped).")
        return 130
    except (RuntimeError, OSError) as error:
        print(f"Nothing more was graded: {error}", file=sys.stderr)
        return 1

    outputs = [f"{course_app(root).coursedir.db_url} (nbgrader's gradebook)"]
    if shard:
        outputs.append(f"no {args.csv}: this is shard {args.shard}; run `nbgrader export` once every shard is done")
    else:
        exported = export_grades(root, args.csv)
        if exported.returncode == 0:
            outputs.append(f"{root / args.csv} (nbgrader export)")
        else:
            problems.append(Problem("nbgrader export",
                                    f"failed: {(exported.stderr or exported.stdout).strip()[-300:]}"))
    if not args.no_feedback:
        pages = sum(r.feedback == "written" for r in results)
        outputs.append(f"{root / 'feedback'}/<student>/<assignment>/ ({pages} feedback pages)")
    if args.report:
        from autograder.class_grading.report import write_report

        graded = sorted({r.assignment for r in results}) or requested
        try:
            write_report(root, graded, timings={(r.student, r.assignment): r.seconds
                                                for r in results if r.status == "graded"})
            outputs.append(f"{root / 'reports' / 'report.html'} (class report, with report.json and CSV files)")
        except Exception as error:  # the grades are in the gradebook either way
            problems.append(Problem("class report", f"failed: {type(error).__name__}: {error}"))
    seconds = time.perf_counter() - started
    retried = [t for t in tasks if t.interrupted]  # cut short before this run, or a worker died on it in this one
    print(summary(results, problems, seconds, workers, outputs, retried), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({
            "seconds": seconds, "workers": workers, "results": [dataclasses.asdict(r) for r in results],
            "problems": [dataclasses.asdict(p) for p in problems]}, indent=1))
    bad = (any(r.status in ("failed", "not graded") or r.feedback.startswith("failed") for r in results)
           or any(p.fatal for p in problems))
    return 1 if bad else 0


_COSTS = {}


def _cost(root, assignment):
    """A rough cost of grading one notebook of `assignment`: the number of code cells of its source notebook."""
    if assignment not in _COSTS:
        try:
            import nbformat

            path = Path(root) / "source" / assignment / f"{assignment}.ipynb"
            _COSTS[assignment] = sum(c.cell_type == "code" for c in nbformat.read(path, as_version=4).cells)
        except (OSError, ValueError):
            _COSTS[assignment] = 0
    return _COSTS[assignment]


if __name__ == "__main__":
    sys.exit(main())
