# The startup file of bash in a terminal of the course's JupyterLab (jupyter_server_config.py): your own
# ~/.bashrc first, then the Lab's Python environment first on PATH, as `source .venv/bin/activate` does, so that
# `python`, `pip` and `nbgrader` are the course's even when ~/.bashrc puts pyenv, conda or another Python first.
if [ -f ~/.bashrc ]; then . ~/.bashrc; fi
if [ -f "$KBH_LAB_BIN/activate" ]; then
    . "$KBH_LAB_BIN/activate"
elif [ -n "$KBH_LAB_BIN" ]; then
    PATH="$KBH_LAB_BIN:$PATH"
    hash -r
fi
