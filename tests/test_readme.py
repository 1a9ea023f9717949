"""The README's two commands stay true: CI runs the README's test command word for word."""
import re

from autograder.tools.course import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
CI = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")


def readme_commands():
    return re.findall(r"```bash\n(.+?)\n```", README)[:2]


def test_readme_opens_with_install_and_start_then_install_and_test():
    start, test = readme_commands()
    assert "pip install -r requirements.txt" in start and start.endswith(".venv/bin/python -m autograder.tools.lab")
    assert "pip install -r requirements.txt" in test and "pytest" in test


def test_the_start_command_checks_the_python_first_and_takes_any_supported_python3():
    start, test = readme_commands()
    assert start.startswith("python3 autograder/tools/python_check.py && python3 -m venv .venv && ")
    assert "python3.1" not in start + test  # a newcomer's Python is python3, whichever 3.11-3.13 it is


def test_ci_runs_the_readme_test_command():
    steps = [step.strip() for step in readme_commands()[1].split("&&")]
    ci_lines = [line.strip() for line in CI.splitlines() if line.strip() and not line.startswith("#")]
    for step in steps:
        assert step in ci_lines, f"CI does not run {step!r}"
