"""The course's JupyterLab: the student's, on a workspace of their own, and the instructor's.

Command line (the repository's venv; other options go to `jupyter lab`, e.g. --no-browser --port 8890):
    python -m autograder.tools.lab                            # the student's Lab on workspace/
    python -m autograder.tools.lab --fresh 01_to_categorical  # a fresh copy of that notebook (the old one kept), then exit
    python -m autograder.tools.lab --instructor               # the instructor's Lab on the repository root

*The student's workspace* (`workspace/` at the repository root, ignored by git; `--workspace DIR` for another
folder). Git tracks `release/`, so the student works on a copy: on every start each assignment folder of
`release/` that the workspace lacks is copied into it, and so is each release file missing from an assignment
folder. Nothing in the workspace is ever overwritten. When a release notebook changes after it was copied (a
`git pull`), the start says so and leaves the student's copy alone; `--fresh ASSIGNMENT` (or
`--fresh ASSIGNMENT/NOTEBOOK.ipynb`) then renames the student's notebook to `NAME.backup-<date>-<time>.ipynb`
beside it and copies the release version, and exits without starting Lab. `workspace/.release.json` records the
checksum of every file as it was copied. Notebooks copied are signed in Jupyter's notary (`jupyter trust`), which
Jupyter would otherwise do at their first save, after warning in its log that they are not trusted.

*The two Labs* differ only in configuration, through Jupyter's own mechanisms: `jupyter lab` reads this
repository's `jupyter_server_config.py` (--config) and the folders of `autograder/tools/lab_config/` put first on
JUPYTER_CONFIG_PATH: `labconfig/page_config.json` (disabledExtensions, lockedExtensions: lab plugins) and
`jupyter_server_config.d/*.json` (ServerApp.jpserver_extensions: server extensions).

* student (`student/`, then `common/`): nbgrader's Validate button only. Off: the plugins
  `@jupyter/nbgrader:formgrader`, `create-assignment`, `course-list`, `assignment-list` and `menu` (the "Nbgrader"
  menu holds only Assignment List, Course List, Formgrader and Create assignment) and the server extensions
  formgrader, course_list and assignment_list. `student/nbgrader_config.py`: the Validate button runs each cell with the
  time limit of grading and encrypts its kernel's sockets too.
* instructor (`instructor/`, then `common/`): on the repository root (the nbgrader course root), everything
  nbgrader installs (formgrader, create-assignment, course list, the Nbgrader menu) except the assignment list;
  `instructor/nbgrader_config.py`: no CRITICAL "Unwritable directory" log line on every formgrader page when there
  is no exchange folder (NoExchangeList).
* `--exchange` (`exchange/`, first): nbgrader's exchange is in use (nbgrader release_assignment / fetch /
  submit through `c.Exchange.root`, e.g. on a shared machine or JupyterHub): the Assignment List plugin, its server
  extension and the Nbgrader menu (then showing Assignment List) are on, in either Lab, with nbgrader's own
  exchange lister. This course hands out `release/` through git and collects through an LMS
  (`grade_class --import-lms`), so it is off by default: an Assignment List without an exchange shows only
  "Error fetching courses!".
* both (`common/` and `jupyter_server_config.py`): no news feed, no update check, no "notified about official
  Jupyter news?" question, a read-only extension manager, kernels' TCP sockets encrypted with CurveZMQ (no
  ipykernel warning about TCP without encryption), no websocket pings (no tornado warning), terminals that keep
  the venv first on PATH.

Lab runs with this interpreter's environment: its bin folder (`os.path.dirname(sys.executable)`) first on PATH,
so `python`, `nbgrader` and `alembic` (which the formgrader calls) in Lab, its terminals and kernels are the
venv's. The server's working folder is the folder Lab opens on (the workspace, or the repository root for the
instructor): a terminal opened at the top of the file browser starts there (Jupyter starts it in the server's
working folder), and nbgrader there reads the `nbgrader_config.py` of that folder and of the lab_config folders (the
course's own at the repository root in the instructor's Lab; `student/nbgrader_config.py` for the Validate button).
"""
import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LAB_CONFIG = Path(__file__).resolve().parent / "lab_config"
SERVER_CONFIG = REPO_ROOT / "jupyter_server_config.py"
RELEASE = REPO_ROOT / "release"
WORKSPACE = REPO_ROOT / "workspace"
MANIFEST = ".release.json"
SKIP = {".ipynb_checkpoints", "__pycache__", ".hypothesis"}


class LabError(Exception):
    """Bad input: the message is one sentence for the user; the command exits with code 2."""


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _copy_new(src, dst):
    """Copy `src` to `dst`, which must not exist (opened with O_EXCL: never overwrites, even in a race)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        shutil.copyfileobj(fin, fout)
    shutil.copymode(src, dst)


def _trust(paths):
    """Sign the notebooks among `paths` in Jupyter's notary (`jupyter trust`): they are the course's own release
    notebooks, just copied. Jupyter trusts a notebook once it has saved it; until then opening one logs
    "Notebook ... is not trusted" (a warning in the Lab's log) however harmless its content."""
    notebooks = [Path(p) for p in paths if Path(p).suffix == ".ipynb"]
    if not notebooks:
        return
    import nbformat
    from nbformat.sign import NotebookNotary

    notary = NotebookNotary()
    try:
        for path in notebooks:
            try:
                notary.sign(nbformat.read(path, nbformat.NO_CONVERT))
            except (OSError, ValueError, KeyError):
                pass  # not a readable notebook: Jupyter says so when it is opened
    finally:
        notary.store.close()


def release_assignments(release):
    """{assignment: [paths of its files relative to release/]} for every folder in `release`."""
    release = Path(release)
    if not release.is_dir():
        raise LabError(f"{release} is missing: the student notebooks are copied from there "
                       "(run this from a complete copy of the course repository)")
    found = {}
    for folder in sorted(p for p in release.iterdir() if p.is_dir() and p.name not in SKIP
                         and not p.name.startswith(".")):
        files = [p.relative_to(release) for p in sorted(folder.rglob("*")) if p.is_file()
                 and not SKIP.intersection(p.relative_to(release).parts)]
        found[folder.name] = files
    if not found:
        raise LabError(f"{release} holds no assignment folder (regenerate it with python -m autograder.tools.course release)")
    return found


def check_workspace(workspace, release=None):
    """`workspace` resolved; LabError if it is a file or inside release/."""
    workspace, release = Path(workspace).resolve(), Path(release or RELEASE).resolve()
    if workspace.exists() and not workspace.is_dir():
        raise LabError(f"the workspace {workspace} is a file, not a folder: move it away or pass "
                       "--workspace with a folder (it is created when missing)")
    if workspace == release or release in workspace.parents:
        raise LabError(f"the workspace {workspace} is inside {release}, which git tracks: "
                       "pass --workspace with a folder outside it")
    return workspace


def _load_manifest(workspace):
    try:
        data = json.loads((workspace / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _save_manifest(workspace, manifest):
    tmp = workspace / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, workspace / MANIFEST)


def sync_workspace(workspace, release=None):
    """Copy into `workspace` every file of `release` it lacks; never overwrite. Return (copied, changed):
    the relative paths copied now, and those whose release version changed since they were copied (left alone)."""
    release = Path(release or RELEASE)
    assignments = release_assignments(release)
    workspace = check_workspace(workspace, release)
    for name in assignments:
        if (workspace / name).exists() and not (workspace / name).is_dir():
            raise LabError(f"{workspace / name} is a file where the assignment folder {name} belongs: "
                           "rename it, then start again")
    workspace.mkdir(parents=True, exist_ok=True)
    manifest = _load_manifest(workspace)
    copied, changed, new_notebooks = [], [], []
    for files in assignments.values():
        for rel in files:
            key, src, dst = rel.as_posix(), release / rel, workspace / rel
            digest = _digest(src)
            if not dst.exists():
                _copy_new(src, dst)
                manifest[key] = digest
                copied.append(key)
                if dst.suffix == ".ipynb":
                    new_notebooks.append(dst)
            elif key not in manifest:
                if dst.is_file() and _digest(dst) == digest:
                    manifest[key] = digest  # the release version, copied before the manifest existed
            elif manifest[key] != digest:
                changed.append(key)
    _save_manifest(workspace, manifest)
    _trust(new_notebooks)
    return copied, changed


def _resolve_fresh(name, assignments):
    """The release paths (relative) that `--fresh name` refreshes: an assignment's notebooks, or one notebook."""
    parts = Path(name.strip()).parts
    if parts and parts[0] in ("release", "workspace") and len(parts) > 1:
        parts = parts[1:]
    if not parts or parts[0] not in assignments:
        raise LabError(f"--fresh {name}: there is no assignment {parts[0] if parts else name!r} in release/ "
                       f"(known: {', '.join(assignments)})")
    notebooks = [rel for rel in assignments[parts[0]] if rel.suffix == ".ipynb"]
    if len(parts) > 1:
        wanted = Path(*parts)
        notebooks = [rel for rel in assignments[parts[0]] if rel == wanted]
        if not notebooks:
            raise LabError(f"--fresh {name}: release/{parts[0]} has no file {wanted.relative_to(parts[0])} "
                           f"(it has: {', '.join(str(r.relative_to(parts[0])) for r in assignments[parts[0]])})")
    return notebooks


def fresh_copy(workspace, names, release=None, now=None):
    """Replace the workspace copies of the notebooks `names` name by the release version; a copy that differs
    from it is first renamed to `<stem>.backup-<YYYYmmdd-HHMMSS><suffix>` beside it. Return [(path, backup or
    None)] of the notebooks refreshed (a copy equal to the release version is left as it is, backup None)."""
    release = Path(release or RELEASE)
    assignments = release_assignments(release)
    targets = [rel for name in names for rel in _resolve_fresh(name, assignments)]
    sync_workspace(workspace, release)
    workspace = check_workspace(workspace, release)
    stamp = (now or datetime.datetime.now()).strftime("%Y%m%d-%H%M%S")
    manifest = _load_manifest(workspace)
    done = []
    for rel in dict.fromkeys(targets):
        src, dst = release / rel, workspace / rel
        digest = _digest(src)
        backup = None
        if dst.exists() and _digest(dst) != digest:
            backup = dst.with_name(f"{dst.stem}.backup-{stamp}{dst.suffix}")
            n = 2
            while backup.exists():
                backup = dst.with_name(f"{dst.stem}.backup-{stamp}-{n}{dst.suffix}")
                n += 1
            os.rename(dst, backup)
        if not dst.exists():
            _copy_new(src, dst)
        manifest[rel.as_posix()] = digest
        done.append((dst, backup))
    _save_manifest(workspace, manifest)
    _trust(path for path, backup in done if backup)
    return done


def _no_exchange_list():
    """nbgrader's exchange lister, saying at DEBUG level, not CRITICAL, that there is no exchange folder.

    Every page of the formgrader asks the exchange whether it exists (NbGraderAPI lists it); the default lister then
    logs "[C ...] Unwritable directory, please contact your instructor: /usr/local/share/nbgrader/exchange" each
    time. This course uses no exchange unless `--exchange` is given, and the formgrader itself shows that the
    exchange is missing, so the instructor's Lab (lab_config/instructor/nbgrader_config.py) uses this lister; an
    exchange folder that exists is listed as nbgrader always does."""
    from nbgrader.exchange import ExchangeError
    from nbgrader.exchange.default.list import ExchangeList
    from nbgrader.utils import check_directory

    class NoExchangeList(ExchangeList):
        def start(self):
            if os.name == "posix" and not self.coursedir.groupshared and not check_directory(
                    self.root, write=True, execute=True):
                self.log.debug("No nbgrader exchange at %s (python -m autograder.tools.lab --exchange uses one)", self.root)
                raise ExchangeError(f"no exchange folder {self.root}")
            return super().start()

    NoExchangeList.__module__, NoExchangeList.__qualname__ = __name__, "NoExchangeList"
    return NoExchangeList


def __getattr__(name):
    # `autograder.tools.lab.NoExchangeList` for nbgrader's config (c.ExchangeFactory.list), made when nbgrader asks for it:
    # `python -m autograder.tools.lab` itself starts without importing nbgrader.
    if name == "NoExchangeList":
        globals()[name] = _no_exchange_list()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def lab_environment(instructor=False, exchange=False, environ=None):
    """The environment of `jupyter lab`: this interpreter's bin first on PATH, the lab_config folders first on
    JUPYTER_CONFIG_PATH (before any the caller set)."""
    env = dict(os.environ if environ is None else environ)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", os.defpath)
    folders = (["exchange"] if exchange else []) + ["instructor" if instructor else "student", "common"]
    paths = [str(LAB_CONFIG / folder) for folder in folders]
    if env.get("JUPYTER_CONFIG_PATH"):
        paths.append(env["JUPYTER_CONFIG_PATH"])
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def lab_command(root, extra=()):
    """argv of the Lab on folder `root`, with this interpreter's JupyterLab."""
    return [sys.executable, "-m", "jupyterlab", f"--config={SERVER_CONFIG}", f"--ServerApp.root_dir={root}",
            *extra]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m autograder.tools.lab", allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Start the course's JupyterLab (the student's by default).",
        epilog="Any other option is passed to `jupyter lab` (e.g. --no-browser --port 8890 "
               "--IdentityProvider.token=...).\n\n" + __doc__.split("\n\n")[2])
    parser.add_argument("--workspace", metavar="DIR", default=None,
                        help="the student's folder (default: workspace/ in the repository, ignored by git)")
    parser.add_argument("--fresh", metavar="ASSIGNMENT", action="append", default=[],
                        help="copy the release version of that assignment's notebook (or of ASSIGNMENT/NAME.ipynb) "
                             "into the workspace, keeping the old one as NAME.backup-<date>-<time>.ipynb, then exit")
    parser.add_argument("--instructor", action="store_true",
                        help="the instructor's Lab: on the repository root, with nbgrader's formgrader, "
                             "create-assignment and course list")
    parser.add_argument("--exchange", action="store_true",
                        help="nbgrader's exchange is in use: also turn on the Assignment List (fetch and submit)")
    args, extra = parser.parse_known_args(argv)
    if extra and not extra[0].startswith("-"):
        raise LabError(f"unexpected argument {extra[0]!r}: the Lab opens on the workspace by itself "
                       "(options for jupyter lab start with --)")
    if args.instructor and args.fresh:
        raise LabError("--fresh refreshes the student's workspace; it does not go with --instructor")
    return args, extra


def main(argv=None):
    try:
        args, extra = parse_args(sys.argv[1:] if argv is None else argv)
        if args.instructor:
            root = REPO_ROOT
            print(f"Keras by Hand, the instructor's JupyterLab on {root}", flush=True)
        else:
            root = Path(args.workspace or WORKSPACE).expanduser().resolve()
            if args.fresh:
                for path, backup in fresh_copy(root, args.fresh):
                    if backup:
                        print(f"{path}: the release version; yours is kept as {backup.name}")
                    else:
                        print(f"{path}: already the release version")
                return 0
            copied, changed = sync_workspace(root)
            folders = sorted({Path(rel).parts[0] for rel in copied})
            print(f"Keras by Hand: your notebooks are in {root}"
                  + (f" (copied from release/ now: {', '.join(folders)})" if folders else ""), flush=True)
            for rel in changed:
                print(f"  release/{rel} changed since your copy was made (yours is untouched); for the new version: "
                      f"python -m autograder.tools.lab --fresh {rel}", flush=True)
    except LabError as error:
        print(f"python -m autograder.tools.lab: {error}", file=sys.stderr)
        return 2
    env = lab_environment(instructor=args.instructor, exchange=args.exchange)
    command = lab_command(root, extra)
    os.chdir(root)
    if os.name == "posix":
        sys.stdout.flush()
        os.execve(sys.executable, command, env)  # Lab takes this process over: Ctrl-C goes straight to it
    return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main())
