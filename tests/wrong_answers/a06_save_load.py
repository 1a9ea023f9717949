"""Wrong answers for 06_save_load, the rules of the exercises' text they break, and right answers."""
from wrong_answers import RightAnswer, WrongAnswer

ASSIGNMENT = "06_save_load"

RULES = {
    # read_keras_file
    "read.no_keras": "use only zipfile, json, io, h5py and NumPy (the check notices Keras calls)",
    "read.config_unchanged": "config_dict is json.loads of the archive's config.json, unchanged",
    "read.layer_order": "the weights follow the order of config_dict['config']['layers'], not the order in which "
                        "the file lists its groups",
    "read.group_names": "a layer's weights sit under its class name counted per class (layers/dense, "
                        "layers/dense_1, ...), not under the layer's own name",
    "read.skip_input": "skip the InputLayer: it has no weights and no group",
    "read.kernel_then_bias": "for each Dense layer its kernel, then its bias",
    "read.no_bias": "no bias for a layer whose config says \"use_bias\": false",
    "read.no_optimizer": "no optimizer variables",
    "read.not_zip": "a file that is not a readable zip archive (not a zip, empty, truncated) raises ValueError",
    "read.no_config": "a missing config.json raises ValueError",
    "read.no_weights": "a missing model.weights.h5 raises ValueError",
    "read.bad_json": "a config.json that cannot be parsed raises ValueError",
    "read.bad_h5": "a model.weights.h5 that cannot be parsed raises ValueError",
    "read.not_sequential": "a model that is not a Sequential raises ValueError",
    "read.not_dense": "a Sequential with a layer that is not Dense raises ValueError",
    "read.missing_group": "a layer group missing raises ValueError",
    "read.extra_group": "a group the configuration has no layer for raises ValueError",
    "read.variable_count": "a wrong number of variables in a group raises ValueError",
    "read.kernel_units": "a kernel or bias whose units do not follow from the configuration raises ValueError",
    "read.first_inputs": "the first kernel's inputs are the InputLayer's last batch_shape entry; another number "
                         "raises ValueError",
    "read.chained_inputs": "after the first layer a kernel's inputs are the previous layer's units",
    "read.bias_shape": "a bias whose shape is not (units,) raises ValueError",
    "read.error_message": "the ValueError has a message that says what is wrong",
    # predict_from_keras_file
    "predict.no_keras": "reproduce keras.saving.load_model(path).predict(x) without Keras",
    "predict.activation": "each layer with the activation its configuration gives",
    "predict.use_bias": "each layer with the bias setting its configuration gives",
    "predict.shape": "returns an array of shape (n, units of the last layer)",
    "predict.x_not_2d": "x that is not 2-D raises ValueError",
    "predict.x_columns": "x without as many columns as the model has inputs raises ValueError",
    "predict.bad_file": "a bad file raises ValueError (through read_keras_file)",
    # sequential_config
    "config.no_keras": "use json.dumps, and no Keras",
    "config.string": "return a JSON string",
    "config.module": "model_from_json needs the top-level \"module\": \"keras\"",
    "config.input_shape": "the input is an InputLayer with batch_shape [null, input_dim]",
    "config.units": "Dense(units, activation) for each (units, activation) pair",
    "config.activation": "each Dense layer has the activation of its pair",
    "config.none_linear": "activation None means linear",
    "config.order": "one Dense layer per pair, in order",
    "config.entry_forms": "an entry may be a tuple or a list",
    "config.layers_tuple": "layers may be a list or a tuple of pairs",
    "config.input_dim_min": "input_dim < 1 raises ValueError",
    "config.input_dim_whole": "an input_dim that is not a whole number raises ValueError",
    "config.units_min": "units < 1 raises ValueError",
    "config.units_whole": "units that are not a whole number raise ValueError",
    "config.no_layers": "no layers raises ValueError",
    "config.unknown_activation": "an unknown activation name raises ValueError",
    "config.not_pair": "an entry that is not a (units, activation) pair raises ValueError",
    # write_weights_h5
    "write.no_keras": "write the file with h5py and without Keras",
    "write.group_names": "the i-th layer's group is layers/dense (i = 0) or layers/dense_<i>",
    "write.variables": "each group holds vars/0 (the kernel) and vars/1 (the bias)",
    "write.float32": "the datasets are float32",
    "write.weights_tuple": "weights may be a list or a tuple of arrays",
    "write.name": "a name that does not end in .weights.h5 raises ValueError",
    "write.no_weights": "no weights raises ValueError",
    "write.odd": "an odd number of arrays raises ValueError",
    "write.kernel_2d": "a kernel that is not 2-D raises ValueError",
    "write.bias_shape": "a bias without one entry per column of its kernel raises ValueError",
    "write.chain": "a kernel whose rows do not match the previous layer's units raises ValueError",
    "write.no_file": "check everything before creating the file: leave no file behind on ValueError",
}

READ = "read_keras_file_answer"
PREDICT = "predict_from_keras_file_answer"
CONFIG = "sequential_config_answer"
WRITE = "write_weights_h5_answer"

# The reader from its class checks to the set of weight groups it finds, as one block. Counting only the groups
# that hold weights is right while the class checks stand (a right answer below); without one of them, a Functional
# model or a Sequential with a Dropout layer goes through.
SEQUENTIAL_CHECK = (
    '    if not isinstance(config, dict) or config.get("class_name") != "Sequential":\n'
    '        raise ValueError("only Sequential models are supported")\n')
DENSE_FILTER = 'dense = [layer for layer in layers if layer["class_name"] != "InputLayer"]'
WEIGHT_GROUPS = 'found = set(f["layers"].keys()) if "layers" in f else set()'
GROUPS_WITH_WEIGHTS = ('found = {name for name, group in f["layers"].items() if len(group["vars"])} '
                       'if "layers" in f else set()')
READ_BLOCK = (
    SEQUENTIAL_CHECK
    + '    layers = config["config"]["layers"]\n'
    '    inputs = [layer for layer in layers if layer["class_name"] == "InputLayer"]\n'
    f'    {DENSE_FILTER}\n'
    '    if not dense or any(layer["class_name"] != "Dense" for layer in dense):\n'
    '        raise ValueError("only Sequential models made of Dense layers are supported")\n'
    '    if inputs:\n'
    '        fan_in = inputs[0]["config"]["batch_shape"][-1]\n'
    '    else:\n'
    '        fan_in = dense[0]["build_config"]["input_shape"][-1]\n'
    '\n'
    "    # Weights sit under the layer's class name counted per class: layers/dense, layers/dense_1, ...\n"
    '    groups = ["dense" if i == 0 else f"dense_{i}" for i in range(len(dense))]\n'
    '    try:\n'
    '        with h5py.File(io.BytesIO(weights_bytes), "r") as f:\n'
    f'            {WEIGHT_GROUPS}\n')
LENIENT_BLOCK = READ_BLOCK.replace(WEIGHT_GROUPS, GROUPS_WITH_WEIGHTS)

WRONG_ANSWERS = [
    # --- read_keras_file ---
    WrongAnswer("groups-string-order", READ,
                "zip(dense, groups)", "zip(dense, sorted(groups))",
                frozenset({"read_keras_file_check", "read_keras_file_hidden",
                           "predict_from_keras_file_check", "predict_from_keras_file_hidden"}),
                rule="read.layer_order",
                mistakes=frozenset({"the-layers-weights-are-taken-in-string-order"})),
    WrongAnswer("read-with-keras", READ,
                "    return config, weights\n",
                "    return config, keras.saving.load_model(path).get_weights()\n",
                rule="read.no_keras"),
    WrongAnswer("inner-config-returned", READ,
                "    return config, weights\n", "    return config[\"config\"], weights\n",
                rule="read.config_unchanged"),
    WrongAnswer("groups-by-layer-name", READ,
                'groups = ["dense" if i == 0 else f"dense_{i}" for i in range(len(dense))]',
                'groups = [layer["config"]["name"] for layer in dense]',
                rule="read.group_names"),
    WrongAnswer("input-layer-counted", READ,
                'groups = ["dense" if i == 0 else f"dense_{i}" for i in range(len(dense))]',
                'groups = [f"dense_{i}" for i in range(1, len(dense) + 1)]',
                rule="read.skip_input"),
    WrongAnswer("bias-before-kernel", READ,
                "for i, shape in enumerate(expected):", "for i, shape in reversed(list(enumerate(expected))):",
                rule="read.kernel_then_bias"),
    WrongAnswer("always-a-bias", READ,
                'use_bias = layer["config"].get("use_bias", True)', "use_bias = True",
                rule="read.no_bias"),
    WrongAnswer("optimizer-included", READ,
                "                fan_in = units\n",
                "                fan_in = units\n"
                '            if "optimizer" in f:\n'
                '                weights += [np.asarray(v[()]) for v in f["optimizer"]["vars"].values()]\n',
                rule="read.no_optimizer"),
    WrongAnswer("bad-zip-not-caught", READ,
                "except (zipfile.BadZipFile, OSError, EOFError) as error:", "except (OSError, EOFError) as error:",
                rule="read.not_zip"),
    WrongAnswer("only-weights-looked-for", READ,
                'for needed in ("config.json", "model.weights.h5"):', 'for needed in ("model.weights.h5",):',
                rule="read.no_config"),
    WrongAnswer("only-config-looked-for", READ,
                'for needed in ("config.json", "model.weights.h5"):', 'for needed in ("config.json",):',
                rule="read.no_weights"),
    WrongAnswer("bad-json-printed", READ,
                '        raise ValueError(f"config.json is not valid JSON: {error}") from None\n',
                '        print(f"config.json is not valid JSON: {error}")\n        return None\n',
                rule="read.bad_json"),
    WrongAnswer("h5-oserror-not-caught", READ,
                "    except OSError as error:\n        raise ValueError(f\"model.weights.h5",
                "    except KeyError as error:\n        raise ValueError(f\"model.weights.h5",
                rule="read.bad_h5"),
    WrongAnswer("any-model-class", READ, READ_BLOCK, LENIENT_BLOCK.replace(SEQUENTIAL_CHECK, ""),
                rule="read.not_sequential"),
    WrongAnswer("non-dense-layers-skipped", READ, READ_BLOCK,
                LENIENT_BLOCK.replace(DENSE_FILTER, DENSE_FILTER.replace('!= "InputLayer"', '== "Dense"')),
                rule="read.not_dense"),
    WrongAnswer("missing-group-not-caught", READ,
                "if found != set(groups):", "if not found <= set(groups):",
                rule="read.missing_group"),
    WrongAnswer("extra-group-ignored", READ,
                "if found != set(groups):", "if not set(groups) <= found:",
                rule="read.extra_group"),
    WrongAnswer("variables-not-counted", READ,
                "if len(variables) != len(expected):", "if len(variables) < len(expected):",
                rule="read.variable_count"),
    WrongAnswer("shape-not-checked", READ,
                "if value.shape != shape:", "if False:",
                rule="read.kernel_units"),
    WrongAnswer("only-units-checked", READ,
                "if value.shape != shape:", "if value.shape[-1:] != shape[-1:]:",
                rule="read.first_inputs"),
    WrongAnswer("inputs-never-chained", READ,
                "                fan_in = units\n", "",
                rule="read.chained_inputs"),
    WrongAnswer("only-kernel-checked", READ,
                "if value.shape != shape:", "if i == 0 and value.shape != shape:",
                rule="read.bias_shape"),
    WrongAnswer("bare-value-error", READ,
                'raise ValueError(f"config.json has {len(dense)} Dense layer(s), so model.weights.h5 should hold "\n'
                '                                 f"the groups {groups}; it holds {sorted(found)}")',
                "raise ValueError()",
                rule="read.error_message"),
    # --- predict_from_keras_file ---
    WrongAnswer("activation-ignored", PREDICT,
                'x = dense_forward(x, kernel, bias, settings.get("activation"))',
                "x = dense_forward(x, kernel, bias)",
                frozenset({"predict_from_keras_file_check", "predict_from_keras_file_hidden"}),
                rule="predict.activation",
                mistakes=frozenset({"you-apply-no-activations-at-all"})),
    WrongAnswer("predict-with-keras", PREDICT,
                "    config, weights = read_keras_file(path)\n",
                "    return keras.saving.load_model(path).predict(x, verbose=0)\n",
                rule="predict.no_keras"),
    WrongAnswer("bias-whenever-the-key-is-there", PREDICT,
                'if settings.get("use_bias", True):', 'if "use_bias" in settings:',
                rule="predict.use_bias"),
    WrongAnswer("one-output-squeezed", PREDICT,
                "    return x\n", "    return x.squeeze()\n",
                rule="predict.shape"),
    WrongAnswer("x-dims-not-checked", PREDICT,
                "if x.ndim != 2 or x.shape[1] != weights[0].shape[0]:", "if x.shape[-1] != weights[0].shape[0]:",
                rule="predict.x_not_2d"),
    WrongAnswer("extra-columns-dropped", PREDICT,
                "    x = np.asarray(x, dtype=np.float64)\n",
                "    x = np.asarray(x, dtype=np.float64)[..., :weights[0].shape[0]]\n",
                rule="predict.x_columns"),
    WrongAnswer("bad-file-gives-zeros", PREDICT,
                "    config, weights = read_keras_file(path)\n",
                "    try:\n        config, weights = read_keras_file(path)\n"
                "    except ValueError:\n        return np.zeros((len(x), 1))\n",
                rule="predict.bad_file"),
    # --- sequential_config ---
    WrongAnswer("no-module-keras", CONFIG,
                'json.dumps({"module": "keras", "class_name": "Sequential",', 'json.dumps({"class_name": "Sequential",',
                frozenset({"sequential_config_check", "sequential_config_hidden"}), rule="config.module"),
    WrongAnswer("config-with-keras", CONFIG,
                "    return json.dumps({",
                "    return keras.Sequential([keras.Input((input_dim,))] + [keras.layers.Dense(u, activation=a)\n"
                "                            for u, a in layers]).to_json()\n    return json.dumps({",
                rule="config.no_keras"),
    WrongAnswer("dict-returned", CONFIG,
                '    return json.dumps({"module": "keras", "class_name": "Sequential",\n'
                '                       "config": {"name": "sequential", "layers": entries}})',
                '    return {"module": "keras", "class_name": "Sequential",\n'
                '            "config": {"name": "sequential", "layers": entries}}',
                rule="config.string"),
    WrongAnswer("input-shape-not-batch-shape", CONFIG,
                '"config": {"batch_shape": [None, whole(input_dim, "input_dim")]}}',
                '"config": {"shape": [None, whole(input_dim, "input_dim")]}}',
                rule="config.input_shape"),
    WrongAnswer("pair-read-backwards", CONFIG,
                "units, activation = entry", "activation, units = entry",
                rule="config.units"),
    WrongAnswer("activation-left-out", CONFIG,
                '"units": whole(units, f"layer {i} units"),\n'
                '                                   "activation": activation}',
                '"units": whole(units, f"layer {i} units")}',
                rule="config.activation"),
    WrongAnswer("none-not-linear", CONFIG,
                '        activation = "linear" if activation is None else activation\n', "",
                rule="config.none_linear"),
    WrongAnswer("layers-reversed", CONFIG,
                "for i, entry in enumerate(layers):", "for i, entry in enumerate(layers[::-1]):",
                rule="config.order"),
    WrongAnswer("list-entries-refused", CONFIG,
                "if not isinstance(entry, (list, tuple)) or len(entry) != 2:",
                "if not isinstance(entry, tuple) or len(entry) != 2:",
                rule="config.entry_forms"),
    WrongAnswer("tuple-of-layers-refused", CONFIG,
                "    if len(layers) == 0:\n", "    if not isinstance(layers, list) or len(layers) == 0:\n",
                rule="config.layers_tuple"),
    WrongAnswer("input-dim-not-checked", CONFIG,
                'whole(input_dim, "input_dim")', "int(input_dim)",
                rule="config.input_dim_min"),
    WrongAnswer("input-dim-truncated", CONFIG,
                'whole(input_dim, "input_dim")', 'whole(int(input_dim), "input_dim")',
                rule="config.input_dim_whole"),
    WrongAnswer("units-not-checked", CONFIG,
                'whole(units, f"layer {i} units")', "int(units)",
                rule="config.units_min"),
    WrongAnswer("units-truncated", CONFIG,
                'whole(units, f"layer {i} units")', 'whole(int(units), f"layer {i} units")',
                rule="config.units_whole"),
    WrongAnswer("no-layers-allowed", CONFIG,
                "    if len(layers) == 0:\n", "    if False:\n",
                rule="config.no_layers"),
    WrongAnswer("any-activation-name", CONFIG,
                'if activation not in ("linear", "relu", "sigmoid", "tanh", "softmax"):', "if False:",
                rule="config.unknown_activation"),
    WrongAnswer("pairs-by-index", CONFIG,
                "        if not isinstance(entry, (list, tuple)) or len(entry) != 2:\n"
                '            raise ValueError(f"layer {i} should be a (units, activation) pair, got {entry!r}")\n'
                "        units, activation = entry\n",
                "        units, activation = entry[0], entry[1]\n",
                rule="config.not_pair"),
    # --- write_weights_h5 ---
    WrongAnswer("groups-from-dense-0", WRITE,
                'group = "dense" if i == 0 else f"dense_{i // 2}"', 'group = f"dense_{i // 2}"',
                frozenset({"write_weights_h5_check", "write_weights_h5_hidden"}), rule="write.group_names"),
    WrongAnswer("write-with-keras", WRITE,
                '    with h5py.File(path, "w") as f:\n',
                "    model = keras.Sequential([keras.Input((arrays[0].shape[0],))]\n"
                "                             + [keras.layers.Dense(k.shape[1]) for k in arrays[::2]])\n"
                "    model.set_weights(arrays)\n    model.save_weights(path)\n    return\n"
                '    with h5py.File(path, "w") as f:\n',
                rule="write.no_keras"),
    WrongAnswer("bias-as-vars-0", WRITE,
                'variables["0"] = arrays[i].astype(np.float32)\n            variables["1"] = arrays[i + 1]',
                'variables["1"] = arrays[i].astype(np.float32)\n            variables["0"] = arrays[i + 1]',
                rule="write.variables"),
    WrongAnswer("float64-written", WRITE,
                'variables["0"] = arrays[i].astype(np.float32)\n'
                '            variables["1"] = arrays[i + 1].astype(np.float32)',
                'variables["0"] = arrays[i]\n            variables["1"] = arrays[i + 1]',
                rule="write.float32"),
    WrongAnswer("tuple-of-weights-refused", WRITE,
                "    arrays = [np.asarray(w) for w in weights]\n",
                "    if not isinstance(weights, list):\n"
                '        raise ValueError("weights must be a list, as model.get_weights() returns")\n'
                "    arrays = [np.asarray(w) for w in weights]\n",
                rule="write.weights_tuple"),
    WrongAnswer("any-h5-name", WRITE,
                'if not str(path).endswith(".weights.h5"):', 'if not str(path).endswith(".h5"):',
                rule="write.name"),
    WrongAnswer("no-weights-allowed", WRITE,
                "if len(arrays) == 0 or len(arrays) % 2:", "if len(arrays) % 2:",
                rule="write.no_weights"),
    WrongAnswer("odd-count-allowed", WRITE,
                "if len(arrays) == 0 or len(arrays) % 2:", "if len(arrays) == 0:",
                rule="write.odd"),
    WrongAnswer("kernel-dims-not-checked", WRITE,
                "if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):", "if bias.shape != (kernel.shape[1],):",
                rule="write.kernel_2d"),
    WrongAnswer("bias-length-only", WRITE,
                "if kernel.ndim != 2 or bias.shape != (kernel.shape[1],):",
                "if kernel.ndim != 2 or len(bias) != kernel.shape[1]:",
                rule="write.bias_shape"),
    WrongAnswer("layers-not-chained", WRITE,
                "        fan_in = kernel.shape[1]\n", "",
                rule="write.chain"),
    WrongAnswer("file-created-first", WRITE,
                "    arrays = [np.asarray(w) for w in weights]\n",
                '    h5py.File(path, "w").close()\n    arrays = [np.asarray(w) for w in weights]\n',
                rule="write.no_file"),
]

RIGHT_ANSWERS = [
    RightAnswer("read-groups-with-weights", READ, WEIGHT_GROUPS, GROUPS_WITH_WEIGHTS),
    RightAnswer("predict-own-loop-float32", PREDICT,
                '        x = dense_forward(x, kernel, bias, settings.get("activation"))\n',
                "        z = x.astype(np.float32) @ kernel + (0.0 if bias is None else bias)\n"
                '        x = ACTIVATIONS[settings.get("activation") or "linear"](z.astype(np.float64))\n'),
    RightAnswer("config-without-layer-names", CONFIG,
                '"config": {"name": f"dense_{i}", "units"', '"config": {"units"'),
    RightAnswer("write-create-dataset-loop", WRITE,
                '            variables = f.create_group(f"layers/{group}/vars")\n'
                '            variables["0"] = arrays[i].astype(np.float32)\n'
                '            variables["1"] = arrays[i + 1].astype(np.float32)\n',
                '            for index, array in enumerate(arrays[i:i + 2]):\n'
                '                f.create_dataset(f"layers/{group}/vars/{index}", data=array, dtype="float32")\n'),
]
