"""Notebook 06: saving and loading. Checks for `read_keras_file`, `predict_from_keras_file`,
`sequential_config` and `write_weights_h5`.

Every file a check hands to the student is written by live Keras (`model.save`) and copied into a fresh
`tempfile.TemporaryDirectory` that is removed when the check returns: nothing is ever written next to the
notebook. Expected results always come from Keras on the same bytes or description (what
`keras.saving.load_model` loads, `keras.models.model_from_json`, `model.load_weights`); nothing is hard-coded.

A model is described as `(input_dim, layers)`, `layers` a list whose entries are `(units, activation)` pairs
(the format of `sequential_config`) or dicts with the keys `units`, `activation`, and optionally `use_bias` and
`name`. The `cases=` of the file checks are `Case((input_dim, layers), {"compiled": True})`: the check builds
that model, saves it and calls the student's function on the file.
"""
import contextlib
import io
import itertools
import json
import logging
import os
import tempfile
import warnings
import zipfile

import numpy as np
from hypothesis import strategies as st

from autograder.checks import keras_reference
from autograder.checks.runner import Case, check_rejects, report_pass, report_rejects, run_cases
from autograder.checks.compare import Mistake, compare_arrays
from autograder.checks.describe import describe_call, describe_value, type_name
from autograder.checks.errors import CheckFailed
from autograder.checks.strategies import float_arrays
from autograder.checks.calling import as_array, call_student

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")
"""The activation names of the notebook's Dense helper (and therefore of the checks)."""

READ_CASES = (
    Case((4, [{"units": 6, "activation": "relu", "name": "hidden"},
              {"units": 5, "activation": "tanh", "use_bias": False, "name": "squash"},
              {"units": 3, "activation": "softmax", "name": "output"}])),
    Case((3, [(4, "sigmoid"), (1, "linear")]), {"compiled": True}),
    Case((3, [(3, ("tanh", "relu", "sigmoid")[i % 3]) for i in range(10)] + [(3, "softmax")])),
)
"""The .keras files of the visible checks: custom layer names and a layer without bias; a compiled model
(optimizer variables in the file); eleven Dense layers of equal width, where taking the groups in string order
(dense_10 before dense_2) gives a silently wrong model. The predictions check uses the same files."""


# --- models and files -------------------------------------------------------------------------------------

def layer_spec(entry):
    """One entry of `layers` as a dict with units, activation, use_bias, name."""
    if isinstance(entry, dict):
        return {"activation": None, "use_bias": True, "name": None, **entry}
    units, activation = entry
    return {"units": units, "activation": activation, "use_bias": True, "name": None}


def describe_model(input_dim, layers, compiled=False):
    """`Sequential(Input(3), Dense(5, relu), Dense(3, softmax))`, for messages."""
    parts = [f"Input({input_dim})"]
    for spec in map(layer_spec, layers):
        extra = "" if spec["use_bias"] else ", use_bias=False"
        extra += f", name='{spec['name']}'" if spec["name"] else ""
        parts.append(f"Dense({spec['units']}, {spec['activation'] or 'linear'}{extra})")
    if len(parts) > 6:
        parts = parts[:3] + [f"... {len(parts) - 5} more Dense ..."] + parts[-2:]
    return f"{'compiled ' if compiled else ''}Sequential({', '.join(parts)})"


def build_model(input_dim, layers, *, compiled=False, seed=0):
    """A Keras Dense-only Sequential with seeded random weights (nonzero biases); if `compiled`, compiled with
    Adam whose moment variables hold nonzero values, as after some training. Uses no global random state."""
    keras = keras_reference.keras()
    specs = [layer_spec(entry) for entry in layers]
    model = keras.Sequential(
        [keras.Input(shape=(input_dim,))]
        + [keras.layers.Dense(s["units"], activation=s["activation"], use_bias=s["use_bias"], name=s["name"],
                              kernel_initializer="zeros", bias_initializer="zeros") for s in specs])
    rng = np.random.default_rng(seed)
    weights, fan_in = [], input_dim
    for spec in specs:
        weights.append(rng.normal(scale=1.5 / np.sqrt(fan_in), size=(fan_in, spec["units"])))
        if spec["use_bias"]:
            weights.append(rng.normal(scale=0.5, size=spec["units"]))
        fan_in = spec["units"]
    model.set_weights([w.astype("float32") for w in weights])
    if compiled:
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
        model.optimizer.build(model.trainable_variables)
        for variable in model.optimizer.variables:
            if variable.path.endswith(("momentum", "velocity")):
                variable.assign(np.abs(rng.normal(scale=0.1, size=variable.shape)).astype("float32"))
            elif variable.path.endswith("iteration"):
                variable.assign(3)
    return model


_SAVED = {}
"""Per process: model description -> (bytes of the .keras file Keras wrote, the model Keras loads from those
bytes, see `keras_load`). Building, saving and loading are the slow part of these checks; each check call still
gets its own fresh copy of the file in its own folder, so an answer that changes a file cannot change what later
checks see."""


def save_keras_file(folder, filename, input_dim, layers, *, compiled=False, seed=0):
    """Write the .keras file that `model.save` makes for the described model as folder/filename.

    Returns:
        (path, reference): `reference` is the model Keras loads from these exact bytes (`keras_load`).
    """
    key = repr((input_dim, [layer_spec(entry) for entry in layers], bool(compiled), seed))
    if key not in _SAVED:
        with tempfile.TemporaryDirectory(prefix="kbh-06-") as scratch:
            original = os.path.join(scratch, "model.keras")
            model = build_model(input_dim, layers, compiled=compiled, seed=seed)
            model.save(original)
            with open(original, "rb") as handle:
                data = handle.read()
            _SAVED[key] = (data, keras_load(original, model))
    data, reference = _SAVED[key]
    path = os.path.join(folder, filename)
    with open(path, "wb") as handle:
        handle.write(data)
    return path, reference


def check_folder():
    """A fresh temporary folder for one check call, removed afterwards; under split grading, one that the
    student's answer kernel can reach too (autograder.checks.folders.shared_folder)."""
    from autograder.checks.folders import shared_folder

    return shared_folder(prefix="kbh-06-")


@contextlib.contextmanager
def capture_keras_messages():
    """Collect, instead of printing them to stderr, the warnings Keras gives inside the block: Python warnings
    (other than DeprecationWarning) and WARNING log records of absl/keras/tensorflow. Yields the list of
    messages (strings), filled when the block ends."""
    messages = []

    class Collect(logging.Handler):
        def emit(self, record):
            messages.append(record.getMessage())

    handler = Collect(level=logging.WARNING)
    loggers = [logging.getLogger(name) for name in ("absl", "keras", "tensorflow")]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", DeprecationWarning)
            yield messages
        messages.extend(f"{w.category.__name__}: {w.message}" for w in caught)
    finally:
        for logger, (level, propagate) in zip(loggers, saved):
            logger.removeHandler(handler)
            logger.setLevel(level)
            logger.propagate = propagate


def _file_weights(path):
    """(layer weights in string-sorted group order, optimizer variables), read from a .keras file with h5py:
    what an answer that sorts group names, or collects every dataset, would get."""
    import h5py

    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as f:
        string_sorted = []
        for name in sorted(f["layers"]):
            variables = f["layers"][name]["vars"]
            string_sorted += [np.asarray(variables[str(i)][()]) for i in range(len(variables))]
        optimizer = []
        if "optimizer" in f:
            variables = f["optimizer"]["vars"]
            optimizer = [np.asarray(variables[str(i)][()]) for i in range(len(variables))]
    return string_sorted, optimizer


def _file_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


# --- references -------------------------------------------------------------------------------------------

def keras_load(path, model):
    """What keras.saving.load_model(path) gives for the .keras file that `model` wrote: `model` itself, its
    weights zeroed and then read back from the file by model.load_weights(path).

    Both run Keras's same code on the same bytes (saving_lib's _load_state on the archive's model.weights.h5,
    layer by layer, every shape checked); load_model would first rebuild from config.json the architecture that
    `model` already has, adding the layers one at a time, which rebuilds the Sequential once per layer (about
    0.3 s of the visible check for eleven layers)."""
    model.set_weights([np.zeros_like(w) for w in model.get_weights()])
    model.load_weights(path)
    return model


def keras_predict(model, x):
    """What `model.predict(x)` returns for a model from keras.saving.load_model. predict calls the model on x in
    inference mode batch by batch; one direct call computes the same without predict's tracing time."""
    keras = keras_reference.keras()
    return keras.ops.convert_to_numpy(model(np.asarray(x, dtype="float32"), training=False))


def keras_layers_from_description(input_dim, layers):
    """The Keras Dense layers that `sequential_config(input_dim, layers)` describes, each built on the width
    of the layer before (what Sequential([Input((input_dim,)), Dense(units, activation), ...]) holds). Each is
    built once per process (keras_reference.built_layer); the checks only read their settings and sizes."""
    keras = keras_reference.keras()

    def make(units, activation, fan_in):
        layer = keras.layers.Dense(units, activation=activation)
        layer.build((None, fan_in))
        return layer

    built, fan_in = [], int(input_dim)
    for spec in map(layer_spec, layers):
        units, activation = int(spec["units"]), spec["activation"]
        built.append(keras_reference.built_layer(("save_load.dense", units, activation, fan_in),
                                                 lambda: make(units, activation, fan_in)))
        fan_in = units
    return built


# --- read_keras_file ----------------------------------------------------------------------------------------

def _plain_json(value, what):
    try:
        return json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise CheckFailed(f"{what} is not plain JSON data (dicts, lists, strings, numbers): {error}",
                          kind="wrong_type") from None


def _read_hint(error):
    if isinstance(error, KeyError):
        return ("a group was not found. In model.weights.h5 a layer's weights sit under its CLASS name counted "
                "per class (layers/dense, layers/dense_1, ...), not under the layer's `name` from config.json; "
                "and only the Dense layers have groups (no InputLayer).")
    if isinstance(error, ValueError):
        return "this is a valid file that Keras itself wrote and loads; it should not be rejected."
    return None


def _not_array(value, what):
    hint = " Read a dataset's values with dataset[()] while the file is still open." if type(
        value).__module__.startswith("h5py") else ""
    raise CheckFailed(f"{what} should hold NumPy arrays, but one element is a {type_name(value)}.{hint}",
                      kind="wrong_type")


def _same_list(a, b):
    return len(a) == len(b) and all(np.shape(x) == np.shape(y) and np.array_equal(x, y) for x, y in zip(a, b))


def compare_weight_lists(got, expected, *, what, mistakes=()):
    """Compare a list of arrays with Keras's list exactly (the file holds the very numbers Keras loads).

    Args:
        mistakes: (description, list of arrays) pairs; a list equal to one of them is named in the message.
    """
    if type(got) not in (list, tuple):
        raise CheckFailed(f"{what} should be a list of NumPy arrays, but it is a {type_name(got)}.", kind="wrong_type")
    if all(type(w) is np.ndarray or (isinstance(w, np.generic) and type(w).__module__ == "numpy") for w in got):
        plain = [np.asarray(w) for w in got]  # NumPy scalars too: h5py reads a 0-d dataset as one
        for description, wrong in mistakes:
            if wrong and _same_list(plain, wrong) and not _same_list(wrong, expected):
                raise CheckFailed(f"{what}: wrong weights.\n  Hint: your list is what you get if {description}.")
    got = [as_array(w, what) if type(w) is np.ndarray else _not_array(w, what) for w in got]
    if len(got) != len(expected):
        shapes = ", ".join(str(e.shape) for e in expected)
        raise CheckFailed(f"{what}: expected {len(expected)} arrays (in model.get_weights() order: {shapes}), "
                          f"got {len(got)} (shapes {', '.join(str(g.shape) for g in got)}).", kind="wrong_shape")
    for i, (g, e) in enumerate(zip(got, expected)):
        compare_arrays(g, e, what=f"{what}[{i}]", exact=True)


def _check_read_once(fn, folder, index, case):
    input_dim, layers = case.args
    compiled = case.kwargs.get("compiled", False)
    path, reference = save_keras_file(folder, f"model_{index}.keras", input_dim, layers, compiled=compiled,
                                      seed=index)
    model = describe_model(input_dim, layers, compiled)
    try:
        result = call_student(fn, path, name="read_keras_file")
    except CheckFailed as failure:
        hint = _read_hint(failure.__cause__) if failure.__cause__ is not None else None
        raise failure.restated(f"On a file of {model}: {failure}" + (f"\n  Hint: {hint}" if hint else "")
                               ) from failure.__cause__
    call = f"read_keras_file(path) on a .keras file of {model}"
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailed(f"{call} should return a pair (config_dict, weights_list), but returned "
                          f"{describe_value(result)}.", kind="wrong_type")
    config, weights = result
    expected_config = _file_config(path)
    if not isinstance(config, dict):
        raise CheckFailed(f"{call}: config_dict should be a dict (json.loads of config.json), but it is a "
                          f"{type_name(config)}.", kind="wrong_type")
    if _plain_json(config, f"{call}: config_dict") != json.dumps(expected_config, sort_keys=True):
        if _plain_json(config, "config_dict") == json.dumps(expected_config["config"], sort_keys=True):
            raise CheckFailed(f"{call}: config_dict is config.json's inner 'config'; return the whole parsed "
                              "config.json (with 'module', 'class_name', 'config', ...).")
        missing = sorted(set(expected_config) - set(config))
        raise CheckFailed(f"{call}: config_dict is not json.loads of the file's config.json"
                          + (f" (missing keys {missing})." if missing else "."))
    expected = reference.get_weights()
    string_sorted, optimizer = _file_weights(path)
    mistakes = [("you take the layer groups in string order (dense, dense_1, dense_10, dense_2, ...) instead of "
                 "the order of the layers in config.json", string_sorted)]
    if optimizer:
        mistakes += [("you also collect the optimizer's variables (the /optimizer group of a compiled model); "
                      "they are not model weights", expected + optimizer),
                     ("you collect every dataset in the file, the optimizer's too (visititems)",
                      string_sorted + optimizer)]
    compare_weight_lists(weights, expected, what=f"{call}: weights_list", mistakes=mistakes)


def check_read_keras_file(fn, cases=READ_CASES):
    """Save each described model with `model.save`, call the student's read_keras_file on the file and compare
    with json.loads(config.json) and keras.saving.load_model(path).get_weights()."""
    with check_folder() as folder:
        index = itertools.count()  # the case's position: its file's name and its model's seed
        count = run_cases(lambda case: _check_read_once(fn, folder, next(index), case), name="read_keras_file",
                          cases=cases)
    report_pass("read_keras_file", "keras.saving.load_model(path).get_weights()", count)


# --- bad files ----------------------------------------------------------------------------------------------

_THREE = (4, [(6, "relu"), (5, "tanh"), (2, "softmax")])
_TWO = (4, [(6, "relu"), (5, "tanh")])
_OTHER_WIDTH = (4, [(7, "relu"), (5, "tanh"), (2, "softmax")])
_FIVE_INPUTS = (5, [(6, "relu"), (5, "tanh"), (2, "softmax")])
_NO_BIAS = (4, [(6, "relu"), {"units": 5, "activation": "tanh", "use_bias": False}, (2, "softmax")])


def _rezip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _good(folder, description=_THREE, name="good.keras"):
    path, _ = save_keras_file(folder, name, *description)
    return path


def _mixed(folder, name, config_from, weights_from):
    config = _members(_good(folder, config_from, f"config_{name}"))
    weights = _members(_good(folder, weights_from, f"weights_{name}"))
    return _rezip(os.path.join(folder, name), {**config, "model.weights.h5": weights["model.weights.h5"]})


def _bytes_file(folder, name, data):
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def _truncated(folder):
    with open(_good(folder), "rb") as handle:
        data = handle.read()
    return _bytes_file(folder, "truncated.keras", data[:len(data) // 2])


def _longer_bias(folder):
    """The file of _THREE with one entry more in the second layer's bias (its kernel still fits)."""
    import h5py

    members = _members(_good(folder))
    buffer = io.BytesIO(members["model.weights.h5"])
    with h5py.File(buffer, "r+") as f:
        variables = f["layers/dense_1/vars"]
        bias = variables["1"][()]
        del variables["1"]
        variables["1"] = np.append(bias, np.float32(0.5))
    return _rezip(os.path.join(folder, "longer_bias.keras"), {**members, "model.weights.h5": buffer.getvalue()})


def _dropout_model(keras):
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(6, activation="relu"),
                             keras.layers.Dropout(0.5), keras.layers.Dense(2)])


def _conv_model(keras):
    return keras.Sequential([keras.Input(shape=(8, 1)), keras.layers.Conv1D(3, 3, activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(2)])


def _functional_model(keras):
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(2)(keras.layers.Dense(6, activation="relu")(inputs))
    return keras.Model(inputs, outputs)


OTHER_MODELS = {
    "dropout_layer": (_dropout_model, "the model is a Sequential of Dense(6, relu), Dropout(0.5), Dense(2): "
                                      "Dropout is not a Dense layer"),
    "conv_layer": (_conv_model, "the model is a Sequential of Conv1D(3, 3), Flatten(), Dense(2): Conv1D and "
                                "Flatten are not Dense layers"),
    "functional": (_functional_model, "the model is a Functional model (keras.Model(inputs, outputs)) of two "
                                      "Dense layers, not a Sequential"),
}
"""name -> (build(keras) -> a model that is not a Sequential of Dense layers, reason for the ValueError). Keras
saves and loads each of them; the student's reader must refuse them."""

VISIBLE_OTHER_MODELS = ("dropout_layer", "functional")

_SAVED_OTHER = {}
"""Per process: name in OTHER_MODELS -> the bytes of the .keras file model.save wrote for it."""


def save_other_model(folder, name):
    """Write the .keras file that `model.save` makes for OTHER_MODELS[name] as folder/<name>.keras."""
    if name not in _SAVED_OTHER:
        with tempfile.TemporaryDirectory(prefix="kbh-06-") as scratch:
            original = os.path.join(scratch, "model.keras")
            OTHER_MODELS[name][0](keras_reference.keras()).save(original)
            with open(original, "rb") as handle:
                _SAVED_OTHER[name] = handle.read()
    return _bytes_file(folder, f"{name}.keras", _SAVED_OTHER[name])


BAD_FILES = {
    "not_a_zip": (lambda d: _bytes_file(d, "not_a_zip.keras", b"model weights, honestly\n"),
                  "the file is not a zip archive"),
    "truncated": (_truncated, "the zip archive is truncated (its second half is missing)"),
    "empty": (lambda d: _bytes_file(d, "empty.keras", b""), "the file is empty"),
    "no_weights": (lambda d: _rezip(os.path.join(d, "no_weights.keras"),
                                    {k: v for k, v in _members(_good(d)).items() if k != "model.weights.h5"}),
                   "the zip has no model.weights.h5"),
    "no_config": (lambda d: _rezip(os.path.join(d, "no_config.keras"),
                                   {k: v for k, v in _members(_good(d)).items() if k != "config.json"}),
                  "the zip has no config.json"),
    "bad_json": (lambda d: _rezip(os.path.join(d, "bad_json.keras"),
                                  {**_members(_good(d)), "config.json": b'{"module": "keras", "class_name": '}),
                 "config.json is not valid JSON"),
    "corrupt_weights": (lambda d: _rezip(os.path.join(d, "corrupt_weights.keras"),
                                         {**_members(_good(d)), "model.weights.h5": b"\x89HDF\r\n" + bytes(200)}),
                        "model.weights.h5 is not a readable HDF5 file"),
    "missing_layer": (lambda d: _mixed(d, "missing_layer.keras", _THREE, _TWO),
                      "config.json has 3 Dense layers but model.weights.h5 holds weights for 2"),
    "extra_layer": (lambda d: _mixed(d, "extra_layer.keras", _TWO, _THREE),
                    "config.json has 2 Dense layers but model.weights.h5 holds weights for 3"),
    "wrong_shape": (lambda d: _mixed(d, "wrong_shape.keras", _THREE, _OTHER_WIDTH),
                    "the first layer has 6 units in config.json but a (4, 7) kernel in model.weights.h5"),
    "bias_mismatch": (lambda d: _mixed(d, "bias_mismatch.keras", _NO_BIAS, _THREE),
                      "config.json says the second layer has no bias, but model.weights.h5 holds one"),
    "wrong_inputs": (lambda d: _mixed(d, "wrong_inputs.keras", _FIVE_INPUTS, _THREE),
                     "the InputLayer in config.json takes 5 features while the first kernel in model.weights.h5 "
                     "is (4, 6)"),
    "longer_bias": (_longer_bias, "the second layer has 5 units in config.json while its bias in "
                                  "model.weights.h5 has 6 entries"),
}
"""name -> (builder(folder) -> path, reason the student's function must raise ValueError)."""

VISIBLE_BAD_FILES = ("not_a_zip", "truncated", "no_weights", "missing_layer", "extra_layer", "wrong_shape")


def check_read_keras_file_rejects(fn, bad_files=VISIBLE_BAD_FILES, other_models=VISIBLE_OTHER_MODELS):
    """Each named bad file (see BAD_FILES) and each named model that is not a Sequential of Dense layers (see
    OTHER_MODELS, saved by Keras) must make the student's read_keras_file raise ValueError."""
    with check_folder() as folder:
        invalid = [((BAD_FILES[name][0](folder),), {}, BAD_FILES[name][1]) for name in bad_files]
        invalid += [((save_other_model(folder, name),), {}, OTHER_MODELS[name][1]) for name in other_models]
        check_rejects(fn, invalid, name="read_keras_file", quiet=True)
    also = ""
    if other_models:
        also = (" and on 1 model that is" if len(other_models) == 1 else f" and on {len(other_models)} models that are"
                ) + " not a Sequential of Dense layers"
    report_rejects("read_keras_file", len(bad_files), what="bad files", also=also)


# --- predict_from_keras_file ------------------------------------------------------------------------------

_ACTIVATION_FUNCTIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": keras_reference.sigmoid,
    "tanh": np.tanh,
    "softmax": keras_reference.softmax,
}


def _numpy_forward(x, layers, weights, activations="all"):
    """The forward pass with a mistake: activations "all", "none", or "hidden" (the last one skipped)."""
    out = np.asarray(x, dtype=np.float64)
    position = 0
    for i, spec in enumerate(map(layer_spec, layers)):
        out = out @ weights[position]
        position += 1
        if spec["use_bias"]:
            out = out + weights[position]
            position += 1
        if activations == "all" or (activations == "hidden" and i < len(layers) - 1):
            out = _ACTIVATION_FUNCTIONS[spec["activation"] or "linear"](out)
    return out


def _predict_mistakes(layers, reference, path, x):
    expected = reference.get_weights()
    string_sorted, _ = _file_weights(path)
    mistakes = [Mistake("you apply no activations at all", _numpy_forward(x, layers, expected, "none")),
                Mistake("you skip the last layer's activation", _numpy_forward(x, layers, expected, "hidden"))]
    if all(a.shape == b.shape for a, b in zip(string_sorted, expected)):
        mistakes.append(Mistake("the layers' weights are taken in string order of their groups (dense, dense_1, "
                                "dense_10, dense_2, ...)", _numpy_forward(x, layers, string_sorted)))
    return mistakes


def _check_predict_once(fn, folder, index, case, rows):
    input_dim, layers = case.args
    compiled = case.kwargs.get("compiled", False)
    path, reference = save_keras_file(folder, f"model_{index}.keras", input_dim, layers, compiled=compiled,
                                      seed=index)
    rng = np.random.default_rng(100 + index)
    x = rng.normal(scale=2.0, size=(case.kwargs.get("rows", rows), input_dim)).astype("float32")
    model = describe_model(input_dim, layers, compiled)
    try:
        result = call_student(fn, path, x, name="predict_from_keras_file")
    except CheckFailed as failure:
        raise failure.restated(f"On a file of {model}: {failure}") from failure.__cause__
    got = as_array(result, "predict_from_keras_file")
    compare_arrays(got, keras_predict(reference, x),
                   what=f"predict_from_keras_file(path, x) on a file of {model}, x of shape {x.shape}",
                   mistakes=_predict_mistakes(layers, reference, path, x))


def check_predict_from_keras_file(fn, cases=None, rows=6):
    """Save each described model, then compare the student's predict_from_keras_file(path, x) with
    keras.saving.load_model(path).predict(x) on `rows` (or case.kwargs['rows']) random inputs. Without
    `cases`, also check that x of the wrong shape raises ValueError (on the first visible file)."""
    chosen = list(READ_CASES if cases is None else cases)
    with check_folder() as folder:
        index = itertools.count()  # the case's position: its file's name, its model's seed and its x
        count = run_cases(lambda case: _check_predict_once(fn, folder, next(index), case, rows),
                          name="predict_from_keras_file", cases=chosen)
        if cases is None:
            input_dim, layers = READ_CASES[0].args
            path, _ = save_keras_file(folder, "wrong_x.keras", input_dim, layers, seed=0)
            check_rejects(fn, [((path, np.zeros((2, input_dim + 1), "float32")), {},
                                f"x has {input_dim + 1} features but the model takes {input_dim}"),
                               ((path, np.zeros(input_dim, "float32")), {}, "x must be 2-D (samples, features)")],
                          name="predict_from_keras_file", quiet=True)
    report_pass("predict_from_keras_file", "keras.saving.load_model(path).predict(x)", count)


def check_predict_from_keras_file_rejects(fn, bad_inputs=(), bad_files=()):
    """The student's predict_from_keras_file must raise ValueError for each (x, reason) in `bad_inputs` (on a
    valid file of a model taking 4 features) and for each named bad file (see BAD_FILES)."""
    with check_folder() as folder:
        invalid = [((_good(folder, name=f"good_{i}.keras"), x), {}, reason) for i, (x, reason) in enumerate(bad_inputs)]
        invalid += [((BAD_FILES[name][0](folder), np.zeros((2, 4), "float32")), {}, BAD_FILES[name][1])
                    for name in bad_files]
        check_rejects(fn, invalid, name="predict_from_keras_file", what="bad inputs")


# --- sequential_config --------------------------------------------------------------------------------------

def _keras_error(error):
    """The most specific line of a (nested) Keras deserialization error."""
    last = str(error).rsplit("Exception encountered:", 1)[-1].strip()
    line = last.splitlines()[0] if last else type(error).__name__
    return line if len(line) <= 240 else line[:240] + "..."


def _config_hints(parsed):
    hints = []
    if isinstance(parsed, dict):
        if parsed.get("module") != "keras":
            hints.append('model_from_json needs "module": "keras" at the top level to find the class Sequential.')
        inner = parsed.get("config")
        if isinstance(inner, dict) and not {"name", "layers"} <= set(inner):
            hints.append('a Sequential config needs both "name" and "layers".')
    if "batch_input_shape" in json.dumps(parsed):
        hints.append("Keras 3 has no batch_input_shape on a Dense layer: start `layers` with "
                     '{"class_name": "InputLayer", "config": {"batch_shape": [null, input_dim]}}.')
    return hints


def _model_from_student_json(text, call):
    keras = keras_reference.keras()
    if type(text) is not str:
        hint = " Return json.dumps(...) of your dict." if isinstance(text, dict) else ""
        raise CheckFailed(f"{call} should return a JSON string, but returned a {type_name(text)}.{hint}",
                          kind="wrong_type")
    try:
        parsed = json.loads(text)
    except ValueError as error:
        raise CheckFailed(f"{call} returned text that is not valid JSON: {error}", kind="wrong_type") from None
    try:
        with capture_keras_messages():
            model = keras.models.model_from_json(text)
    except Exception as error:  # whatever Keras raises while deserializing, the student's JSON caused it
        hints = "".join(f"\n  Hint: {h}" for h in _config_hints(parsed))
        raise CheckFailed(f"keras.models.model_from_json(your JSON) from {call} raised {type(error).__name__}: "
                          f"{_keras_error(error)}{hints}") from None
    return model


def _activation_name(layer):
    return layer.get_config().get("activation")


def _compare_models(model, input_dim, reference_layers, call):
    if type(model).__name__ != "Sequential":
        raise CheckFailed(f"{call}: model_from_json built a {type(model).__name__}, expected a Sequential.")
    try:
        input_shape = tuple(model.input_shape)
    except (AttributeError, ValueError):
        raise CheckFailed(f"{call}: the model Keras builds from your JSON has no input shape. Start `layers` "
                          'with an InputLayer whose config is {"batch_shape": [null, input_dim]}.') from None
    if input_shape != (None, input_dim):
        raise CheckFailed(f"{call}: input shape {input_shape}, expected {(None, input_dim)}.", kind="wrong_shape")
    got_layers = model.layers
    if len(got_layers) != len(reference_layers):
        raise CheckFailed(f"{call}: the model has {len(got_layers)} layers after the input, expected "
                          f"{len(reference_layers)}.", kind="wrong_shape")
    got_units = [getattr(layer, "units", None) for layer in got_layers]
    expected_units = [layer.units for layer in reference_layers]
    for i, (got, expected) in enumerate(zip(got_layers, reference_layers)):
        where = f"{call}: layer {i + 1}"
        if type(got).__name__ != "Dense":
            raise CheckFailed(f"{where} is a {type(got).__name__}, expected Dense.")
        if got.units != expected.units:
            hint = " The layers are in reverse order." if got_units == expected_units[::-1] else ""
            raise CheckFailed(f"{where} has {got.units} units, expected {expected.units}.{hint}", kind="wrong_shape")
        if _activation_name(got) != _activation_name(expected):
            raise CheckFailed(f"{where} has activation {_activation_name(got)!r}, expected "
                              f"{_activation_name(expected)!r}.")
        if got.use_bias != expected.use_bias:
            raise CheckFailed(f"{where} has use_bias={got.use_bias}, expected {expected.use_bias}.")
    expected_params = sum(layer.count_params() for layer in reference_layers)
    if model.count_params() != expected_params:
        raise CheckFailed(f"{call}: {model.count_params()} parameters, expected {expected_params}.")


@st.composite
def sequential_config_cases(draw):
    input_dim = draw(st.integers(1, 64))
    layers = draw(st.lists(st.tuples(st.integers(1, 64), st.sampled_from(ACTIVATIONS + (None,))),
                           min_size=1, max_size=3))
    if draw(st.booleans()):
        layers = [list(entry) for entry in layers]
    return Case((input_dim, layers))


def _check_config_once(fn, case):
    input_dim, layers = case.args
    call = describe_call("sequential_config", case.args)
    text = call_student(fn, input_dim, layers, name="sequential_config")
    model = _model_from_student_json(text, call)
    _compare_models(model, input_dim, keras_layers_from_description(input_dim, layers), call)


def check_sequential_config(fn, cases=None, max_examples=8):
    """keras.models.model_from_json(sequential_config(input_dim, layers)) must be the model Keras builds from
    Input((input_dim,)) and Dense(units, activation) per pair: layer types, units, activations, input shape
    and parameter count."""
    count = run_cases(lambda case: _check_config_once(fn, case), name="sequential_config", cases=cases,
                      strategy=sequential_config_cases(), max_examples=max_examples)
    report_pass("sequential_config", "keras.models.model_from_json", count)


BAD_CONFIGS = (
    ((0, [(3, "relu")]), "input_dim must be at least 1"),
    ((4, []), "a model needs at least one layer"),
    ((4, [(3, "relu"), (0, "softmax")]), "units must be at least 1"),
    ((4, [(3, "rleu")]), "'rleu' is not an activation name"),
    ((4, [(2.5, "relu")]), "units must be a whole number"),
)
"""((input_dim, layers), reason) that sequential_config must reject with ValueError."""


def check_sequential_config_rejects(fn, bad_inputs=BAD_CONFIGS):
    """Each ((input_dim, layers), reason) in `bad_inputs` must make sequential_config raise ValueError."""
    check_rejects(fn, [(args, {}, reason) for args, reason in bad_inputs], name="sequential_config",
                  what="invalid descriptions")


# --- write_weights_h5 ---------------------------------------------------------------------------------------

WRITE_WIDTHS = ((1, 1), (3, 2), (2, 4, 3), (4, 3, 3, 1))
"""Layer widths (input_dim, units, units, ...) the visible check draws weights for: one model per width list
(building Keras models is the slow part); hypothesis varies the values and dtypes."""


def keras_weight_paths(dims):
    """The dataset paths Keras reads for a Dense chain with biases, e.g. ['layers/dense/vars/0', ...]."""
    paths = []
    for i in range(len(dims) - 1):
        group = "dense" if i == 0 else f"dense_{i}"
        paths += [f"layers/{group}/vars/0", f"layers/{group}/vars/1"]
    return paths


def _h5_datasets(path):
    import h5py

    found = []
    try:
        with h5py.File(path, "r") as f:
            f.visititems(lambda name, obj: found.append(f"{name} {obj.shape}") if isinstance(obj, h5py.Dataset)
                         else None)
    except OSError as error:
        return [f"(not a readable HDF5 file: {error})"]
    return found


@st.composite
def write_weights_cases(draw, widths=WRITE_WIDTHS):
    dims = draw(st.sampled_from(widths))
    weights = []
    for fan_in, units in zip(dims[:-1], dims[1:]):
        weights.append(draw(float_arrays(shape=(fan_in, units), max_magnitude=100.0)))
        weights.append(draw(float_arrays(shape=(units,), max_magnitude=100.0)))
    container = draw(st.sampled_from([list, tuple]))
    return Case((container(weights),))


def _model_for(dims):
    """A Keras Dense Sequential of these layer widths, built once per process (keras_reference.built_layer):
    building is slow, and each use first loads the student's file, then sets the expected weights."""
    key = tuple(int(d) for d in dims)

    def make():
        keras = keras_reference.keras()
        return keras.Sequential(
            [keras.Input(shape=(key[0],))]
            + [keras.layers.Dense(u, kernel_initializer="zeros", bias_initializer="zeros") for u in key[1:]])

    return keras_reference.built_layer(("save_load.dense_sequential", key), make)


def describe_weights(weights):
    """`list of 4 arrays: float32 (3, 4), float32 (4,), ...`, for messages."""
    if type(weights) not in (list, tuple):
        return describe_value(weights)
    parts = [f"{w.dtype} {w.shape}" if type(w) is np.ndarray else type_name(w) for w in weights]
    return f"{type(weights).__name__} of {len(parts)} array{'s' if len(parts) != 1 else ''}: {', '.join(parts)}"


def _load_error(error):
    """Keras's load_weights error in two short lines: the summary and the first specific reason."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0].split(" Example error message")[0] if lines else type(error).__name__
    if len(lines) > 1 and "objects could not be loaded" in lines[0]:
        text += " " + lines[1].split(" Target variable:")[0]
    return text[:400]


def _transposed_hint(path, dims):
    import h5py

    try:
        with h5py.File(path, "r") as f:
            for i, (fan_in, units) in enumerate(zip(dims[:-1], dims[1:])):
                name = f"layers/{'dense' if i == 0 else f'dense_{i}'}/vars/0"
                if fan_in != units and name in f and f[name].shape == (units, fan_in):
                    return (f"\n  Hint: your {name} has shape {(units, fan_in)}: the kernel is stored transposed; "
                            "Keras wants (inputs, units).")
    except OSError:
        pass
    return ""


def _check_float32(path, dims, call):
    """Every dataset Keras reads must be float32: the dtype of the model's weights, which model.save_weights
    writes as they are. (load_weights would convert float64 on loading, but the file would be twice the size
    and not the file Keras writes.)"""
    import h5py

    with h5py.File(path, "r") as f:
        for name in keras_weight_paths(dims):
            if f[name].dtype != np.float32:
                raise CheckFailed(f"{call}: {name} is stored as {f[name].dtype}; store every dataset as float32 "
                                  "(.astype(np.float32)), the dtype of the model's weights and what "
                                  "model.save_weights writes.", kind="wrong_type")


def _check_write_once(fn, folder, case, index):
    (weights,) = case.args
    path = os.path.join(folder, f"case_{index}.weights.h5")
    call = f"write_weights_h5(path, {describe_weights(weights)})"
    try:
        call_student(fn, path, weights, name="write_weights_h5")
    except CheckFailed as failure:
        raise failure.restated(str(failure).replace(describe_call("write_weights_h5", (path, weights)), call, 1)
                               ) from failure.__cause__
    if not os.path.exists(path):
        raise CheckFailed(f"{call} wrote no file at path.")
    weights = [np.asarray(w) for w in weights]
    dims = [weights[0].shape[0]] + [kernel.shape[1] for kernel in weights[0::2]]
    model = _model_for(dims)  # reused; load_weights fails unless it assigns every variable of the model
    keras = keras_reference.keras()
    try:
        with capture_keras_messages():
            model.load_weights(path)
    except Exception as error:  # whatever load_weights raises, the student's file caused it
        found = _h5_datasets(path)
        raise CheckFailed(
            f"{call}: model.load_weights(path) for a Sequential of Dense layers with widths {dims} failed: "
            f"{_load_error(error)}\n  Keras looks for: {', '.join(keras_weight_paths(dims))}"
            f"\n  Your file holds: {', '.join(found[:12]) or 'no datasets'}{' ...' if len(found) > 12 else ''}"
            + _transposed_hint(path, dims)) from None
    _check_float32(path, dims, call)
    loaded = [np.asarray(w) for w in model.get_weights()]
    for i, (got, given_) in enumerate(zip(loaded, weights)):
        part = "kernel" if i % 2 == 0 else "bias"
        compare_arrays(got, given_.astype(np.float32), what=f"{call}: after load_weights, layer {i // 2 + 1}'s {part}")
    x = np.random.default_rng(index).normal(size=(3, dims[0])).astype("float32")
    got = keras.ops.convert_to_numpy(model(x, training=False))
    model.set_weights([w.astype(np.float32) for w in weights])
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    compare_arrays(got, expected, what=f"{call}: predictions after load_weights (vs. model.set_weights)")


def check_write_weights_h5(fn, cases=None, max_examples=10):
    """The student's write_weights_h5(path, weights) must write a file that model.load_weights accepts for a
    Dense-only Sequential of the matching widths, giving the same weights and predictions as
    model.set_weights(weights)."""
    with check_folder() as folder:
        index = itertools.count()  # one file name (and one x for the predictions) per call
        count = run_cases(lambda case: _check_write_once(fn, folder, case, next(index)), name="write_weights_h5",
                          cases=cases, strategy=write_weights_cases(), max_examples=max_examples)
    report_pass("write_weights_h5", "model.load_weights", count)


def _w(*shapes):
    rng = np.random.default_rng(len(shapes))
    return [rng.normal(size=shape).astype("float32") for shape in shapes]


BAD_WEIGHTS = (
    ("model_weights.h5", _w((3, 4), (4,)), "Keras loads weights only from a name ending in .weights.h5"),
    ("bad.weights.h5", [], "there are no weights"),
    ("bad.weights.h5", _w((3, 4), (4,), (4, 2)), "the last kernel has no bias (odd number of arrays)"),
    ("bad.weights.h5", _w((3, 4), (5,)), "the bias has 5 entries but the kernel has 4 columns"),
    ("bad.weights.h5", _w((3, 4), (4,), (5, 2), (2,)), "the second kernel has 5 rows, the first layer gives 4"),
)
"""(file name, weights, reason) that write_weights_h5 must reject with ValueError, writing no file."""


def check_write_weights_h5_rejects(fn, bad_inputs=BAD_WEIGHTS):
    """Each (file name, weights, reason) must raise ValueError and leave no file behind."""
    with check_folder() as folder:
        for filename, weights, reason in bad_inputs:
            path = os.path.join(folder, filename)
            try:
                check_rejects(fn, [((path, weights), {}, reason)], name="write_weights_h5", quiet=True)
            except CheckFailed as failure:  # name the file, not the temporary folder
                call = f"write_weights_h5('{filename}', {describe_weights(weights)})"
                raise failure.restated(str(failure).replace(describe_call("write_weights_h5", (path, weights)), call,
                                                            1)) from failure.__cause__
            if os.path.exists(path):
                raise CheckFailed(f"write_weights_h5(path, ...) raised ValueError ({reason}) but left a file at "
                                  "path: check everything before you create the file.")
    report_rejects("write_weights_h5", len(bad_inputs), also=" and writes nothing")
