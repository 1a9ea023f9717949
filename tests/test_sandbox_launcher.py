"""The answer kernel's launcher (autograder/grading/launch.py), run as the kernel manager runs it: it sets each
resource limit, joins the memory cgroup and becomes the command it was given. (The limits holding against a
real answer: the fork bomb, memory bomb and disk flood of test_redteam.py.)"""
import json
import resource
import subprocess
import sys

import pytest

from autograder.grading import sandbox

REPORT = ("import json, os, resource\n"
          "print(json.dumps({'pid': os.getpid(), 'limits': {str(w): resource.getrlimit(w) for w in %r}}))")


class Group:  # a stand-in for MemoryCgroup: a folder with a cgroup.procs file
    def __init__(self, path):
        self.path = path
        (path / "cgroup.procs").write_text("")


def run_launched(limits, cgroup=None):
    which = sorted(limits.rlimits(with_address_limit=cgroup is None))
    command = sandbox.launcher_command([sys.executable, "-c", REPORT % which], limits, cgroup)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_launched_command_runs_under_every_limit():
    limits = sandbox.Limits(cpu_seconds=321, processes=77, file_mb=3, open_files=99, address_mb=4096)
    report = run_launched(limits)
    expected = {str(w): list(v) for w, v in limits.rlimits(with_address_limit=True).items()}
    assert report["limits"] == expected
    assert report["limits"][str(resource.RLIMIT_AS)] == [4096 * 2 ** 20] * 2


def test_with_a_cgroup_the_process_joins_it_and_memory_is_the_cgroups_to_bound(tmp_path):
    group = Group(tmp_path)
    report = run_launched(sandbox.Limits(), group)
    assert (tmp_path / "cgroup.procs").read_text() == str(report["pid"])  # exec keeps the pid: the kernel's own
    assert str(resource.RLIMIT_AS) not in report["limits"]


def test_the_launcher_needs_nothing_but_the_standard_library():
    command = sandbox.launcher_command([sys.executable, "-c", "pass"], sandbox.Limits())
    assert command[1:3] == ["-I", "-S"]  # no site-packages: it cannot import NumPy or the grading package
    done = subprocess.run(command[:1] + ["-X", "importtime"] + command[1:], capture_output=True, text=True,
                          timeout=60)
    modules = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    assert done.returncode == 0 and "resource" in modules
    assert not {m for m in modules if m.split(".")[0] in ("numpy", "autograder", "jupyter_client", "site")}


@pytest.mark.parametrize("argv", [["NOFILE=5:5", "true"], ["CPU=1", "--", "true"], ["NOSUCH=1:1", "--", "true"]])
def test_a_malformed_launch_fails_before_running_anything(argv):
    launcher = sandbox.launcher_command(["true"], sandbox.Limits())[:4]
    done = subprocess.run(launcher + argv, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
