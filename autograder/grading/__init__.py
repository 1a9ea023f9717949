"""Split grading under nbgrader: the student's code runs in a sandboxed answer kernel, the checks in a trusted
checker process, and plain data (`wire`) crosses between them.

It learns about a topic only through the topic contract (`autograder/topics/__init__.py`).
"""
