"""Tests of notebook 06's checks (autograder/topics/save_load.py), one class per exercise: each passes a right
answer with its one success line, names the mistakes students make, keeps its files out of the working folder
and cleans them up, and keeps Keras's warnings off stderr."""
import io
import json
import os
import warnings
import zipfile

import h5py
import numpy as np
import pytest

from autograder.checks.runner import Case
from autograder.checks.errors import CheckFailed
from autograder.topics import save_load as topic

SMALL = Case((3, [(4, "relu"), (2, "softmax")]))
NO_BIAS = Case((3, [{"units": 4, "activation": "tanh", "use_bias": False, "name": "first"}, (2, "sigmoid")]))
COMPILED = Case((2, [(3, "sigmoid"), (1, "linear")]), {"compiled": True})
ELEVEN = Case((2, [(2, "tanh")] * 10 + [(2, "softmax")]))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


ACT = {"linear": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
       "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "softmax": softmax}


def make_read(order="config", optimizer=False, by_name=False, any_model=False):
    def read_keras_file(path):
        try:
            archive = zipfile.ZipFile(path)
        except zipfile.BadZipFile as error:
            raise ValueError(str(error)) from None
        with archive:
            config = json.loads(archive.read("config.json"))
            data = archive.read("model.weights.h5")
        classes = [layer["class_name"] for layer in config["config"]["layers"]]
        if not any_model and (config["class_name"] != "Sequential" or set(classes) - {"InputLayer", "Dense"}):
            raise ValueError("not a Sequential of Dense layers")
        dense = [layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense"]
        names = [layer["config"]["name"] if by_name else ("dense" if i == 0 else f"dense_{i}")
                 for i, layer in enumerate(dense)]
        with h5py.File(io.BytesIO(data), "r") as f:
            groups = sorted(f["layers"]) if order == "string" else names
            weights = [f["layers"][g]["vars"][str(i)][()] for g in groups for i in range(len(f["layers"][g]["vars"]))]
            if optimizer and "optimizer" in f:
                weights += [np.asarray(f["optimizer/vars"][str(i)][()]) for i in range(len(f["optimizer/vars"]))]
        return config, weights
    return read_keras_file


def make_predict(activations=True):
    read = make_read()

    def predict_from_keras_file(path, x):
        config, weights = read(path)
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != weights[0].shape[0]:
            raise ValueError("x has the wrong shape")
        position = 0
        for layer in [l for l in config["config"]["layers"] if l["class_name"] == "Dense"]:
            x = x @ weights[position]
            position += 1
            if layer["config"]["use_bias"]:
                x = x + weights[position]
                position += 1
            x = ACT[layer["config"]["activation"]](x) if activations else x
        return x
    return predict_from_keras_file


def make_config(module=True, input_from_units=False):
    def sequential_config(input_dim, layers):
        if input_dim < 1 or not layers:
            raise ValueError("bad description")
        first = layers[0][0] if input_from_units else input_dim
        entries = [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, first]}}]
        for units, activation in layers:
            if activation not in (None, *topic.ACTIVATIONS) or units < 1 or units != int(units):
                raise ValueError("bad layer")
            entries.append({"module": "keras.layers", "class_name": "Dense",
                            "config": {"units": units, "activation": activation or "linear"}})
        text = {"class_name": "Sequential", "config": {"name": "s", "layers": entries}}
        return json.dumps({"module": "keras", **text} if module else text)
    return sequential_config


def make_write(transposed=False, first_group="dense", validate=True, dtype=np.float32):
    def write_weights_h5(path, weights):
        arrays = [np.asarray(w) for w in weights]
        if validate and (not path.endswith(".weights.h5") or not arrays or len(arrays) % 2
                         or any(k.ndim != 2 or b.shape != (k.shape[1],) for k, b in zip(arrays[::2], arrays[1::2]))
                         or any(a.shape[1] != b.shape[0] for a, b in zip(arrays[:-2:2], arrays[2::2]))):
            raise ValueError("bad weights")
        with h5py.File(path, "w") as f:
            for i in range(0, len(arrays), 2):
                group = first_group if i == 0 else f"dense_{i // 2}"
                f[f"layers/{group}/vars/0"] = (arrays[i].T if transposed else arrays[i]).astype(dtype)
                f[f"layers/{group}/vars/1"] = arrays[i + 1].astype(dtype)
    return write_weights_h5


def success_lines(capsys):
    """The lines the checks printed; nothing may go to stderr (nbgrader zeroes a cell that writes there)."""
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


def fails(check, answer, **options):
    """The CheckFailed that `check(answer, **options)` raises."""
    with pytest.raises(CheckFailed) as failure:
        check(answer, **options)
    return failure.value


ONE_LAYER = [Case(([np.ones((2, 3)), np.zeros(3)],))]


class TestReadKerasFile:
    """read_keras_file: config.json and the weights of a .keras file, and ValueError for a broken file."""

    def test_right_answer_passes(self, keras, capsys):
        """Custom names, no bias, a compiled model and eleven layers pass, counted in one success line."""
        topic.check_read_keras_file(make_read(), cases=[SMALL, NO_BIAS, COMPILED, ELEVEN])
        assert success_lines(capsys) == [
            "\u2713 read_keras_file matches keras.saving.load_model(path).get_weights() on 4 inputs."]

    @pytest.mark.parametrize("answer,case,named", [
        (make_read(order="string"), ELEVEN, "string order"),
        (make_read(optimizer=True), COMPILED, "optimizer's variables"),
        (make_read(by_name=True), NO_BIAS, "CLASS name counted per class"),
    ])
    def test_mistakes_are_named(self, keras, answer, case, named):
        """Groups in string order, the optimizer's variables and groups by layer name are named."""
        assert named in str(fails(topic.check_read_keras_file, answer, cases=[case]))

    def test_files_go_to_a_temporary_folder_that_is_removed(self, keras, tmp_path, monkeypatch):
        """The files the check hands over sit in a temporary folder, not the working one, removed afterwards."""
        monkeypatch.chdir(tmp_path)
        seen = []
        read = make_read()

        def read_keras_file(path):
            seen.append(os.path.dirname(os.path.abspath(path)))
            return read(path)

        topic.check_read_keras_file(read_keras_file, cases=[SMALL])
        assert seen and all(folder != str(tmp_path) for folder in seen)
        assert not any(os.path.exists(folder) for folder in seen)
        assert list(tmp_path.iterdir()) == []

    def test_a_failure_keeps_its_kind_and_the_students_error(self, keras):
        """An answer that raises on a good file fails as "raised", with its own error as the cause (its frames)."""
        def read_keras_file(path):
            raise KeyError("hidden")

        failure = fails(topic.check_read_keras_file, read_keras_file, cases=[SMALL])
        assert failure.kind == "raised" and isinstance(failure.__cause__, KeyError)
        assert "CLASS name counted per class" in str(failure)

    def test_rejects_pass_with_one_line(self, keras, capsys):
        """Broken files and models that are not a Sequential of Dense layers, counted in one line."""
        topic.check_read_keras_file_rejects(make_read(), ["not_a_zip", "truncated", "empty"])
        topic.check_read_keras_file_rejects(make_read(), ["truncated"], ["conv_layer"])
        assert success_lines(capsys) == [
            "\u2713 read_keras_file raises ValueError on all 3 bad files and on 2 models that are not a Sequential "
            "of Dense layers.",
            "\u2713 read_keras_file raises ValueError on all 1 bad files and on 1 model that is not a Sequential "
            "of Dense layers."]

    @pytest.mark.parametrize("bad_file", ["extra_layer", "wrong_inputs", "longer_bias"])
    def test_a_reader_that_checks_no_shapes_fails_on_a_mismatched_file(self, keras, bad_file):
        """make_read compares no shapes: the files whose weights do not fit their config catch it."""
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_read_keras_file_rejects(make_read(), [bad_file], [])

    @pytest.mark.parametrize("model", list(topic.OTHER_MODELS))
    def test_a_reader_of_any_model_fails_on_one_that_is_not_dense(self, keras, model):
        """Every model of OTHER_MODELS is refused by a right reader and catches one that reads anything."""
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_read_keras_file_rejects(make_read(any_model=True), [], [model])
        topic.check_read_keras_file_rejects(make_read(), [], [model])


class TestPredictFromKerasFile:
    """predict_from_keras_file: Keras's predictions from the file, computed without Keras."""

    def test_right_answer_passes(self, keras, capsys):
        """A right answer passes on a layer without bias and on eleven layers."""
        topic.check_predict_from_keras_file(make_predict(), cases=[NO_BIAS, ELEVEN])
        assert success_lines(capsys) == [
            "\u2713 predict_from_keras_file matches keras.saving.load_model(path).predict(x) on 2 inputs."]

    def test_no_activations_is_named(self, keras):
        """Leaving out the activations is named."""
        failure = fails(topic.check_predict_from_keras_file, make_predict(activations=False), cases=[SMALL])
        assert "no activations at all" in str(failure)

    def test_keras_inside_an_answer_is_caught(self, keras):
        """An answer that lets Keras load the file and predict fails as a Keras call."""
        def predict_from_keras_file(path, x):
            return keras.saving.load_model(path).predict(x, verbose=0)

        failure = fails(topic.check_predict_from_keras_file, predict_from_keras_file, cases=[SMALL])
        assert "called Keras" in str(failure) and failure.kind == "calls_keras"

    def test_the_visible_check_wants_x_of_the_wrong_shape_refused(self, keras):
        """Without cases=, an answer that accepts x with too many columns fails after the three files pass."""
        right = make_predict()

        def predict_from_keras_file(path, x):
            columns = np.asarray(x).shape[-1]
            return right(path, np.asarray(x)[..., :columns - 1] if np.ndim(x) == 2 and columns == 5 else x)

        failure = fails(topic.check_predict_from_keras_file, predict_from_keras_file)
        assert "should raise ValueError because x has 5 features but the model takes 4" in str(failure)

    def test_rejects_pass_with_one_line(self, keras, capsys):
        """Wrong x on a good file and bad files are counted together as bad inputs."""
        topic.check_predict_from_keras_file_rejects(
            make_predict(), bad_inputs=[(np.zeros((3, 2), "float32"), "x has 2 features but the model takes 4")],
            bad_files=["not_a_zip", "empty"])
        assert success_lines(capsys) == ["\u2713 predict_from_keras_file raises ValueError on all 3 bad inputs."]

    def test_rejects_catch_a_bad_file_that_is_read(self, keras):
        """An answer that predicts from a file that does not fit its config fails the rejects check."""
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_predict_from_keras_file_rejects(make_predict(), bad_files=["extra_layer"])


class TestSequentialConfig:
    """sequential_config: JSON that keras.models.model_from_json turns into the described model."""

    def test_right_answer_passes(self, keras, capsys):
        """A right answer passes on drawn descriptions and refuses the invalid ones, one line each."""
        topic.check_sequential_config(make_config(), max_examples=3)
        topic.check_sequential_config_rejects(make_config(), topic.BAD_CONFIGS[:4])
        assert success_lines(capsys) == [
            "\u2713 sequential_config matches keras.models.model_from_json on 3 inputs.",
            "\u2713 sequential_config raises ValueError on all 4 invalid descriptions."]

    @pytest.mark.parametrize("answer,named", [
        (make_config(module=False), '"module": "keras"'),
        (make_config(input_from_units=True), "input shape (None, 3), expected (None, 2)"),
    ])
    def test_mistakes_are_named(self, keras, answer, named):
        """A missing top-level module and an input shape taken from the first layer's units are named."""
        assert named in str(fails(topic.check_sequential_config, answer, cases=[Case((2, [(3, "relu")]))]))

    def test_a_drawn_failure_keeps_its_kind_and_the_students_error(self, keras):
        """On drawn descriptions, an answer that raises fails as "raised" with its own error as the cause."""
        def sequential_config(input_dim, layers):
            raise TypeError("not yet")

        failure = fails(topic.check_sequential_config, sequential_config, max_examples=3)
        assert failure.kind == "raised" and isinstance(failure.__cause__, TypeError)

    def test_rejects_catch_an_answer_that_checks_nothing(self, keras):
        """An answer that writes JSON for units 0 fails the rejects check."""
        right = make_config()

        def sequential_config(input_dim, layers):
            return right(input_dim, [(max(units, 1), activation) for units, activation in layers])

        with pytest.raises(CheckFailed, match="units must be at least 1"):
            topic.check_sequential_config_rejects(sequential_config)


class TestWriteWeightsH5:
    """write_weights_h5: a .weights.h5 file that model.load_weights accepts, and nothing for bad weights."""

    def test_right_answer_passes(self, keras, capsys):
        """A right answer passes on drawn weights and refuses the invalid ones writing nothing, one line each."""
        topic.check_write_weights_h5(make_write(), max_examples=4)
        topic.check_write_weights_h5_rejects(make_write())
        assert success_lines(capsys) == [
            "\u2713 write_weights_h5 matches model.load_weights on 4 inputs.",
            "\u2713 write_weights_h5 raises ValueError on all 5 invalid inputs and writes nothing."]

    @pytest.mark.parametrize("answer,named", [
        (make_write(transposed=True), "stored transposed"),
        (make_write(first_group="dense_0"), "Your file holds: layers/dense_0/vars/0"),
        (make_write(dtype=np.float64), "layers/dense/vars/0 is stored as float64; store every dataset as float32"),
    ])
    def test_mistakes_are_named(self, keras, answer, named):
        """A transposed kernel, a wrong group name and float64 datasets are named."""
        assert named in str(fails(topic.check_write_weights_h5, answer, cases=ONE_LAYER))

    def test_a_drawn_failure_keeps_its_kind_and_the_students_error(self, keras):
        """On drawn weights, an answer that raises fails as "raised" with its own error, the call without the
        temporary folder."""
        def write_weights_h5(path, weights):
            raise KeyError("dense")

        failure = fails(topic.check_write_weights_h5, write_weights_h5, max_examples=3)
        assert failure.kind == "raised" and isinstance(failure.__cause__, KeyError)
        assert "write_weights_h5(path, list of 2 arrays" in str(failure) or "write_weights_h5(path, tuple" in str(
            failure)

    def test_rejects_catch_an_answer_that_checks_nothing(self, keras):
        """An answer that writes whatever it gets fails on a name that does not end in .weights.h5."""
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_write_weights_h5_rejects(make_write(validate=False), topic.BAD_WEIGHTS[:1])

    def test_rejects_catch_an_answer_that_writes_before_it_checks(self, keras):
        """An answer that creates the file first and raises afterwards leaves a file: that fails."""
        right = make_write()

        def write_weights_h5(path, weights):
            open(path, "wb").close()
            right(path, weights)

        with pytest.raises(CheckFailed, match="left a file at path"):
            topic.check_write_weights_h5_rejects(write_weights_h5, topic.BAD_WEIGHTS[1:2])


class TestKerasMessages:
    """capture_keras_messages: Keras's warnings are collected, never printed to stderr."""

    def test_legacy_h5_warning_is_captured_not_printed(self, keras, tmp_path, capsys):
        """Saving as legacy .h5 warns; the warning is in the list and not on stderr."""
        model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning that escaped the capture would fail the test
            with topic.capture_keras_messages() as messages:
                model.save(str(tmp_path / "legacy.h5"))
        assert any("legacy" in message for message in messages)
        assert capsys.readouterr().err == ""
