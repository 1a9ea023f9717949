"""The checker process SplitExecute keeps: `python -m autograder.grading.checker --serve`, started once and
fed one notebook after another, replaced when it fails, killed with all it started when a notebook runs out of
time.

Jobs go to its stdin as lines "JOB.json RESULT.json"; replies come back on a pipe of its own ("done EXIT_CODE"),
because the answer kernels the checker starts write to its stdout and stderr (which go to a log file).
"""
import atexit
import contextlib
import os
import select
import signal
import subprocess
import sys
import tempfile
import time


GRADER_FAULT_EXIT = 3  # the checker's reply for a GraderFault (grading itself failed); the reason is in the result


class CheckerProcess:
    """`python -m autograder.grading.checker --serve`, kept for up to `notebooks` notebooks. Its stderr (the
    checker's log, the answer kernel's stderr) goes to a file; `grade` returns the part written during one
    notebook."""

    _shared = None

    @classmethod
    def shared(cls, notebooks):
        """The process's one checker (a new one when the last has served its notebooks or failed)."""
        if cls._shared is None or not cls._shared.usable():
            if cls._shared is not None:
                cls._shared.close()
            cls._shared = cls(notebooks)
        return cls._shared

    def __init__(self, notebooks):
        self.notebooks = max(1, notebooks)
        self.graded = 0
        self.log_file = tempfile.TemporaryFile(mode="w+b", prefix="kbh-checker-log-")
        # Replies come on a pipe of their own: the answer kernels the checker starts write to its stdout/stderr.
        self.replies, replies_for_child = os.pipe()
        # Its own session: a stop kills the checker and everything it started (the answer kernel) at once.
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograder.grading.checker", "--serve", str(replies_for_child)],
                stdin=subprocess.PIPE, stdout=self.log_file, stderr=self.log_file, pass_fds=[replies_for_child],
                start_new_session=True)
        finally:
            os.close(replies_for_child)
        atexit.register(self.close)

    def usable(self):
        return self.process is not None and self.process.poll() is None and self.graded < self.notebooks

    def grade(self, job_path, result_path, timeout):
        """(exit code, or None when it ran out of time; the log lines of this notebook)."""
        start = self.log_file.seek(0, os.SEEK_END)
        code = self._ask(f"{job_path} {result_path}\n", timeout)
        self.graded += 1
        self.log_file.seek(start)
        log = self.log_file.read().decode("utf-8", "replace")
        if code != 0:
            self.close(kill=code is None)  # a failed or timed-out notebook may leave it in any state: start afresh
        return code, log

    def _ask(self, line, timeout):
        """The exit code the checker replies for the job in `line`; its own exit code if it died; None if it did
        not reply within `timeout` s."""
        try:
            self.process.stdin.write(line.encode())
            self.process.stdin.flush()
        except OSError:
            return self.process.wait() or 1
        deadline = time.monotonic() + timeout
        reply = b""
        while not reply.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.replies], [], [], left)[0]:
                return None
            chunk = os.read(self.replies, 4096)
            if not chunk:
                return self.process.wait() or 1
            reply += chunk
        words = reply.split()
        return int(words[-1]) if len(words) == 2 and words[0] == b"done" and words[1].isdigit() else 1

    def close(self, kill=False):
        """Let the checker finish and exit (or `kill` it now); then kill what it left running and release its
        pipe and log."""
        process, self.process = self.process, None
        if process is None:
            return
        atexit.unregister(self.close)
        if process.poll() is None and not kill:
            with contextlib.suppress(OSError):
                process.stdin.close()  # the end of its input: it stops after the notebook in hand
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # and whatever it left running
        process.wait()
        os.close(self.replies)
        self.log_file.close()
