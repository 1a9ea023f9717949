"""Which notebook cell is what, read from its nbgrader metadata and tags: the one place the course reads them.

Cells are nbformat cells, as dicts (a job's JSON) or `NotebookNode`s. nbgrader marks an answer cell
`solution: true`, a test (check) cell `grade: true` and not a solution, and every graded cell with a `grade_id`;
the course calls its setup cell `setup` and tags the Keras demonstrations, which grade nothing, `demo`.
"""
SETUP_ID = "setup"
DEMO_TAG = "demo"
HIDDEN_TESTS_MARK = "### BEGIN HIDDEN TESTS"


def nbgrader_meta(cell):
    """The cell's nbgrader metadata ({} when it has none)."""
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def grade_id(cell, default=None):
    """The cell's nbgrader grade id, or `default`."""
    return nbgrader_meta(cell).get("grade_id", default)


def is_code_cell(cell):
    return cell.get("cell_type") == "code"


def is_answer_cell(cell):
    """An answer cell: where the learner writes (nbgrader `solution`)."""
    return bool(nbgrader_meta(cell).get("solution"))


def cell_is_graded(cell):
    """A cell nbgrader gives points for (nbgrader `grade`): a test cell, or an answer cell graded by hand."""
    return bool(nbgrader_meta(cell).get("grade"))


def is_test_cell(cell):
    """A check: a graded code cell that is not an answer cell (nbgrader restores its source before grading)."""
    return is_code_cell(cell) and cell_is_graded(cell) and not is_answer_cell(cell)


def is_setup_cell(cell):
    return is_code_cell(cell) and grade_id(cell) == SETUP_ID


def is_demo_cell(cell):
    """A Keras demonstration (tagged `demo`): it grades nothing and is not run when grading."""
    return DEMO_TAG in ((cell.get("metadata") or {}).get("tags") or [])


def source_of(cell):
    """The cell's source as one string (nbformat stores it as a string or a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def has_hidden_tests(cell_or_source):
    """True when the cell (or a cell's source) holds nbgrader hidden tests."""
    source = cell_or_source if isinstance(cell_or_source, str) else source_of(cell_or_source)
    return HIDDEN_TESTS_MARK in source


def setup_index(cells):
    """The index of the setup cell, or None."""
    return next((i for i, cell in enumerate(cells) if is_setup_cell(cell)), None)


def answer_kernel_cells(cells):
    """Indices of the cells the answer kernel runs: every code cell but the setup, test and demo cells."""
    return [i for i, cell in enumerate(cells) if is_code_cell(cell) and source_of(cell).strip()
            and not (is_setup_cell(cell) or is_test_cell(cell) or is_demo_cell(cell))]


def error_output(ename, evalue, lines=None):
    """An nbformat error output; `lines` is what a notebook shows (default: `ename: evalue`)."""
    return {"output_type": "error", "ename": ename, "evalue": evalue,
            "traceback": lines if lines is not None else [f"{ename}: {evalue}"]}
