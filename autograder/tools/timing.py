"""How long each notebook takes: top to bottom, and its slowest visible check cell.

    python -m autograder.tools.timing                 # every source notebook
    python -m autograder.tools.timing 01_to_categorical

Runs each notebook in a fresh kernel (as a student's Restart & Run All would), in a scratch copy of its folder,
and prints one row per notebook. Budgets: 60 s per notebook, 1 s per visible check.
"""
import argparse
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from autograder.tools.course import REPO_ROOT, assignments
from autograder.grading.cells import cell_is_graded, grade_id, has_hidden_tests

NOTEBOOK_BUDGET = 60.0
CHECK_BUDGET = 1.0


def _seconds(cell):
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def time_notebook(path):
    """Run the notebook at `path`; return (total seconds, {grade_id: seconds} of its visible test cells)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="kbh-timing-") as scratch:
        shutil.copytree(Path(path).parent, scratch, dirs_exist_ok=True)
        started = time.perf_counter()
        NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": scratch}},
                       record_timing=True).execute()
        total = time.perf_counter() - started
    checks = {grade_id(cell): _seconds(cell) for cell in nb.cells
              if cell_is_graded(cell) and not has_hidden_tests(cell)}
    return total, checks


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.timing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignments", nargs="*", help="default: every assignment in source/")
    known = assignments()
    names = parser.parse_args(argv).assignments or known
    unknown = [name for name in names if name not in known]
    if unknown:
        print(f"no assignment {', '.join(unknown)} in source/ (known: {', '.join(known)})", file=sys.stderr)
        return 2
    over = False
    print(f"{'notebook':<24} {'top to bottom':>14} {'slowest visible check':>32}")
    for name in names:
        total, checks = time_notebook(REPO_ROOT / "source" / name / f"{name}.ipynb")
        slowest = max(checks.items(), key=lambda item: item[1], default=("-", 0.0))
        flag = " over budget" if total > NOTEBOOK_BUDGET or slowest[1] > CHECK_BUDGET else ""
        over |= bool(flag)
        print(f"{name:<24} {total:>13.1f}s {slowest[0]:>24} {slowest[1]:>6.2f}s{flag}")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
