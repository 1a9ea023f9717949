"""`python3 autograder/tools/python_check.py`: the README's first step, before anything is installed (standard library
only, run as a file so the package's own imports, which need NumPy, are not involved): one clear sentence and
exit status 1 when this Python cannot run the course's pinned stack."""
import sys

SUPPORTED = ((3, 11), (3, 13))  # requirements.txt has wheels for CPython 3.11 to 3.13 (tests/test_requirements.py)


def problem(version=sys.version_info, implementation=sys.implementation.name):
    """The sentence to print, or None when this Python is fine."""
    low, high = SUPPORTED
    found = ".".join(str(part) for part in version[:3])
    if implementation != "cpython" or not low <= tuple(version[:2]) <= high:
        return (f"Keras by Hand needs CPython {low[0]}.{low[1]} to {high[0]}.{high[1]}, but this is "
                f"{implementation} {found}: install one of those and run the command with it "
                f"(e.g. python3.12 instead of python3).")
    return None


if __name__ == "__main__":
    sentence = problem()
    if sentence:
        print(sentence, file=sys.stderr)
    sys.exit(1 if sentence else 0)
