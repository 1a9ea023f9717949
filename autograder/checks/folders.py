"""Folders for checks that hand the student's code a file path (notebook 06), reachable by that code.

A check gets a fresh folder per call from `shared_folder`, removed afterwards. In a Lab it is an ordinary
temporary folder. Under split grading the student's code runs in a sandboxed answer kernel that sees no other
folder of the machine: there the grader (autograder/grading/checker.py) calls `share_with_answer_kernel`, and the
folders are made inside the kernel's exchange folder, owned by the sandbox's uid. This module knows nothing else
of grading (the checks never import it).
"""
import contextlib
import os
import shutil
import tempfile

_ANSWER_KERNEL = None  # None, or a function () -> (the answer kernel's exchange folder, (uid, gid) to own them)


def share_with_answer_kernel(place):
    """Make `shared_folder` create its folders where the answer kernel can reach them: `place()` returns (folder,
    (uid, gid)) and is asked for each folder (a restarted kernel has a new exchange folder). None: ordinary
    temporary folders again."""
    global _ANSWER_KERNEL
    _ANSWER_KERNEL = place


@contextlib.contextmanager
def shared_folder(prefix="kbh-"):
    """A fresh folder for one check call, removed afterwards (see the module docstring)."""
    if _ANSWER_KERNEL is None:
        with tempfile.TemporaryDirectory(prefix=prefix) as folder:
            yield folder
        return
    base, owner = _ANSWER_KERNEL()
    folder = tempfile.mkdtemp(prefix=prefix, dir=base)
    try:
        if os.geteuid() == 0:
            os.chown(folder, *owner)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
