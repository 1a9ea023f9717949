"""The red-team bank (tests/redteam/cases.py) through the real `nbgrader autograde`, with the grading sandbox.

One batch grades every case plus two innocent students (first and last in the batch) and a "probe" student
whose answer cell tries each thing the sandbox forbids. Checked: each case's score, the innocent students' full
marks, that the batch finished, that submitted/ is byte-identical afterwards, and each sandbox restriction.
A second, small course shows that grading stops when the sandbox cannot be built, and that KBH_UNSANDBOXED=1
grades anyway with a warning.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry

from autograder.grading import sandbox
from autograder.tools.course import REPO_ROOT, generate_assignments, make_course, run_nbgrader, solved_submission
from redteam.cases import ASSIGNMENT, CASES, CHEATS, FULL, INNOCENT, NOTEBOOK, solved_only, trimmed

pytestmark = pytest.mark.skipif(sandbox.opted_out(), reason="KBH_UNSANDBOXED=1: the sandbox is switched off")

# Small limits so the bank runs in a few minutes: 20 s per answer cell and per call of a student's function,
# 300 s per notebook, 40 CPU seconds per answer kernel (it needs about 2 without TensorFlow).
BANK_CONFIG = """
c.SplitExecute.cell_timeout = 20
c.SplitExecute.call_timeout = 20
c.SplitExecute.notebook_timeout = 300
c.SandboxedKernelManager.cpu_seconds = 40
"""
# Plain nbgrader: its own Execute step (the checks run in the student's kernel), no sandbox.
PLAIN_CONFIG = """
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute", "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor", "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades", "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
"""
PROBE_STUDENT = "probe"
PWNED = "kbh-redteam-pwned.txt"


def probe_code(root, port):
    """Code that tries each forbidden thing and prints `PROBE <name> ALLOWED|BLOCKED`; two controls must be
    ALLOWED (so a probe that cannot work at all would show)."""
    attempts = {
        "read-source": f"open({str(root / 'source' / ASSIGNMENT / NOTEBOOK)!r}).read()",
        "read-repo-source": f"open({str(REPO_ROOT / 'source' / ASSIGNMENT / NOTEBOOK)!r}).read()",
        "read-gradebook": f"open({str(root / 'gradebook.db')!r}, 'rb').read()",
        "read-other-student": f"open({str(root / 'submitted' / INNOCENT[0] / ASSIGNMENT / NOTEBOOK)!r}).read()",
        "read-own-notebook-with-hidden-tests": f"open({NOTEBOOK!r}).read()",
        "write-course-root": f"open({str(root / PWNED)!r}, 'w').write('x')",
        "write-submitted": f"open({str(root / 'submitted' / INNOCENT[1] / ASSIGNMENT / PWNED)!r}, 'w').write('x')",
        "write-repository": f"open({str(REPO_ROOT / PWNED)!r}, 'w').write('x')",
        "write-tmp": f"open('/tmp/{PWNED}', 'w').write('x')",
        "write-venv": f"open({os.path.join(sys.prefix, PWNED)!r}, 'w').write('x')",
        "write-200-MB-file": "open('big.bin', 'wb').write(bytes(200 * 1024 * 1024))",
        "connect-grader-port": f"__import__('socket').create_connection(('127.0.0.1', {port}), timeout=3).close()",
        "connect-internet": "__import__('socket').create_connection(('1.1.1.1', 53), timeout=3).close()",
        "import-keras": "import keras; keras.ops.argmax([1.0, 2.0])",
        "import-tensorflow": "import tensorflow as tf; tf.constant(1.0)",
        "control-write-scratch": "open('scratch.txt', 'w').write('x'); assert open('scratch.txt').read() == 'x'",
        "control-import-autograder": "import autograder.topics",
    }
    lines = ["def _probe(name, attempt):",
             "    try:",
             "        exec(attempt, {})",
             "        print('PROBE', name, 'ALLOWED')",
             "    except BaseException as error:",
             "        print('PROBE', name, 'BLOCKED', type(error).__name__)"]
    lines += [f"_probe({name!r}, {code!r})" for name, code in attempts.items()]
    return "\n".join(lines), list(attempts)


class Listener:
    """A TCP server on 127.0.0.1 in the test process that counts the connections it accepts."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(5)
        self.server.settimeout(0.5)
        self.port = self.server.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
                self.accepted += 1
                connection.close()
            except OSError:
                pass

    def can_be_reached(self):
        """Connect once from this process and wait until the connection is counted."""
        before = self.accepted
        socket.create_connection(("127.0.0.1", self.port), timeout=3).close()
        for _ in range(50):
            if self.accepted > before:
                return True
            time.sleep(0.1)
        return False

    def close(self):
        self._stop.set()
        self._thread.join()
        self.server.close()


def tree_digest(folder):
    """sha256 over every file's relative path, mode and bytes under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        digest.update(str(path.relative_to(folder)).encode() + oct(path.stat().st_mode).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def write_submission(root, student, files):
    folder = root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    for name, content in files.items():
        if isinstance(content, (bytes, bytearray)):
            (folder / name).write_bytes(content)
        else:
            nbformat.write(content, folder / name)


def new_course(base, config=BANK_CONFIG):
    root = make_course(base)
    with open(root / "nbgrader_config.py", "a") as file:
        file.write(config)
    generate_assignments(root, [ASSIGNMENT])
    release = nbformat.read(root / "release" / ASSIGNMENT / NOTEBOOK, as_version=4)
    source = nbformat.read(root / "source" / ASSIGNMENT / NOTEBOOK, as_version=4)
    return root, solved_submission(release, source), release


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root, solved, release = new_course(tmp_path_factory.mktemp("redteam") / "course")
    listener = Listener()
    assert listener.can_be_reached()  # the port is open to this process: a blocked probe proves the sandbox
    reached_before = listener.accepted
    for student in INNOCENT:
        write_submission(root, student, solved_only(solved, release))
    for case in CASES + CHEATS:
        write_submission(root, case.student, case.build(solved, release))
    code, probes = probe_code(root, listener.port)
    probed = trimmed(solved)
    probed.cells.insert(next(i for i, c in enumerate(probed.cells) if c.metadata.get("nbgrader", {}).get("solution")),
                        nbformat.v4.new_code_cell(code))
    write_submission(root, PROBE_STUDENT, {NOTEBOOK: probed})
    before = tree_digest(root / "submitted")
    # A temporary folder of this batch's own, to see that every sandbox workspace is removed (other courses may
    # be graded on the machine at the same time).
    tmp = tmp_path_factory.mktemp("tmp")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(tmp)
    try:
        result = run_nbgrader(["autograde", ASSIGNMENT, "--create"], root, timeout=900)
    finally:
        os.environ.pop("TMPDIR") if saved is None else os.environ.__setitem__("TMPDIR", saved)
    listener.close()
    yield {"root": root, "result": result, "before": before, "after": tree_digest(root / "submitted"), "tmp": tmp,
           "probes": probes, "connections": listener.accepted - reached_before}
    for pwned in (REPO_ROOT / PWNED, Path("/tmp") / PWNED):
        pwned.unlink(missing_ok=True)


def total_score(root, student):
    """The student's score for the notebook from the gradebook, or None if nothing was recorded."""
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        try:
            notebook = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
        except MissingEntry:
            return None
        if any(grade.score is None for grade in notebook.grades):
            return None
        return float(notebook.score)


def log(bank):
    return bank["result"].stdout + bank["result"].stderr


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.student)
def test_each_case_gets_the_score_it_earned(bank, case):
    score = total_score(bank["root"], case.student)
    if case.expected is None:
        assert score in (None, 0.0), log(bank)[-3000:]
    else:
        assert score == case.expected, f"{case.student}: {score}\n" + log(bank)[-3000:]


def test_innocent_students_keep_full_marks(bank):
    assert [total_score(bank["root"], s) for s in INNOCENT] == [FULL, FULL], log(bank)[-3000:]


def test_the_batch_finishes_and_reports_only_the_unreadable_notebooks(bank):
    text = log(bank)
    failed = {line.split("for student '")[1].split("'")[0] for line in text.splitlines()
              if "There was an error processing assignment '" in line}
    refused = {c.student for c in CHEATS if c.expected is None}  # nbgrader refuses tampered metadata
    assert failed == {"not-json", "empty-file"} | refused, text[-3000:]
    graded = {p.parts[-3] for p in (bank["root"] / "autograded").glob(f"*/{ASSIGNMENT}/{NOTEBOOK}")}
    assert graded >= (set(INNOCENT) | {PROBE_STUDENT} | {c.student for c in CASES if c.expected is not None}
                      | {c.student for c in CHEATS if c.expected is not None})


def test_submitted_is_untouched(bank):
    assert bank["after"] == bank["before"]


def probe_results(bank):
    graded = nbformat.read(bank["root"] / "autograded" / PROBE_STUDENT / ASSIGNMENT / NOTEBOOK, as_version=4)
    text = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.get("outputs", []))
    return {line.split()[1]: line.split()[2] for line in text.splitlines() if line.startswith("PROBE ")}


def test_sandbox_blocks_every_probe_and_allows_the_controls(bank):
    results = probe_results(bank)
    assert set(results) == set(bank["probes"]), results
    expected = {name: "ALLOWED" if name.startswith("control-") else "BLOCKED" for name in bank["probes"]}
    assert results == expected
    assert total_score(bank["root"], PROBE_STUDENT) == FULL


def test_nothing_reached_the_grader_or_landed_outside_scratch(bank):
    assert bank["connections"] == 0
    root = bank["root"]
    assert not (root / PWNED).exists() and not (REPO_ROOT / PWNED).exists() and not (Path("/tmp") / PWNED).exists()
    assert list(root.rglob(PWNED)) == []
    assert list((root / "autograded").rglob("big.bin")) == []  # scratch is a private copy, deleted afterwards


def test_disk_flood_hits_the_total_quota_and_the_notebook_goes_on(bank):
    """60 MB files (each under the 64 MB per-file limit), written until a write fails: the scratch folder's tmpfs
    (c.SandboxedKernelManager.disk_mb) stops them, the notebook keeps its points, the innocents theirs."""
    from traitlets.config import PyFileConfigLoader

    quota = PyFileConfigLoader("nbgrader_config.py", path=str(bank["root"])).load_config().SandboxedKernelManager.disk_mb
    flooded = nbformat.read(bank["root"] / "autograded" / "disk-flood" / ASSIGNMENT / NOTEBOOK, as_version=4)
    said = "".join(o.get("text", "") for c in flooded.cells if c.cell_type == "code" for o in c.outputs)
    stopped = re.search(r"disk flood stopped after (\d+) MB: No space left on device", said)
    assert stopped, said[:2000]
    assert int(stopped.group(1)) <= quota and int(stopped.group(1)) >= quota - 120
    assert not list((bank["root"] / "autograded" / "disk-flood").rglob("flood-*.bin"))


def test_output_flood_is_capped(bank):
    flooded = bank["root"] / "autograded" / "output-flood" / ASSIGNMENT / NOTEBOOK
    assert flooded.stat().st_size < 2_000_000
    assert "output truncated by the grader" in flooded.read_text(encoding="utf-8")


def errors_by_cell(bank, student):
    graded = nbformat.read(bank["root"] / "autograded" / student / ASSIGNMENT / NOTEBOOK, as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): [o.get("ename") for o in c.get("outputs", [])
                                                             if o.get("output_type") == "error"]
            for c in graded.cells if c.cell_type == "code"}


def test_dead_kernel_costs_only_the_cell_that_killed_it(bank):
    """os._exit in the from_categorical answer: that cell says KernelDied, a new kernel runs the other answers,
    and only from_categorical's checks fail (the function was never defined)."""
    errors = errors_by_cell(bank, "os-exit")
    assert errors["from_categorical_answer"] == ["KernelDied"]
    assert errors["from_categorical_check"] == ["NameError"]
    assert errors["to_categorical_check"] == [] and errors["to_categorical_hidden"] == []


def test_no_sandbox_is_left_behind(bank):
    assert list(bank["tmp"].iterdir()) == []
    assert not [line for line in Path("/proc/self/mounts").read_text().splitlines() if str(bank["tmp"]) in line]


def test_the_scratch_tmpfs_of_a_grader_that_was_killed_is_swept(tmp_path):
    """A grader killed with SIGKILL cannot unmount its scratch tmpfs (memory); the next sandbox removes it."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    left, alive = tmp_path / "kbh-sandbox-dead" / "scratch", tmp_path / "kbh-sandbox-alive" / "scratch"
    for folder, pid in ((left, dead.pid), (alive, os.getpid())):
        folder.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", f"{sandbox.SCRATCH_MOUNT}-{pid}", str(folder)],
                       check=True)
    try:
        sandbox.sweep_scratch_mounts()
        assert not left.parent.exists() and os.path.ismount(alive)
    finally:
        sandbox.unmount_scratch(alive)
        sandbox.unmount_scratch(left)


# --- when the sandbox cannot be built ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    """One solved student, and a PATH whose `bwrap` always fails."""
    base = tmp_path_factory.mktemp("nosandbox")
    root, solved, release = new_course(base / "course")
    write_submission(root, "solved", solved_only(solved, release))
    fake = base / "bin"
    fake.mkdir()
    (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    (fake / "bwrap").chmod(0o755)
    env = dict(os.environ, PATH=os.pathsep.join([os.path.dirname(sys.executable), str(fake), os.environ["PATH"]]))
    env.pop(sandbox.OPT_OUT_VARIABLE, None)
    return root, env


def autograde(root, env):
    return subprocess.run([sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force"],
                          cwd=root, env=env, capture_output=True, text=True, timeout=600)


def test_grading_stops_loudly_without_a_sandbox(small_course):
    root, env = small_course
    result = autograde(root, env)
    assert result.returncode != 0
    assert "grading sandbox is not available" in result.stdout + result.stderr
    assert "No permissions to create new namespace" in result.stdout + result.stderr
    assert total_score(root, "solved") in (None, 0.0)


def test_opting_out_grades_unsandboxed_with_a_warning(small_course):
    root, env = small_course
    result = autograde(root, dict(env, **{sandbox.OPT_OUT_VARIABLE: "1"}))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WITHOUT the grading sandbox" in result.stderr
    assert total_score(root, "solved") == FULL


def test_an_interrupted_loop_lets_the_notebook_go_on(bank):
    """The per-cell timeout interrupts the loop (through the kernel's control channel: a signal would hit
    bubblewrap), and the next cells run in the same kernel: they fail only because the answer never ran."""
    errors = errors_by_cell(bank, "infinite-loop")
    assert errors["from_categorical_answer"] == ["KeyboardInterrupt"]
    assert errors["from_categorical_check"] == ["NameError"]
    assert errors["to_categorical_check"] == []


def test_a_loop_that_ignores_the_interrupt_costs_a_kernel_restart_only(bank):
    errors = errors_by_cell(bank, "uninterruptible-loop")
    # Stopped by the cell timeout (the interrupt does not help), or first by the CPU-time limit that kills it.
    assert errors["from_categorical_answer"] in (["Timeout"], ["KernelDied"])
    assert errors["from_categorical_check"] == ["NameError"]
    assert errors["to_categorical_check"] == []


# --- cheats ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cheat", CHEATS, ids=lambda c: c.student)
def test_each_cheat_earns_nothing(bank, cheat):
    score = total_score(bank["root"], cheat.student)
    assert score in ((None, 0.0) if cheat.expected is None else (cheat.expected,)), log(bank)[-3000:]


@pytest.fixture(scope="module")
def plain_bank(tmp_path_factory):
    """The same cheats graded by plain nbgrader (its Execute: the checks run in the student's own kernel)."""
    root, solved, release = new_course(tmp_path_factory.mktemp("plain") / "course", PLAIN_CONFIG)
    write_submission(root, INNOCENT[0], solved_only(solved, release))
    for cheat in CHEATS:
        write_submission(root, cheat.student, cheat.build(solved, release))
    result = run_nbgrader(["autograde", ASSIGNMENT, "--create"], root, timeout=1200)
    return {"root": root, "result": result}


@pytest.mark.parametrize("cheat", CHEATS, ids=lambda c: c.student)
def test_what_each_cheat_earns_under_plain_nbgrader(plain_bank, cheat):
    """Shows which cheats pay without this course's grading (README, security section): `plain` is FULL for
    those, and the honest score for those plain nbgrader or the checks themselves already stop."""
    assert total_score(plain_bank["root"], INNOCENT[0]) == FULL
    score = total_score(plain_bank["root"], cheat.student)
    assert score in ((None, 0.0) if cheat.plain is None else (cheat.plain,)), log(plain_bank)[-3000:]
