"""`python -m autograder.tools.lab`: the student's workspace (copied from release/, never overwritten, --fresh keeps a
backup, bad input in one sentence) and the student's JupyterLab for real (no instructor tools, no news, kernels
and terminals on the venv, kernel sockets encrypted, nothing at WARNING level in the server log)."""
import asyncio
import datetime
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.tools import lab

NOW = datetime.datetime(2026, 12, 2, 9, 30, 5)
STUDENT_OFF = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
               "@jupyter/nbgrader:course-list", "@jupyter/nbgrader:assignment-list", "@jupyter/nbgrader:menu"]
NO_NEWS = "@jupyterlab/apputils-extension:announcements"


@pytest.fixture(autouse=True)
def own_jupyter_data(tmp_path, monkeypatch):
    """Jupyter's notary (signatures of trusted notebooks) in the test's folder, not the user's."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter-data"))


def notebook_text(text):
    """A small valid notebook (the same text gives the same file)."""
    cell = nbformat.v4.new_markdown_cell(text)
    cell.id = re.sub(r"\W", "-", text)
    return nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))


def trusted(path):
    from nbformat.sign import NotebookNotary
    notary = NotebookNotary()
    try:
        return notary.check_signature(nbformat.read(path, nbformat.NO_CONVERT))
    finally:
        notary.store.close()


def make_release(root, names=("a1", "a2")):
    release = Path(root) / "release"
    for name in names:
        add_assignment(release, name)
    return release


def add_assignment(release, name):
    (release / name).mkdir(parents=True)
    (release / name / f"{name}.ipynb").write_text(notebook_text(f"{name} v1"), encoding="utf-8")
    (release / name / "data.csv").write_text("x,y\n1,2\n", encoding="utf-8")


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(Path(root).rglob("*"))
            if p.is_file() and p.name != lab.MANIFEST}


# --- the workspace ----------------------------------------------------------------------------------------

def test_first_start_copies_every_assignment(tmp_path):
    release = make_release(tmp_path)
    copied, changed = lab.sync_workspace(tmp_path / "ws", release)
    assert tree(tmp_path / "ws") == tree(release)
    assert sorted(copied) == ["a1/a1.ipynb", "a1/data.csv", "a2/a2.ipynb", "a2/data.csv"] and changed == []
    assert (tmp_path / "ws" / lab.MANIFEST).is_file()
    assert trusted(tmp_path / "ws" / "a1" / "a1.ipynb") and trusted(tmp_path / "ws" / "a2" / "a2.ipynb")


def test_a_second_start_never_overwrites_and_says_what_changed_in_release(tmp_path):
    release, ws = make_release(tmp_path), tmp_path / "ws"
    lab.sync_workspace(ws, release)
    (ws / "a1" / "a1.ipynb").write_text("my work", encoding="utf-8")
    (ws / "a1" / "notes.txt").write_text("mine", encoding="utf-8")
    (release / "a2" / "a2.ipynb").write_text(notebook_text("a2 v2"), encoding="utf-8")   # a git pull
    copied, changed = lab.sync_workspace(ws, release)
    assert copied == [] and changed == ["a2/a2.ipynb"]
    assert (ws / "a1" / "a1.ipynb").read_text(encoding="utf-8") == "my work"
    assert (ws / "a1" / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (ws / "a2" / "a2.ipynb").read_text(encoding="utf-8") == notebook_text("a2 v1")


def test_an_assignment_added_to_release_later_is_copied_on_the_next_start(tmp_path):
    release, ws = make_release(tmp_path, ["a1"]), tmp_path / "ws"
    lab.sync_workspace(ws, release)
    (ws / "a1" / "a1.ipynb").write_text("my work", encoding="utf-8")
    add_assignment(release, "a3")
    (release / "a1" / "extra.npz").write_bytes(b"new file of an old assignment")
    copied, _ = lab.sync_workspace(ws, release)
    assert sorted(copied) == ["a1/extra.npz", "a3/a3.ipynb", "a3/data.csv"]
    assert (ws / "a3" / "a3.ipynb").read_bytes() == (release / "a3" / "a3.ipynb").read_bytes()
    assert (ws / "a1" / "a1.ipynb").read_text(encoding="utf-8") == "my work"


def test_fresh_keeps_the_old_notebook_as_a_dated_backup_beside_it(tmp_path):
    release, ws = make_release(tmp_path), tmp_path / "ws"
    lab.sync_workspace(ws, release)
    (ws / "a1" / "a1.ipynb").write_text("attempt 1", encoding="utf-8")
    (ws / "a1" / "data.csv").write_text("my data", encoding="utf-8")
    [(path, backup)] = lab.fresh_copy(ws, ["a1"], release, now=NOW)
    assert path == ws / "a1" / "a1.ipynb" and backup == ws / "a1" / "a1.backup-20261202-093005.ipynb"
    assert backup.read_text(encoding="utf-8") == "attempt 1"
    assert path.read_bytes() == (release / "a1" / "a1.ipynb").read_bytes()
    assert (ws / "a1" / "data.csv").read_text(encoding="utf-8") == "my data"   # only the notebook is replaced
    # the same second again: a second backup, the first one kept
    path.write_text("attempt 2", encoding="utf-8")
    [(_, second)] = lab.fresh_copy(ws, ["a1/a1.ipynb"], release, now=NOW)
    assert second.name == "a1.backup-20261202-093005-2.ipynb" and second.read_text(encoding="utf-8") == "attempt 2"
    assert backup.read_text(encoding="utf-8") == "attempt 1"
    # already the release version: nothing to back up
    assert lab.fresh_copy(ws, ["a1"], release, now=NOW) == [(path, None)]
    assert sorted(p.name for p in (ws / "a1").iterdir()) == [
        "a1.backup-20261202-093005-2.ipynb", "a1.backup-20261202-093005.ipynb", "a1.ipynb", "data.csv"]


def test_fresh_takes_the_new_release_version_and_the_next_start_is_quiet(tmp_path):
    release, ws = make_release(tmp_path), tmp_path / "ws"
    lab.sync_workspace(ws, release)
    (release / "a1" / "a1.ipynb").write_text(notebook_text("a1 v2"), encoding="utf-8")
    assert lab.sync_workspace(ws, release)[1] == ["a1/a1.ipynb"]
    [(path, backup)] = lab.fresh_copy(ws, ["a1"], release, now=NOW)
    assert path.read_text(encoding="utf-8") == notebook_text("a1 v2") and trusted(path)
    assert backup.read_text(encoding="utf-8") == notebook_text("a1 v1")
    assert lab.sync_workspace(ws, release) == ([], [])


def test_fresh_on_the_real_release_then_exits_without_starting_lab(tmp_path, capsys):
    ws = tmp_path / "ws"
    assert lab.main(["--workspace", str(ws), "--fresh", "01_to_categorical"]) == 0
    notebook = ws / "01_to_categorical" / "01_to_categorical.ipynb"
    assert notebook.read_bytes() == (lab.RELEASE / "01_to_categorical" / "01_to_categorical.ipynb").read_bytes()
    assert sorted(p.name for p in ws.iterdir() if p.is_dir()) == sorted(
        p.name for p in lab.RELEASE.iterdir() if p.is_dir())
    notebook.write_text("my work", encoding="utf-8")
    assert lab.main(["--workspace", str(ws), "--fresh", "01_to_categorical"]) == 0
    out = capsys.readouterr().out
    [backup] = (ws / "01_to_categorical").glob("01_to_categorical.backup-*.ipynb")
    assert backup.read_text(encoding="utf-8") == "my work" and backup.name in out


def one_sentence(capsys):
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m autograder.tools.lab: ") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_input_is_one_sentence_and_exit_code_2(tmp_path, capsys, monkeypatch):
    ws = tmp_path / "ws"
    assert lab.main(["--workspace", str(ws), "--fresh", "01_to_categorial"]) == 2
    err = one_sentence(capsys)
    assert "no assignment '01_to_categorial'" in err and "01_to_categorical" in err
    assert not ws.exists()   # nothing done on bad input
    assert lab.main(["--workspace", str(ws), "--fresh", "01_to_categorical/nope.ipynb"]) == 2
    assert "has no file nope.ipynb" in one_sentence(capsys)

    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    assert lab.main(["--workspace", str(tmp_path / "file")]) == 2
    assert "is a file, not a folder" in one_sentence(capsys)
    assert (tmp_path / "file").read_text(encoding="utf-8") == "not a folder"

    assert lab.main(["--workspace", str(lab.RELEASE / "01_to_categorical")]) == 2
    assert "which git tracks" in one_sentence(capsys)

    assert lab.main(["--workspace", str(ws), "release/"]) == 2
    assert "unexpected argument 'release/'" in one_sentence(capsys)

    assert lab.main(["--instructor", "--fresh", "01_to_categorical"]) == 2
    assert "does not go with --instructor" in one_sentence(capsys)

    monkeypatch.setattr(lab, "RELEASE", tmp_path / "release")
    assert lab.main(["--workspace", str(ws)]) == 2
    assert f"{tmp_path / 'release'} is missing" in one_sentence(capsys)
    (tmp_path / "release").mkdir()
    assert lab.main(["--workspace", str(ws)]) == 2
    assert "holds no assignment folder" in one_sentence(capsys)
    assert not ws.exists()


def test_the_command_line_exits_2_with_one_sentence(tmp_path):
    result = subprocess.run([sys.executable, "-m", "autograder.tools.lab", "--workspace", str(tmp_path / "ws"), "--fresh",
                             "99_nothing"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "there is no assignment '99_nothing' in release/" in result.stderr


def test_lab_runs_with_this_venv_and_the_lab_config_folders_first(tmp_path):
    env = lab.lab_environment(environ={"PATH": "/usr/bin", "JUPYTER_CONFIG_PATH": "/mine"})
    assert env["PATH"].split(os.pathsep)[0] == os.path.dirname(sys.executable)
    folders = env["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    assert folders == [str(lab.LAB_CONFIG / "student"), str(lab.LAB_CONFIG / "common"), "/mine"]
    assert lab.lab_environment(instructor=True, environ={})["JUPYTER_CONFIG_PATH"].split(os.pathsep) == [
        str(lab.LAB_CONFIG / "instructor"), str(lab.LAB_CONFIG / "common")]
    assert lab.lab_environment(exchange=True, environ={})["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(
        lab.LAB_CONFIG / "exchange")
    command = lab.lab_command(tmp_path, ["--no-browser"])
    assert command[:3] == [sys.executable, "-m", "jupyterlab"] and command[-1] == "--no-browser"
    assert f"--config={lab.REPO_ROOT / 'jupyter_server_config.py'}" in command


def test_the_configs_switch_exactly_the_instructor_tools(tmp_path, monkeypatch):
    """What each Lab gets, read through Jupyter's own config readers (jupyterlab_server's page config, jupyter_server's
    extension config), with no Lab started."""
    from jupyter_server.extension.config import ExtensionConfigManager
    from jupyterlab_server.config import get_static_page_config

    def lab_state(**kwargs):
        env = lab.lab_environment(environ={}, **kwargs)
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", env["JUPYTER_CONFIG_PATH"])
        page = get_static_page_config(level="all")
        disabled = sorted(k for k, v in page.get("disabledExtensions", {}).items() if v)
        from jupyter_core.paths import jupyter_config_path
        servers = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
        off = sorted(k.rsplit(".", 1)[1] for k, v in servers.items() if k.startswith("nbgrader.") and not v)
        return disabled, off

    assert lab_state() == (sorted(STUDENT_OFF + [NO_NEWS]), ["assignment_list", "course_list", "formgrader"])
    assert lab_state(instructor=True) == (sorted(["@jupyter/nbgrader:assignment-list", NO_NEWS]), ["assignment_list"])
    assert lab_state(exchange=True) == (sorted(STUDENT_OFF[:3] + [NO_NEWS]), ["course_list", "formgrader"])
    assert lab_state(instructor=True, exchange=True) == ([NO_NEWS], [])


def test_without_an_exchange_the_formgrader_logs_no_critical_line(tmp_path, monkeypatch, caplog):
    """The instructor's Lab reads lab_config/instructor/nbgrader_config.py: NbGraderAPI (every formgrader page makes
    one) then notes a missing exchange at DEBUG level; nbgrader's own lister (what --exchange restores) says
    CRITICAL "Unwritable directory" each time."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.apps.baseapp import NbGrader
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    def nbgrader_config(**kwargs):
        monkeypatch.setenv("JUPYTER_CONFIG_PATH", lab.lab_environment(environ={}, **kwargs)["JUPYTER_CONFIG_PATH"])
        monkeypatch.chdir(tmp_path)
        app = NbGrader()
        app.initialize([])
        return app.config

    def api_log(config, root):
        config = Config(config)
        config.Exchange.root = str(root)
        config.CourseDirectory.course_id = "keras-by-hand"
        config.CourseDirectory.root = str(tmp_path)
        caplog.clear()
        with caplog.at_level(logging.DEBUG):
            api = NbGraderAPI(CourseDirectory(config=config), config=config)
        return api.exchange_missing, [r.levelname for r in caplog.records if r.levelno >= logging.WARNING]

    # the student's Validate button: the time limit per cell of grading (the course's config is not read there)
    student = nbgrader_config()
    assert (student.Execute.timeout, student.Execute.interrupt_on_timeout) == (120, True)
    assert "list" not in student.ExchangeFactory

    missing = tmp_path / "no-exchange"
    instructor = nbgrader_config(instructor=True)
    assert instructor.ExchangeFactory.list == "autograder.tools.lab.NoExchangeList"
    assert api_log(instructor, missing) == (True, [])
    (tmp_path / "exchange").mkdir()
    assert api_log(instructor, tmp_path / "exchange") == (False, [])   # an exchange that exists: used as usual
    exchange = nbgrader_config(instructor=True, exchange=True)
    assert exchange.ExchangeFactory.list == "nbgrader.exchange.default.list.ExchangeList"
    assert api_log(exchange, missing) == (True, ["CRITICAL"])


# --- the student's Lab for real ------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningLab:
    """`python -m autograder.tools.lab --workspace <tmp> --no-browser --port P --IdentityProvider.token=T`, with
    Jupyter's per-user folders (config, runtime) in the temporary folder, the server log in a file."""

    def __init__(self, tmp_path, *options, cwd=None):
        self.port, self.token = free_port(), uuid.uuid4().hex
        self.workspace, self.runtime = tmp_path / "workspace", tmp_path / "runtime"
        self.log_path = tmp_path / "server.log"
        # no $SHELL, as in containers and CI: the terminal must still be bash with the venv first on PATH
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "KBH_")) and k != "SHELL"}
        env.update(JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(self.runtime),
                   JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
                   IPYTHONDIR=str(tmp_path / "ipython"))
        with open(self.log_path, "wb") as log, open(tmp_path / "stdout.txt", "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "autograder.tools.lab", "--workspace", str(self.workspace), *options,
                 "--no-browser", f"--port={self.port}", "--ServerApp.port_retries=0",
                 f"--IdentityProvider.token={self.token}"],
                cwd=cwd or tmp_path, env=env, stdout=out, stderr=log, stdin=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"the Lab did not start:\n{self.log()}")
                time.sleep(0.5)

    def request(self, path, method="GET", body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read().decode()

    def get(self, path):
        return self.request(path)

    def status(self, path):
        try:
            return self.get(path)[0]
        except urllib.error.HTTPError as error:
            return error.code

    def page_config(self):
        html = self.get("/lab")[1]
        match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
        return json.loads(match.group(1))

    async def websocket(self, path, **query):
        from tornado.websocket import websocket_connect
        query = "".join(f"&{key}={value}" for key, value in query.items())
        return await websocket_connect(f"ws://127.0.0.1:{self.port}{path}?token={self.token}{query}")

    def stop(self):
        if self.process.poll() is None:
            try:
                self.request("/api/shutdown", "POST", {})
                self.process.wait(60)
            except Exception:
                self.process.kill()
                self.process.wait(10)

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")


async def run_in_kernel(running, kernel_id, code):
    """Execute `code` over the kernel's websocket (Jupyter's JSON protocol); return (reply status, stdout)."""
    session = uuid.uuid4().hex
    ws = await running.websocket(f"/api/kernels/{kernel_id}/channels", session_id=session)
    msg_id = uuid.uuid4().hex
    ws.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": session,
                   "version": "5.3", "date": datetime.datetime.now(datetime.timezone.utc).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    # The reply (shell channel) may come before the printed text (iopub): done when both the reply and the
    # kernel's "idle" status (iopub, after the last output) have come.
    out, status, idle = "", None, False
    while status is None or not idle:
        msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out += msg["content"]["text"]
        elif msg["msg_type"] == "execute_reply":
            status = msg["content"]["status"]
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            idle = True
    ws.close()
    return status, out


async def run_in_terminal(running, name, command):
    """Type `command` into terminal `name`; return what it printed up to an end marker."""
    ws = await running.websocket(f"/terminals/websocket/{name}")
    ws.write_message(json.dumps(["stdin", f"{command}; echo KBH-END''-MARK\r"]))
    out = ""
    while "KBH-END-MARK" not in out:
        msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
        if msg[0] == "stdout":
            out += msg[1]
    ws.close()
    return out


WARNING_LINE = re.compile(r"^\[[WEC] |\b(WARNING|ERROR|CRITICAL)\b|Warning:|Traceback")


def test_the_student_lab_for_real(tmp_path):
    started = time.monotonic()
    running = RunningLab(tmp_path)
    try:
        # the workspace was made and the Lab is on it
        assert (running.workspace / "01_to_categorical" / "01_to_categorical.ipynb").is_file()
        config = running.page_config()
        assert Path(config["serverRoot"]) == running.workspace
        disabled = set(config["disabledExtensions"])
        assert disabled >= set(STUDENT_OFF) | {NO_NEWS}
        assert "@jupyter/nbgrader:validate-assignment" not in disabled
        assert config["news"] == {"disabled": True} and config["extensionManager"]["name"] == "read-only"
        assert json.loads(running.get("/lab/api/update")[1]) == {"notification": None}

        # a notebook as Lab opens it: trusted (else the log says "Notebook ... is not trusted")
        model = json.loads(running.get("/api/contents/01_to_categorical/01_to_categorical.ipynb?content=1")[1])
        assert model["type"] == "notebook" and model["content"]["cells"]

        # a kernel through the REST API: its sockets encrypted (CurveZMQ), on this venv
        status, body = running.request("/api/kernels", "POST", {"name": "python3"})
        kernel = json.loads(body)["id"]
        connection = json.loads((running.runtime / f"kernel-{kernel}.json").read_text(encoding="utf-8"))
        assert connection["transport"] == "tcp" and connection["curve_secretkey"] and connection["curve_publickey"]
        bin_dir = os.path.dirname(sys.executable)
        reply, out = asyncio.run(run_in_kernel(running, kernel, (
            "import os, shutil, sys\n"
            "print(os.environ['PATH'].split(os.pathsep)[0]); print(shutil.which('nbgrader')); print(sys.prefix)")))
        assert reply == "ok" and out.split() == [bin_dir, os.path.join(bin_dir, "nbgrader"), sys.prefix]

        # a terminal: python and nbgrader are the venv's; it starts in the workspace (Lab's file browser at its top
        # asks for cwd ""; no cwd at all is the server's working folder), or in the folder asked for
        for body, folder in [({}, running.workspace), ({"cwd": ""}, running.workspace),
                             ({"cwd": "01_to_categorical"}, running.workspace / "01_to_categorical")]:
            name = json.loads(running.request("/api/terminals", "POST", body)[1])["name"]
            out = asyncio.run(run_in_terminal(running, name,
                                              'command -v python; command -v nbgrader; echo "bash=$BASH_VERSION"; pwd'))
            assert os.path.join(bin_dir, "python") in out and os.path.join(bin_dir, "nbgrader") in out, out
            assert re.search(r"\nbash=\d", out), out
            assert f"\n{folder}\r\n" in out, (body, out)
            running.request(f"/api/terminals/{name}", "DELETE")
        running.request(f"/api/kernels/{kernel}", "DELETE")

        # the server extensions: nbgrader's Validate is there, its instructor and exchange tools are not
        assert running.status(f"/nbgrader_version?version={__import__('nbgrader').__version__}") == 200
        assert running.status("/formgrader/api/status") == 404      # formgrader
        assert running.status("/formgraders") == 404                # course_list
        assert running.status("/assignments") == 404                # assignment_list
    finally:
        running.stop()
    assert running.process.returncode == 0
    log = running.log()
    probes = ["404 GET /formgrader/api/status", "404 GET /formgraders", "404 GET /assignments "]
    flagged = [line for line in log.splitlines() if WARNING_LINE.search(line)]
    unexpected = [line for line in flagged if not any(probe in line for probe in probes)]
    assert unexpected == [], "\n".join(unexpected)
    assert len(flagged) == 3   # the three probes above, logged as 404s
    assert "Kernel started" in log and "nbgrader.server_extensions.validate_assignment | extension was successfully loaded" in log
    assert not list(running.runtime.glob("kernel-*")), "kernel files left behind"
    print(f"student Lab: started, checked and stopped in {time.monotonic() - started:.1f} s")
