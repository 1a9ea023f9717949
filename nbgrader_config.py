"""nbgrader configuration for Keras by Hand (the course root is the repository root)."""
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "keras-by-hand"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", ".hypothesis"]

# A notebook trains small Keras models; no single cell may take longer than this.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Feedback goes to students: strip hidden tests from test cells and the tracebacks that would quote them.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.nbgrader_plugins.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# Autograde runs each student's notebook in the grading sandbox (autograder/sandbox.py: bubblewrap, no network,
# its own scratch folder, an unprivileged uid, limits on CPU time, memory, processes and file size), and a
# notebook that crashes its kernel, loops or floods its output keeps the points it earned without stopping the
# batch (autograder.nbgrader_plugins.ContainedExecute). If the sandbox cannot be built grading stops;
# KBH_UNSANDBOXED=1 grades without it (unsafe; a warning is printed). nbgrader validate is not sandboxed.
c.Autograde.autograde_preprocessors = [
    "autograder.nbgrader_plugins.ContainedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.ContainedExecute.notebook_timeout = 1800          # seconds per notebook (c.Execute.timeout is per cell)
c.SandboxedKernelManager.cpu_seconds = 3600         # CPU seconds per notebook, all threads (raise on many cores)
c.SandboxedKernelManager.memory_mb = 2048           # a TensorFlow kernel needs ~0.6 GB
c.SandboxedKernelManager.processes = 512            # processes + threads of the sandbox uid
c.SandboxedKernelManager.file_mb = 64               # largest file a notebook may write
