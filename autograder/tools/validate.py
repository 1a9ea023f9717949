"""`python -m autograder.tools.validate NOTEBOOK...`: validate a notebook before submitting it, in a way a student and
a script can trust.

It runs nbgrader's own Validator (every cell from a fresh kernel, as "Restart Kernel and Run All Cells…" does)
and then prints, for each check that fails, its name and its whole message (`nbgrader validate` cuts each line at
90 characters and exits 0 either way). Exit status: 0 when every check passes, 1 when one fails or a check
cell was edited, 2 when a notebook cannot be read.

    python -m autograder.tools.validate 01_to_categorical.ipynb
    python -m autograder.tools.validate workspace/01_to_categorical      # a folder: its notebook of the same name
"""
import argparse
import sys
from pathlib import Path

import nbformat

from autograder.grading.cells import cell_is_graded, grade_id

CELL_TIMEOUT = 120  # seconds per cell, as when the notebook is graded (nbgrader_config.py: c.Execute.timeout)


def notebook_path(argument):
    """The notebook `argument` names: a .ipynb file, or a folder holding `<folder name>.ipynb`."""
    path = Path(argument)
    if path.is_dir():
        path = path / f"{path.name}.ipynb"
    if path.suffix != ".ipynb":
        raise SystemExit(f"{argument}: not a notebook (expected a .ipynb file or an assignment folder)")
    if not path.is_file():
        raise SystemExit(f"{argument}: no such notebook")
    return path


def check_names(nb):
    """{the stripped source of each graded cell: its grade id}, to name the failed cells nbgrader reports."""
    names = {}
    for cell in nb.cells:
        if cell_is_graded(cell):
            names[cell.source.strip()] = grade_id(cell, "a check")
    return names


def validator():
    from nbgrader.validator import Validator
    from traitlets.config import Config

    config = Config()
    config.Execute.timeout = CELL_TIMEOUT
    config.Execute.interrupt_on_timeout = True
    config.KernelManager.transport_encryption = "auto"  # CurveZMQ: no "Kernel is running over TCP" warning
    return Validator(config=config)


def validate(path, out=sys.stdout, colour=False):
    """Validate one notebook; print what failed. Returns True if every check passed."""
    from nbconvert.filters import strip_ansi

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 (any unreadable file gets the same one-line answer)
        raise SystemExit(f"{path}: cannot be read as a notebook ({type(error).__name__}: {error})") from None
    names = check_names(nb)
    print(f"Validating {path}: every cell runs from a fresh kernel ({len(names)} checks)...", file=out, flush=True)
    results = validator().validate(str(path))
    problems = 0
    for cell in results.get("type_changed", []):
        problems += 1
        print(f"\n\u2717 a cell changed from {cell['old_type']} to {cell['new_type']}; undo that:\n"
              f"{cell['source']}", file=out)
    for cell in results.get("changed", []):
        problems += 1
        print(f"\n\u2717 the check cell {names.get(cell['source'], '')!s} was edited; checks must stay as they "
              f"were given (get a fresh copy of the notebook and copy your answers into it):\n{cell['source']}",
              file=out)
    for cell in results.get("failed", []):
        problems += 1
        error = cell["raw_error"] if colour else strip_ansi(cell["raw_error"])
        print(f"\n\u2717 {names.get(cell['source'], 'a graded cell')}\n{error.rstrip()}", file=out)
    failed = len(results.get("failed", []))
    if problems:
        what = f"{failed} of {len(names)} checks failed" if failed else "the notebook's checks were changed"
        print(f"\n{path}: {what}. If you submit it as it is, you will not get full marks.", file=out)
        return False
    print(f"\u2713 {path}: all {len(names)} checks pass.", file=out)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.validate", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="notebook files, or assignment folders")
    args = parser.parse_args(argv)
    try:
        paths = [notebook_path(argument) for argument in args.notebooks]
        passed = [validate(path, colour=sys.stdout.isatty()) for path in paths]
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
            return 2
        raise
    return 0 if all(passed) else 1


if __name__ == "__main__":
    sys.exit(main())
