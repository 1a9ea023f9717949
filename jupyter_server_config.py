"""JupyterLab settings of the course, for the student's and the instructor's Lab alike.

`python -m autograder.tools.lab` starts `jupyter lab --config=jupyter_server_config.py`; what differs between the two
Labs (which nbgrader tools they show) is in autograder/tools/lab_config/ (see autograder/tools/lab.py).
"""
import os
import shutil
import sys

c = get_config()  # noqa: F821 (provided by Jupyter)

# Containers and CI machines often run as root; the server still listens on localhost with a token.
c.ServerApp.allow_root = True

# No hidden network requests. The extension manager would query PyPI whenever it is opened; JupyterLab would
# fetch its news feed (https://jupyterlab.github.io/assets/feed.xml) and PyPI's latest version. The question
# "get notified about official Jupyter news?" comes from a Lab plugin, turned off in
# autograder/tools/lab_config/common/labconfig/page_config.json.
c.LabApp.extension_manager = "readonly"
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"

# Kernels: CurveZMQ encryption of their TCP sockets (jupyter_client provisions the keys when the kernelspec
# declares support, as ipykernel's does); unencrypted, any local user could read what a kernel sends, and
# ipykernel warns about it on every start. (Unix sockets, KernelManager.transport = "ipc", would avoid TCP
# altogether but fail to start any kernel when the path of Jupyter's runtime folder is long: a socket path has
# at most 107 bytes.)
c.KernelManager.transport_encryption = "auto"

# No websocket keep-alive pings. jupyter_server hands its ping interval and timeout (30000 and 90000, meant as
# milliseconds) to tornado, which reads seconds and, since tornado 6.5, warns on the first websocket (every
# notebook and terminal uses one) that the timeout may not exceed the interval (jupyter_server issue #1612).
# The same two numbers drive jupyter_server's own pings, which need the timeout above the interval: no pair
# satisfies both. Pings keep connections through proxies alive; this Lab is on localhost.
c.ServerApp.tornado_settings = {"ws_ping_interval": 0}

if os.name == "posix":
    # A terminal keeps this Python's environment first on PATH (its bin folder; the venv's). Jupyter would start
    # a login shell whenever its own output is not a terminal, and a login shell reads /etc/profile, which on
    # Debian sets PATH from scratch; bash also reads ~/.bashrc, which may put pyenv's or conda's Python first, so
    # bash gets autograder/tools/lab_config/common/terminal.bashrc: ~/.bashrc, then the venv's activate script.
    # Without $SHELL (containers, CI) the terminal is bash where there is one: Debian's sh is dash, which a
    # student would not expect (no history, no completion).
    os.environ["KBH_LAB_BIN"] = os.path.dirname(sys.executable)
    shell = os.environ.get("SHELL") or shutil.which("bash") or shutil.which("sh") or "/bin/sh"
    rcfile = os.path.join(os.path.dirname(os.path.abspath(__file__)), "autograder", "tools", "lab_config", "common",
                          "terminal.bashrc")
    if os.path.basename(shell) == "bash" and os.path.isfile(rcfile):
        c.ServerApp.terminado_settings = {"shell_command": [shell, "--rcfile", rcfile]}
    else:
        c.ServerApp.terminado_settings = {"shell_command": [shell]}
