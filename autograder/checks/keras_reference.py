"""What every topic's references share: Keras imported late, built Keras layers kept per configuration, and the
NumPy activations the known mistakes are computed with (never shown to students).

Keras is imported inside `keras()`, not at module import, so that importing a topic (and the notebook's setup
cell) stays fast and TensorFlow starts only when a check first needs a reference.
"""
import numpy as np


def keras():
    """The `keras` module, imported on first use."""
    import keras as keras_module

    return keras_module


_LAYERS = {}
MAX_LAYERS = 256  # one notebook's checks build far fewer; the cap only bounds memory in long test sessions


def built_layer(key, make):
    """A built Keras layer (or model) for `key`, made by `make()` once and reused: creating and building one costs
    ~10 ms, giving it new weights with set_weights and calling it ~1 ms. `key` must name everything `make`
    depends on (class, configuration, input shape, dtype); a topic prefixes it with its own name."""
    if key not in _LAYERS:
        if len(_LAYERS) >= MAX_LAYERS:
            _LAYERS.clear()
        _LAYERS[key] = make()
    return _LAYERS[key]


def sigmoid(z):
    """1 / (1 + exp(-z)) in float64; overflow of exp for very negative z gives 0, silently."""
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def softmax(z, axis=-1):
    """Softmax along `axis` in float64, shifted by the maximum so that exp never overflows."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)
