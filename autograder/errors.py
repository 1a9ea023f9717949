"""The one exception a check raises when a student's answer is wrong."""


class CheckFailed(AssertionError):
    """A student's answer does not match Keras. The message says what is wrong in the student's terms.

    It subclasses AssertionError so that nbgrader and pytest treat it as an ordinary failed test.
    """
