"""What the notebooks' text says agrees with their code (issue 13).

Every number the markdown quotes from the code (how many inputs a check draws, how many invalid inputs it tries,
epochs, sizes, shapes, counts the outputs print) is read from the text and from the code, the stored outputs or
the checks library, and compared: CLAIMS below. `test_each_claim_can_fail` changes every quoted number in turn
and shows that the comparison then fails. The other tests hold the wording the course settled on: JupyterLab 4's
menu item, how to validate, "the Keras 2 tutorials", and no figure from training in a compared output.
"""
import ast
import inspect
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import nbformat
import pytest

from autograder.tools.course import REPO_ROOT, assignments

NAMES = assignments()
WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "eleven": 11, "twelve": 12, "twice": 2, "Three": 3, "Two": 2, "Ten": 10, "Eight": 8}
# One quoted number: digits (with thousands commas, decimals, an exponent) or a number word.
N = r"(?:\d[\d,]*(?:\.\d+)?(?:e-?\d+)?|" + "|".join(sorted(WORDS, key=len, reverse=True)) + r")"
TOKEN = re.compile(N)


def numbers(text):
    """The numbers in `text`, in order: a float or int each; one number comes back as itself, several as a tuple."""
    found = []
    for token in TOKEN.findall(text):
        if token in WORDS:
            found.append(WORDS[token])
        else:
            value = float(token.replace(",", ""))
            found.append(int(value) if value.is_integer() else value)
    assert found, f"no number in {text!r}"
    return found[0] if len(found) == 1 else tuple(found)


@lru_cache(maxsize=None)
def notebook(name):
    return nbformat.read(REPO_ROOT / "source" / name / f"{name}.ipynb", as_version=4)


def cell_with(name, anchor, kind):
    # The source plus a newline: an anchor ending in "\n" finds a cell's last line too ("check_x(x)\n" is the
    # visible check cell, not the hidden one that calls check_x(x, cases=...)).
    found = [c for c in notebook(name).cells if c.cell_type == kind and anchor in c.source + "\n"]
    assert len(found) == 1, f"{name}: {len(found)} {kind} cells contain {anchor!r}"
    return found[0]


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output and "text/plain" in output["data"]:
            parts.append(output["data"]["text/plain"])
    return re.sub(r"\x1b\[[0-9;]*m", "", "".join(parts))  # Keras's summary colours its numbers


def grab(text, pattern):
    match = re.search(pattern, text, re.S)
    assert match, f"{pattern!r} not found in {text[:300]!r}..."
    return numbers(match.group(1)) if match.lastindex == 1 else tuple(numbers(g) for g in match.groups())


def code(name, anchor, pattern):
    """A number in the source of the code cell that contains `anchor`."""
    return lambda: grab(cell_with(name, anchor, "code").source, pattern)


def output(name, anchor, pattern):
    """A number in the stored output of the code cell that contains `anchor`."""
    return lambda: grab(output_text(cell_with(name, anchor, "code")), pattern)


def default(module, function, parameter="max_examples"):
    def value():
        import importlib
        fn = getattr(importlib.import_module(f"autograder.topics.{module}"), function)
        return inspect.signature(fn).parameters[parameter].default
    return value


def constant(module, attribute, how=lambda v: v):
    def value():
        import importlib
        return how(getattr(importlib.import_module(f"autograder.topics.{module}"), attribute))
    return value


@dataclass(frozen=True)
class Claim:
    notebook: str
    anchor: str    # a text that only one markdown cell of the notebook contains
    pattern: str   # finds the quoted number(s) in that cell: group 1
    actual: Callable[[], object]

    @property
    def id(self):
        return f"{self.notebook[:2]}: {self.pattern.replace(N, '#')[:50]}"

    def markdown(self):
        return cell_with(self.notebook, self.anchor, "markdown").source

    def quoted(self, text=None):
        return grab(self.markdown() if text is None else text, self.pattern)


def fit_case(kind):
    from autograder.topics.fit import fit_case as case
    return case(kind)


def train_case_09(kind):
    from autograder.topics.cnn_backprop import train_case
    return train_case(kind)


def train_case_10(kind):
    from autograder.topics.lstm_backprop import train_case
    return train_case(kind)


def optimizer_steps(name, anchor):
    """The optimizer steps of the training run in the code cell with `anchor`: batches per epoch × epochs."""
    def value():
        source = cell_with(name, anchor, "code").source
        batches = math.ceil(grab(source, r"n=(\d+)") / grab(source, r"batch_size=(\d+)"))
        return batches * grab(source, r"epochs=(\d+)\)")
    return value


def printed_lines(name, anchor, start):
    """How many lines of the stored output of the code cell with `anchor` start with `start`."""
    return lambda: sum(line.startswith(start) for line in output_text(cell_with(name, anchor, "code")).splitlines())


def batch_sizes(n, batch_size):
    return tuple(min(batch_size, n - start) for start in range(0, n, batch_size))


W = "00_workflow"
C1, D2, C3, F4, R5, S6, K7, L8, K9, B10 = ("01_to_categorical", "02_dense_activations", "03_compile", "04_fit",
                                           "05_regularizers", "06_save_load", "07_cnn", "08_lstm", "09_cnn_backprop",
                                           "10_lstm_backprop")
SUMMARY = "model.summary()"
CLAIMS = [
    # 00: the model summary, the data, the regression example, the schedules
    Claim(W, "`hidden_1` has", rf"`hidden_1` has [^=]+= ({N}) parameters", output(W, SUMMARY, r"hidden_1 \(Dense\)[^\n]*?([\d,]+) │")),
    Claim(W, "`hidden_1` has", rf"`hidden_2` has [^=]+= ({N}) and", output(W, SUMMARY, r"hidden_2 \(Dense\)[^\n]*?([\d,]+) │")),
    Claim(W, "`hidden_1` has", rf"`output` has\s+[^=]+= ({N}):", output(W, SUMMARY, r"output \(Dense\)[^\n]*?([\d,]+) │")),
    Claim(W, "`hidden_1` has", rf"({N}) in all", output(W, SUMMARY, r"Total params: ([\d,]+)")),
    Claim(W, "`validation_split=0.2` holds the", r"`validation_split=([\d.]+)` holds",
          code(W, "history = model.fit(x_train, Y_train", r"validation_split=([\d.]+)")),
    Claim(W, "can still *memorise* the", rf"memorise\* the ({N}) training labels", code(W, "x_all, y_all = make_clusters(", r"x_all\[:(\d+)\]")),
    Claim(W, "are plenty to", rf"plenty to\s+memorise ({N}) labels",
          lambda: round(code(W, "x_all, y_all = make_clusters(", r"x_all\[:(\d+)\]")()
                        * (1 - code(W, "history = model.fit(x_train, Y_train", r"validation_split=([\d.]+)")()))),
    Claim(W, "The first two models compute", rf"the same ({N}) parameters", output(W, "list_style = keras.Sequential", r"list \+ Activation layers\s+(\d+) parameters")),
    Claim(W, "regression example", rf"\(({N}) features, random integer", code(W, "regressor = keras.Model", r"X = rng\.uniform\(-1, 1, size=\(\d+, (\d+)\)\)")),
    Claim(W, "regression example", rf"a learning rate of ({N})\s+instead", code(W, "regressor = keras.Model", r"RMSprop\(learning_rate=([\d.]+)\)")),
    Claim(W, "regression example", rf"and ({N}) epochs instead of 100", code(W, "regressor = keras.Model", r"epochs=(\d+), validation_data")),
    Claim(W, "### A metric of your own", rf"trained on ({N}) of our clusters", code(W, "binary_history = binary.fit(", r"num_classes=(\d+), dim=")),
    Claim(W, "### A metric of your own", rf"clusters in ({N})\s+dimensions", code(W, "binary_history = binary.fit(", r"dim=(\d+)")),
    Claim(W, "For example `build_sequential_mlp(784, (64, 64), 10)`", rf"with ({N}) parameters", output(W, "mlp = build_sequential_mlp(", r"parameters: (\d+)")),
    Claim(W, "with a large `decay` of", rf"a large `decay` of ({N})", code(W, "schedules = keras.optimizers.schedules", r"InverseTimeDecay\(0\.01, decay_steps=1, decay_rate=([\de.-]+)\)")),
    Claim(W, "By step 5000", rf"By step ({N}) the", lambda: list(range(*code(W, "schedules = keras.optimizers.schedules", r"np\.arange\((\d+), (\d+), (\d+)\)")()))[-1]),
    Claim(W, "By step 5000", rf"divided the rate by ({N})", lambda: round(1 + code(W, "schedules = keras.optimizers.schedules", r"decay_rate=([\de.-]+)\)")() * 5000)),
    Claim(W, "By step 5000", rf"by a factor of about ({N})", lambda: round((1 - 1e-3) ** -5000, -1)),
    Claim(W, "The check reads your optimizer's learning rate", rf"at steps ({N}, {N} and {N})", constant("workflow", "LEARNING_RATE_STEPS", tuple)),
    # 01
    Claim(C1, "Run the check. It draws", rf"draws up to ({N}) label arrays", default("to_categorical", "check_to_categorical")),
    Claim(C1, "## 4. Your labels, a real Keras model", rf"({N}) clusters of 2-D points",
          lambda: len(ast.literal_eval(grab_literal(C1, "centres = np.array(", r"centres = np\.array\((\[\[.*?\]\])\)")))),
    # 02
    Claim(D2, "The check draws up to", rf"draws up to ({N}) inputs", default("dense_activations", "check_relu")),
    Claim(D2, "The check draws up to", rf"adds ({N}) fixed ones", constant("dense_activations", "RELU_FIXED", len)),
    Claim(D2, "The check draws up to", rf"tries the ({N}) invalid arguments", output(D2, "check_relu(relu)", r"on all (\d+) invalid")),
    Claim(D2, "The picture: all", rf"all ({N}) kernel entries",
          lambda: math.prod(code(D2, "seed_model = keras.Sequential", r"Input\(shape=\((\d+),\)\), keras\.layers\.Dense\((\d+)")())),
    Claim(D2, "The picture: all", rf"`Dense\(({N})\)` on", code(D2, "seed_model = keras.Sequential", r"Input\(shape=\(\d+,\)\), keras\.layers\.Dense\((\d+)")),
    Claim(D2, "The picture: all", rf"on ({N}) inputs, as Keras", code(D2, "seed_model = keras.Sequential", r"Input\(shape=\((\d+),\)\)")),
    Claim(D2, "## 9. The Keras 2 tutorials' MLP", rf"here on ({N}) features", code(D2, "def clusters(n):", r"centres = rng\.normal\(scale=1\.0, size=\(\d+, (\d+)\)\)")),
    Claim(D2, "## 9. The Keras 2 tutorials' MLP", rf"signal: ({N}) Gaussian clusters", code(D2, "def clusters(n):", r"centres = rng\.normal\(scale=1\.0, size=\((\d+), \d+\)\)")),
    Claim(D2, "## 9. The Keras 2 tutorials' MLP", rf"clusters in ({N}) dimensions", code(D2, "def clusters(n):", r"centres = rng\.normal\(scale=1\.0, size=\(\d+, (\d+)\)\)")),
    Claim(D2, "Now the point of this notebook", rf"compares on ({N}) samples", output(D2, "check_predict_mlp_on_model(predict_mlp)", r"on (\d+) samples")),
    Claim(D2, "Now the point of this notebook", rf"its weights and ({N}) activations",
          lambda: len(ast.literal_eval(grab_literal(D2, "check_predict_mlp_on_model(predict_mlp)", r"(\[[^\]]*\])", output=True)))),
    # 03
    Claim(C3, "The check draws up to", rf"draws up to ({N}) cases", default("compile", "check_categorical_crossentropy")),
    Claim(C3, "The check draws up to", rf"then ({N}) inputs whose shapes", output(C3, "check_categorical_crossentropy(categorical_crossentropy)\n", r"on all (\d+) invalid inputs")),
    Claim(C3, "The check runs the real `keras.optimizers` class", rf"for\s+({N}) consecutive steps",
          lambda: (lambda s, q: s / q)(*output(C3, "check_sgd_step(sgd_step)\n", r"on (\d+) steps \((\d+) gradient sequences")())),
    Claim(C3, "A long, narrow valley", rf"is ({N}) times steeper", code(C3, "def valley(", r"0\.5 \* \(w0 \*\* 2 \+ (\d+) \* w1 \*\* 2\)")),
    Claim(C3, "A long, narrow valley", rf"takes ({N}) steps of", output(C3, "def valley(", r"loss after (\d+) steps")),
    # 04
    Claim(F4, "To see the batches `fit` makes", rf"({N}) samples with `batch_size", output(F4, "class RecordBatchSizes", r"batch sizes, (\d+) samples")),
    Claim(F4, "To see the batches `fit` makes", rf"`batch_size=({N})` give", output(F4, "class RecordBatchSizes", r"batch_size=(\d+):")),
    Claim(F4, "To see the batches `fit` makes", rf"batches of ({N}, {N} and {N}):", output(F4, "class RecordBatchSizes", r"batch_size=\d+: \[([\d, ]+)\]")),
    Claim(F4, "*Is the last, smaller batch dropped?*", rf"No: ({N}) samples", output(F4, "class RecordBatchSizes", r"batch sizes, (\d+) samples")),
    Claim(F4, "*Is the last, smaller batch dropped?*", rf"batches of ({N}, {N} and {N})\.", output(F4, "class RecordBatchSizes", r"batch_size=\d+: \[([\d, ]+)\]")),
    Claim(F4, "The first check trains with SGD", rf"on ({N}) samples", lambda: len(fit_case("sgd").args[0])),
    Claim(F4, "The first check trains with SGD", rf"\(batches of ({N}) and a partial", lambda: fit_case("sgd").kwargs["batch_size"]),
    Claim(F4, "The first check trains with SGD", rf"`validation_split=({N})`", lambda: fit_case("sgd").kwargs["validation_split"]),
    Claim(F4, "The first check trains with SGD", rf"for ({N}) epochs", lambda: fit_case("sgd").kwargs["epochs"]),
    Claim(F4, "Adam (batches of", rf"batches of ({N} and {N}) here",
          lambda: batch_sizes(len(fit_case("adam").args[0]), fit_case("adam").kwargs["batch_size"])),
    Claim(F4, "Two interleaved half-moons", rf"the last ({N}) %",
          lambda: round(100 * code(F4, "x_moons = np.column_stack", r"validation_split=([\d.]+)")())),
    # 05
    Claim(R5, "Random output cannot be compared", rf"within ({N})\s+binomial standard deviations", constant("regularizers", "SIGMAS")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"The data: ({N}) training samples", code(R5, "def make_data(n):", r"make_data\((\d+)\), make_data")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"samples with ({N}) features", code(R5, "def make_data(n):", r"n_features = (\d+)")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"only ({N}) matter", code(R5, "def make_data(n):", r"w_true\[:(\d+)\]")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"a ({N})-unit network", code(R5, "def make_data(n):", r"keras\.layers\.Dense\((\d+), activation=\"relu\"")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"with `L2\(({N})\)` on both", code(R5, "def make_data(n):", r"keras\.regularizers\.L2\(([\d.]+)\)")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"`Dropout\(({N})\)` after", code(R5, "def make_data(n):", r"keras\.layers\.Dropout\(([\d.]+)\)")),
    Claim(R5, "## 7. Overfitting, and its cure", rf"`EarlyStopping\(patience=({N})", code(R5, "def make_data(n):", r"patience, max_epochs = (\d+), \d+")),
    Claim(R5, "Left: the training loss races", rf"of\s+its ({N}) samples", code(R5, "def make_data(n):", r"make_data\((\d+)\), make_data")),
    Claim(R5, "Left: the training loss races", rf"waited ({N}) epochs after the best", output(R5, "yours = early_stopping_epoch(", r"(\d+) epochs after the best one: True")),
    # 06
    Claim(S6, "Read the tree carefully", rf"state is ({N}) as large as the weights",
          lambda: (lambda w, s: (s - 2) / w)(*output(S6, "def meaning(name):", r"weights: (\d+) numbers.*optimizer state: (\d+) numbers")())),
    Claim(S6, "Read the tree carefully", rf"plus ({N}) numbers \(the step counter",
          lambda: (lambda w, s: s - 2 * w)(*output(S6, "def meaning(name):", r"weights: (\d+) numbers.*optimizer state: (\d+) numbers")())),
    Claim(S6, "`config.json` describes the model", rf"`batch_shape` is `\[None, ({N})\]`", output(S6, "small_path = in_folder(", r"input=\[None, (\d+)\]")),
    Claim(S6, "The check saves", rf"The check saves ({N}) models", output(S6, "check_read_keras_file(read_keras_file)\n", r"on (\d+) inputs")),
    Claim(S6, "The check saves", rf"one with ({N}) Dense layers", constant("save_load", "READ_CASES", lambda cases: len(cases[-1].args[1]))),
    Claim(S6, "broken files. The check builds", rf"Now the ({N}) broken files", output(S6, "check_read_keras_file_rejects(read_keras_file)\n", r"on all (\d+) bad files")),
    Claim(S6, "broken files. The check builds", rf"Now the ({N}) broken files", constant("save_load", "VISIBLE_BAD_FILES", len)),
    Claim(S6, "## 9. A real model", rf"a linear function of ({N}) features", code(S6, "def create_data(count):", r"param_count = (\d+)")),
    # 07
    Claim(K7, "The check compares your loops", rf"up to ({N}) drawn ones", default("cnn", "check_conv2d_loops")),
    Claim(K7, "The check first runs one input per rule", rf"then up to ({N}) drawn inputs", default("cnn", "check_conv2d")),
    Claim(K7, "The check runs a scaled-down VGG-like convnet", rf"up to ({N}) small drawn networks", default("cnn", "check_predict_cnn")),
    Claim(K7, "The table is what Keras reports", rf"for `n = ({N})` and", code(K7, "for padding in (\"valid\", \"same\"):", r"x7, x6 = np\.zeros\(\(1, (\d+),")),
    Claim(K7, "The table is what Keras reports", rf"and `n = ({N})` with", code(K7, "for padding in (\"valid\", \"same\"):", r"np\.zeros\(\(1, (\d+), \d+, 1\), \"float32\"\)\n")),
    Claim(K7, "Where does the odd zero go?", rf"Take a ({N})×\d+ image of ones", code(K7, "ones = keras.layers.Conv2D(", r"np\.ones\(\(1, (\d+), \d+, 1\)")),
    Claim(K7, "Where does the odd zero go?", rf"and a ({N})×\d+ kernel of ones", code(K7, "ones = keras.layers.Conv2D(", r"Conv2D\(1, \((\d+), \d+\)")),
    Claim(K7, "The same convolution three ways", rf"on ({N}) images of", code(K7, "def best_time(", r"images = rng\.normal\(size=\((\d+), \d+, \d+, \d+\)\)")),
    Claim(K7, "The same convolution three ways", rf"images of ({N})×\d+×\d+ pixels", code(K7, "def best_time(", r"images = rng\.normal\(size=\(\d+, (\d+), \d+, \d+\)\)")),
    Claim(K7, "The same convolution three ways", rf"with ({N}) filters of", code(K7, "def best_time(", r"kernel = rng\.normal\(size=\(\d+, \d+, \d+, (\d+)\)\)")),
    Claim(K7, "The loops make (at least) one small NumPy call", rf"each of the ({N} × {N} × {N} × {N}) output numbers",
          lambda: _conv_output_shape()),
    Claim(K7, "ten classes", rf"({N}) classes\s+of shapes",
          lambda: len(ast.literal_eval(grab_literal(K7, "SHAPE_NAMES = (", r"SHAPE_NAMES = (\(.*?\))\n")))),
    Claim(K7, "The model is the tutorial's, scaled down", rf"\(({N}) and {N} filters", code(K7, "vgg = keras.Sequential", r"L\.Conv2D\((\d+), \(3, 3\)")),
    Claim(K7, "The model is the tutorial's, scaled down", rf"\({N} and ({N}) filters", code(K7, "vgg = keras.Sequential", r"L\.MaxPooling2D.*?L\.Conv2D\((\d+), \(3, 3\)")),
    Claim(K7, "The model is the tutorial's, scaled down", rf"({N}) dense units instead", code(K7, "vgg = keras.Sequential", r"L\.Dense\((\d+), activation=\"relu\"\)")),
    Claim(K7, "The model is the tutorial's, scaled down", rf"the learning rate is ({N}) instead", code(K7, "vgg = keras.Sequential", r"InverseTimeDecay\(([\d.]+), decay_steps")),
    Claim(K7, "The model is the tutorial's, scaled down", rf"so that\s+({N}) epochs suffice", code(K7, "vgg = keras.Sequential", r"epochs=(\d+), verbose=0")),
    Claim(K7, "What did the first layer learn?", rf"Each of its ({N}) filters", output(K7, "kernel0, bias0 = vgg.layers[0]", r"feature maps: \(1, \d+, \d+, (\d+)\)")),
    Claim(K7, "What did the first layer learn?", rf"the ({N}) feature maps of one", output(K7, "kernel0, bias0 = vgg.layers[0]", r"feature maps: \(1, \d+, \d+, (\d+)\)")),
    Claim(K7, "Keras's layers on one sequence of", rf"one sequence of ({N}) steps", output(K7, "sequence = np.random.default_rng(8)", r"input:\s+\(1, (\d+), \d+\)")),
    Claim(K7, "Keras's layers on one sequence of", rf"steps with ({N}) channels", output(K7, "sequence = np.random.default_rng(8)", r"input:\s+\(1, \d+, (\d+)\)")),
    Claim(K7, "## 10. The 1-D sequence classifier", rf"each sequence has ({N}) steps", code(K7, "def make_sequences(", r"steps=(\d+), channels")),
    Claim(K7, "## 10. The 1-D sequence classifier", rf"steps of ({N}) noisy channels", code(K7, "def make_sequences(", r"channels=(\d+), seed")),
    # 08
    Claim(L8, "The Keras 2 tutorials stack", rf"tutorials stack ({N}) LSTMs", lambda: cell_with(L8, "data_dim, timesteps, num_classes = ", "code").source.count("keras.layers.LSTM(")),
    Claim(L8, "The check compares with a Keras `Sequential` of that shape", rf"on ({N}) layouts", constant("lstm", "STACKED_CONFIGS", len)),
    Claim(L8, "Now the real thing", rf"Each of the ({N}) classes", code(L8, "data_dim, timesteps, num_classes = ", r"data_dim, timesteps, num_classes = \d+, \d+, (\d+)")),
    Claim(L8, "Now the real thing", rf"of shape `\(({N}), {N}\)`", code(L8, "data_dim, timesteps, num_classes = ", r"data_dim, timesteps, num_classes = \d+, (\d+), \d+")),
    Claim(L8, "Now the real thing", rf"of shape `\({N}, ({N})\)`", code(L8, "data_dim, timesteps, num_classes = ", r"data_dim, timesteps, num_classes = (\d+), \d+, \d+")),
    Claim(L8, "Statefulness only helps", rf"Each of ({N}) long streams", code(L8, "def make_streams(", r"streams, chunk_len, n_chunks, vocab, marker_rate = (\d+),")),
    Claim(L8, "Statefulness only helps", rf"\(symbols ({N}) to", code(L8, "def make_streams(", r"rng\.integers\((\d+), vocab")),
    Claim(L8, "Statefulness only helps", rf"\(symbols {N} to ({N})\)", lambda: code(L8, "def make_streams(", r"= \d+, \d+, \d+, (\d+),")() - 1),
    Claim(L8, "Statefulness only helps", rf"a chunk of ({N}) symbols", code(L8, "def make_streams(", r"marker_rate = \d+, (\d+),")),
    Claim(L8, "Statefulness only helps", rf"of all ({N}) streams", code(L8, "def make_streams(", r"marker_rate = (\d+),")),
    Claim(L8, "Finally, look inside the cell", rf"a large constant \(({N})\)", code(L8, "def gates_from_step(", r"= 0\.0, 0\.0, ([\d.]+)")),
    # 09: the shapes of the demonstrations, the training check's run, the longer demo run
    Claim(K9, "`same` with stride 2 gives", rf"`out \(({N}), ({N}), ({N}), ({N})\)`", output(K9, 'layer = keras.layers.Conv2D(4, (3, 3), strides=2, padding="same")', r"out \((\d+), (\d+), (\d+), (\d+)\)")),
    Claim(K9, "`same` with stride 2 gives", rf"`ceil\(({N})/{N}\) × ceil\(({N})/{N}\)`", code(K9, 'layer = keras.layers.Conv2D(4, (3, 3), strides=2, padding="same")', r"size=\(\d+, (\d+), (\d+), \d+\)")),
    Claim(K9, "`same` with stride 2 gives", rf"`ceil\({N}/({N})\) × ceil\({N}/({N})\)`", lambda: (code(K9, 'layer = keras.layers.Conv2D(4, (3, 3), strides=2, padding="same")', r"strides=(\d+), padding")(),) * 2),
    Claim(K9, "**What to look for.** Eight gradients", rf"({N}) gradients, in", lambda: output_text(cell_with(K9, "gradient_problem(0, n=4)", "code")).splitlines()[-1].count("(")),
    Claim(K9, "**What to look for.** Eight gradients", rf"each of the ({N})\s+weighted", lambda: printed_lines(K9, "gradient_problem(0, n=4)", "  conv2d")() + printed_lines(K9, "gradient_problem(0, n=4)", "  dense")()),
    Claim(K9, "The check trains a Keras model", rf"({N}) images in batches of", lambda: len(train_case_09("momentum").args[0])),
    Claim(K9, "The check trains a Keras model", rf"images in batches of ({N})", lambda: train_case_09("momentum").kwargs["batch_size"]),
    Claim(K9, "The check trains a Keras model", rf"last batch\), ({N}) epochs", lambda: train_case_09("momentum").kwargs["epochs"]),
    Claim(K9, "Here is a longer run", rf"the same ({N}) images", code(K9, "gradient_problem(5, n=48", r"n=(\d+)")),
    Claim(K9, "Here is a longer run", rf"({N}) epochs of Adam", code(K9, "gradient_problem(5, n=48", r"epochs=(\d+)\)")),
    Claim(K9, "Adam steps (", rf"after ({N}) Adam steps", optimizer_steps(K9, "gradient_problem(5, n=48")),
    Claim(K9, "Adam steps (", rf"Adam steps \(({N}) batches", lambda: optimizer_steps(K9, "gradient_problem(5, n=48")() // code(K9, "gradient_problem(5, n=48", r"epochs=(\d+)\)")()),
    Claim(K9, "Adam steps (", rf"batches × ({N}) epochs\)", code(K9, "gradient_problem(5, n=48", r"epochs=(\d+)\)")),
    Claim(K9, "The dotted black curves run inside", rf"for all ({N}) epochs", code(K9, "gradient_problem(5, n=48", r"epochs=(\d+)\)")),
    # 10: the training check's run, the longer demo run, the gradient through time
    Claim(B10, "The check trains a Keras model", rf"({N}) samples in batches of", lambda: len(train_case_10("stateless").args[0])),
    Claim(B10, "The check trains a Keras model", rf"samples in batches of ({N})", lambda: train_case_10("stateless").kwargs["batch_size"]),
    Claim(B10, "The check trains a Keras model", rf"last batch\), ({N}) epochs", lambda: train_case_10("stateless").kwargs["epochs"]),
    Claim(B10, "Here is a longer run", rf"the same ({N}) sequences", code(B10, "sequence_problem(7, n=64", r"n=(\d+)")),
    Claim(B10, "Here is a longer run", rf"({N}) epochs of SGD", code(B10, "sequence_problem(7, n=64", r"epochs=(\d+)\)")),
    Claim(B10, "after 48 optimizer steps", rf"after ({N}) optimizer steps", optimizer_steps(B10, "sequence_problem(7, n=64")),
    Claim(B10, "Two `True`s: 40 steps back", rf"True`s: ({N}) steps back", code(B10, "def gradient_through_time(", r"steps=(\d+)")),
]


def grab_literal(name, anchor, pattern, output=False):
    cell = cell_with(name, anchor, "code")
    text = output_text(cell) if output else cell.source
    match = re.search(pattern, text, re.S)
    assert match, f"{pattern!r} not in {anchor!r}"
    return match.group(1)


def _conv_output_shape():
    b, h, w, _ = code(K7, "def best_time(", r"images = rng\.normal\(size=\((\d+), (\d+), (\d+), (\d+)\)\)")()
    kh, kw, _, f = code(K7, "def best_time(", r"kernel = rng\.normal\(size=\((\d+), (\d+), (\d+), (\d+)\)\)")()
    return (b, h - kh + 1, w - kw + 1, f)


def same(a, b):
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9) for x, y in zip(a, b))


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_the_text_quotes_the_code(claim):
    quoted, actual = claim.quoted(), claim.actual()
    assert same(quoted, actual), f"{claim.notebook}: the text says {quoted}, the code/output gives {actual}"


def perturbed(claim):
    """The claim's markdown with the last number it quotes changed (a word becomes digits): the text now says
    something the code does not."""
    text = claim.markdown()
    match = re.search(claim.pattern, text, re.S)
    start, end = match.span(1)
    tokens = list(TOKEN.finditer(text, start, end))
    last = tokens[-1]
    new = str(numbers(last.group()) + 1)
    return text[:last.start()] + new + text[last.end():]


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.id)
def test_each_claim_can_fail(claim):
    assert not same(claim.quoted(perturbed(claim)), claim.actual())


def test_claims_cover_every_notebook():
    assert {claim.notebook for claim in CLAIMS} == set(NAMES)


# --- wording -------------------------------------------------------------------------------------------------

MENU = "*Kernel → Restart Kernel and Run All Cells…*"


HOW_TO_WORK = "../00_workflow/00_workflow.ipynb#How-to-work"


def how_to_work_section():
    found = [c for c in notebook(W).cells if c.cell_type == "markdown" and c.source.startswith("## How to work\n")]
    assert len(found) == 1, "notebook 00 has one '## How to work' section"
    return " ".join(found[0].source.split())  # Markdown renders a line break as a space


def test_how_to_work_names_jupyterlab_4s_menu_item_and_both_ways_to_validate():
    section = how_to_work_section()
    assert MENU in section
    assert "click **Validate** in the notebook's toolbar" in section
    assert "`python -m autograder.tools.validate NOTEBOOK.ipynb` in a terminal" in section


@pytest.mark.parametrize("name", [n for n in NAMES if n != W])
def test_how_to_work_is_said_once_and_linked(name):
    intro = " ".join(notebook(name).cells[0].source.split())
    assert f"[00 · How to work]({HOW_TO_WORK})" in intro
    assert f"`python -m autograder.tools.validate {name}.ipynb`" in intro
    assert not any(MENU in cell.source for cell in notebook(name).cells), "the long text lives in notebook 00"


@pytest.mark.parametrize("name", NAMES)
def test_no_old_menu_item_or_bare_nbgrader_validate(name):
    for cell in notebook(name).cells:
        assert "Restart & Run All" not in cell.source
        if cell.cell_type == "markdown":
            assert "nbgrader validate" not in cell.source


# Random seeds keep their name ("seeds Python", "a seeded generator", "the same seed"); the Keras 2 tutorials
# the course grew from are never "the seed(s)".
SEED_AS_RANDOM = re.compile(r"seeds Python|\bseeded\b|fixed seed|same seed|data's seed|`seed_\w+\(\)`")
# The possessives first: "seed's" is one word, not "seed" followed by "'s".
SEED_WORD = re.compile(r"\bseed's|\bseeds'|\bseeds?\b", re.I)


@pytest.mark.parametrize("name", NAMES)
def test_text_calls_the_sources_the_keras_2_tutorials(name):
    for index, cell in enumerate(notebook(name).cells):
        if cell.cell_type != "markdown":
            continue
        left = SEED_AS_RANDOM.sub("", cell.source)
        assert not SEED_WORD.search(left), f"{name} cell {index}: {cell.source[:200]}"


def test_the_seed_rule_can_fail():
    left = SEED_AS_RANDOM.sub("", "The seed's network, as the seeds use it; setup_notebook() seeds Python.")
    assert SEED_WORD.findall(left) == ["seed's", "seeds"]


# --- compared outputs hold everywhere ---------------------------------------------------------------------------

# A decimal number, whole: not part of a version ("keras_version: 3.15.1") or of a longer word.
DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e-?\d+)?(?!\w|\.\d)")


def unexplained_decimals(cell):
    """Decimal numbers a cell that trains a model prints, other than those written in its own source (such as
    "guessing would give about 0.10"). A figure from training differs between machines; such a cell prints
    claims ("above 0.9: True") or is excluded from nbval's comparison."""
    if "NBVAL_IGNORE_OUTPUT" in cell.source or "nbval-ignore-output" in cell.metadata.get("tags", []):
        return []
    return [n for n in DECIMAL.findall(output_text(cell)) if n not in cell.source]


# A decimal a training cell may print because it does not come from training: the learning rate the schedule
# gives after a fixed number of updates.
NOT_FROM_TRAINING = {(W, "after {updates} updates the learning rate is"): {"0.009997"}}


@pytest.mark.parametrize("name", NAMES)
def test_cells_that_train_print_no_figures_from_training(name):
    for index, cell in enumerate(notebook(name).cells):
        if cell.cell_type != "code" or ".fit(" not in cell.source:
            continue
        allowed = set().union(*[v for (nb, anchor), v in NOT_FROM_TRAINING.items() if nb == name and anchor in cell.source])
        found = [n for n in unexplained_decimals(cell) if n not in allowed]
        assert found == [], f"{name} cell {index} prints {found} from training: print a claim instead"


def test_the_training_rule_can_fail():
    cell = nbformat.v4.new_code_cell('model.fit(x, y)\nprint(f"test accuracy: {acc:.2f} (guessing gives about 0.10)")')
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="test accuracy: 0.93 (guessing gives about 0.10)\n")]
    assert unexplained_decimals(cell) == ["0.93"]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="keras_version: 3.15.1; loss 0.27.\n")]
    assert unexplained_decimals(cell) == ["0.27"]


# --- rhythm: the notebooks read like keras.io guides -----------------------------------------------------------

DEMO_LINES = 20
DRAWS = re.compile(r"\bplt\.|\.imshow\(|\.plot\(")
TRAINS = re.compile(r"\.fit\(")


def is_demo(cell):
    return cell.cell_type == "code" and "demo" in cell.metadata.get("tags", [])


def headings_inside(source):
    lines, fenced = [], False
    for number, line in enumerate(source.splitlines()):
        fenced ^= line.startswith("```")
        if not fenced and number > 0 and re.match(r"#{1,6} ", line):
            lines.append(line)
    return lines


@pytest.mark.parametrize("name", NAMES)
def test_a_heading_opens_its_cell(name):
    inside = [h for cell in notebook(name).cells if cell.cell_type == "markdown" for h in headings_inside(cell.source)]
    assert not inside, f"{name}: headings in the middle of a cell: {inside}"


def test_the_heading_rule_can_fail():
    assert headings_inside("Some text.\n\n## 2. Next part") == ["## 2. Next part"]
    assert headings_inside("## 1. A part\n```python\n# a comment\n```") == []


@pytest.mark.parametrize("name", NAMES)
def test_each_demonstration_says_what_to_look_for(name):
    cells = notebook(name).cells
    bare = [cells[k].source.splitlines()[0] for k in range(len(cells)) if is_demo(cells[k]) and not (
        k + 1 < len(cells) and cells[k + 1].cell_type == "markdown"
        and cells[k + 1].source.startswith("**What to look for.**"))]
    assert not bare, f"{name}: demonstrations with no 'What to look for' after them, starting {bare}"


@pytest.mark.parametrize("name", NAMES)
def test_demonstrations_are_short_and_compute_apart_from_plotting(name):
    demos = [cell.source for cell in notebook(name).cells if is_demo(cell)]
    assert demos, f"{name} has demonstrations"
    long = [d.splitlines()[0] for d in demos if len(d.splitlines()) > DEMO_LINES]
    mixed = [d.splitlines()[0] for d in demos if DRAWS.search(d) and TRAINS.search(d)]
    assert not long, f"{name}: demo cells longer than {DEMO_LINES} lines, starting {long}"
    assert not mixed, f"{name}: demo cells that both train and plot, starting {mixed}"
