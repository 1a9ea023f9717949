"""Grading a class on Dask distributed: the cluster (local, or an existing one), and what a worker does.

One task grades one (student, assignment). It carries what grading needs, the course's nbgrader_config.py, the
assignment's source/ folder and the submitted folder, as bytes, and returns what grading produced, the
autograded folder, the feedback pages and the scores, so a worker needs no file system shared with the course:
it grades in a scratch course root of its own with nbgrader's own `NbGraderAPI.autograde`, writing the scores
to the gradebook the task names (SQLite on one machine, PostgreSQL for a cluster). The client writes
autograded/ and feedback/ into the course root, each folder whole or not at all.

Per worker process, paid once: nbgrader imported and its app configured, the checker process with TensorFlow
(autograder/grading/checker_process.py), and a sandbox uid of its own (`claim_uid`: RLIMIT_NPROC counts every
process of a uid, so two graders on one machine must not share one). A worker that dies mid-notebook (SIGKILL,
the OOM killer) is restarted by its nanny and Dask runs the task again elsewhere; a notebook that takes down
`MAX_DEATHS` workers is reported (`KilledWorker`), not tried forever.
"""
import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import socket
import sys
import tempfile
import uuid
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

MAX_DEATHS = 2  # a notebook whose grader process dies this often is reported, not tried again
UID_SLOTS = 256  # sandbox uids a machine's workers may claim: --uid-base .. --uid-base + UID_SLOTS - 1
PLUGIN_NAME = "kbh-grader"


def dask_settings():
    """Dask configuration of the class-grading cluster (for the client, the scheduler it starts, its workers)."""
    return {
        # a task survives one worker death (run again elsewhere); the second gives KilledWorker
        "distributed.scheduler.allowed-failures": MAX_DEATHS - 1,
        # grading is CPU-bound and long: never steal a running notebook's queue, never pause on memory
        "distributed.scheduler.work-stealing": False,
        "distributed.worker.memory.target": False, "distributed.worker.memory.spill": False,
        "distributed.worker.memory.pause": False, "distributed.worker.memory.terminate": False,
        "distributed.worker.daemon": False,
        "distributed.comm.timeouts.connect": "60s",
    }


# --- a worker's sandbox uid ------------------------------------------------------------------------------------

_HELD = []


def claim_uid(base, folder=None, slots=UID_SLOTS):
    """The first uid of base .. base + slots - 1 that no other process on this machine holds, held (an flock on
    <folder>/kbh-sandbox-uid-<uid>.lock) until this process exits, however it exits."""
    folder = Path(folder or tempfile.gettempdir())
    for uid in range(base, base + slots):
        fd = os.open(folder / f"kbh-sandbox-uid-{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _HELD.append(fd)
        return uid
    raise RuntimeError(f"every sandbox uid from {base} to {base + slots - 1} is held by another grader on this "
                       "machine")


def _redirect_output(path):
    """This process's stdout and stderr (nbgrader's log, Dask's, TensorFlow's) to `path`, from here on."""
    log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for fd in (1, 2):
        os.dup2(log, fd)
    os.close(log)


class GraderSetup(WorkerPlugin):
    """Dask worker plugin: makes a worker process a grader, once, before its first task. Claims a sandbox uid,
    puts this Python's bin folder first on PATH (nbgrader runs `alembic` from there), and, on a local cluster,
    sends the worker's output to <log_dir>/worker-<pid>.log."""

    name = PLUGIN_NAME

    def __init__(self, uid_base, log_dir=None):
        self.uid_base, self.log_dir = uid_base, log_dir

    def setup(self, worker):
        # Once per process: each client that connects registers the plugin again (and Dask tears the old one
        # down), but the uid, the scratch folder and the kept checker process stay this process's.
        if _SETUP:
            return
        if self.log_dir:
            _redirect_output(Path(self.log_dir) / f"worker-{os.getpid()}.log")
        uid = claim_uid(self.uid_base)
        os.environ["KBH_SANDBOX_UID"] = os.environ["KBH_SANDBOX_GID"] = str(uid)
        from autograder.class_grading.grade import _path_with_python_bin

        _path_with_python_bin()
        atexit.register(lambda: shutil.rmtree(_SCRATCH.get("folder", ""), ignore_errors=True))
        _SETUP.append(uid)
        print(f"grader {worker.address}: pid {os.getpid()}, sandbox uid {uid}", file=sys.stderr, flush=True)


_SETUP = []


# --- folders as bytes ------------------------------------------------------------------------------------------

def pack(folder, skip=(".ipynb_checkpoints", "__pycache__")):
    """{relative path: (mode, bytes)} of every file under `folder` ({} if it does not exist)."""
    folder = Path(folder)
    files = {}
    if folder.is_dir():
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not any(part in skip for part in path.relative_to(folder).parts):
                files[path.relative_to(folder).as_posix()] = (path.stat().st_mode & 0o777, path.read_bytes())
    return files


def unpack(files, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for relative, (mode, data) in files.items():
        path = folder / relative
        if ".." in Path(relative).parts or Path(relative).is_absolute():
            raise ValueError(f"a packed file outside its folder: {relative}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode | 0o600)


def install(files, target):
    """Put the packed folder `files` at `target` whole: written beside it, then renamed over it."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
    unpack(files, partial)
    old = None
    if target.exists():
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        target.rename(old)
    partial.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def course_files(root, assignment):
    """What a worker needs of the course to grade `assignment`: nbgrader_config.py and source/<assignment>/."""
    root = Path(root)
    files = {"nbgrader_config.py": (0o644, (root / "nbgrader_config.py").read_bytes())}
    files.update({f"source/{assignment}/{k}": v for k, v in pack(root / "source" / assignment).items()})
    return files


# --- on the worker ---------------------------------------------------------------------------------------------

def failure_reason(result):
    """The most useful line of a failed `NbGraderAPI.autograde` result: the underlying error, not nbgrader's
    closing "see the above traceback"."""
    log, error = result.get("log", "") or "", result.get("error", "") or ""
    last_error = ""
    block = None
    for line in log.splitlines() + ["[END]"]:
        if line.startswith("[") and block is not None:  # a logged traceback ends at the next log record
            found = [ln for ln in block if ln.strip() and not ln.startswith((" ", "Traceback", "The above exception",
                                                                               "During handling", "(Background on"))]
            last_error = found[-1] if found else last_error
            block = None
        if line.startswith("[ERROR] Traceback (most recent call last)"):
            block = []
        elif block is not None:
            block.append(line[4:] if line.startswith("    ") else line)
    if last_error:
        return last_error.strip()[:300]
    for line in log.splitlines():
        if line.startswith("[ERROR]") and "Please see" not in line and "There was an error" not in line:
            return line[len("[ERROR]"):].strip()[:300]
    tail = [ln for ln in error.splitlines() if ln.strip()]
    return (tail[-1].strip() if tail else "nbgrader reported a failure without a reason")[:300]


def autograde(api, task, feedback):
    """nbgrader's autograde (and generate_feedback) of one {student, assignment} through `api`, in a scratch course
    root where it was never graded: a result dict (status graded/failed/stopped, reason, score, max_score,
    feedback, seconds, gradebook_lost); nbgrader's log to stderr."""
    import time

    from nbgrader.api import Gradebook, MissingEntry

    started = time.perf_counter()
    outcome = api.autograde(task["assignment"], task["student"], force=True, create=True)
    for _ in range(2):  # another worker held the gradebook past the busy timeout: grade this one again
        if outcome.get("success") or "database is locked" not in (outcome.get("log", "") or ""):
            break
        outcome = api.autograde(task["assignment"], task["student"], force=True, create=True)
    result = {"student": task["student"], "assignment": task["assignment"], "status": "graded", "reason": ""}
    log = outcome.get("log", "") or ""
    print(f"=== nbgrader autograde {task['assignment']} --student {task['student']}: "
          f"{'ok' if outcome.get('success') else 'FAILED'}\n{log}{outcome.get('error', '')}", file=sys.stderr, flush=True)
    if not outcome.get("success"):
        error_tail = [ln for ln in (outcome.get("error") or "").splitlines() if ln.strip()]
        if error_tail and error_tail[-1].startswith(("SystemExit", "KeyboardInterrupt")):
            result.update(status="stopped", reason=error_tail[-1].split(":", 1)[-1].strip() or error_tail[-1])
        else:
            result.update(status="failed", reason=failure_reason(outcome))
            result["gradebook_lost"] = _lost_gradebook(log + (outcome.get("error", "") or ""))
    if result["status"] == "graded":
        try:
            with Gradebook(api.coursedir.db_url) as gb:
                submission = gb.find_submission(task["assignment"], task["student"])
                result["score"], result["max_score"] = submission.score, submission.max_score
        except MissingEntry:
            pass
        if feedback:
            made = api.generate_feedback(task["assignment"], task["student"], force=True)
            print(f"=== nbgrader generate_feedback {task['assignment']} --student {task['student']}: "
                  f"{'ok' if made.get('success') else 'FAILED'}\n{made.get('log', '')}{made.get('error', '')}",
                  file=sys.stderr, flush=True)
            result["feedback"] = "written" if made.get("success") else f"failed: {failure_reason(made)}"
    result["seconds"] = time.perf_counter() - started
    return result


def _lost_gradebook(text):
    """True if an error's text says the gradebook's database did not answer (SQLite's "database is locked" is
    another worker's write, retried by `autograde` itself)."""
    return "OperationalError" in text and "database is locked" not in text


_SCRATCH = {}  # "folder": this worker's scratch folder; course digest: its course root there
_APIS = {}


def _scratch_folder():
    """This worker process's scratch folder (kbh-grader-<pid>-*), made on first use."""
    if "folder" not in _SCRATCH:
        _SCRATCH["folder"] = tempfile.mkdtemp(prefix=f"kbh-grader-{os.getpid()}-")
    return _SCRATCH["folder"]


def _scratch_course(files):
    """A course root in this worker's scratch folder holding `files` (one per distinct course content)."""
    digest = hashlib.sha256(repr(sorted((k, v[1]) for k, v in files.items())).encode()).hexdigest()[:16]
    if digest not in _SCRATCH:
        folder = _scratch_folder()
        root = Path(folder) / f"course-{digest}"
        unpack(files, root)
        _SCRATCH[digest] = root
    return _SCRATCH[digest]


def _api(root, db_url):
    """nbgrader's API for the course in `root`, configured as `nbgrader autograde` is (the same config files),
    writing to the gradebook at `db_url`; made once per (root, gradebook) in this process."""
    if (root, db_url) not in _APIS:
        from nbgrader.apps.api import NbGraderAPI
        from nbgrader.apps.baseapp import NbGrader
        from traitlets.config import Config

        os.chdir(root)
        app = NbGrader()
        app.initialize([], root=str(root))
        override = Config()
        override.CourseDirectory.db_url = db_url
        if os.environ.get("KBH_GRADE_GRACEFUL_SHUTDOWN") != "1":
            # Once a notebook's last cell has run, nbclient asks its kernel to exit and waits for it: about 2 s
            # for a kernel that imported TensorFlow, paid per notebook for nothing. Stop it at once instead. Set
            # on NotebookClient, the most general section, so a value nbgrader_config.py gives Execute still wins.
            override.NotebookClient.shutdown_kernel = "immediate"
        app.update_config(override)
        app.coursedir.db_url = db_url
        _APIS[root, db_url] = NbGraderAPI(coursedir=app.coursedir, parent=app)
    return _APIS[root, db_url]


GRADEBOOK_RETRY_PAUSES = (2, 4, 8, 15, 30, 60)  # seconds between tries while the gradebook does not answer


def grade_task(course, submission, student, assignment, db_url, feedback):
    """Runs on a worker: grade one submission (packed files) in a scratch course root; the result dict of
    `autograde` plus "files" (the autograded and feedback folders, packed), "worker", and "retried" (why it was
    graded more than once, e.g. the gradebook did not answer for a while: a database server restarting)."""
    import time

    root = _scratch_course(course)
    api = _api(root, db_url)
    folders = {kind: root / kind / student / assignment for kind in ("submitted", "autograded", "feedback")}
    retried = []
    try:
        for pause in GRADEBOOK_RETRY_PAUSES + (None,):
            for folder in folders.values():
                shutil.rmtree(folder, ignore_errors=True)
            unpack(submission, folders["submitted"])
            os.chdir(root)
            try:
                result = autograde(api, {"student": student, "assignment": assignment}, feedback)
            except Exception as error:  # the score read or the feedback step lost the gradebook
                reason = f"{type(error).__name__}: {error}"
                result = {"status": "failed", "reason": reason[:300], "gradebook_lost": _lost_gradebook(reason)}
            if not result.get("gradebook_lost") or pause is None:
                break
            retried.append(result["reason"])
            print(f"the gradebook did not answer ({result['reason']}); {student}/{assignment} again in {pause} s",
                  file=sys.stderr, flush=True)
            time.sleep(pause)
        result["files"] = {kind: pack(folders[kind]) for kind in ("autograded", "feedback")}
    finally:
        os.chdir(root)
        for folder in folders.values():
            shutil.rmtree(folder, ignore_errors=True)
    result["worker"] = _worker_name()
    if retried:
        result["retried"] = (f"the gradebook did not answer (tried {len(retried) + 1} times, the worker's log "
                             f"says why); graded again once it did")
    return result


def _worker_name():
    with contextlib.suppress(ValueError, ImportError):
        from distributed import get_worker

        return f"{get_worker().address} (pid {os.getpid()})"
    return f"pid {os.getpid()}"


def check_worker():
    """Runs on a worker (`Client.run`): `python -m autograder.grading.sandbox check` in a scratch course root,
    with this worker's sandbox uid: (passed, what it printed)."""
    import subprocess

    folder = _scratch_folder()
    probe = Path(folder) / "check"
    probe.mkdir(exist_ok=True)
    done = subprocess.run([sys.executable, "-m", "autograder.grading.sandbox", "check", str(probe)], cwd=probe,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    # The probe kernel's own log (e.g. IPython noting the interrupt that stops it) matters only on a failure.
    said = done.stdout.strip() if done.returncode == 0 else f"{done.stdout.strip()}\n{done.stderr.strip()}".strip()
    return done.returncode == 0, f"{socket.gethostname()}: {said}"


# --- the cluster -----------------------------------------------------------------------------------------------

def local_hosts():
    names = {"127.0.0.1", "localhost", "::1", socket.gethostname()}
    with contextlib.suppress(OSError):
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    return names


def worker_hosts(client):
    """The hosts of the cluster's workers (as the scheduler knows them)."""
    return {info.get("host") or address.split("://")[-1].rsplit(":", 1)[0]
            for address, info in client.scheduler_info(n_workers=-1)["workers"].items()}


@contextlib.contextmanager
def grading_cluster(workers, uid_base, log_dir, scheduler=None):
    """A Dask client whose workers are graders: a local cluster of `workers` single-threaded worker processes,
    or the existing cluster at `scheduler` (tcp://HOST:8786). Yields (client, local?)."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(dask_settings()):
        if scheduler:
            client = Client(scheduler, timeout="60s")
            try:
                client.register_plugin(GraderSetup(uid_base), name=PLUGIN_NAME)
                yield client, False
            finally:
                client.close()
            return
        # dashboard_address: the scheduler's HTTP server always starts; None would bind it to port 8787 on every
        # interface (and warn when another cluster has it): a free port on loopback only
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=0,
                               dashboard_address="127.0.0.1:0", host="127.0.0.1", silence_logs=logging.ERROR,
                               plugins=(GraderSetup(uid_base, str(log_dir)),))
        client = Client(cluster)
        try:
            yield client, True
        finally:
            client.close()
            with contextlib.suppress(Exception):
                cluster.close(timeout=30)


def threads(client):
    """How many notebooks the cluster can grade at once (its workers' threads; at least 1)."""
    return max(1, sum(client.nthreads().values()))


def deaths(client, keys):
    """{key: how many workers died while running it} for the tasks of `keys` the scheduler still holds."""
    def read(dask_scheduler, keys=tuple(keys)):
        return {k: dask_scheduler.tasks[k].suspicious for k in keys if k in dask_scheduler.tasks}

    return client.run_on_scheduler(read)
