"""Class grading on a real Dask cluster started as a user starts one (`dask scheduler`, `dask worker`), with the
gradebook in a real PostgreSQL server (Debian's package, a throwaway data folder): the scores equal plain
sequential `nbgrader autograde`'s, and faults (a worker killed mid-notebook, the database restarted) cost
nothing. README, "Grading on a cluster"."""
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from autograder.tools import benchmark
from autograder.tools.course import generate_assignments, make_course, replace_in_answer, solved_submission
from redteam.cases import trimmed

ASSIGNMENT = "01_to_categorical"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
UID_BASE = int(os.environ.get("KBH_TEST_UID_BASE", 64040)) + 40
BIN = os.path.dirname(sys.executable)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]




class Postgres:
    """A PostgreSQL server of Debian's package in a temporary data folder, run as the `postgres` user."""

    def __init__(self, folder):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        assert found, "PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does)"
        self.bin = Path(found[-1]).parent
        self.data, self.port = Path(folder) / "data", free_port()
        Path(folder).mkdir(parents=True, exist_ok=True)
        shutil.chown(folder, "postgres")
        self.as_postgres([self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync"])
        self.start()
        self.as_postgres([self.bin / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "course"])
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/course"

    def as_postgres(self, command, check=True):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + [str(c) for c in command], check=check, capture_output=True, text=True)

    def start(self):
        self.as_postgres([self.bin / "pg_ctl", "-D", self.data, "-w", "-l", self.data.parent / "server.log", "-o",
                          f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data.parent} -c fsync=off",
                          "start"])

    def stop(self):
        self.as_postgres([self.bin / "pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop"], check=False)


class DaskCluster:
    """`dask scheduler` and `dask worker` processes, as a user would start them on the machines of a cluster."""

    def __init__(self, workers, folder):
        self.folder, self.port = Path(folder), free_port()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._start("scheduler", [f"{BIN}/dask", "scheduler", "--host", "127.0.0.1", "--port",
                                                   str(self.port), "--no-dashboard"])
        self.workers = [self._start(f"worker-{i}", [f"{BIN}/dask", "worker", self.address, "--nworkers", "1",
                                                    "--nthreads", "1", "--memory-limit", "0", "--no-dashboard",
                                                    "--name", f"grader-{i}"])
                        for i in range(workers)]
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=120)

    def _start(self, name, command):
        env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        log = open(self.folder / f"{name}.log", "ab")
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def grading_worker_pid(self, finished=(), seconds=60):
        """The pid of a worker process that is grading a notebook now (of a student not in `finished`)."""
        from distributed import Client

        with Client(self.address, timeout="60s") as client:
            pids = client.run(os.getpid)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                busy = [w for w, keys in client.processing().items()
                        if any(k.startswith("grade-") and k.split("-")[2] not in finished for k in keys)]
                if busy:
                    return pids[busy[0]]
                time.sleep(0.05)
        raise AssertionError("no worker was grading a notebook")

    def nanny_of(self, worker_pid):
        """The `dask worker` command (a Popen) that started the worker process `worker_pid`."""
        ppid = int(Path(f"/proc/{worker_pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        return next(nanny for nanny in self.workers if nanny.pid == ppid)

    def stop(self):
        for process in self.workers + [self.scheduler]:
            with_group = process.pid
            try:
                os.killpg(with_group, signal.SIGTERM)
            except ProcessLookupError:
                continue
        for process in self.workers + [self.scheduler]:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture(scope="module")
def postgres():
    folder = tempfile.mkdtemp(prefix="kbh-test-postgres-")  # not under pytest's root-only folder: postgres enters it
    server = Postgres(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    running = DaskCluster(2, tmp_path_factory.mktemp("dask"))
    yield running
    running.stop()


def the_class(root):
    """Four students: two right, two with a different wrong answer each."""
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    solved = trimmed(solved_submission(release, nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)))
    handed_in = {
        "alice": solved, "carol": solved,
        "bob": replace_in_answer(solved, "from_categorical_answer", "np.argmax(scores, axis=-1)",
                                 "np.argmax(scores, axis=0)"),
        "dave": replace_in_answer(solved, "to_categorical_answer", "int(labels.max()) + 1", "int(labels.max())"),
    }
    for student, notebook in handed_in.items():
        folder = root / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(notebook, folder / NOTEBOOK)
    return sorted(handed_in)


def in_postgres(root, url):
    with open(root / "nbgrader_config.py", "a") as config:
        config.write(f"\nc.CourseDirectory.db_url = {url!r}\n")


def scores_in(url):
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return {(s.student.id, nb.name, g.name): (g.score, g.max_score)
                for a in gb.assignments for s in a.submissions for nb in s.notebooks for g in nb.grades}


def run_grade(root, *args, timeout=900):
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    return subprocess.run([sys.executable, "-m", "autograder.class_grading.grade", ASSIGNMENT, "--course", str(root),
                           "--uid-base", str(UID_BASE), "--no-feedback", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.fixture(scope="module")
def plain_scores(tmp_path_factory):
    """The same class graded by plain sequential `nbgrader autograde` (its stock steps, SQLite)."""
    root = make_course(tmp_path_factory.mktemp("plain") / "course")
    the_class(root)
    seconds, _, failures = benchmark.grade_plain(root, [ASSIGNMENT])
    assert not failures, failures
    return {(s, nb, cell): v for (s, _, nb, cell), v in benchmark.cell_scores(root).items()}


def test_a_class_graded_on_a_dask_cluster_into_postgresql_scores_as_plain_nbgrader(tmp_path, postgres, dask_cluster,
                                                                                   plain_scores):
    root = make_course(tmp_path / "course")
    in_postgres(root, postgres.url)
    students = the_class(root)
    shutil.rmtree(root / "submitted" / "carol")  # carol comes later, with the database restarted
    result = run_grade(root, "--scheduler", dask_cluster.address)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Graded 3 notebooks of 3 students" in result.stdout, result.stdout
    assert not (root / "gradebook.db").exists()  # every score went to PostgreSQL
    assert len({line.split(": pid")[0] for line in (dask_cluster.folder / "worker-0.log").read_text().splitlines()
                if "sandbox uid" in line}) == 1
    got = scores_in(postgres.url)
    assert got == {k: v for k, v in plain_scores.items() if k[0] != "carol"}
    assert {s for s, _, _ in got} == set(students) - {"carol"}
    for student in ("alice", "bob", "dave"):
        assert (root / "autograded" / student / ASSIGNMENT / NOTEBOOK).is_file()



def test_a_worker_that_leaves_and_the_database_restarted_mid_run_cost_nothing(tmp_path, postgres, dask_cluster,
                                                                              plain_scores):
    """While the class is graded on the cluster, the worker grading a notebook leaves (its `dask worker` stopped
    with SIGTERM) and the PostgreSQL server is stopped for 12 s and started again: every notebook is
    still graded once with its real score, submitted/ is untouched, and the summary says which were graded
    again. (A worker killed with SIGKILL: tests/test_grade_class.py.) Runs last: one worker is left."""
    import hashlib
    import threading

    root = make_course(tmp_path / "course")
    db = f"faults_{os.getpid()}"
    postgres.as_postgres([postgres.bin / "createdb", "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres", db])
    url = postgres.url.rsplit("/", 1)[0] + f"/{db}"
    in_postgres(root, url)
    the_class(root)

    def digest():
        return hashlib.sha256(b"".join(p.read_bytes() for p in sorted((root / "submitted").rglob("*")) if p.is_file()))

    before = digest().hexdigest()
    env = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    run = subprocess.Popen([sys.executable, "-m", "autograder.class_grading.grade", ASSIGNMENT, "--course", str(root),
                            "--uid-base", str(UID_BASE), "--no-feedback", "--scheduler", dask_cluster.address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines, first, second = [], threading.Event(), threading.Event()

    def read():
        for line in run.stderr:
            lines.append(line)
            if line.startswith("[1/4]"):
                first.set()
            if line.startswith("[2/4]"):
                second.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(300), "".join(lines)
    finished = {line.split()[2] for line in lines if line.startswith("[")}
    leaving = dask_cluster.nanny_of(dask_cluster.grading_worker_pid(finished))
    os.killpg(leaving.pid, signal.SIGTERM)  # a worker leaves the cluster (`dask worker` stopped) mid-notebook
    assert second.wait(300), "".join(lines)
    postgres.stop()
    time.sleep(12)  # longer than a notebook takes: the notebook in flight, or the next, finds no gradebook
    postgres.start()
    out = run.communicate(timeout=600)[0]
    reader.join(timeout=10)
    assert run.returncode == 0, out + "".join(lines)
    assert "Graded 4 notebooks of 4 students" in out, out
    assert scores_in(url) == plain_scores
    assert digest().hexdigest() == before
    graded_again = out.split("Graded again (", 1)[-1]
    assert "the grader process died (or left) while grading it; another one graded it again" in graded_again, out
    assert "the gradebook did not answer" in graded_again, out + "".join(lines)
    assert leaving.wait(timeout=60) is not None
