"""Shared fixtures: Keras and TensorFlow, imported once and only by the tests that need them.

Numerics. TensorFlow's results depend on its thread counts (a sum split over more threads is added up in another
order), so a notebook output that quotes a trained model's figures differs between machines. This file pins the
thread counts of the whole run, before anything imports TensorFlow, so that this process and every process it
starts inherit them: the kernels nbval runs the notebooks in, nbgrader and its checker processes.
`TF_NUM_INTRAOP_THREADS=4 pytest ...` picks another count; tests/test_numerics.py runs the notebooks that train
models and grades the solved notebooks once more with the other count (1 and 4), and checks that the kernels do
inherit the variables.
"""
import os
import sys
from pathlib import Path

import pytest

import autograder  # noqa: F401  (sets TF_CPP_MIN_LOG_LEVEL=3 before TensorFlow is imported)

THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
THREADS = os.environ.get("TF_NUM_INTRAOP_THREADS") or "1"
for _name in THREAD_VARIABLES:
    os.environ[_name] = THREADS


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; nothing here downloads a browser (never `playwright install`)
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # ignored by git; look at them


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, headless, driven by Playwright, for the tests of one module. A missing Chromium fails
    (CI installs it; a skipped browser test would pass for a green one); KBH_SKIP_BROWSER=1 skips instead."""
    if os.environ.get("KBH_SKIP_BROWSER") == "1":
        pytest.skip("KBH_SKIP_BROWSER=1")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        # no background requests (there is no network to reach)
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture(scope="session")
def keras(tf):
    import keras

    return keras


def pytest_configure(config):
    """absl's logging handler (TensorFlow's) writes to the sys.stderr of the moment it was made: under pytest's
    capture, a stream of pytest's. Code that calls logging.config.fileConfig in this process (nbgrader's gradebook
    runs alembic's, e.g. in tests/test_grade_class.py) closes every handler, and absl's closes its stream unless it
    is the *current* sys.stderr: pytest then writes to a closed file and the session dies ("lost sys.stderr").
    The real stderr, which absl never closes, avoids that."""
    try:
        import absl.logging
    except ImportError:
        return
    absl.logging.get_absl_handler().python_handler.stream = sys.__stderr__


def pytest_terminal_summary(terminalreporter):
    """The mutation test's one line per notebook (tests/test_mutations.py)."""
    summary = getattr(sys.modules.get("test_mutations"), "SUMMARY", None)
    if not summary:
        return
    terminalreporter.section("mutation test of the checks")
    for name, counts in sorted(summary.items()):
        wrong, right = counts["wrong"], counts["right"]
        terminalreporter.write_line(f"{name}: wrong answers caught {sum(wrong)}/{len(wrong)}, "
                                    f"right answers accepted {sum(right)}/{len(right)}")
