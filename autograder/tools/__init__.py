"""The course's tools: its JupyterLab, nbgrader's apps and release/ (`course`), validation before submitting,
timing, the benchmark and the pre-install Python check."""
