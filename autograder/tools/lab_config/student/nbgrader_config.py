"""nbgrader settings of the student's Lab (`python -m autograder.tools.lab` puts this folder on JUPYTER_CONFIG_PATH).

They apply where nbgrader runs from that Lab: the notebook toolbar's Validate button and `nbgrader validate` in
one of its terminals. The Lab's server runs in the workspace, so the course's nbgrader_config.py (repository root,
the instructor's) is not read there: what validating needs of it is here. Not in the instructor's Lab:
`nbgrader autograde` starts its sandboxed kernels its own way.
"""
c = get_config()  # noqa: F821 (provided by nbgrader)

# Each cell as long as when the notebook is graded (the course's nbgrader_config.py; autograder/tools/validate.py).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# The kernel that runs a notebook to validate it encrypts its sockets like the Lab's kernels
# (jupyter_server_config.py), so ipykernel does not warn about TCP without encryption.
c.KernelManager.transport_encryption = "auto"
