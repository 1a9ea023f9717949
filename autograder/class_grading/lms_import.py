"""Importing an LMS export: each notebook of a Canvas or Moodle download (a folder or a zip) copied to
nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb, under a student id read from its path.

Used by `python -m autograder.class_grading.grade --import-lms FOLDER_OR_ZIP --assignment A` (see `import_lms`;
the naming rule is `student_from_export_path`). Nothing is overwritten, and what cannot be imported is reported
as a `Problem`. `Problem`, `bad_id` and `IGNORED_NAMES` are also the class command's, for its scan of
submitted/ (grade.py imports them from here).
"""
import dataclasses
import re
import unicodedata
import zipfile
from collections import defaultdict
from pathlib import Path, PurePosixPath

IGNORED_NAMES = ("__MACOSX", ".ipynb_checkpoints", "__pycache__")
BAD_ID_CHARACTERS = re.compile(r"[*?\[\]/\\]")  # nbgrader uses student and assignment ids as glob patterns


@dataclasses.dataclass
class Problem:
    where: str
    message: str
    fatal: bool = True  # True: something was not graded (exit code 1); False: a note

    def __str__(self):
        return f"{self.where}: {self.message}"


def bad_id(name):
    """Why `name` cannot be an nbgrader student or assignment id, or None."""
    if name.startswith((".", "_")):
        return "it starts with '.' or '_'"
    if BAD_ID_CHARACTERS.search(name):
        return "it holds one of * ? [ ] / \\ (nbgrader uses ids as file patterns)"
    if name != name.strip():
        return "it starts or ends with a space"
    return None


# --- the naming rule and the import ----------------------------------------------------------------------

MOODLE_FOLDER = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_[a-z]+_?$", re.I)
MOODLE_FILE = re.compile(r"^(?P<student>.+?)_\d+_assignsubmission_[a-z]+_(?P<original>.+)$", re.I)


def student_slug(name):
    """A student id from a name in an LMS export: ASCII, lower case, spaces as '_', only [a-z0-9_.-]."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"\s+", "_", text.strip().lower())
    return re.sub(r"[^a-z0-9_.-]", "", text).strip("._-")


def student_from_export_path(relative, assignment):
    """(student id, None) for one notebook of an LMS export, or (None, why not). `relative` is its path inside
    the export (a PurePosixPath). The rule, first match wins:

    * one folder deep, `<folder>/<file>.ipynb`: the student is the folder's name; a Moodle folder
      `Jane Doe_1234_assignsubmission_file_` gives `jane_doe`;
    * at the top: Moodle `Jane Doe_1234_assignsubmission_file_<original>.ipynb` gives `jane_doe`; otherwise the
      text before the first '_' (Canvas `doejane_12345_67890_<original>.ipynb` and
      `doejane_LATE_12345_67890_<original>.ipynb` give `doejane`, `alice_anything.ipynb` gives `alice`). A name
      without '_', or one that starts with the assignment's name, names no student.

    The id is made ASCII and lower case, with spaces as '_' (`student_slug`)."""
    parts = relative.parts
    if len(parts) > 2:
        return None, "too deep (notebooks must be at the top of the export or one folder down)"
    if len(parts) == 2:
        folder = parts[0]
        match = MOODLE_FOLDER.match(folder)
        raw = match.group("student") if match else folder
    else:
        stem = relative.stem
        match = MOODLE_FILE.match(stem)
        if match:
            raw = match.group("student")
        elif "_" not in stem:
            return None, "no student in the name (expected <student>_<anything>.ipynb)"
        elif stem.lower().startswith(assignment.lower()) or stem.lower().startswith("_"):
            return None, "the name starts with the assignment, not a student (expected <student>_<anything>.ipynb)"
        else:
            raw = stem.split("_", 1)[0]
    student = student_slug(raw)
    if not student:
        return None, f"no usable student id in {raw!r}"
    return student, None


def _export_files(source, problems):
    """{relative PurePosixPath: bytes} of the files in an LMS export (a folder or a zip), hidden files and
    __MACOSX left out; unsafe zip paths reported."""
    source = Path(source)
    files = {}
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            relative = PurePosixPath(path.relative_to(source).as_posix())
            if path.is_file() and not _hidden(relative):
                files[relative] = path.read_bytes()
    elif zipfile.is_zipfile(source):
        with zipfile.ZipFile(source) as archive:
            for info in archive.infolist():
                relative = PurePosixPath(info.filename)
                if relative.is_absolute() or ".." in relative.parts:
                    problems.append(Problem(f"{source.name}:{info.filename}", "unsafe path in the zip; skipped"))
                    continue
                if info.is_dir() or _hidden(relative):
                    continue
                files[relative] = archive.read(info)
    else:
        raise FileNotFoundError(f"{source}: neither a folder nor a zip file")
    return files


def _hidden(relative):
    return any(part.startswith(".") or part in IGNORED_NAMES for part in relative.parts)


def import_lms(source, assignment, root, notebook=None):
    """Copy the notebooks of an LMS export (folder or zip) to submitted/<student>/<assignment>/<notebook>.ipynb.

    Returns (imported [(export path, student)], problems). Nothing is overwritten: a submission already there with
    other content is reported and left alone; two notebooks that map to the same student are a duplicate and
    neither is imported."""
    notebook = notebook or assignment
    problems, imported = [], []
    files = _export_files(source, problems)
    by_student = defaultdict(list)
    for relative, content in files.items():
        where = f"{Path(source).name}:{relative}"
        if relative.suffix != ".ipynb":
            problems.append(Problem(where, "not a notebook; skipped", fatal=False))
            continue
        student, why = student_from_export_path(relative, assignment)
        if student is None:
            problems.append(Problem(where, f"could not map to a student: {why}; not imported"))
            continue
        reason = bad_id(student)
        if reason:
            problems.append(Problem(where, f"student id {student!r} is not valid ({reason}); not imported"))
            continue
        by_student[student].append((relative, content))
    for student, entries in sorted(by_student.items()):
        names = ", ".join(str(r) for r, _ in entries)
        if len(entries) > 1:
            problems.append(Problem(f"{Path(source).name}", f"duplicate submission: {names} all map to student "
                                    f"{student!r}; none imported (remove all but one and import again)"))
            continue
        relative, content = entries[0]
        target = Path(root) / "submitted" / student / assignment / f"{notebook}.ipynb"
        shown = target.relative_to(root)
        if target.exists():
            if target.read_bytes() == content:
                problems.append(Problem(str(shown), f"already imported from {relative}; unchanged", fatal=False))
                imported.append((str(relative), student))
            else:
                problems.append(Problem(str(shown), f"not replaced by {relative}: a different submission is already "
                                                    "there (delete it first to import the new one)"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        imported.append((str(relative), student))
    return imported, problems
