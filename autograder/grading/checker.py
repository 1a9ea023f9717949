"""The trusted checker process of split grading: it runs a notebook's setup and test cells against the student's
answers, which run in a sandboxed answer kernel, and reports every cell's outputs.

`nbgrader autograde` (through `autograder.grading.preprocessors.SplitExecute` and its
`autograder.grading.checker_process.CheckerProcess`) starts this module as a separate, trusted process:
`python -m autograder.grading.checker --serve FD` for many notebooks in a row (or `... JOB RESULT` for one). Per
notebook it

1. starts the student's **answer kernel** in the grading sandbox (`autograder.grading.kernel_driver`) and runs
   there the answer cells and the other code cells of the notebook, except the setup cell, the test cells and
   cells tagged `demo` (Keras demonstrations that grade nothing; `autograder.grading.cells`). Unless the
   notebook's topic declares that its answers are Keras code (the topic contract, `autograder.topics`),
   TensorFlow and Keras are not even visible in that sandbox: an answer cannot call them, however it patches
   the interpreter;
2. runs the setup cell and every test cell itself, from nbgrader's restored copy (the student cannot have
   changed them), with each name the answers defined replaced by a `Remote` (`autograder.grading.remote`):
   calling it sends plain data into the answer kernel (`autograder.grading.wire`) and brings the result back
   as plain data. Monkeypatching NumPy, the checks, the Keras reference, `sys.excepthook` or IPython in the
   answer kernel changes nothing here, and an object that lies about equality stays in the kernel (the check
   sees a `Remote`, which is no array);
3. writes every cell's outputs to RESULT (JSON) for SplitExecute to put into the notebook nbgrader scores.

A fault of the student's code (a loop, `os._exit`, a memory bomb) fails the calls that ran into it; the kernel
is restarted (at most `max_restarts` times) for the remaining checks. A fault of grading itself (`GraderFault`)
leaves the notebook ungraded rather than scored as wrong.
"""
import builtins
import contextlib
import io
import json
import os
import sys
import threading
import time
import traceback

from autograder import topics
from autograder.checks import folders, keras_reference
from autograder.checks.errors import CheckFailed, grader_record, record_output, render_failure
from autograder.grading.cells import SETUP_ID, error_output, grade_id, is_test_cell, setup_index, source_of
from autograder.grading.checker_process import GRADER_FAULT_EXIT
from autograder.grading.kernel_driver import KERNEL_AHEAD, AnswerKernel, AnswerKernelError, GraderFault
from autograder.grading.remote import remotes_for


def run_trusted(source, namespace, name):
    """Run trusted cell `source` in `namespace`; its outputs (printed text, then an error if it raised)."""
    buffer = io.StringIO()
    error = record = None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(io.StringIO()):
            exec(compile(source, f"<{name}>", "exec"), namespace)  # noqa: S102 (instructor code from the gradebook)
    except AnswerKernelError as caught:
        error = error_output("AnswerKernelError", f"Your code could not be run: {caught}.")
        record = grader_record(name, "timed_out" if "did not finish" in str(caught) else "error")
    except CheckFailed as caught:  # the same short note the student's own notebook shows
        error = error_output("CheckFailed", str(caught), render_failure(caught))
        record = caught.record(name)
    except NameError as caught:  # the setup cell ran, so the name is one the answers should have defined
        error = error_output("NameError", f"{caught}: its answer cell did not define it (the cell failed, e.g. "
                                          "with a SyntaxError, or the function is missing)")
        record = grader_record(name, "not_defined")
    except Exception as caught:  # noqa: BLE001 (a failed check is an ordinary outcome)
        error = error_output(type(caught).__name__, str(caught))
        record = grader_record(name, "error")
    outputs = [{"output_type": "stream", "name": "stdout", "text": buffer.getvalue()}] if buffer.getvalue() else []
    return outputs + ([record_output(record), error] if error else [])


def grade(job, log=None, after=None):
    """Grade one notebook (see the module docstring). Returns {cell index: outputs}. With a list `after`, the
    answer kernel's shutdown is appended to it instead of done here: the serve loop replies first."""
    log = log or (lambda message: None)
    nb = job["notebook"]
    cells = nb["cells"]
    results = {}
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    setup = setup_index(cells)

    # The checks' setup (TensorFlow import: seconds) runs while the answer kernel starts and runs the answers.
    # What starting the kernel imports is imported first, the topic module too: two threads importing modules
    # that import each other can each see the other's half-initialised module (ImportError), which would fail
    # every check.
    import nbclient  # noqa: F401
    import nbformat  # noqa: F401

    from autograder.grading import sandbox

    topic = topics.topic_of(job.get("assignment"))
    setup_box = {}
    remembered_before = keras_reference.memo_counts()
    graded_from, phases = time.monotonic(), {}

    def run_setup():
        if setup is not None:
            started = time.monotonic()
            setup_box["outputs"] = run_trusted(source_of(cells[setup]), namespace, SETUP_ID)
            log(f"checks' setup (TensorFlow import): {time.monotonic() - started:.2f} s")

    setup_thread = threading.Thread(target=run_setup)
    setup_thread.start()
    kernel = AnswerKernel(nb, job, log, topic=topic)
    try:
        try:
            started = time.monotonic()
            kernel.start()
            log(f"answer kernel {'(started ahead) ' if kernel.started_ahead else ''}started and ran "
                f"{len(kernel.cell_indices)} cells: {time.monotonic() - started:.2f} s")
            names = kernel.request({"op": "names"}, None)
        except AnswerKernelError as error:
            names = {"ok": False}
            log(f"answer kernel: {error}")
        phases["answer kernel"] = time.monotonic() - graded_from
        results.update(kernel.cell_outputs)
        if kernel.exchange is not None:
            owner = sandbox.sandbox_user()
            folders.share_with_answer_kernel(lambda: (kernel.exchange, owner))  # (a restart changes the folder)
        setup_thread.join()
        if setup is not None:
            results[setup] = _setup_outputs(setup_box.get("outputs", []), cells[setup], namespace, log)
        if isinstance(names, dict) and names.get("ok") and isinstance(names.get("value"), list):
            namespace.update(remotes_for(names["value"], namespace, kernel))
        checks_from = time.monotonic()
        for index, cell in enumerate(cells):
            if is_test_cell(cell):
                name = grade_id(cell, f"cell-{index}")
                started = time.monotonic()
                results[index] = run_trusted(source_of(cell), namespace, name)
                log(f"{name}: {'failed' if any(o['output_type'] == 'error' for o in results[index]) else 'passed'}"
                    f" ({time.monotonic() - started:.2f} s)")
        phases["checks"] = time.monotonic() - checks_from
    finally:
        if after is None:
            kernel.stop()
        else:
            after.append(kernel.stop)
        setup_thread.join()
        folders.share_with_answer_kernel(None)
    counts = {k: v - remembered_before.get(k, 0) for k, v in keras_reference.memo_counts().items()}
    log(f"{TIMES_LINE} {time.monotonic() - graded_from:.2f} s (answer kernel started and answers run "
        f"{phases.get('answer kernel', 0):.2f} s, checks {phases.get('checks', 0):.2f} s); Keras references: "
        f"{counts.get('hit', 0)} remembered (from this notebook or an earlier one), {counts.get('miss', 0)} "
        f"computed, {counts.get('not kept', 0)} not rememberable")
    return results


TIMES_LINE = "notebook graded by the checker in"  # the log line the benchmark reads the time per phase from


def _setup_outputs(outputs, setup_cell, namespace, log):
    """The setup cell's outputs. It is the instructor's code and does not depend on the student's: if it failed
    (in its thread), it is run once more here, and if it fails again the notebook is not graded (GraderFault),
    rather than every check failing on a name the setup never defined."""
    error = next((o for o in outputs if o["output_type"] == "error"), None)
    if error is None:
        return outputs
    log(f"the checks' setup failed ({error['ename']}: {error['evalue']}); running it once more")
    outputs = run_trusted(source_of(setup_cell), namespace, SETUP_ID)
    error = next((o for o in outputs if o["output_type"] == "error"), None)
    if error is not None:
        raise GraderFault(f"the checks' setup cell failed: {error['ename']}: {error['evalue']}")
    return outputs


def reset_checker():
    """Between two notebooks in one checker process (`serve_jobs`): give the next one the state a fresh process
    would give it. The topic modules (their caches of Keras layers and models, fit's helper thread) are dropped,
    each one's `close()` called first (`autograder.topics.close_topics`), and imported afresh by the next
    notebook; Keras's global state (name counters, seeds) is cleared, and the setup cell seeds every RNG again.
    TensorFlow itself stays imported: that is the point."""
    import gc

    folders.share_with_answer_kernel(None)
    topics.close_topics()
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=False)  # (its gc.collect, 0.1 s, is the one below)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    gc.collect()


def _log_to_stderr(message):  # sys.__stderr__: the checks' own output is redirected while they run
    print(f"[split] {message}", file=sys.__stderr__, flush=True)


def grade_job(job_path, result_path, log=_log_to_stderr, after=None):
    """Grade the job in `job_path` (JSON) and write {cell index: outputs} to `result_path`; 0, 1 on a failure,
    or GRADER_FAULT_EXIT with {"grader_fault": reason} in `result_path` when grading itself failed. `after`: as
    in `grade`."""
    with open(job_path) as file:
        job = json.load(file)
    try:
        results = grade(job, log, after)
    except GraderFault as fault:
        log(f"not graded: {fault}")
        with open(result_path, "w") as file:
            json.dump({"grader_fault": str(fault)}, file)
        return GRADER_FAULT_EXIT
    except Exception:  # noqa: BLE001 (reported to SplitExecute, which tries once more, then does not grade)
        log(traceback.format_exc())
        return 1
    with open(result_path, "w") as file:
        json.dump({str(k): v for k, v in results.items()}, file)
    return 0


def serve_jobs(replies_fd):
    """`python -m autograder.grading.checker --serve FD`: grade one job per line "JOB.json RESULT.json" read from
    stdin, and answer each with a line "done EXIT_CODE" on file descriptor FD (a pipe of its own: the answer
    kernels this process starts share its stdout and stderr), until stdin ends. TensorFlow and the checks are
    imported once, before the first job. A job is answered as soon as its result is written; then, while nbgrader
    finishes that notebook, the answer kernel is shut down, the next job's answer kernel started
    (`kernel_driver.KernelAhead`) and `reset_checker` run."""
    import gc

    os.set_inheritable(replies_fd, False)
    replies = os.fdopen(replies_fd, "w")
    from autograder.checks.notebook_setup import quiet_tensorflow

    quiet_tensorflow()
    import hypothesis  # noqa: F401 (imported once for every notebook this process grades, like the kernel's client)
    import keras  # noqa: F401
    import nbclient  # noqa: F401

    # What is imported now lives as long as the process: out of the collector's sight (gc.freeze), the collection
    # between notebooks looks only at what grading made (with TensorFlow's objects in sight: 0.1 s a notebook).
    gc.collect()
    gc.freeze()
    try:
        for line in sys.stdin:
            paths = line.split()
            if len(paths) != 2:
                continue
            stopping = []
            code = grade_job(*paths, after=stopping)
            print(f"done {code}", file=replies, flush=True)
            for stop in stopping:
                try:
                    stop()
                except Exception:  # noqa: BLE001 (the notebook is graded; the next one starts a kernel of its own)
                    _log_to_stderr(f"answer kernel shutdown: {traceback.format_exc()}")
            KERNEL_AHEAD.start()
            reset_checker()
    finally:
        KERNEL_AHEAD.close()
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--serve" and argv[1].isdigit():
        return serve_jobs(int(argv[1]))
    if len(argv) != 2:
        print("usage: python -m autograder.grading.checker JOB.json RESULT.json  |  "
              "python -m autograder.grading.checker --serve FD", file=sys.stderr)
        return 2
    return grade_job(*argv)


if __name__ == "__main__":
    # Run as the module `autograder.grading.checker`, not as `__main__`: one copy of this module (its classes and
    # functions) in the process, whichever name the checks or a test reach it by.
    from autograder.grading import checker

    sys.exit(checker.main())
