"""Wrong answers for 07_cnn: four mistakes students really make, one per rule (each costs a full autograde run
in the pipeline test, so only a few): a flipped kernel (a true convolution instead of Keras's cross-correlation),
max pooling with strides of 1 when strides=None (Keras uses strides = pool_size), Flatten in channels-first order,
and the odd extra zero of padding='same' put before the sequence instead of after.

predict_cnn calls the learner's own layers, so each of these mistakes also costs both predict_cnn cells: the
visible and hidden predict_cnn cases are chosen so that every one of these rules matters there. The other named
mistakes of autograder/topics/cnn.py are covered, without a full autograde, by tests/test_topic_cnn.py.
"""
from wrong_answers import WrongAnswer

ASSIGNMENT = "07_cnn"

PREDICT = {"predict_cnn_check", "predict_cnn_hidden"}

WRONG_ANSWERS = [
    WrongAnswer("conv2d-flipped-kernel", "conv2d_answer",
                "np.tensordot(windows, kernel, axes=", "np.tensordot(windows, kernel[::-1, ::-1], axes=",
                frozenset({"conv2d_check", "conv2d_hidden"} | PREDICT)),
    WrongAnswer("max-pooling2d-strides-default-1", "max_pooling2d_answer",
                "strides = (ph, pw)", "strides = (1, 1)",
                frozenset({"max_pooling2d_check", "max_pooling2d_hidden"} | PREDICT)),
    WrongAnswer("flatten-channels-first", "flatten_answer",
                "return x.reshape(x.shape[0], -1)", "return np.moveaxis(x, -1, 1).reshape(x.shape[0], -1)",
                frozenset({"flatten_check", "flatten_hidden"} | PREDICT)),
    WrongAnswer("conv1d-same-extra-before", "conv1d_answer",
                "[(0, 0), (total // 2, total - total // 2), (0, 0)]",
                "[(0, 0), (total - total // 2, total // 2), (0, 0)]",
                frozenset({"conv1d_check", "conv1d_hidden"} | PREDICT)),
]
