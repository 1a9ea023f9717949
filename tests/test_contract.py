"""The exercise contract (autograder/topics/CONTRACT.md) holds: each name in the row of a notebook in source/ is
defined by an answer cell of that notebook, with the signature the contract gives.

A signature holds when the definition's parameters start with the contract's, in order, with the same names,
kinds and defaults (parsed with ast, never run), and any parameter after them has a default, so every call the
contract allows still works. `Class.method(...)` names a method (without `self`); `Class(...)` its `__init__`.
"""
import ast
import copy
import re

import nbformat
import pytest

from autograder.grading.cells import is_answer_cell
from autograder.tools.course import REPO_ROOT

CONTRACT = REPO_ROOT / "autograder" / "topics" / "CONTRACT.md"
SECTION = re.compile(r"^## (?P<number>\d\d) · `(?P<assignment>\d\d_\w+)`$", re.M)


def contract():
    """{assignment: [signature text]} of the rows (00-10): the first column of each section's table."""
    text = CONTRACT.read_text(encoding="utf-8")
    sections = list(SECTION.finditer(text))
    found = {}
    for match, following in zip(sections, sections[1:] + [None]):
        body = text[match.end():following.start() if following else len(text)]
        found[match.group("assignment")] = re.findall(r"^\| `([^`]+)` \|", body, re.M)
    return found


CONTRACT_ROWS = contract()


def parse_signature(text):
    """(dotted name, ast.arguments) of `name(params)` or `Class.method(params)`."""
    name, params = re.fullmatch(r"([A-Za-z_][\w.]*)\((.*)\)", text, re.S).groups()
    return name, ast.parse(f"def f({params}): pass").body[0].args


def answer_definitions(cells):
    """{dotted name: ast.arguments} defined at the top level of the answer cells: functions, classes (their
    `__init__`, under the class's name) and the classes' methods (`Class.method`), `self` left out of both."""
    found = {}
    for cell in cells:
        if cell.cell_type != "code" or not is_answer_cell(cell):
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node.args
            elif isinstance(node, ast.ClassDef):
                found.setdefault(node.name, ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[],
                                                          defaults=[]))
                for method in node.body:
                    if isinstance(method, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        args = without_self(method.args)
                        found[f"{node.name}.{method.name}"] = args
                        if method.name == "__init__":
                            found[node.name] = args
    return found


def without_self(args):
    """The arguments of a method without its first (`self`); the defaults stay aligned with the last ones."""
    args = copy.copy(args)
    if args.posonlyargs:
        args.posonlyargs = args.posonlyargs[1:]
    elif args.args:
        args.args = args.args[1:]
    return args


def parameters(args):
    """[(name, kind, default source or None)] of an ast.arguments, in order."""
    positional = args.posonlyargs + args.args
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    rows = [(a.arg, "positional-only" if a in args.posonlyargs else "positional", d)
            for a, d in zip(positional, defaults)]
    if args.vararg:
        rows.append((args.vararg.arg, "*args", None))
    rows += [(a.arg, "keyword-only", d) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        rows.append((args.kwarg.arg, "**kwargs", None))
    return [(name, kind, None if default is None else value_of(default)) for name, kind, default in rows]


def value_of(node):
    try:
        return repr(ast.literal_eval(node))  # 1e-7 and 1e-07, "valid" and 'valid' are the same default
    except ValueError:
        return ast.unparse(node)


def mismatch(signature, definitions):
    """Why `definitions` (answer_definitions) do not honour the contract's `signature`, or None."""
    name, wanted = parse_signature(signature)
    if name not in definitions:
        return f"no answer cell defines {name}"
    want, have = parameters(wanted), parameters(definitions[name])
    for index, expected in enumerate(want):
        if index >= len(have):
            return f"{name} has no parameter {expected[0]!r} (the contract: {signature})"
        if have[index] != expected:
            got = have[index]
            return (f"{name}'s parameter {index + 1} is {got[0]!r} ({got[1]}, default {got[2]}), the contract's is "
                    f"{expected[0]!r} ({expected[1]}, default {expected[2]}): {signature}")
    extra = [p for p in have[len(want):] if p[2] is None and p[1] not in ("*args", "**kwargs")]
    if extra:
        return f"{name} adds {', '.join(p[0] for p in extra)} without a default: calls the contract allows fail"
    return None


def notebook_definitions(assignment):
    nb = nbformat.read(REPO_ROOT / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return answer_definitions(nb.cells)


ROWS = [(assignment, signature) for assignment, signatures in CONTRACT_ROWS.items() for signature in signatures]


class TestTheContractFile:
    """CONTRACT.md itself: its sections (00-10) are the notebooks in source/, each with its names; the source of the
    contract is named."""

    def test_its_sections_are_the_source_notebooks(self):
        notebooks = sorted(p.name for p in (REPO_ROOT / "source").iterdir()
                           if re.fullmatch(r"\d\d_\w+", p.name) and (p / f"{p.name}.ipynb").is_file())
        assert sorted(CONTRACT_ROWS) == notebooks, "a notebook without a section in CONTRACT.md, or the reverse"
        assert {f"{n:02d}" for n in range(11)} <= {a[:2] for a in CONTRACT_ROWS}
        assert all(CONTRACT_ROWS[a] for a in notebooks), "a section without names"

    def test_every_row_is_a_signature(self):
        for assignment, signature in ROWS:
            assert parse_signature(signature), (assignment, signature)

    def test_it_says_where_it_comes_from(self):
        text = CONTRACT.read_text(encoding="utf-8")
        assert "COURSE.md" in text.split("\n## ")[0] and "stays the source" in text


class TestTheNotebooksKeepIt:
    """Each contract name is defined by an answer cell of its notebook, with the contract's signature."""

    @pytest.mark.parametrize("assignment,signature", ROWS, ids=[f"{a[:2]}-{s.split('(')[0]}" for a, s in ROWS])
    def test_the_answer_cells_define_it_with_this_signature(self, assignment, signature):
        assert mismatch(signature, notebook_definitions(assignment)) is None


class TestTheCheckItself:
    """The comparison fails on what breaks the contract and passes what keeps it (tried on real answer cells)."""

    @pytest.fixture(scope="class")
    def relu_source(self):
        nb = nbformat.read(REPO_ROOT / "source" / "02_dense_activations" / "02_dense_activations.ipynb", as_version=4)
        return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "relu_answer").source

    @staticmethod
    def definitions(source):
        return answer_definitions([nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"solution": True}})])

    SIGNATURE = "relu(x, negative_slope=0.0, max_value=None, threshold=0.0)"

    @pytest.mark.parametrize("old,new,why", [
        ("def relu(", "def my_relu(", "no answer cell defines relu"),
        (", threshold=0.0)", ")", "has no parameter 'threshold'"),
        ("negative_slope=0.0, max_value=None", "max_value=None, negative_slope=0.0", "parameter 2 is 'max_value'"),
        ("negative_slope=0.0", "alpha=0.0", "parameter 2 is 'alpha'"),
        ("threshold=0.0)", "threshold=0.5)", "default 0.5"),
        ("threshold=0.0)", "threshold=0.0, *, scale)", "without a default"),
        ("(x, negative_slope", "(x, *, negative_slope", "keyword-only"),
    ])
    def test_a_renamed_moved_dropped_or_changed_parameter_is_caught(self, relu_source, old, new, why):
        assert mismatch(self.SIGNATURE, self.definitions(relu_source)) is None
        assert relu_source.count(old) == 1
        problem = mismatch(self.SIGNATURE, self.definitions(relu_source.replace(old, new)))
        assert problem is not None and why in problem, problem

    def test_a_parameter_added_with_a_default_keeps_the_contract(self, relu_source):
        added = relu_source.replace("threshold=0.0)", "threshold=0.0, dtype=None)")
        assert mismatch(self.SIGNATURE, self.definitions(added)) is None

    def test_a_class_its_init_and_its_methods_are_checked(self):
        source = ("class StatefulLSTM:\n    def __init__(self, kernel, recurrent_kernel, bias, batch_size):\n"
                  "        pass\n    def __call__(self, x):\n        pass\n    def reset_state(self):\n        pass\n")
        definitions = self.definitions(source)
        for signature in ("StatefulLSTM(kernel, recurrent_kernel, bias, batch_size)", "StatefulLSTM.__call__(x)",
                          "StatefulLSTM.reset_state()"):
            assert mismatch(signature, definitions) is None
        assert "no answer cell defines StatefulLSTM.reset_state" in mismatch(
            "StatefulLSTM.reset_state()", self.definitions(source.replace("reset_state", "reset_states")))
        assert "has no parameter 'batch_size'" in mismatch(
            "StatefulLSTM(kernel, recurrent_kernel, bias, batch_size)",
            self.definitions(source.replace(", batch_size):", "):")))
