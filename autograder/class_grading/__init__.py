"""Grading a whole class: the class command (`python -m autograder.class_grading.grade`), importing an LMS's
export, and the instructor's class report."""
