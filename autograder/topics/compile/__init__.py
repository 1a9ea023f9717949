"""Notebook 03 (`compile`): the checks its exercises call, from its two halves.

- `losses_metrics`: five losses and three metrics against `keras.losses.*` and `keras.metrics.*`;
- `optimizers`: four optimizer step functions against `keras.optimizers.*` over consecutive steps;
- `shared`: what the two have in common.
"""
from autograder.topics.compile.losses_metrics import (
    check_binary_accuracy, check_binary_crossentropy, check_categorical_accuracy, check_categorical_crossentropy,
    check_mean_absolute_error, check_mean_squared_error, check_sparse_categorical_accuracy,
    check_sparse_categorical_crossentropy)
from autograder.topics.compile.optimizers import (
    check_adagrad_step, check_adam_step, check_rmsprop_step, check_sgd_step)

__all__ = [
    "check_categorical_crossentropy", "check_sparse_categorical_crossentropy", "check_binary_crossentropy",
    "check_mean_squared_error", "check_mean_absolute_error",
    "check_categorical_accuracy", "check_sparse_categorical_accuracy", "check_binary_accuracy",
    "check_sgd_step", "check_rmsprop_step", "check_adam_step", "check_adagrad_step",
]
