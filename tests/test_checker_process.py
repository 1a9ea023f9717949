"""The checker process that SplitExecute keeps for many notebooks (`CheckerProcess`, `checker.serve_jobs`): its
replies cannot be forged through stdout, a failed notebook gets it replaced, and a notebook past its time is
killed with it; and `checker.grade` when the answer kernel or the setup cell fails to start. (Real notebooks
through it: test_nbgrader_pipeline.py and test_redteam.py.)"""
import json
import time

import nbformat
import pytest

from autograder.grading import sandbox
from autograder.grading.checker import grade
from autograder.grading.checker_process import CheckerProcess
from autograder.grading.kernel_driver import AnswerKernel, GraderFault


def job_file(folder, setup_source):
    """A job of one setup cell and one answer cell, graded without the sandbox (the subject here is the process
    around the grading, not the sandbox)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(setup_source, metadata={"nbgrader": {"grade_id": "setup"}}),
                nbformat.v4.new_code_cell("def f(x):\n    return x", metadata={"nbgrader": {"grade_id": "f",
                                                                                           "solution": True}})]
    job = {"notebook": nb, "assignment": "01_to_categorical", "workdir": str(folder), "course_root": str(folder),
           "kernel_settings": {}, "cell_timeout": 30, "call_timeout": 30}
    path = folder / "job.json"
    path.write_text(json.dumps(job))
    return str(path), str(folder / "result.json")


@pytest.fixture
def checker(monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    process = CheckerProcess(50)
    yield process
    process.close(kill=True)


def test_a_line_written_to_stdout_is_no_reply(checker, tmp_path):
    job, result = job_file(tmp_path, "import os\nos.write(1, b'done 0\\n' * 50)\nos.write(2, b'done 0\\n')")
    code, log = checker.grade(job, result, timeout=120)
    assert code == 0 and json.loads(open(result).read()), log
    assert "done 0" in log  # it went to the log, not to the replies
    assert checker.usable()  # and the process goes on to the next notebook


def test_a_failed_notebook_replaces_the_process(checker, tmp_path):
    (tmp_path / "job.json").write_text("{}")  # no notebook: grade() fails
    code, log = checker.grade(str(tmp_path / "job.json"), str(tmp_path / "result.json"), timeout=120)
    assert code == 1 and "Traceback" in log
    assert not checker.usable()


def test_a_notebook_past_its_time_is_killed_with_its_checker(checker, tmp_path):
    job, result = job_file(tmp_path, "import time\ntime.sleep(600)")
    process = checker.process
    started = time.monotonic()
    code, _ = checker.grade(job, result, timeout=15)
    assert code is None and time.monotonic() - started < 22  # killed at once, not asked to finish first
    assert process.poll() is not None and not checker.usable()


def graded_job(folder):
    """A job of a setup cell, an answer `f` and a check of it, as the checker's grade() reads it."""
    job = json.loads(open(job_file(folder, "x = 1")[0]).read())
    job["notebook"]["cells"].append(nbformat.v4.new_code_cell(
        "assert f(2) == 2\nprint('f is right')", metadata={"nbgrader": {"grade_id": "f_check", "grade": True,
                                                                          "points": 1}}))
    return job


def test_an_answer_kernel_that_fails_to_start_is_tried_again(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    real, calls = AnswerKernel._start_kernel, []

    def flaky(kernel):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("Kernel didn't respond in 60 seconds")
        return real(kernel)

    monkeypatch.setattr(AnswerKernel, "_start_kernel", flaky)
    log = []
    results = grade(graded_job(tmp_path), log.append)
    assert len(calls) == 2 and any("attempt 1 of 3" in line for line in log)
    assert results[2] == [{"output_type": "stream", "name": "stdout", "text": "f is right\n"}]


def test_an_answer_kernel_that_never_starts_is_the_graders_fault_not_the_students(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")

    def broken(kernel):
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(AnswerKernel, "_start_kernel", broken)
    with pytest.raises(GraderFault, match="did not start"):
        grade(graded_job(tmp_path), lambda message: None)


def test_a_setup_cell_that_failed_once_is_run_again(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    job = graded_job(tmp_path)
    marker = tmp_path / "setup-ran-once"
    job["notebook"]["cells"][0]["source"] = (  # fails the first time only, as an import race would
        f"import pathlib\nmarker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n    marker.touch()\n    raise ImportError('cannot import name x (circular import)')")
    log = []
    results = grade(job, log.append)
    assert any("running it once more" in line for line in log)
    assert results[0] == [] and results[2][0]["text"] == "f is right\n"


def test_a_setup_cell_that_always_fails_is_the_graders_fault(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    job = graded_job(tmp_path)
    job["notebook"]["cells"][0]["source"] = "import no_such_module_here"
    # the answer kernel runs the setup's imports first (its prelude), the checker all of it: either says so
    with pytest.raises(GraderFault, match="ModuleNotFoundError: No module named 'no_such_module_here'"):
        grade(job, lambda message: None)


def test_an_answer_kernel_that_imports_another_copy_of_the_package_is_the_graders_fault(tmp_path, monkeypatch):
    """A second copy of `autograder` first on the answer kernel's path (as a second checkout whose venv points
    at the first): not graded at the first attempt, with both folders named, instead of a timed-out connection
    and zeros."""
    import shutil
    from autograder.grading import kernel_driver

    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    other = tmp_path / "other-checkout"
    shutil.copytree(kernel_driver.PACKAGE_DIR, other / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setenv("PYTHONPATH", str(other))
    log = []
    started = time.monotonic()
    with pytest.raises(GraderFault, match="two copies") as fault:
        grade(graded_job(tmp_path), log.append)
    assert str(other / "autograder") in str(fault.value) and kernel_driver.PACKAGE_DIR in str(fault.value)
    assert not any("attempt" in line for line in log) and time.monotonic() - started < 25


def test_a_grader_fault_is_its_own_exit_code_with_the_reason(tmp_path, monkeypatch):
    """What SplitExecute reads to leave the notebook ungraded (not zeros): GRADER_FAULT_EXIT and the reason."""
    from autograder.grading.checker import grade_job
    from autograder.grading.checker_process import GRADER_FAULT_EXIT

    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    job = graded_job(tmp_path)
    job["notebook"]["cells"][0]["source"] = "import no_such_module_here"
    (tmp_path / "job.json").write_text(json.dumps(job))
    code = grade_job(str(tmp_path / "job.json"), str(tmp_path / "result.json"), log=lambda message: None)
    assert code == GRADER_FAULT_EXIT
    assert "no_such_module_here" in json.loads((tmp_path / "result.json").read_text())["grader_fault"]


@pytest.mark.parametrize("setup, check, reason", [
    ("import no_such_module_here", "pass", "not graded: the answer kernel could not run"),
    ("x = 1", "import os\nos._exit(1)", "not graded: the grader's checker failed 2 times"),
])
def test_split_execute_leaves_a_notebook_ungraded_when_grading_fails(tmp_path, monkeypatch, setup, check, reason):
    """Through a real checker process: a grader fault, or a checker that dies twice on the notebook, is raised
    (nbgrader then fails that notebook and records no score), not turned into zeros for cells never run."""
    from nbformat import NotebookNode

    from autograder.grading.preprocessors import SplitExecute

    monkeypatch.setenv(sandbox.OPT_OUT_VARIABLE, "1")
    job = graded_job(tmp_path)
    job["notebook"]["cells"][0]["source"] = setup
    job["notebook"]["cells"][2]["source"] = check
    nb = nbformat.from_dict(job["notebook"])
    resources = NotebookNode({"nbgrader": {"assignment": "01_to_categorical"}, "metadata": {"path": str(tmp_path)}})
    with pytest.raises(GraderFault, match=reason):
        SplitExecute()._run_checker(nb, resources)
    CheckerProcess.shared(50).close(kill=True)


def test_the_sandbox_check_starts_an_answer_kernel_and_names_a_second_copy_of_the_package(tmp_path):
    """`python -m autograder.grading.sandbox check`, as an instructor runs it before grading: from this checkout
    it starts, connects to and calls a real answer kernel; from a second checkout whose environment's editable
    install points at this one it says so and exits 1, before any notebook is graded."""
    import os
    import shutil
    import subprocess
    import sys

    from autograder.grading import kernel_driver

    def check(cwd):
        return subprocess.run([sys.executable, "-m", "autograder.grading.sandbox", "check", str(tmp_path)],
                              cwd=cwd, capture_output=True, text=True, timeout=300,
                              env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})

    here = check(os.path.dirname(kernel_driver.PACKAGE_DIR))
    assert here.returncode == 0 and "answer kernel: started, connected and answered" in here.stdout, here
    second = tmp_path / "second-checkout"
    shutil.copytree(kernel_driver.PACKAGE_DIR, second / "autograder", ignore=shutil.ignore_patterns("__pycache__"))
    there = check(second)
    assert there.returncode == 1, there
    assert "answer kernel: NOT working" in there.stdout and "two copies" in there.stdout, there.stdout


@pytest.mark.skipif(sandbox.opted_out(), reason="KBH_UNSANDBOXED=1: kernels are started ahead only in the sandbox")
def test_the_next_notebooks_answer_kernel_is_started_ahead_and_gets_that_notebooks_files(tmp_path):
    """A kept checker process starts the next answer kernel as soon as it has replied: the next notebook takes
    it, with its own files in the kernel's working folder; a notebook that needs other sandbox settings starts
    its own; closing the process leaves no sandbox behind."""
    import glob
    import tempfile

    def job(name, text, kernel_settings):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "data.txt").write_text(text)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell("import numpy as np", metadata={"nbgrader": {"grade_id": "setup"}}),
                    nbformat.v4.new_code_cell("DATA = open('data.txt').read()\ndef f():\n    return DATA",
                                              metadata={"nbgrader": {"grade_id": "f", "solution": True}}),
                    nbformat.v4.new_code_cell("print(f())", metadata={"nbgrader": {"grade_id": "f_check",
                                                                                   "grade": True, "points": 1}})]
        path = folder / "job.json"
        path.write_text(json.dumps({"notebook": nb, "assignment": "01_to_categorical", "workdir": str(folder),
                                    "course_root": str(tmp_path), "kernel_settings": kernel_settings,
                                    "cell_timeout": 60, "call_timeout": 60}))
        return str(path), str(folder / "result.json")

    sandboxes = set(glob.glob(f"{tempfile.gettempdir()}/kbh-sandbox-*"))
    checker = CheckerProcess(50)
    try:
        printed, ahead = [], []
        for name, settings in (("first", {}), ("second", {}), ("other_settings", {"cpu_seconds": 77})):
            job_path, result = job(name, f"the file of the {name} notebook", settings)
            code, log = checker.grade(job_path, result, timeout=300)
            assert code == 0, log
            printed.append(json.loads(open(result).read())["2"][0]["text"])
            ahead.append("answer kernel (started ahead) started" in log)
    finally:
        checker.close()
    assert printed == [f"the file of the {name} notebook\n" for name in ("first", "second", "other_settings")]
    assert ahead == [False, True, False]
    time.sleep(1)
    assert set(glob.glob(f"{tempfile.gettempdir()}/kbh-sandbox-*")) <= sandboxes
