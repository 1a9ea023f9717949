"""The checks of notebook 06 name the mistakes students make, pass a correct answer, keep their files out of the
working folder and clean them up, and keep Keras's warnings off stderr."""
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


def test_correct_answers_pass(keras, capsys):
    topic.check_read_keras_file(make_read(), cases=[SMALL, NO_BIAS, COMPILED, ELEVEN])
    topic.check_read_keras_file_rejects(make_read(), ["not_a_zip", "truncated", "empty"])
    topic.check_predict_from_keras_file(make_predict(), cases=[NO_BIAS, ELEVEN])
    topic.check_sequential_config(make_config(), max_examples=3)
    topic.check_sequential_config_rejects(make_config(), topic.BAD_CONFIGS[:4])
    topic.check_write_weights_h5(make_write(), max_examples=4)
    topic.check_write_weights_h5_rejects(make_write())
    captured = capsys.readouterr()
    assert captured.err == ""
    assert captured.out.count("\u2713") == 7


@pytest.mark.parametrize("check,answer,cases,named", [
    (topic.check_read_keras_file, make_read(order="string"), [ELEVEN], "string order"),
    (topic.check_read_keras_file, make_read(optimizer=True), [COMPILED], "optimizer's variables"),
    (topic.check_read_keras_file, make_read(by_name=True), [NO_BIAS], "CLASS name counted per class"),
    (topic.check_predict_from_keras_file, make_predict(activations=False), [SMALL], "no activations at all"),
    (topic.check_sequential_config, make_config(module=False), [Case((2, [(3, "relu")]))], '"module": "keras"'),
    (topic.check_sequential_config, make_config(input_from_units=True), [Case((2, [(3, "relu")]))],
     "input shape (None, 3), expected (None, 2)"),
    (topic.check_write_weights_h5, make_write(transposed=True), [Case(([np.ones((2, 3)), np.zeros(3)],))],
     "stored transposed"),
    (topic.check_write_weights_h5, make_write(first_group="dense_0"), [Case(([np.ones((2, 3)), np.zeros(3)],))],
     "Your file holds: layers/dense_0/vars/0"),
    (topic.check_write_weights_h5, make_write(dtype=np.float64), [Case(([np.ones((2, 3)), np.zeros(3)],))],
     "layers/dense/vars/0 is stored as float64; store every dataset as float32"),
])
def test_each_mistake_is_named(keras, check, answer, cases, named):
    with pytest.raises(CheckFailed) as failure:
        check(answer, cases=cases)
    assert named in str(failure.value)


def test_bad_inputs_must_raise_and_leave_no_file(keras):
    for bad_file in ("extra_layer", "wrong_inputs", "longer_bias"):  # make_read checks no shapes
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_read_keras_file_rejects(make_read(), [bad_file], [])
    for model in topic.OTHER_MODELS:
        with pytest.raises(CheckFailed, match="returned normally"):
            topic.check_read_keras_file_rejects(make_read(any_model=True), [], [model])
        topic.check_read_keras_file_rejects(make_read(), [], [model])
    with pytest.raises(CheckFailed, match="returned normally"):
        topic.check_write_weights_h5_rejects(make_write(validate=False), topic.BAD_WEIGHTS[:1])


def test_keras_inside_an_answer_is_caught(keras):
    def predict_from_keras_file(path, x):
        return keras.saving.load_model(path).predict(x, verbose=0)

    with pytest.raises(CheckFailed, match="called Keras"):
        topic.check_predict_from_keras_file(predict_from_keras_file, cases=[SMALL])


def test_files_go_to_a_temporary_folder_that_is_removed(keras, tmp_path, monkeypatch):
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


def test_legacy_h5_warning_is_captured_not_printed(keras, tmp_path, capsys):
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning that escaped the capture would fail the test
        with topic.capture_keras_messages() as messages:
            model.save(str(tmp_path / "legacy.h5"))
    assert any("legacy" in message for message in messages)
    assert capsys.readouterr().err == ""
