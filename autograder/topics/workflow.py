"""Notebook 00: the Keras workflow. Checks for `build_sequential_mlp`, `build_functional_mlp` and `modern_sgd`.

This is the one notebook whose exercises USE Keras (they are about the Keras API itself), so the student's
functions are called with `allow_keras=True`. Every expected value is computed here from a live Keras object
built with the same arguments (a reference model, a reference optimizer); nothing is hard-coded.

Also here: `run_keras2_snippet`, which runs a piece of Keras 2 code under Keras 3 and prints (stdout only)
whether Keras 3 rejects it, warns about it, or runs it.
"""
import contextlib
import io
import re
import warnings

import numpy as np

from autograder.checks import keras_reference
from autograder.checks.runner import Case, check_rejects, rejects_tail, report_pass, run_cases
from autograder.checks.compare import compare_arrays
from autograder.checks.describe import describe_call, type_name
from autograder.checks.errors import CheckFailed
from autograder.checks.calling import call_student

KERAS_ANSWERS = True
"""The topic contract (autograder/topics/__init__.py): this notebook's answers build Keras objects, so its answer
kernel may use Keras and sends Keras objects back for the checks to rebuild."""

SEQUENTIAL_CONFIGS = ((784, (64, 64), 10), (20, (32, 16), 3), (5, (), 2))
"""(input_dim, hidden_units, num_classes) tried by the visible checks: the Keras 2 tutorial's MLP, two different hidden
sizes (so their order matters), no hidden layer."""

SGD_CONFIGS = ((0.01, 1e-6, 0.9, True), (0.1, 0.01, 0.5, False), (0.05, 0.1, 0.0, False))
"""(learning_rate, decay, momentum, nesterov) tried by the visible check: the Keras 2 tutorial's optimizer, then decays
large enough that every wrong schedule is visibly off by step 100."""

SGD_INVALID = (((-0.01, 1e-6, 0.9, True), "learning_rate must be > 0"),
               ((0.01, -1e-6, 0.9, True), "decay must be >= 0"),
               ((0.01, 1e-6, 1.5, True), "momentum must be in [0, 1)"))
"""Invalid (learning_rate, decay, momentum, nesterov) with the reason each must raise ValueError."""

LEARNING_RATE_STEPS = (0, 1, 100)
"""Optimizer steps at which the learning rate is compared."""

_RTOL = 1e-5  # learning rates are float32 inside Keras: equal schedules agree to ~1e-7 relative


def _fail(call, message):
    raise CheckFailed(f"{call}: {message}")


# --- references ---------------------------------------------------------------------------------------------

def reference_sequential_mlp(input_dim, hidden_units, num_classes):
    """The Keras reference for `build_sequential_mlp`.

    Args:
        input_dim: int, number of input features.
        hidden_units: sequence of int, units of each hidden ReLU layer (may be empty).
        num_classes: int, units of the softmax output layer.

    Returns:
        An uncompiled keras.Sequential: Input((input_dim,)), Dense(h, 'relu') for each h, Dense(num_classes,
        'softmax').
    """
    keras = keras_reference.keras()
    layers = [keras.Input(shape=(input_dim,))]
    layers += [keras.layers.Dense(h, activation="relu") for h in hidden_units]
    layers.append(keras.layers.Dense(num_classes, activation="softmax"))
    return keras.Sequential(layers)


def reference_functional_mlp(input_dim, hidden_units, num_classes):
    """The Keras reference for `build_functional_mlp`: the same network as `reference_sequential_mlp`, built
    with the Functional API.

    Args:
        input_dim, hidden_units, num_classes: as in `reference_sequential_mlp`.

    Returns:
        An uncompiled Functional keras.Model with one input and one output.
    """
    keras = keras_reference.keras()
    inputs = keras.Input(shape=(input_dim,))
    x = inputs
    for h in hidden_units:
        x = keras.layers.Dense(h, activation="relu")(x)
    outputs = keras.layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def reference_sgd(learning_rate, decay, momentum, nesterov):
    """The Keras 3 optimizer equivalent to Keras 2's `SGD(lr=learning_rate, decay=decay, momentum=momentum,
    nesterov=nesterov)`.

    Keras 2 used lr_t = lr / (1 + decay * t) at optimizer step t (t = 0 for the first update), which is
    `InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)`.

    Args:
        learning_rate: float > 0. decay: float >= 0. momentum: float in [0, 1). nesterov: bool.

    Returns:
        keras.optimizers.SGD.
    """
    keras = keras_reference.keras()
    schedule = keras.optimizers.schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)
    return keras.optimizers.SGD(learning_rate=schedule, momentum=float(momentum), nesterov=bool(nesterov))


def learning_rate_at(optimizer, step):
    """The learning rate `optimizer` uses for the update at optimizer step `step` (0 = the first update).

    In Keras 3 `optimizer.learning_rate` evaluates a schedule at `optimizer.iterations`, so set the step
    counter first. (Only use this on an optimizer that has not trained anything you care about.)

    Args:
        optimizer: a keras.optimizers.Optimizer. step: int >= 0.

    Returns:
        float.
    """
    optimizer.iterations.assign(step)
    return float(np.asarray(optimizer.learning_rate))


# --- describing models in the student's terms ---------------------------------------------------------------

def _activation_name(layer):
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    return getattr(activation, "__name__", type(activation).__name__)


def describe_layer(layer):
    """`Dense(32, activation='relu')`, `Activation('relu')`, `Dropout(0.5)` or the class name of `layer`."""
    keras = keras_reference.keras()
    if isinstance(layer, keras.layers.Dense):
        bias = "" if layer.use_bias else ", use_bias=False"
        return f"Dense({layer.units}, activation={_activation_name(layer)!r}{bias})"
    if isinstance(layer, keras.layers.Activation):
        return f"Activation({_activation_name(layer)!r})"
    if isinstance(layer, keras.layers.Dropout):
        return f"Dropout({layer.rate})"
    return type(layer).__name__


def model_layers(model):
    """The layers of `model` that compute something (InputLayer left out), in order."""
    keras = keras_reference.keras()
    return [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]


def _shape(tensor):
    return tuple(None if d is None else int(d) for d in tensor.shape)


def _model_io(model):
    """(inputs, outputs) lists of a built model, or (None, None) if it does not know its input shape yet."""
    try:
        return list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError):
        return None, None


def _check_model_type(model, call, functional):
    keras = keras_reference.keras()
    from keras.src.models.functional import Functional

    if model is None:
        _fail(call, "returned None. Did you forget the `return` statement?")
    wanted = "a Functional model (keras.Model(inputs=..., outputs=...))" if functional else "a keras.Sequential"
    if not isinstance(model, keras.Model):
        _fail(call, f"returned a {type_name(model)}; it should return {wanted}.")
    if isinstance(model, keras.Sequential):
        kind = "a keras.Sequential"
    elif isinstance(model, Functional):
        kind = "a Functional model"
    else:
        kind = f"a subclassed keras.Model ({type(model).__name__})"
    if functional and not (isinstance(model, Functional) and not isinstance(model, keras.Sequential)):
        _fail(call, f"expected {wanted}, got {kind}. Chain the layers from keras.Input and return "
                    "keras.Model(inputs=inputs, outputs=outputs).")
    if not functional and not isinstance(model, keras.Sequential):
        _fail(call, f"expected {wanted}, got {kind}. Stack the layers with keras.Sequential([...]) or .add().")
    if getattr(model, "compiled", False):
        _fail(call, "the model is compiled; return it uncompiled (compile() belongs to the training step, "
                    "where the optimizer and loss are chosen).")


def _check_input(model, reference, call, input_dim, functional):
    inputs, outputs = _model_io(model)
    if inputs is None:
        _fail(call, "the model does not know its input shape, so Keras has not created its weights. "
                    f"Start it with keras.Input(shape=({input_dim},)).")
    if not functional:
        for i, layer in enumerate(model_layers(model), start=1):
            if getattr(layer, "_input_shape_arg", None) is not None:
                _fail(call, f"layer {i} was given input_dim=/input_shape=, which Keras 3 only accepts with a "
                            f"warning. Start the model with keras.Input(shape=({input_dim},)) instead.")
    if len(inputs) != 1 or len(outputs) != 1:
        _fail(call, f"expected one input and one output, got {len(inputs)} input(s) and {len(outputs)} output(s).")
    expected = _shape(reference.inputs[0])
    if _shape(inputs[0]) != expected:
        _fail(call, f"input shape: expected {expected}, got {_shape(inputs[0])}. "
                    f"Use keras.Input(shape=({input_dim},)): the shape leaves out the batch axis.")


def _check_layers(model, reference, call, hidden_units, functional):
    keras = keras_reference.keras()
    got, expected = model_layers(model), model_layers(reference)
    for i, layer in enumerate(got, start=1):
        if not isinstance(layer, keras.layers.Dense):
            _fail(call, f"layer {i} is {describe_layer(layer)}; this network has only Dense layers, each with its "
                        "activation inside, e.g. Dense(32, activation='relu').")
    if len(got) != len(expected):
        message = (f"expected {len(expected)} Dense layers ({len(hidden_units)} hidden + 1 output), "
                   f"got {len(got)}.")
        if functional and len(got) < len(expected):
            message += (" A Functional model keeps only the layers on the path from its input to its output: "
                        "did you feed each layer the previous layer's output (x = Dense(...)(x))?")
        else:
            message += " Add one Dense(h, activation='relu') per entry of hidden_units, then the output layer."
        _fail(call, message)
    last = len(expected)
    for i, (mine, theirs) in enumerate(zip(got, expected), start=1):
        if describe_layer(mine) != describe_layer(theirs):
            message = f"layer {i} should be {describe_layer(theirs)}, got {describe_layer(mine)}."
            if mine.units != theirs.units:
                message += (" The output layer needs one unit per class (num_classes)." if i == last else
                            " Hidden layer i has hidden_units[i-1] units, in order.")
            elif _activation_name(mine) != _activation_name(theirs):
                message += (" The output layer needs activation='softmax' so that each row of outputs is a "
                            "probability distribution over the classes." if i == last else
                            " Hidden layers use activation='relu'.")
            _fail(call, message)
        fan_in, expected_fan_in = int(mine.kernel.shape[0]), int(theirs.kernel.shape[0])
        if fan_in != expected_fan_in:
            _fail(call, f"layer {i} receives {fan_in} features, expected {expected_fan_in}: each layer should take "
                        "the previous layer's output (the first one takes the input).")


def _check_totals(model, reference, call, seed):
    expected_params, got_params = reference.count_params(), model.count_params()
    if got_params != expected_params:
        _fail(call, f"total parameters: expected {expected_params}, got {got_params}.")
    expected_out, got_out = _shape(reference.outputs[0]), _shape(model.outputs[0])
    if got_out != expected_out:
        _fail(call, f"output shape: expected {expected_out}, got {got_out}.")
    # Same weights in, same probabilities out: the two networks compute the same function.
    try:
        model.set_weights(reference.get_weights())
    except Exception as error:  # noqa: BLE001 (any Keras complaint means the weights do not line up)
        _fail(call, f"the reference's weights do not fit your model ({type(error).__name__}: {error}).")
    x = np.random.default_rng(seed).normal(size=(4, _shape(reference.inputs[0])[1])).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = np.asarray(model(x, training=False))
        expected = np.asarray(reference(x, training=False))
    compare_arrays(got, expected, what=f"{call}, its output on a test batch with the reference's weights")


def _compare_model(fn, input_dim, hidden_units, num_classes, *, name, functional):
    call = describe_call(name, (input_dim, hidden_units, num_classes))
    model = call_student(fn, input_dim, hidden_units, num_classes, name=name, allow_keras=True)
    builder = reference_functional_mlp if functional else reference_sequential_mlp
    reference = builder(input_dim, hidden_units, num_classes)
    _check_model_type(model, call, functional)
    _check_input(model, reference, call, input_dim, functional)
    _check_layers(model, reference, call, hidden_units, functional)
    _check_totals(model, reference, call, seed=input_dim)


# --- checks: models -----------------------------------------------------------------------------------------

def compare_sequential(fn, input_dim, hidden_units, num_classes):
    """Check one call of the student's `build_sequential_mlp` against `reference_sequential_mlp`.

    Args:
        fn: the student's build_sequential_mlp(input_dim, hidden_units, num_classes).
        input_dim: int. hidden_units: sequence of int (may be empty). num_classes: int.

    Raises:
        CheckFailed: the result is not an uncompiled keras.Sequential with the reference's input shape,
            layers (units, activations, bias), parameter count, output shape and outputs for equal weights.
    """
    _compare_model(fn, input_dim, hidden_units, num_classes, name="build_sequential_mlp", functional=False)


def compare_functional(fn, input_dim, hidden_units, num_classes):
    """Check one call of the student's `build_functional_mlp` against `reference_functional_mlp`.

    Args:
        fn: the student's build_functional_mlp(input_dim, hidden_units, num_classes).
        input_dim, hidden_units, num_classes: as in `compare_sequential`.

    Raises:
        CheckFailed: as in `compare_sequential`, and also when the model is a Sequential or a subclassed Model.
    """
    _compare_model(fn, input_dim, hidden_units, num_classes, name="build_functional_mlp", functional=True)


def _configs(configs):
    """Hand-picked Cases from an iterable of argument tuples."""
    return [Case(tuple(config)) for config in configs]


def check_build_sequential_mlp(fn, configs=SEQUENTIAL_CONFIGS):
    """Visible check: `compare_sequential` on each (input_dim, hidden_units, num_classes) in `configs`;
    prints one line when all pass.

    Args:
        fn: the student's build_sequential_mlp.
        configs: iterable of (input_dim, hidden_units, num_classes).
    """
    name = "build_sequential_mlp"
    count = run_cases(lambda case: compare_sequential(fn, *case.args), name=name, cases=_configs(configs))
    report_pass(name, "a Keras reference", count)


def check_build_functional_mlp(fn, configs=SEQUENTIAL_CONFIGS):
    """Visible check: `compare_functional` on each configuration; prints one line when all pass.

    Args:
        fn: the student's build_functional_mlp.
        configs: iterable of (input_dim, hidden_units, num_classes).
    """
    name = "build_functional_mlp"
    count = run_cases(lambda case: compare_functional(fn, *case.args), name=name, cases=_configs(configs))
    report_pass(name, "a Keras reference", count)


# --- checks: the optimizer ----------------------------------------------------------------------------------

_OPTIMIZER_SETTING_HINTS = {
    "weight_decay": "in Keras 3, weight_decay shrinks the weights at every step; it is not Keras 2's "
                    "learning-rate decay. Put the decay in the learning rate with InverseTimeDecay.",
}


def _schedule_mistakes(learning_rate, decay):
    """Known wrong learning-rate schedules for these arguments, as (description, schedule(step) -> float)."""
    keras = keras_reference.keras()
    schedules = keras.optimizers.schedules
    right = schedules.InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)
    mistakes = [
        ("did you drop the decay? Keras 3 ignores SGD(decay=...) (it only warns); "
         "pass learning_rate=keras.optimizers.schedules.InverseTimeDecay(...)",
         lambda step: learning_rate),
        ("that is ExponentialDecay(learning_rate, decay_steps=1, decay_rate=decay), which multiplies by decay at "
         "every step; Keras 2 divided: lr / (1 + decay * t), i.e. InverseTimeDecay",
         schedules.ExponentialDecay(learning_rate, decay_steps=1, decay_rate=decay)),
        ("that is ExponentialDecay with decay_rate = 1 - decay, i.e. lr * (1 - decay)^t: close for a few steps, "
         "but Keras 2 divided: lr / (1 + decay * t), i.e. InverseTimeDecay",
         schedules.ExponentialDecay(learning_rate, decay_steps=1, decay_rate=1 - decay)),
        ("your schedule is one step ahead: Keras 2 used lr / (1 + decay * t) with t = 0 for the first update",
         lambda step: right(step + 1)),
    ]
    if decay > 0:
        mistakes.append(("did you swap decay_steps and decay_rate? Use InverseTimeDecay(learning_rate, "
                         "decay_steps=1, decay_rate=decay)",
                         schedules.InverseTimeDecay(learning_rate, decay_steps=decay, decay_rate=1.0)))
    return mistakes


def _close(got, expected):
    return abs(got - expected) <= _RTOL * abs(expected) + 1e-12


_SGD_SETTINGS = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema", "ema_momentum",
                 "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps")
"""Optimizer settings besides learning_rate, momentum and nesterov; all must equal the reference's."""


def _check_sgd_settings(optimizer, reference, call):
    keras = keras_reference.keras()
    if optimizer is None:
        _fail(call, "returned None. Did you forget the `return` statement?")
    if not isinstance(optimizer, keras.optimizers.SGD):
        kind = (f"keras.optimizers.{type(optimizer).__name__}" if isinstance(optimizer, keras.optimizers.Optimizer)
                else type_name(optimizer))
        _fail(call, f"returned a {kind}; it should return a keras.optimizers.SGD.")
    # Attributes, not get_config(): a correct custom LearningRateSchedule need not be serializable.
    momentum, expected_momentum = getattr(optimizer, "momentum", None), reference.momentum
    if not isinstance(momentum, (int, float)) or not _close(float(momentum), expected_momentum):
        hint = " — did you forget to pass momentum= to SGD?" if momentum == 0 else "."
        _fail(call, f"momentum: expected {expected_momentum!r}, got {momentum!r}{hint}")
    if bool(getattr(optimizer, "nesterov", None)) != reference.nesterov:
        _fail(call, f"nesterov: expected {reference.nesterov!r}, got {getattr(optimizer, 'nesterov', None)!r}.")
    for key in _SGD_SETTINGS:
        expected, got = getattr(reference, key), getattr(optimizer, key, None)
        if got != expected:
            hint = _OPTIMIZER_SETTING_HINTS.get(key, "leave it at its default.")
            _fail(call, f"optimizer setting {key}: expected {expected!r}, got {got!r}; {hint}")


def _check_learning_rates(optimizer, reference, call, learning_rate, decay):
    try:
        got = [learning_rate_at(optimizer, step) for step in LEARNING_RATE_STEPS]
    except Exception as error:  # noqa: BLE001 (a broken learning rate can fail in many ways)
        _fail(call, f"could not read the optimizer's learning rate ({type(error).__name__}: {error}). "
                    "Pass a float or a keras.optimizers.schedules.LearningRateSchedule as learning_rate.")
    expected = [learning_rate_at(reference, step) for step in LEARNING_RATE_STEPS]
    for step, mine, theirs in zip(LEARNING_RATE_STEPS, got, expected):
        if _close(mine, theirs):
            continue
        message = f"learning rate at step {step}: expected {theirs:.6g}, got {mine:.6g}"
        for description, schedule in _schedule_mistakes(learning_rate, decay):
            values = [float(np.asarray(schedule(s))) for s in LEARNING_RATE_STEPS]
            if all(_close(a, b) for a, b in zip(got, values)) and not all(
                    _close(a, b) for a, b in zip(values, expected)):
                message += f" — {description}"
                break
        else:
            message += (". Keras 2's SGD(lr, decay) used lr / (1 + decay * t) at step t: "
                        "InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)")
        _fail(call, message + ".")


def compare_sgd(fn, learning_rate, decay, momentum, nesterov):
    """Check one call of the student's `modern_sgd` against `reference_sgd`.

    Args:
        fn: the student's modern_sgd(learning_rate, decay, momentum, nesterov).
        learning_rate: float > 0. decay: float >= 0. momentum: number in [0, 1). nesterov: bool.

    Raises:
        CheckFailed: the result is not a keras.optimizers.SGD, its momentum, nesterov or other settings differ
            from the reference's, or its learning rate at steps 0, 1 and 100 differs from the reference's.
    """
    name = "modern_sgd"
    args = (learning_rate, decay, momentum, nesterov)
    call = describe_call(name, args)
    try:
        optimizer = call_student(fn, *args, name=name, allow_keras=True)
    except CheckFailed as failure:
        if (isinstance(failure.__cause__, ValueError) and "momentum" in str(failure.__cause__)
                and not isinstance(momentum, float)):
            raise failure.restated(f"{failure}\n  Hint: Keras's SGD accepts momentum only as a Python float; "
                                   "pass momentum=float(momentum).") from failure.__cause__
        raise
    reference = reference_sgd(*args)
    _check_sgd_settings(optimizer, reference, call)
    _check_learning_rates(optimizer, reference, call, learning_rate, decay)


def check_modern_sgd(fn, configs=SGD_CONFIGS, invalid=SGD_INVALID):
    """Visible check: `compare_sgd` on each configuration; each invalid one must raise ValueError with a message
    (`checks.calling.expect_value_error`, Keras allowed); prints one line when all pass.

    Args:
        fn: the student's modern_sgd.
        configs: iterable of (learning_rate, decay, momentum, nesterov).
        invalid: iterable of ((learning_rate, decay, momentum, nesterov), reason).
    """
    name = "modern_sgd"
    count = run_cases(lambda case: compare_sgd(fn, *case.args), name=name, cases=_configs(configs))
    rejected = check_rejects(fn, [(tuple(args), {}, reason) for args, reason in invalid], name=name, quiet=True,
                             allow_keras=True)
    report_pass(name, "a Keras reference", count, also=rejects_tail(rejected))


# --- Keras 2 code under Keras 3 -----------------------------------------------------------------------------

def _snippet_namespace():
    keras = keras_reference.keras()
    from keras.layers import Activation, Dense, Dropout, Input
    from keras.models import Model, Sequential
    from keras.optimizers import SGD, Adam, RMSprop

    return {"keras": keras, "np": np, "Sequential": Sequential, "Model": Model, "Dense": Dense,
            "Activation": Activation, "Dropout": Dropout, "Input": Input, "SGD": SGD, "RMSprop": RMSprop,
            "Adam": Adam}


def _clean(text):
    """One line of an error or warning message, without anything that changes between runs or machines."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    text = re.sub(r"\s*\((?:/|[A-Za-z]:\\)[^()]*\)", "", text)        # "(/path/to/module.py)"
    text = re.sub(r"<(\w+)[^<>]*>", r"<\1>", text)                     # "<KerasTensor shape=..., name=...>"
    text = re.sub(r" at 0x[0-9a-fA-F]+", "", text)                     # memory addresses
    return text + (" ..." if len(lines) > 1 else "")


def run_keras2_snippet(code, **names):
    """Run Keras 2 era `code` under Keras 3 and print, on stdout only, what happened.

    Prints "Keras 3 rejects this: <Error>: <message>" when the code raises, "Keras 3 runs this, but warns:
    <Warning>: <message>" when it only warns, or "Keras 3 runs this without complaint." Anything the code
    itself prints or writes to stderr is discarded, and messages are stripped of file paths, memory
    addresses and tensor names, so the output is the same on every run.

    Args:
        code: str, Python source. It can use keras, np, Sequential, Model, Dense, Activation, Dropout, Input,
            SGD, RMSprop and Adam without importing them.
        **names: more names for the code to use (e.g. model=model, x=x).
    """
    namespace = _snippet_namespace()
    namespace.update(names)
    error = None
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<keras 2 snippet>", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 (reporting the error is the point)
            error = exc
    warned = list(dict.fromkeys(f"{w.category.__name__}: {_clean(w.message)}" for w in caught))
    if error is not None:
        print(f"Keras 3 rejects this: {type(error).__name__}: {_clean(error)}")
        for warning in warned:
            print(f"  (it also warns: {warning})")
    elif warned:
        print(f"Keras 3 runs this, but warns: {warned[0]}")
        for warning in warned[1:]:
            print(f"  (and: {warning})")
    else:
        print("Keras 3 runs this without complaint.")
