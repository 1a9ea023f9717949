"""One module per notebook: the Keras references, inputs and known mistakes for that topic's exercises."""
