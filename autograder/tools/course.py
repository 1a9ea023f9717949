"""The course as nbgrader sees it: run nbgrader's apps, regenerate release/, build submissions.

Command line (from the repository root):
    python -m autograder.tools.course execute 01_to_categorical   # run a source notebook, store its outputs
    python -m autograder.tools.course release          # regenerate release/ from source/ with nbgrader
    python -m autograder.tools.course release --check  # exit 1 if release/ is not what nbgrader makes from source/
"""
import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def assignments(source_dir=REPO_ROOT / "source"):
    """Names of the assignments under `source_dir`: folders that hold a notebook of the same name."""
    return sorted(p.name for p in Path(source_dir).iterdir() if (p / f"{p.name}.ipynb").is_file())


def run_nbgrader(args, course_root, timeout=None):
    """Run `nbgrader <args>` in `course_root` with this Python; return the CompletedProcess (never raises on
    a non-zero exit: callers decide). nbgrader needs its `alembic` script on PATH, so this Python's bin is
    put first."""
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course_root, env=env, text=True,
                          capture_output=True, timeout=timeout)


def make_course(root, repo_root=REPO_ROOT):
    """Lay out a fresh nbgrader course in `root`: the course config and a copy of source/."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(repo_root) / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(Path(repo_root) / "source", root / "source",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".hypothesis"))
    return root


def generate_assignments(course_root, names):
    """`nbgrader generate_assignment --force` for each name; raise RuntimeError with nbgrader's log on failure."""
    for name in names:
        result = run_nbgrader(["generate_assignment", name, "--force"], course_root)
        if result.returncode != 0 or not (Path(course_root) / "release" / name).is_dir():
            raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{result.stdout}\n{result.stderr}")


def build_release(into, repo_root=REPO_ROOT):
    """Generate every assignment in a temporary course and copy its release/ to `into` (replaced whole)."""
    with tempfile.TemporaryDirectory(prefix="kbh-release-") as tmp:
        course = make_course(Path(tmp) / "course", repo_root)
        generate_assignments(course, assignments(course / "source"))
        if Path(into).exists():
            shutil.rmtree(into)
        shutil.copytree(course / "release", into)


def differences(a, b):
    """Relative paths that differ between two folder trees (missing on either side, or different bytes)."""
    comparison = filecmp.dircmp(a, b, ignore=["__pycache__", ".ipynb_checkpoints"])
    found = [f"only in {a}: {n}" for n in comparison.left_only] + [f"only in {b}: {n}" for n in comparison.right_only]
    _, mismatch, errors = filecmp.cmpfiles(a, b, comparison.common_files, shallow=False)
    found += [f"differs: {n}" for n in mismatch + errors]
    for sub in comparison.common_dirs:
        found += [f"{sub}/{line}" for line in differences(Path(a) / sub, Path(b) / sub)]
    return found


# --- submissions ----------------------------------------------------------------------------------------

def strip_solution_markers(source):
    return "\n".join(line for line in source.splitlines() if line.strip() not in SOLUTION_MARKERS)


def solved_submission(release_nb, source_nb):
    """The student notebook with every answer cell filled in with the instructor's solution."""
    solutions = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells
                 if c.metadata.get("nbgrader", {}).get("solution")}
    solved = nbformat.from_dict(release_nb)
    for cell in solved.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell.source = strip_solution_markers(solutions[meta["grade_id"]])
    return solved


def replace_in_answer(nb, grade_id, old, new):
    """A copy of `nb` whose answer cell `grade_id` has `old` replaced by `new` (which must occur once)."""
    changed = nbformat.from_dict(nb)
    for cell in changed.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            if cell.source.count(old) != 1:
                raise ValueError(f"{grade_id}: expected exactly one {old!r} in the answer cell")
            cell.source = cell.source.replace(old, new)
            return changed
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def execute_in_place(name, repo_root=REPO_ROOT):
    """Run source/<name>/<name>.ipynb top to bottom in a fresh kernel and store its outputs (what nbval compares
    against). No per-cell timestamps are stored: they would change every run and end up in release/."""
    from nbclient import NotebookClient

    path = Path(repo_root) / "source" / name / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.tools.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    release = sub.add_parser("release", help="regenerate release/ from source/ with nbgrader")
    release.add_argument("--check", action="store_true", help="only compare; exit 1 if release/ is stale")
    execute = sub.add_parser("execute", help="run source notebooks top to bottom and store their outputs")
    execute.add_argument("assignments", nargs="*", help="default: every assignment")
    args = parser.parse_args(argv)
    if args.command == "execute":
        for name in args.assignments or assignments():
            execute_in_place(name)
            print(f"executed source/{name}/{name}.ipynb")
        return 0
    if args.check:
        with tempfile.TemporaryDirectory(prefix="kbh-check-") as tmp:
            build_release(Path(tmp) / "release")
            found = differences(REPO_ROOT / "release", Path(tmp) / "release")
        for line in found:
            print(line)
        print("release/ is up to date." if not found else "release/ is stale: run python -m autograder.tools.course release")
        return 1 if found else 0
    build_release(REPO_ROOT / "release")
    print(f"release/ regenerated from source/: {', '.join(assignments())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
