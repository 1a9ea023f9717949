"""nbgrader preprocessors of this course. Each is small and does one job."""
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def has_hidden_tests(source):
    return "### BEGIN HIDDEN TESTS" in source


class HideHiddenTests(Preprocessor):
    """Make a graded notebook safe to hand back: no hidden test source, no traceback that quotes it.

    nbgrader's autograde restores every test cell, hidden tests included, before it runs the notebook, so the
    autograded notebook that feedback is made from contains them. This removes the hidden region from each such
    cell and keeps only the last line of an error (`CheckFailed: what is wrong`), because an IPython traceback
    prints the lines of the cell around the failing call.
    """

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and has_hidden_tests(cell.source):
            cell.source = HIDDEN_REGION.sub("", cell.source).rstrip() + "\n# (hidden tests ran here)"
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
