"""The course as nbgrader sees it: run nbgrader's apps, regenerate release/, build submissions.

Command line (from the repository root):
    python -m autograder.tools.course execute 01_to_categorical   # run a source notebook, store its outputs
    python -m autograder.tools.course release          # regenerate all of release/ from source/ with nbgrader
    python -m autograder.tools.course release 03_compile 04_fit   # regenerate only release/03_compile, 04_fit
    python -m autograder.tools.course release --check  # exit 1 if release/ is not what nbgrader makes from source/
    python -m autograder.tools.course release --check 03_compile  # the same for release/03_compile only
Both commands take `--root DIR`: another course root (a folder with nbgrader_config.py and source/), e.g. a
copy of the course in a temporary folder; default: this repository.
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

from autograder.grading.cells import grade_id as grade_id_of, is_answer_cell

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def assignments(source_dir=REPO_ROOT / "source"):
    """Names of the assignments under `source_dir`: folders that hold a notebook of the same name."""
    return sorted(p.name for p in Path(source_dir).iterdir() if (p / f"{p.name}.ipynb").is_file())


def run_nbgrader(args, course_root, timeout=None, env=None):
    """Run `nbgrader <args>` in `course_root` with this Python (and the variables `env` added to the
    environment); return the CompletedProcess (never raises on a non-zero exit: callers decide). nbgrader needs
    its `alembic` script on PATH, so this Python's bin is put first."""
    env = {**os.environ, **(env or {})}
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


def build_release(into, repo_root=REPO_ROOT, names=None):
    """Generate assignments in a temporary course and copy what nbgrader released to `into`. With `names` None,
    every assignment of source/ and `into` is replaced whole (an assignment gone from source/ goes from release/
    too); else only `into`/<name>/ of each named assignment is replaced, the others are left as they are."""
    into = Path(into)
    with tempfile.TemporaryDirectory(prefix="kbh-release-") as tmp:
        course = make_course(Path(tmp) / "course", repo_root)
        generate_assignments(course, names or assignments(course / "source"))
        if not names:
            if into.exists():
                shutil.rmtree(into)
            shutil.copytree(course / "release", into)
            return
        into.mkdir(parents=True, exist_ok=True)
        for name in names:
            if (into / name).exists():
                shutil.rmtree(into / name)
            shutil.copytree(course / "release" / name, into / name)


def stale_release(repo_root=REPO_ROOT, names=None):
    """What differs between `repo_root`/release/ and what nbgrader makes from source/ now: all of it, or only
    release/<name>/ of each of `names`. An empty list when release/ is up to date."""
    release = Path(repo_root) / "release"
    with tempfile.TemporaryDirectory(prefix="kbh-check-") as tmp:
        fresh = Path(tmp) / "release"
        build_release(fresh, repo_root, names)
        if not names:
            return differences(release, fresh) if release.is_dir() else [f"missing: {release}"]
        found = []
        for name in names:
            if not (release / name).is_dir():
                found.append(f"missing: {release / name}")
            else:
                found += [f"{name}/{line}" for line in differences(release / name, fresh / name)]
        return found


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
    solutions = {grade_id_of(c): c.source for c in source_nb.cells if is_answer_cell(c)}
    solved = nbformat.from_dict(release_nb)
    for cell in solved.cells:
        if is_answer_cell(cell):
            cell.source = strip_solution_markers(solutions[grade_id_of(cell)])
    return solved


def replace_in_answer(nb, grade_id, old, new):
    """A copy of `nb` whose answer cell `grade_id` has `old` replaced by `new` (which must occur once)."""
    changed = nbformat.from_dict(nb)
    for cell in changed.cells:
        if grade_id_of(cell) == grade_id:
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
    release = sub.add_parser("release", help="regenerate release/, or some assignments of it, with nbgrader")
    release.add_argument("assignments", nargs="*",
                         help="only these (default: every assignment, release/ replaced whole)")
    release.add_argument("--check", action="store_true", help="only compare; exit 1 if release/ is stale")
    execute = sub.add_parser("execute", help="run source notebooks top to bottom and store their outputs")
    execute.add_argument("assignments", nargs="*", help="default: every assignment")
    for command in (release, execute):
        command.add_argument("--root", type=Path, default=REPO_ROOT,
                             help="the course root, with nbgrader_config.py and source/ (default: this repository)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    known = assignments(root / "source") if (root / "source").is_dir() else []
    unknown = [name for name in args.assignments if name not in known]
    if unknown:
        print(f"no assignment {', '.join(unknown)} in {root / 'source'} (known: {', '.join(known) or 'none'})",
              file=sys.stderr)
        return 2
    names = list(dict.fromkeys(args.assignments))
    if args.command == "execute":
        for name in names or known:
            execute_in_place(name, root)
            print(f"executed source/{name}/{name}.ipynb")
        return 0
    what = " ".join(f"release/{name}" for name in names) or "release/"
    if args.check:
        found = stale_release(root, names)
        for line in found:
            print(line)
        command = " ".join(["python -m autograder.tools.course release", *names])
        print(f"{what} is up to date." if not found else f"{what} is stale: run {command}")
        return 1 if found else 0
    build_release(root / "release", root, names)
    print(f"{what} regenerated from source/: {', '.join(names or known)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
