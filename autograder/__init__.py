"""Keras by Hand: the checks behind every notebook and the grading pipeline.

Importing this package never imports TensorFlow; it only makes sure that, when TensorFlow is imported later,
its C++ logging stays quiet (nbgrader scores a test cell zero when it writes to stderr).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# On CPUs with AVX-512, TensorFlow announces its oneDNN kernels on stderr at import whatever the log level, and
# their results depend on the CPU; the plain kernels are quiet and the same everywhere.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from autograder.checks.errors import CheckFailed  # noqa: E402
from autograder.checks.notebook_setup import setup_notebook  # noqa: E402

__all__ = ["CheckFailed", "setup_notebook"]
