"""The checks library the notebooks call: calling an untrusted answer, comparing it with Keras, describing what
is wrong, the one check runner, the shared inputs (strategies) and Keras references, and each notebook's setup.

It never imports `autograder.grading`: a check runs the same in a student's Lab and under the grader.
"""
