"""The checks of notebook 01 pass right answers written in other ways, name the mistakes students make (also when
the wrong answer raises), and refuse answers that accept invalid labels."""
import numpy as np
import pytest

from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import to_categorical as topic


def to_categorical_loop(y, num_classes=None):
    """A right answer without np.eye: a loop over the labels, float32 as Keras."""
    labels = np.asarray(y, dtype=np.float64)
    if not np.all(np.isfinite(labels)) or (labels != np.floor(labels)).any() or (labels < 0).any():
        raise ValueError("labels must be whole numbers, 0 or more")
    labels = labels.astype(np.int64)
    if labels.ndim > 1 and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    if num_classes < 1 or (labels.size and labels.max() >= num_classes):
        raise ValueError("num_classes must be at least 1 and above every label")
    out = np.zeros(labels.shape + (num_classes,), dtype=np.float32)
    for index in np.ndindex(labels.shape):
        out[index + (labels[index],)] = 1.0
    return out


def max_is_num_classes(y, num_classes=None):
    labels = np.asarray(y).astype(np.int64)
    return np.eye(int(labels.max()) if num_classes is None else num_classes)[labels]


SCORES = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4]])


class TestToCategorical:
    """to_categorical: equal to keras.utils.to_categorical on valid labels, the known mistake named."""

    def test_a_right_answer_written_as_a_loop_passes(self, capsys):
        """A loop instead of np.eye passes on drawn labels, with the runner's success line."""
        topic.check_to_categorical(to_categorical_loop)
        assert capsys.readouterr().out.startswith("\u2713 to_categorical matches keras.utils.to_categorical on ")

    def test_the_given_cases_are_the_ones_run(self, capsys):
        """With hand-picked Cases, exactly those run and are counted."""
        topic.check_to_categorical(to_categorical_loop, cases=[Case(([2, 0, 1],)), Case(([0],), {"num_classes": 3})])
        assert capsys.readouterr().out == "\u2713 to_categorical matches keras.utils.to_categorical on 2 inputs.\n"

    @pytest.mark.parametrize("case", [Case(([2, 0, 1],)), Case(([0],))], ids=["returns", "raises"])
    def test_num_classes_as_max_is_named_whether_it_returns_or_raises(self, case):
        """num_classes = max(y) is named when it returns too few columns and when it raises IndexError."""
        with pytest.raises(CheckFailed, match=r"num_classes is max\(y\) instead of max\(y\) \+ 1"):
            topic.check_to_categorical(max_is_num_classes, cases=[case])

    def test_num_classes_as_max_is_caught_on_drawn_labels(self):
        """Without hand-picked Cases the drawn labels catch it too."""
        with pytest.raises(CheckFailed, match=r"num_classes is max\(y\)"):
            topic.check_to_categorical(max_is_num_classes)


class TestToCategoricalRejects:
    """to_categorical on invalid labels: ValueError with a message, better than Keras."""

    def test_a_right_answer_rejects_every_invalid_input(self, capsys):
        """The right answer raises on all of BAD_LABELS, with the runner's success line."""
        topic.check_to_categorical_rejects(to_categorical_loop)
        assert capsys.readouterr().out == (f"\u2713 to_categorical raises ValueError on all {len(topic.BAD_LABELS)} "
                                           "invalid inputs.\n")

    def test_an_answer_that_accepts_negative_labels_fails(self):
        """Keras's own behaviour (-1 lands in the last column) fails, naming the negative label."""
        def no_negative_check(y, num_classes=None):
            labels = np.asarray(y).astype(np.int64)
            return np.eye(num_classes or int(labels.max()) + 1)[labels]

        with pytest.raises(CheckFailed, match="negative"):
            topic.check_to_categorical_rejects(no_negative_check)


class TestFromCategorical:
    """from_categorical: argmax over the last axis, and the round trip from to_categorical."""

    @pytest.mark.parametrize("wrong,named", [
        (lambda scores: np.argmax(scores, axis=0), "over axis 0"),
        (lambda scores: np.argmax(scores), "flattened array"),
    ], ids=["axis-0", "flattened"])
    def test_from_categorical_mistakes_are_named(self, wrong, named):
        """argmax over the samples axis, or of the flattened array, is named."""
        with pytest.raises(CheckFailed, match=named):
            topic.check_from_categorical(wrong, cases=[Case((SCORES,))])

    def test_from_categorical_written_with_a_loop_passes(self, capsys):
        """A row-by-row loop passes the drawn scores and the round trip."""
        topic.check_from_categorical(lambda scores: np.array([int(np.argmax(row)) for row in np.reshape(
            scores, (-1, np.shape(scores)[-1]))]).reshape(np.shape(scores)[:-1]))
        assert "\u2713 from_categorical" in capsys.readouterr().out

    def test_the_round_trip_runs_after_the_given_cases(self, capsys):
        """The round trip from to_categorical is one more input after the given ones, and it can fail."""
        right = lambda scores: np.argmax(scores, axis=-1)  # noqa: E731
        topic.check_from_categorical(right, cases=[Case((SCORES,))])
        assert capsys.readouterr().out == "\u2713 from_categorical matches np.argmax(..., axis=-1) on 2 inputs.\n"
        only_four_rows = lambda scores: np.argmax(np.asarray(scores)[:4], axis=-1)  # noqa: E731
        with pytest.raises(CheckFailed, match="from_categorical"):
            topic.check_from_categorical(only_four_rows, cases=[Case((SCORES,))])
