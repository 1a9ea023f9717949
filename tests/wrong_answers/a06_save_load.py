"""Wrong answers for 06_save_load."""
from wrong_answers import WrongAnswer

ASSIGNMENT = "06_save_load"

# A few per notebook: each one costs a full autograde run in the pipeline test.
WRONG_ANSWERS = [
    WrongAnswer("groups-string-order", "read_keras_file_answer",
                "zip(dense, groups)", "zip(dense, sorted(groups))",
                frozenset({"read_keras_file_check", "read_keras_file_hidden",
                           "predict_from_keras_file_check", "predict_from_keras_file_hidden"})),
    # zipfile.BadZipFile is not a ValueError: broken archives escape as the wrong error.
    WrongAnswer("activation-ignored", "predict_from_keras_file_answer",
                'x = dense_forward(x, kernel, bias, settings.get("activation"))',
                "x = dense_forward(x, kernel, bias)",
                frozenset({"predict_from_keras_file_check", "predict_from_keras_file_hidden"})),
    WrongAnswer("no-module-keras", "sequential_config_answer",
                'json.dumps({"module": "keras", "class_name": "Sequential",', 'json.dumps({"class_name": "Sequential",',
                frozenset({"sequential_config_check", "sequential_config_hidden"})),
    WrongAnswer("groups-from-dense-0", "write_weights_h5_answer",
                'group = "dense" if i == 0 else f"dense_{i // 2}"', 'group = f"dense_{i // 2}"',
                frozenset({"write_weights_h5_check", "write_weights_h5_hidden"})),
]
