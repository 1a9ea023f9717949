"""The package's shape: which part may import which, a first docstring line in every module, and a topic as one
notebook folder, one topic module, one wrong-answer file and one test module (README, "Architecture")."""
import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "autograder"
PARTS = ("checks", "topics", "grading", "class_grading", "tools")
# What each part may import of the others. The checks run the same in a Lab and under the grader, so they know
# nothing of grading; a topic is checks plus Keras; grading knows topics only through the topic contract.
MAY_IMPORT = {
    "checks": set(),
    "topics": {"checks"},
    "grading": {"checks", "topics"},
    "class_grading": {"checks", "grading", "tools"},
    "tools": {"checks", "grading", "class_grading", "topics"},
}


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py") if "lab_config" not in p.parts)


def imported_modules(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "autograder":
                yield from (f"autograder.{alias.name}" for alias in node.names)
            else:
                yield node.module


def part_of(module_name):
    pieces = module_name.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[0] == "autograder" and pieces[1] in PARTS else None


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_part_imports_only_what_it_may(path):
    part = part_of("autograder." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    if part is None:
        return
    wrong = sorted({m for m in imported_modules(path) if part_of(m) not in (None, part, *MAY_IMPORT[part])})
    assert not wrong, f"autograder/{part} may not import {wrong}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "grading").glob("*.py")), ids=lambda p: p.name)
def test_grading_learns_about_a_topic_only_through_the_topic_contract(path):
    by_name = sorted(m for m in imported_modules(path) if m.startswith("autograder.topics."))
    assert not by_name, f"grading/{path.name} imports a topic module by name: {by_name}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_module_says_in_its_first_line_what_it_is_for(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and len(docstring.splitlines()[0].strip()) >= 20, f"{path} needs a first docstring line"


def topic_notebooks():
    return sorted(p.name for p in (REPO / "source").iterdir() if re.fullmatch(r"\d\d_\w+", p.name))


@pytest.mark.parametrize("notebook", topic_notebooks())
def test_a_topic_is_a_folder_a_module_a_wrong_answer_file_and_a_test_module(notebook):
    topic = notebook[3:]
    assert (REPO / "source" / notebook / f"{notebook}.ipynb").is_file()
    assert (PACKAGE / "topics" / f"{topic}.py").is_file() or (PACKAGE / "topics" / topic / "__init__.py").is_file()
    assert (REPO / "tests" / "wrong_answers" / f"a{notebook}.py").is_file()
    assert (REPO / "tests" / f"test_topic_{topic}.py").is_file()


def test_the_readme_module_table_lists_every_module():
    readme = (REPO / "README.md").read_text()
    missing = [str(p.relative_to(PACKAGE)) for p in modules()
               if p.name != "__init__.py" and f"`{p.relative_to(PACKAGE)}`" not in readme]
    assert not missing, f"README's module table does not list {missing}"
