"""Wrong answers for 00_workflow, the rules of the exercises' text they break, and right answers."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "00_workflow"

RULES = {
    "sequential.input_shape": "start with keras.Input(shape=(input_dim,))",
    "sequential.no_input_dim": "do not pass input_dim=/input_shape= to a layer",
    "sequential.hidden_relu": "one Dense(h, activation=\"relu\") for each h in hidden_units",
    "sequential.hidden_order": "the hidden layers follow hidden_units in order",
    "sequential.empty_hidden": "hidden_units may be empty: then the model is a single softmax layer",
    "sequential.list_or_tuple": "hidden_units is a list or tuple of ints",
    "sequential.activation_inside_dense": "the activation goes inside Dense, no separate Activation layer",
    "sequential.output_softmax": "end with Dense(num_classes, activation=\"softmax\")",
    "sequential.output_units": "the output layer has num_classes units",
    "sequential.uncompiled": "return the model uncompiled",
    "sequential.is_sequential": "build it with the Sequential API: return a keras.Sequential",
    "functional.chained": "every layer is called on the previous layer's output, not on inputs",
    "functional.not_sequential": "return keras.Model(inputs=inputs, outputs=outputs), not a keras.Sequential",
    "functional.input_shape": "start from inputs = keras.Input(shape=(input_dim,))",
    "functional.hidden_relu": "the same network: a Dense(h, activation=\"relu\") for each h in hidden_units",
    "functional.hidden_order": "the same network: the hidden layers in the order of hidden_units",
    "functional.empty_hidden": "the same network: hidden_units may be empty",
    "functional.output_softmax": "the same network: one softmax output",
    "functional.output_units": "the same network: an output of shape (num_classes,)",
    "functional.uncompiled": "return the model uncompiled",
    "modern_sgd.inverse_time_decay": "the learning rate follows lr / (1 + decay * t), t counting from 0",
    "modern_sgd.momentum": "momentum is passed on",
    "modern_sgd.momentum_float": "momentum=0 (an int) must become 0.0",
    "modern_sgd.nesterov": "nesterov is passed on",
    "modern_sgd.defaults": "every other setting stays at its default (weight_decay is something else)",
    "modern_sgd.is_sgd": "return a keras.optimizers.SGD",
    "modern_sgd.learning_rate_positive": "learning_rate <= 0 raises ValueError",
    "modern_sgd.decay_nonnegative": "decay < 0 raises ValueError",
    "modern_sgd.momentum_range": "momentum outside [0, 1) raises ValueError",
    "modern_sgd.error_message": "the ValueError has a message saying what is wrong",
}

SEQUENTIAL = frozenset({"build_sequential_mlp_check", "build_sequential_mlp_hidden"})
FUNCTIONAL = frozenset({"build_functional_mlp_check", "build_functional_mlp_hidden"})
SGD = frozenset({"modern_sgd_check", "modern_sgd_hidden"})

SEQ_HIDDEN = '        model.add(keras.layers.Dense(units, activation="relu"))\n'
SEQ_OUTPUT = 'model.add(keras.layers.Dense(num_classes, activation="softmax"))'
FUNC_HIDDEN = '        x = keras.layers.Dense(units, activation="relu")(x)\n'
FUNC_OUTPUT = 'outputs = keras.layers.Dense(num_classes, activation="softmax")(x)'
SGD_RETURN = "keras.optimizers.SGD(learning_rate=learning_rate, momentum=float(momentum), nesterov=bool(nesterov))"

WRONG_ANSWERS = [
    # --- build_sequential_mlp ---
    WrongAnswer("seq-relu-output", "build_sequential_mlp_answer",
                SEQ_OUTPUT, 'model.add(keras.layers.Dense(num_classes, activation="relu"))', SEQUENTIAL,
                rule="sequential.output_softmax"),
    WrongAnswer("seq-batch-axis-in-shape", "build_sequential_mlp_answer",
                "model.add(keras.Input(shape=(input_dim,)))", "model.add(keras.Input(shape=(None, input_dim)))",
                rule="sequential.input_shape"),
    WrongAnswer("seq-input-dim-argument", "build_sequential_mlp_answer",
                "    model.add(keras.Input(shape=(input_dim,)))\n    for units in hidden_units:\n" + SEQ_HIDDEN,
                "    for i, units in enumerate(hidden_units):\n"
                '        model.add(keras.layers.Dense(units, activation="relu", **({"input_dim": input_dim} if i == 0 '
                "else {})))\n",
                rule="sequential.no_input_dim"),
    WrongAnswer("seq-hidden-no-activation", "build_sequential_mlp_answer",
                SEQ_HIDDEN, "        model.add(keras.layers.Dense(units))\n", rule="sequential.hidden_relu"),
    WrongAnswer("seq-hidden-reversed", "build_sequential_mlp_answer",
                "for units in hidden_units:", "for units in reversed(hidden_units):", rule="sequential.hidden_order"),
    WrongAnswer("seq-first-hidden-apart", "build_sequential_mlp_answer",
                "    for units in hidden_units:\n",
                '    model.add(keras.layers.Dense(hidden_units[0], activation="relu"))\n'
                "    for units in hidden_units[1:]:\n", rule="sequential.empty_hidden"),
    WrongAnswer("seq-tuple-concatenation", "build_sequential_mlp_answer",
                "    for units in hidden_units:\n" + SEQ_HIDDEN + "    " + SEQ_OUTPUT + "\n",
                "    sizes = hidden_units + (num_classes,)\n"
                "    for i, units in enumerate(sizes):\n"
                '        model.add(keras.layers.Dense(units, activation="relu" if i < len(sizes) - 1 else "softmax"))\n',
                rule="sequential.list_or_tuple"),
    WrongAnswer("seq-activation-layers", "build_sequential_mlp_answer",
                SEQ_HIDDEN, '        model.add(keras.layers.Dense(units))\n        model.add(keras.layers.Activation("relu"))\n',
                rule="sequential.activation_inside_dense"),
    WrongAnswer("seq-ten-classes", "build_sequential_mlp_answer",
                SEQ_OUTPUT, 'model.add(keras.layers.Dense(10, activation="softmax"))', rule="sequential.output_units"),
    WrongAnswer("seq-compiled", "build_sequential_mlp_answer",
                "    return model\n",
                '    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])\n'
                "    return model\n", rule="sequential.uncompiled"),
    WrongAnswer("seq-returns-functional", "build_sequential_mlp_answer",
                "    return model\n", "    return keras.Model(inputs=model.inputs, outputs=model.outputs)\n",
                rule="sequential.is_sequential"),
    # --- build_functional_mlp ---
    WrongAnswer("func-not-chained", "build_functional_mlp_answer",
                "(x)\n    outputs", "(inputs)\n    outputs", FUNCTIONAL, rule="functional.chained"),
    WrongAnswer("func-calls-sequential", "build_functional_mlp_answer",
                "    return keras.Model(inputs=inputs, outputs=outputs)\n",
                "    return build_sequential_mlp(input_dim, hidden_units, num_classes)\n",
                rule="functional.not_sequential"),
    WrongAnswer("func-batch-axis-in-shape", "build_functional_mlp_answer",
                "inputs = keras.Input(shape=(input_dim,))", "inputs = keras.Input(shape=(None, input_dim))",
                rule="functional.input_shape"),
    WrongAnswer("func-hidden-no-activation", "build_functional_mlp_answer",
                FUNC_HIDDEN, "        x = keras.layers.Dense(units)(x)\n", rule="functional.hidden_relu"),
    WrongAnswer("func-hidden-reversed", "build_functional_mlp_answer",
                "for units in hidden_units:", "for units in reversed(hidden_units):", rule="functional.hidden_order"),
    WrongAnswer("func-first-hidden-apart", "build_functional_mlp_answer",
                "    x = inputs\n    for units in hidden_units:\n",
                '    x = keras.layers.Dense(hidden_units[0], activation="relu")(inputs)\n'
                "    for units in hidden_units[1:]:\n", rule="functional.empty_hidden"),
    WrongAnswer("func-sigmoid-output", "build_functional_mlp_answer",
                FUNC_OUTPUT, 'outputs = keras.layers.Dense(num_classes, activation="sigmoid")(x)',
                rule="functional.output_softmax"),
    WrongAnswer("func-ten-classes", "build_functional_mlp_answer",
                FUNC_OUTPUT, 'outputs = keras.layers.Dense(10, activation="softmax")(x)', rule="functional.output_units"),
    WrongAnswer("func-compiled", "build_functional_mlp_answer",
                "    return keras.Model(inputs=inputs, outputs=outputs)\n",
                "    model = keras.Model(inputs=inputs, outputs=outputs)\n"
                '    model.compile(optimizer="rmsprop", loss="categorical_crossentropy")\n'
                "    return model\n", rule="functional.uncompiled"),
    # --- modern_sgd ---
    WrongAnswer("sgd-decay-dropped", "modern_sgd_answer",
                "    if decay > 0:\n", "    if False:\n", SGD, rule="modern_sgd.inverse_time_decay"),
    WrongAnswer("sgd-exponential-decay", "modern_sgd_answer",
                "InverseTimeDecay(learning_rate, decay_steps=1, decay_rate=decay)",
                "ExponentialDecay(learning_rate, decay_steps=1, decay_rate=1 - decay)",
                rule="modern_sgd.inverse_time_decay"),
    WrongAnswer("sgd-int-momentum", "modern_sgd_answer",
                "momentum=float(momentum)", "momentum=momentum", frozenset({"modern_sgd_hidden"}),
                rule="modern_sgd.momentum_float"),
    WrongAnswer("sgd-momentum-dropped", "modern_sgd_answer",
                "momentum=float(momentum), ", "", rule="modern_sgd.momentum"),
    WrongAnswer("sgd-nesterov-dropped", "modern_sgd_answer",
                ", nesterov=bool(nesterov))", ")", rule="modern_sgd.nesterov"),
    WrongAnswer("sgd-weight-decay", "modern_sgd_answer",
                "nesterov=bool(nesterov))", "nesterov=bool(nesterov), weight_decay=decay if decay > 0 else None)",
                rule="modern_sgd.defaults"),
    WrongAnswer("sgd-returns-adam", "modern_sgd_answer",
                SGD_RETURN, "keras.optimizers.Adam(learning_rate=learning_rate)", rule="modern_sgd.is_sgd"),
    WrongAnswer("sgd-zero-rate-accepted", "modern_sgd_answer",
                "if not learning_rate > 0:", "if learning_rate < 0:", rule="modern_sgd.learning_rate_positive"),
    WrongAnswer("sgd-negative-decay-accepted", "modern_sgd_answer",
                "if not decay >= 0:", "if False:", rule="modern_sgd.decay_nonnegative"),
    WrongAnswer("sgd-momentum-one-accepted", "modern_sgd_answer",
                "if not 0 <= momentum < 1:", "if not 0 <= momentum <= 1:", rule="modern_sgd.momentum_range"),
    WrongAnswer("sgd-bare-value-error", "modern_sgd_answer",
                'raise ValueError(f"decay must be >= 0, got {decay}")', "raise ValueError()",
                rule="modern_sgd.error_message"),
]

RIGHT_ANSWERS = [
    RightAnswer("seq-list-of-layers", "build_sequential_mlp_answer",
                "    model = keras.Sequential()\n    model.add(keras.Input(shape=(input_dim,)))\n"
                "    for units in hidden_units:\n" + SEQ_HIDDEN + "    " + SEQ_OUTPUT + "\n",
                "    model = keras.Sequential([keras.Input(shape=(input_dim,))]\n"
                '                             + [keras.layers.Dense(h, activation="relu") for h in hidden_units]\n'
                '                             + [keras.layers.Dense(num_classes, activation="softmax")])\n'),
    RightAnswer("func-layers-then-calls", "build_functional_mlp_answer",
                "    x = inputs\n    for units in hidden_units:\n" + FUNC_HIDDEN + "    " + FUNC_OUTPUT + "\n",
                '    layers = [keras.layers.Dense(h, activation="relu") for h in list(hidden_units)]\n'
                '    layers.append(keras.layers.Dense(num_classes, activation="softmax"))\n'
                "    outputs = inputs\n"
                "    for layer in layers:\n"
                "        outputs = layer(outputs)\n"),
    RightAnswer("sgd-always-a-schedule", "modern_sgd_answer",
                "    if decay > 0:\n        learning_rate = keras.optimizers.schedules.InverseTimeDecay(",
                "    learning_rate = keras.optimizers.schedules.InverseTimeDecay("),
]
