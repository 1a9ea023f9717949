"""The feedback page a student gets (`nbgrader generate_feedback` with the course's config): a summary of each
exercise above the notebook, formulas drawn without the internet, no memory address, demo cells said to be
demonstrations, and the instructor's choice of what a failed hidden check reveals (`HideHiddenTests.reveal`).

A small real course (01_to_categorical and 05_regularizers; a solved student and wrong ones) goes through the
real `nbgrader autograde` and `generate_feedback`; the pages are opened in Debian's Chromium with every request
but file: and data: aborted, and screenshots saved as tests/screenshots/feedback-*.png.
"""
import html
import re
import shutil
from collections import defaultdict

import nbformat
import numpy as np
import pytest
from nbgrader.api import Gradebook

from autograder.tools.course import generate_assignments, make_course, replace_in_answer, run_nbgrader, solved_submission
from autograder.checks.describe import describe_call, describe_value
from autograder.grading.preprocessors import DEMO_NOTE, HIDDEN_REGION
from wrong_answers import WRONG_ANSWERS

from conftest import SCREENSHOTS
STUDENTS = {"01_to_categorical": ["num-classes-is-max", "no-negative-check"],
            "05_regularizers": ["rate-as-keep-probability"]}
MISTAKE = "num_classes is max(y) instead of max(y) + 1 (labels start at 0)"
HEADING = "\u2717 to_categorical is not right yet"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = make_course(tmp_path_factory.mktemp("feedback-course"))
    generate_assignments(root, list(STUDENTS))
    for name, wrong_students in STUDENTS.items():
        release_nb = nbformat.read(root / "release" / name / f"{name}.ipynb", as_version=4)
        source_nb = nbformat.read(root / "source" / name / f"{name}.ipynb", as_version=4)
        solved = solved_submission(release_nb, source_nb)
        submissions = {"solved": solved}
        for wrong in WRONG_ANSWERS[name]:
            if wrong.student in wrong_students:
                submissions[wrong.student] = replace_in_answer(solved, wrong.answer, wrong.old, wrong.new)
        assert set(submissions) == {"solved", *wrong_students}
        for student, nb in submissions.items():
            folder = root / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
        result = run_nbgrader(["autograde", name, "--create"], root)
        assert result.returncode == 0, result.stdout + result.stderr
        result = run_nbgrader(["generate_feedback", name], root)
        assert result.returncode == 0, result.stdout + result.stderr
    return root


def page_of(root, student, assignment, feedback="feedback"):
    return (root / feedback / student / assignment / f"{assignment}.html").read_text(encoding="utf-8")


def visible_text(page):
    body = re.sub(r"(?s)<(style|script)\b.*?</\1>", "", page)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def summary_rows(page):
    """{exercise: (points text, [problem lines])} of the summary above the notebook."""
    start = page.index('id="kbh-summary"')
    summary = page[start:page.index('<div class="panel-body">', start)]
    rows = {}
    for name, row in re.findall(r'<tr class="kbh-exercise" data-exercise="([^"]+)">(.*?)</tr>', summary, re.S):
        points = visible_text(re.search(r'<td class="kbh-points">(.*?)</td>', row, re.S).group(1))
        problems = [visible_text(p) for p in re.findall(r'<li class="kbh-problem">(.*?)</li>', row, re.S)]
        rows[html.unescape(name)] = (points, problems)
    return rows


def exercise_points(root, assignment, student):
    """{exercise: "score / max"} from nbgrader's gradebook, the grade ids `foo_check|hidden|errors` summed."""
    totals = defaultdict(lambda: [0.0, 0.0])
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(assignment, assignment, student)
        for grade in notebook.grades:
            name = re.sub(r"_(check|hidden|errors)$", "", grade.name)
            totals[name][0] += grade.score
            totals[name][1] += grade.max_score
    return {name: f"{score:.1f} / {points:.1f}" for name, (score, points) in totals.items()}


def cell_html(page, grade_id):
    """The html of the grade cell `grade_id`, from its anchor to the next cell's."""
    start = page.index(f'<a name="{grade_id}"></a>')
    end = page.find('<div class="cell border-box-sizing', start)
    return page[start:end if end > 0 else len(page)]


def failing_call(root, student, assignment, grade_id):
    """The call a failed check names first, with its input (`to_categorical([2, 2, 2])`), read from the
    autograded notebook."""
    nb = nbformat.read(root / "autograded" / student / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            evalue = next(o["evalue"] for o in cell.outputs if o.get("output_type") == "error")
            return evalue.split(" raised ")[0].split(" returned ")[0]
    raise KeyError(grade_id)


# --- the summary ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment,student", [(a, s) for a, students in STUDENTS.items()
                                                for s in ["solved", *students]])
def test_summary_lists_each_exercise_with_the_gradebooks_points(course, assignment, student):
    rows = summary_rows(page_of(course, student, assignment))
    assert {name: points for name, (points, _) in rows.items()} == exercise_points(course, assignment, student)
    failed = {name for name, (points, _) in rows.items() if points.split(" / ")[0] != points.split(" / ")[1]}
    assert {name for name, (_, problems) in rows.items() if problems} == failed
    if student == "solved":
        assert failed == set()


def test_summary_names_the_mistake_of_each_failed_check(course):
    rows = summary_rows(page_of(course, "num-classes-is-max", "01_to_categorical"))
    assert list(rows) == ["to_categorical", "from_categorical"]  # the notebook's order
    assert rows["to_categorical"] == ("2.0 / 6.0", [f"check (0.0 / 2.0): {MISTAKE}",
                                                    f"hidden check (0.0 / 2.0): {MISTAKE}"])
    assert rows["from_categorical"] == ("2.0 / 2.0", [])
    # no named mistake: the kind of failure in words
    rows = summary_rows(page_of(course, "no-negative-check", "01_to_categorical"))
    assert rows["to_categorical"][1] == ["error check (0.0 / 2.0): a bad input did not raise ValueError"]
    rows = summary_rows(page_of(course, "rate-as-keep-probability", "05_regularizers"))
    kept = "you use rate as the probability of KEEPING a unit (Keras drops a fraction rate)"
    assert rows["dropout"][1] == [f"check (0.0 / 2.0): {kept}", f"hidden check (0.0 / 2.0): {kept}"]


# --- no memory address, no hidden test ------------------------------------------------------------------------

def test_a_generator_is_described_without_its_address():
    rng = np.random.default_rng(0)
    assert " at 0x" in repr(rng)
    assert describe_value(rng) == "Generator(PCG64)"
    assert describe_call("dropout", (np.ones(2),), {"rng": rng}) == "dropout(np.array([1., 1.]), rng=Generator(PCG64))"
    assert "0x" not in describe_value(lambda: 0) and "0x" not in describe_value(object())


def all_pages(root, feedback="feedback"):
    return sorted((root / feedback).glob("*/*/*.html"))


def test_no_page_shows_a_memory_address_or_hidden_test(course):
    pages = all_pages(course)
    assert len(pages) == 5
    for page in pages:
        assignment = page.parts[-2]
        text = visible_text(page.read_text(encoding="utf-8"))
        assert not re.search(r"0x[0-9a-fA-F]{4,}", text), page
        source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
        secret = [line.strip() for cell in source.cells for region in HIDDEN_REGION.findall(cell.source)
                  for line in region.splitlines()[1:-1] if len(line.strip()) > 15]
        assert secret and [line for line in secret if line in text] == [], page
        assert "BEGIN HIDDEN TESTS" not in text


# --- demo cells -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", list(STUDENTS))
def test_demo_cells_say_they_are_demonstrations(course, assignment):
    release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    demos = [c for c in release.cells if "demo" in c.metadata.get("tags", [])]
    assert demos, "no demo cell to look at"
    page = page_of(course, "solved", assignment)
    folds = re.findall(r'<details class="kbh-demo">(.*?)</details>', page, re.S)
    assert len(folds) == len(demos)
    for fold, demo in zip(folds, demos):
        assert DEMO_NOTE in visible_text(fold)
        first_line = next(line for line in demo.source.splitlines() if line.strip())
        assert re.match(r"\s*#?\s*(\w+)", first_line).group(1) in visible_text(fold)  # the code, folded
    assert visible_text(page).count(DEMO_NOTE) == len(demos)  # once per demo cell, not once more as output


# --- offline, in a browser --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(chromium):
    for old in SCREENSHOTS.glob("feedback-*.png"):
        old.unlink()
    return chromium


def open_offline(browser, path):
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.requests_blocked = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            page.requests_blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page


def test_pages_load_nothing_from_the_internet(course):
    for path in all_pages(course):
        page = path.read_text(encoding="utf-8")
        assert not re.search(r"<script[^>]+src=", page), path
        assert not re.search(r"<link[^>]+href=[\"']?(https?:)?//", page), path
        assert not re.search(r"url\(\s*[\"']?(https?:)?//|@import", page), path  # nor from a style sheet
        assert not re.search(r"(?s)<script\b[^>]*>(?:(?!</script>).)*mathjax", page, re.I), path


def test_formulas_render_offline_in_chromium(course, browser):
    path = course / "feedback" / "rate-as-keep-probability" / "05_regularizers" / "05_regularizers.html"
    page = open_offline(browser, path)
    try:
        assert page.requests_blocked == []
        drawn = page.evaluate("[...document.querySelectorAll('img.kbh-math')]"
                              ".map(i => [i.complete && i.naturalWidth > 0, i.getBoundingClientRect().height])")
        release = nbformat.read(course / "release" / "05_regularizers" / "05_regularizers.ipynb", as_version=4)
        formulas = sum(len(re.findall(r"\$\$.+?\$\$|\$[^$\n]+\$", c.source, re.S))
                       for c in release.cells if c.cell_type == "markdown")
        assert formulas >= 5 and len(drawn) == formulas, (len(drawn), formulas)
        assert all(loaded and 8 < height < 120 for loaded, height in drawn), drawn
        text = page.evaluate("document.body.innerText")
        assert "$$" not in text and "\\text{" not in text and "\\frac" not in text and "\\sum" not in text
        assert page.locator("code.kbh-tex").count() == 0  # no formula fell back to its TeX source
        page.locator("img.kbh-math-display, .kbh-math-display").first.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "feedback-math.png"))
    finally:
        page.context.close()


def test_the_summary_in_chromium(course, browser):
    path = course / "feedback" / "num-classes-is-max" / "01_to_categorical" / "01_to_categorical.html"
    page = open_offline(browser, path)
    try:
        assert page.requests_blocked == []
        summary = page.locator("#kbh-summary")
        assert summary.is_visible()
        assert MISTAKE in summary.inner_text()
        assert summary.bounding_box()["y"] < page.locator("#notebook").first.bounding_box()["y"]  # above the notebook
        page.screenshot(path=str(SCREENSHOTS / "feedback-summary.png"))
        fold = page.locator("details.kbh-demo").first
        fold.scroll_into_view_if_needed()
        assert DEMO_NOTE in fold.inner_text()
        assert not fold.locator(".input_area").is_visible()  # folded until clicked
        fold.locator("summary").click()
        assert fold.locator(".input_area").is_visible()
        page.screenshot(path=str(SCREENSHOTS / "feedback-demo.png"))
    finally:
        page.context.close()


# --- what a hidden check reveals --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def revealed(course):
    """{reveal: (page of "num-classes-is-max" for 01)} for each setting of HideHiddenTests.reveal."""
    pages = {}
    for reveal in ["note", "message", "pass_fail"]:
        result = run_nbgrader(["generate_feedback", "01_to_categorical", "--student", "num-classes-is-max",
                               "--force", f"--HideHiddenTests.reveal={reveal}"], course)
        assert result.returncode == 0, result.stdout + result.stderr
        pages[reveal] = page_of(course, "num-classes-is-max", "01_to_categorical")
    shutil.rmtree(course / "feedback" / "num-classes-is-max" / "01_to_categorical")
    assert run_nbgrader(["generate_feedback", "01_to_categorical", "--student", "num-classes-is-max"],
                        course).returncode == 0  # as the config says again, for the other tests
    return pages


def test_reveal_changes_what_a_failed_hidden_check_shows(course, revealed):
    hidden_call = failing_call(course, "num-classes-is-max", "01_to_categorical", "to_categorical_hidden")
    visible_call = failing_call(course, "num-classes-is-max", "01_to_categorical", "to_categorical_check")
    assert re.fullmatch(r"to_categorical\(.+\)", hidden_call), hidden_call
    shown = {reveal: visible_text(cell_html(page, "to_categorical_hidden")) for reveal, page in revealed.items()}
    assert len(set(shown.values())) == 3
    # note: what the student's notebook would show, the failing input and the hint included
    assert HEADING in shown["note"] and hidden_call in shown["note"] and "Hint:" in shown["note"]
    assert MISTAKE in shown["note"]
    # message: the first line without the input, and the named mistake
    assert HEADING in shown["message"] and "to_categorical(...) raised IndexError" in shown["message"]
    assert f"Likely mistake: {MISTAKE}" in shown["message"]
    assert hidden_call not in shown["message"] and "Hint:" not in shown["message"]
    # pass_fail: the heading only
    assert HEADING in shown["pass_fail"]
    assert "IndexError" not in shown["pass_fail"] and MISTAKE not in shown["pass_fail"]
    assert hidden_call not in shown["pass_fail"]
    for reveal, page in revealed.items():
        # the visible check shows its whole note whatever the setting: the student can run it anyway
        visible = visible_text(cell_html(page, "to_categorical_check"))
        assert visible_call in visible and MISTAKE in visible, reveal
        assert "BEGIN HIDDEN TESTS" not in page and "Traceback" not in visible_text(page)
    # the summary follows the setting for the hidden check only
    assert summary_rows(revealed["pass_fail"])["to_categorical"][1] == [
        f"check (0.0 / 2.0): {MISTAKE}", "hidden check (0.0 / 2.0): to_categorical is not right yet"]
    assert summary_rows(revealed["message"]) == summary_rows(revealed["note"])
