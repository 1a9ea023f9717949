"""nbgrader configuration for Keras by Hand (the course root is the repository root)."""
import os

import autograder
import nbgrader

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

# Feedback goes to students (feedback/<student>/<assignment>/<nb>.html, a page that works offline): above the
# notebook a summary of each exercise, its points and, where a check failed, the named mistake in plain words
# (FeedbackSummary reads the checks' records before DropCheckRecords removes them); hidden test source and the
# tracebacks that would quote it stripped (HideHiddenTests); demo cells, which grading does not run, folded under
# one line instead of an empty output; formulas drawn as SVG by matplotlib's mathtext instead of MathJax from a
# CDN (OfflineMath). The page's template is autograder/grading/feedback_template/kbh_feedback (it extends nbgrader's).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "autograder.grading.preprocessors.FeedbackSummary",
    "autograder.grading.preprocessors.HideHiddenTests",
    "autograder.grading.preprocessors.DropCheckRecords",
    "autograder.grading.preprocessors.FeedbackDemoCells",
    "autograder.grading.preprocessors.OfflineMath",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# What a failed *hidden* check shows in the feedback (visible checks always show their whole note):
#   "note"      the note the student's notebook would show: heading, message with the failing input, hint (default)
#   "message"   the heading, the message's first line with the failing call's arguments cut
#               (`to_categorical(...) raised IndexError: ...`) and the named mistake, if any
#   "pass_fail" only the heading, "✗ to_categorical is not right yet"; the summary names no mistake for it either
c.HideHiddenTests.reveal = "note"
# The page's template, for generate_feedback only (scoped to it: nbgrader's API sets HTMLExporter.template_name
# = "feedback" for the formgrader's button and grade_class, and the formgrader's other pages keep theirs).
c.GenerateFeedback.HTMLExporter.template_name = "kbh_feedback"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    os.path.join(os.path.dirname(os.path.abspath(autograder.__file__)), "grading", "feedback_template")]
_formgrader = os.path.join(os.path.dirname(os.path.abspath(nbgrader.__file__)), "server_extensions", "formgrader")
c.GenerateFeedback.HTMLExporter.extra_template_paths = [  # nbgrader's: its feedback template, which ours extends,
    os.path.join(_formgrader, "templates"),                # and the bootstrap.min.css that template inlines
    os.path.join(_formgrader, "static", "node_modules", "bootstrap", "dist", "css"),
]

# Autograde splits each notebook (autograder/grading/checker.py): the student's code runs in a sandboxed answer kernel
# (autograder/grading/sandbox.py: bubblewrap, no network, its own scratch folder, an unprivileged uid, limits on CPU time,
# memory, processes and file size; TensorFlow hidden unless the answers are Keras code), the setup and test cells
# run in a separate trusted checker process that calls the student's functions with plain data. A notebook that
# crashes its kernel, loops or floods its output keeps the points it earned without stopping the batch. If the
# sandbox cannot be built grading stops; KBH_UNSANDBOXED=1 grades without it (unsafe; a warning is printed).
# nbgrader validate is not split or sandboxed: it runs the notebook top to bottom, as the student does.
c.Autograde.autograde_preprocessors = [
    "autograder.grading.preprocessors.SplitExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.SplitExecute.notebook_timeout = 1800              # seconds per notebook
c.SplitExecute.cell_timeout = 120                   # seconds per answer cell
c.SplitExecute.call_timeout = 60                    # seconds per call of a student's function by a check
c.SplitExecute.checker_notebooks = 50               # notebooks one checker process grades (TensorFlow imported once)
c.SandboxedKernelManager.cpu_seconds = 3600         # CPU seconds per notebook, all threads (raise on many cores)
c.SandboxedKernelManager.memory_mb = 2048           # a TensorFlow kernel needs ~0.6 GB
c.SandboxedKernelManager.processes = 512            # processes + threads of the sandbox uid
c.SandboxedKernelManager.file_mb = 64               # largest file a notebook may write
c.SandboxedKernelManager.disk_mb = 512              # all files a notebook writes together (a tmpfs, in memory)
