"""The grading sandbox: the kernel that runs a student's notebook under `nbgrader autograde` is locked in.

nbgrader starts one kernel per notebook through a jupyter_client kernel manager. `SandboxedKernelManager` (the
one split grading's answer kernel uses: `autograder/grading/kernel_driver.py`, in the checker process that
`autograder.grading.preprocessors.SplitExecute` starts, see nbgrader_config.py) starts that kernel as

    python -I -S autograder/grading/launch.py ...   # sets resource limits, joins a memory cgroup, then execs:
      bwrap ...                               # new mount, pid, network, ipc and uts namespaces, then:
        setpriv --reuid=nobody ...            # drops root for an unprivileged uid, then:
          python -m ipykernel_launcher -f <connection file>

so that the kernel

* sees the machine read-only (`--ro-bind / /`), with the course root (gradebook.db, source/, submitted/ and
  autograded/ of every student), the repository root and /tmp replaced by empty read-only folders; the
  `autograder` package (installed editable from the repository) and the Python environment are bound back
  read-only;
* works in a private scratch folder (a copy of the autograded/<student>/<assignment>/ folder nbgrader executes
  in, without its notebooks, so the hidden tests cannot be read from disk) that is the only place it can write;
* has no network at all (its own network namespace holds only a loopback nobody listens on), and talks to
  nbgrader over Unix sockets (jupyter_client's "ipc" transport) in a private folder bound into the sandbox;
* runs as an unprivileged uid with limits on CPU time, memory, processes (which also bounds a fork bomb) and
  file size, and dies with every process it started when nbgrader stops it (pid namespace).

If the sandbox cannot be built, grading stops with `SandboxUnavailable`; `KBH_UNSANDBOXED=1` is the explicit,
documented way to grade without it (a warning is printed). Only the Linux pieces the course needs are used:
bubblewrap (`apt-get install -y bubblewrap`), util-linux's setpriv, and, when writable, the cgroup v1 memory
controller (otherwise memory is bounded by RLIMIT_AS, which is coarse for TensorFlow; see `Limits`).
"""
import dataclasses
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Bool, Integer, List, Unicode, default

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_DIR.parent
OPT_OUT_VARIABLE = "KBH_UNSANDBOXED"
CGROUP_MEMORY = Path("/sys/fs/cgroup/memory")
# Environment variables the kernel may see; everything else (tokens, credentials of the grader) is dropped.
KEPT_VARIABLES = ("LANG", "LANGUAGE", "TZ", "TERM", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "KERAS_BACKEND",
                  "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS", "PYTHONHASHSEED", "PYTHONWARNINGS", "MPLBACKEND",
                  "OMP_NUM_THREADS", "CUDA_VISIBLE_DEVICES")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot be built on this machine; the message says why and what to do."""


def opted_out(environ=os.environ):
    """True when the instructor asked to grade without the sandbox (`KBH_UNSANDBOXED=1`)."""
    return environ.get(OPT_OUT_VARIABLE, "") == "1"


_WARNED = []


def warn_unsandboxed(stream=None):
    """Print, once per process, what grading without the sandbox means."""
    if _WARNED:
        return
    _WARNED.append(True)
    print(f"WARNING: {OPT_OUT_VARIABLE}=1: student notebooks run WITHOUT the grading sandbox. Their code can "
          "read and write every file you can (gradebook.db, source/, other students' work), use the network and "
          "exhaust the machine. Grade this way only in a throwaway environment.", file=stream or sys.stderr)


# --- limits ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel (one notebook).

    cpu_seconds   CPU time of the kernel process, all its threads together (RLIMIT_CPU; SIGKILL 5 s later). A
                  backstop for loops that ignore the interrupt: TensorFlow spends CPU seconds on every core at
                  once, so on a machine with many cores raise it; the wall-clock limits are nbgrader's per-cell
                  `SplitExecute.cell_timeout`, `call_timeout` and `notebook_timeout`.
    memory_mb     resident memory of everything in the sandbox (cgroup v1 memory.limit_in_bytes), when the
                  memory controller is writable. A TensorFlow kernel needs about 0.6 GB after a small fit.
    address_mb    virtual address space (RLIMIT_AS), used only without a memory cgroup: TensorFlow reserves far
                  more than it touches (2.1 GB virtual for 0.6 GB resident on 2 cores, more with more cores).
    processes     processes and threads of the sandbox uid (RLIMIT_NPROC; TensorFlow starts a few per core).
    file_mb       largest file the kernel may write (RLIMIT_FSIZE; a bigger write fails with EFBIG).
    disk_mb       all the files of the scratch folder together: it is a tmpfs of this size (mounted by the
                  grader, which needs root; a write past it fails with ENOSPC). Its pages are memory, counted in
                  memory_mb by the cgroup. Without root, only file_mb bounds what a notebook writes.
    open_files    open file descriptors (RLIMIT_NOFILE).
    """

    cpu_seconds: int = 3600
    memory_mb: int = 2048
    address_mb: int = 8192
    processes: int = 512
    file_mb: int = 64
    disk_mb: int = 512
    open_files: int = 1024

    def rlimits(self, with_address_limit):
        """{RLIMIT_*: (soft, hard)} to set on the launcher before it execs bubblewrap."""
        mb = 1024 * 1024
        limits = {
            resource.RLIMIT_CPU: (self.cpu_seconds, self.cpu_seconds + 5),
            resource.RLIMIT_NPROC: (self.processes, self.processes),
            resource.RLIMIT_FSIZE: (self.file_mb * mb, self.file_mb * mb),
            resource.RLIMIT_NOFILE: (self.open_files, self.open_files),
            resource.RLIMIT_CORE: (0, 0),
        }
        if with_address_limit:
            limits[resource.RLIMIT_AS] = (self.address_mb * mb, self.address_mb * mb)
        return limits


# --- memory cgroup ----------------------------------------------------------------------------------------

class MemoryCgroup:
    """A cgroup v1 memory group for one kernel: created by the grader, joined by the launcher, removed after."""

    def __init__(self, path):
        self.path = Path(path)

    @staticmethod
    def available(root=CGROUP_MEMORY):
        """True when a cgroup v1 memory controller is mounted at `root` and we may create groups in it."""
        return (root / "memory.limit_in_bytes").is_file() and os.access(root, os.W_OK)

    @staticmethod
    def sweep(root=CGROUP_MEMORY, older_than=3600):
        """Remove empty groups of this course older than `older_than` seconds (left by a grader that was
        killed before it could clean up). A group in use, or one just created, is left alone."""
        import time

        for path in root.glob("kbh-sandbox-*"):
            try:
                if time.time() - path.stat().st_mtime > older_than and not (path / "cgroup.procs").read_text().strip():
                    path.rmdir()
            except OSError:
                pass

    @classmethod
    def create(cls, limit_mb, root=CGROUP_MEMORY):
        cls.sweep(root)
        group = cls(root / f"kbh-sandbox-{uuid.uuid4().hex[:12]}")
        group.path.mkdir()
        limit = str(limit_mb * 1024 * 1024)
        (group.path / "memory.limit_in_bytes").write_text(limit)
        swap = group.path / "memory.memsw.limit_in_bytes"  # present only with swap accounting
        if swap.exists():
            swap.write_text(limit)
        return group

    def remove(self, attempts=100):
        """Remove the group once its processes are gone (they die with the kernel; wait up to 10 s). A group
        that cannot be removed is swept by a later `create` once it is empty and an hour old."""
        import time

        for _ in range(attempts):
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError:
                time.sleep(0.1)
        return False


# --- the sandbox's folders and command ------------------------------------------------------------------

def sandbox_user():
    """(uid, gid) the kernel runs as: `KBH_SANDBOX_UID`/`KBH_SANDBOX_GID`, by default nobody/nogroup (65534).

    RLIMIT_NPROC counts every process of that uid on the machine and is not enforced for root at all, which is
    why the kernel must not run as root. Use a dedicated uid if nobody runs other processes on your machine."""
    uid = int(os.environ.get("KBH_SANDBOX_UID", 65534))
    gid = int(os.environ.get("KBH_SANDBOX_GID", uid))
    return uid, gid


@dataclasses.dataclass
class Workspace:
    """The private folders of one sandboxed kernel: `scratch` (its working folder) and `ipc` (connection file
    and Unix sockets), both owned by the sandbox uid (mode 700), under a root-only parent (mode 700) that is
    removed afterwards. bubblewrap binds them into the sandbox as root, so the parent need not be enterable."""

    root: Path
    scratch: Path
    ipc: Path

    SKIP = ("*.ipynb", ".ipynb_checkpoints", "__pycache__")

    @classmethod
    def create(cls, workdir, owner, disk_mb=None):
        """A fresh workspace whose scratch folder is a copy of `workdir` (see `fill`; None: empty, filled later),
        on a tmpfs of `disk_mb` MB when given and this process may mount one (root)."""
        sweep_scratch_mounts()
        root = Path(tempfile.mkdtemp(prefix="kbh-sandbox-"))
        scratch, ipc = root / "scratch", root / "ipc"
        scratch.mkdir()
        if disk_mb:
            mount_scratch(scratch, disk_mb)
        ipc.mkdir()
        (scratch / ".tmp").mkdir(exist_ok=True)  # the kernel's TMPDIR
        for folder in (scratch, ipc):
            folder.chmod(0o700)
            chown_tree(folder, owner)
        workspace = cls(root, scratch, ipc)
        workspace.fill(workdir, owner)
        return workspace

    def fill(self, workdir, owner):
        """Copy `workdir` into scratch, without `SKIP` (the notebooks, which hold the hidden tests, are executed
        from nbgrader's memory and need not be on disk), owned by `owner`."""
        if workdir and Path(workdir).is_dir():
            shutil.copytree(workdir, self.scratch, ignore=shutil.ignore_patterns(*self.SKIP), symlinks=True,
                            dirs_exist_ok=True)
            chown_tree(self.scratch, owner)

    def remove(self):
        unmount_scratch(self.scratch)
        shutil.rmtree(self.root, ignore_errors=True)


SCRATCH_MOUNT = "kbh-scratch"  # the source name of a scratch tmpfs, then "-<pid of the grader that mounted it>"
_NO_QUOTA = []


def mount_scratch(folder, disk_mb):
    """Mount a tmpfs of `disk_mb` MB on `folder`; True if mounted. Without root (or where mounting is refused) it
    says so once on stderr, the grader's log, and the notebook is bounded per file only."""
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(disk_mb)}m,mode=700,nosuid,nodev",
                               f"{SCRATCH_MOUNT}-{os.getpid()}", str(folder)], capture_output=True, text=True)
        if done.returncode == 0:
            return True
        why = done.stderr.strip() or f"mount exited {done.returncode}"
    else:
        why = "the grader is not root"
    if not _NO_QUOTA:
        _NO_QUOTA.append(why)
        print(f"grading sandbox: no total quota on a notebook's scratch folder ({why}); each file is still "
              "limited", file=sys.stderr)
    return False


def unmount_scratch(folder):
    if os.path.ismount(folder):
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def sweep_scratch_mounts(mounts="/proc/self/mounts"):
    """Unmount and remove the scratch tmpfs of graders that died without removing theirs (SIGKILL)."""
    try:
        lines = Path(mounts).read_text().splitlines()
    except OSError:
        return
    for line in lines:
        source, target = (line.split() + ["", ""])[:2]
        if not source.startswith(SCRATCH_MOUNT + "-"):
            continue
        pid = source.rsplit("-", 1)[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            target = target.replace("\\040", " ")
            unmount_scratch(target)
            shutil.rmtree(Path(target).parent, ignore_errors=True)


def chown_tree(folder, owner):
    uid, gid = owner
    if os.geteuid() != 0:
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        os.lchown(dirpath, uid, gid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), uid, gid)


def hidden_paths(course_root):
    """Folders the kernel must not see: the course root and the repository root (source/, gradebook.db,
    submitted/, autograded/, .git), the shared temporary folders, and /run (the Unix sockets of the machine's
    services: a network namespace does not cut off sockets that live in the file system)."""
    paths = [Path(course_root).resolve(), REPO_ROOT, Path(tempfile.gettempdir()).resolve(), Path("/tmp"),
             Path("/var/tmp"), Path("/dev/shm"), Path("/run")]
    return list(dict.fromkeys(p for p in paths if p.is_dir() and p != Path("/")))


def readonly_paths():
    """Folders bound back read-only over the hidden ones: the `autograder` package, the Python environment,
    and the folder of the interpreter (when any lies inside a hidden folder)."""
    paths = [PACKAGE_DIR, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.executable).resolve().parent]
    return list(dict.fromkeys(paths))


def untraversable_ancestors(paths):
    """Ancestors of `paths` that other users cannot enter (e.g. /root, mode 700, holding a pyenv Python). The
    sandbox replaces them with an empty folder (mode 755) and binds the needed paths back inside."""
    found = []
    for path in paths:
        for ancestor in reversed(Path(path).parents):
            try:
                if ancestor != Path("/") and not ancestor.stat().st_mode & 0o001:
                    found.append(ancestor)
            except OSError:
                pass
    return list(dict.fromkeys(found))


def mount_options(hidden, readonly, writable, masked=()):
    """bubblewrap options that mount, in this order, an empty tmpfs over each `hidden` folder, then each
    `readonly` folder read-only and each `writable` folder read-write at its own path, then an empty tmpfs over
    each `masked` folder (last, so that a folder inside a bound one, such as TensorFlow's inside the Python
    environment, stays hidden).

    A mount point inside an already hidden folder does not exist there; bubblewrap would create it and its
    parents with mode 700, which the sandbox uid cannot enter, so they are created first with mode 755."""
    mounts = ([("--tmpfs", p) for p in sorted(set(hidden), key=lambda p: len(p.parts))]
              + [("--ro-bind", p) for p in sorted(set(readonly), key=lambda p: len(p.parts))]
              + [("--bind", p) for p in writable])
    options, mounted, created = [], [], set()
    for kind, path in mounts:
        for ancestor in reversed(path.parents):
            if ancestor not in created and any(h in ancestor.parents for h in mounted):
                options += ["--perms", "0755", "--dir", str(ancestor)]
                created.add(ancestor)
        options += [kind, str(path)] if kind == "--tmpfs" else [kind, str(path), str(path)]
        if kind == "--tmpfs":
            mounted.append(path)
    for path in masked:
        options += ["--tmpfs", str(path)]
    return options


def sandbox_environment(workspace, environ=os.environ):
    """The kernel's whole environment: a few harmless variables of the grader's, HOME and TMPDIR in scratch."""
    env = {name: environ[name] for name in KEPT_VARIABLES if name in environ}
    tmp = workspace.scratch / ".tmp"
    env.update({
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(workspace.scratch), "TMPDIR": str(tmp), "USER": "student", "LOGNAME": "student",
        "MPLCONFIGDIR": str(workspace.scratch / ".config" / "matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1", "KBH_SANDBOXED": "1",
        # ipykernel watches its parent pid unless this is 1; in the pid namespace its parent *is* pid 1 (the
        # reaper bubblewrap starts), and with 1 it neither exits at once nor prints its connection banner.
        "JPY_PARENT_PID": "1",
    })
    # One BLAS thread unless the grader asks for more: an answer's arrays are small, and OpenBLAS's pool (one
    # thread per core, spinning after each call) costs CPU that the other notebooks graded at once need.
    env["OPENBLAS_NUM_THREADS"] = environ.get("OPENBLAS_NUM_THREADS", "1")
    return env


def bwrap_command(command, workspace, course_root, owner, environ=os.environ, bwrap="bwrap", setpriv="setpriv",
                  extra_hidden=()):
    """The bubblewrap command line that runs `command` (a list) inside the sandbox, as `owner` when root."""
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--hostname", "sandbox"]
    readonly = readonly_paths()
    hidden = hidden_paths(course_root) + untraversable_ancestors(readonly)
    args += mount_options(hidden, readonly, [workspace.scratch, workspace.ipc], masked=[Path(p) for p in extra_hidden])
    args += ["--chdir", str(workspace.scratch), "--clearenv"]
    for name, value in sandbox_environment(workspace, environ).items():
        args += ["--setenv", name, value]
    if os.geteuid() == 0:
        uid, gid = owner
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--", setpriv, f"--reuid={uid}",
                 f"--regid={gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        args += ["--"]
    return args + list(command)


def launcher_command(inner, limits, cgroup=None):
    """The launcher (autograder/grading/launch.py, standard library only, no `site`): what jupyter_client runs
    as the kernel process; it sets the limits, joins the cgroup and execs `inner`."""
    from autograder.grading import launch

    rlimits = limits.rlimits(with_address_limit=cgroup is None)
    return ([sys.executable, "-I", "-S", launch.__file__, *launch.arguments(rlimits, cgroup and cgroup.path), "--"]
            + list(inner))


# --- checking the machine ---------------------------------------------------------------------------------

_PREFLIGHT = {}


def preflight(course_root=None):
    """Build a sandbox once and run a Python probe in it (it writes its uid into scratch); raise
    SandboxUnavailable with the reason if that fails or the probe still runs as root.

    The result is cached per process, so a batch checks once."""
    course_root = str(course_root or os.getcwd())
    if course_root in _PREFLIGHT:
        if _PREFLIGHT[course_root]:
            raise SandboxUnavailable(_PREFLIGHT[course_root])
        return
    problem = _find_problem(course_root)
    _PREFLIGHT[course_root] = problem
    if problem:
        raise SandboxUnavailable(problem)


def _find_problem(course_root):
    advice = (f"Install bubblewrap (`apt-get install -y bubblewrap`) and grade as root, or set {OPT_OUT_VARIABLE}=1 "
              "to grade WITHOUT the sandbox (only in a throwaway environment).")
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux. {advice}"
    bwrap, setpriv = shutil.which("bwrap"), shutil.which("setpriv")
    if bwrap is None:
        return f"bubblewrap (bwrap) is not installed. {advice}"
    if os.geteuid() == 0 and setpriv is None:
        return f"setpriv (util-linux) is not installed. {advice}"
    workspace = Workspace.create(None, sandbox_user())
    try:
        command = bwrap_command([sys.executable, "-c", "import os; open('probe', 'w').write(str(os.getuid()))"],
                                workspace, course_root, sandbox_user(), bwrap=bwrap, setpriv=setpriv)
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            return f"bubblewrap could not build the sandbox here: {result.stderr.strip()[-500:]}. {advice}"
        if os.geteuid() == 0 and (workspace.scratch / "probe").read_text() == "0":
            return f"the sandboxed process still ran as root. {advice}"
    except (OSError, subprocess.SubprocessError) as error:
        return f"the sandbox probe failed: {error}. {advice}"
    finally:
        workspace.remove()
    return None


# --- the kernel manager -----------------------------------------------------------------------------------

class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernel runs in the grading sandbox (see the module docstring).

    Configurable from nbgrader_config.py as `c.SandboxedKernelManager.<trait>`. With `KBH_UNSANDBOXED=1` it is a
    plain AsyncKernelManager and prints a warning."""

    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds per notebook (all threads)").tag(config=True)
    memory_mb = Integer(Limits.memory_mb, help="resident memory per notebook (memory cgroup)").tag(config=True)
    address_mb = Integer(Limits.address_mb, help="address space when no memory cgroup").tag(config=True)
    processes = Integer(Limits.processes, help="processes and threads of the sandbox uid").tag(config=True)
    file_mb = Integer(Limits.file_mb, help="largest file the kernel may write").tag(config=True)
    disk_mb = Integer(Limits.disk_mb, help="all files the kernel writes together (a tmpfs; 0: no total "
                                           "quota)").tag(config=True)
    use_memory_cgroup = Bool(True, help="limit memory with a cgroup v1 memory group when possible").tag(config=True)
    course_root = Unicode("", help="folder hidden from the kernel (default: the working folder)").tag(config=True)
    extra_hidden = List(Unicode(), help="more folders to hide from the kernel").tag(config=True)

    @default("transport")
    def _transport_default(self):
        return "tcp" if opted_out() else "ipc"  # a kernel without network reaches nbgrader over Unix sockets

    def limits(self):
        return Limits(cpu_seconds=self.cpu_seconds, memory_mb=self.memory_mb, address_mb=self.address_mb,
                      processes=self.processes, file_mb=self.file_mb, disk_mb=self.disk_mb)

    async def _async_pre_start_kernel(self, **kw):
        if opted_out():
            warn_unsandboxed()
            return await super()._async_pre_start_kernel(**kw)
        course_root = self.course_root or os.getcwd()
        preflight(course_root)
        self._workspace = Workspace.create(kw.get("cwd"), sandbox_user(), disk_mb=self.disk_mb)
        self.connection_file = str(self._workspace.ipc / "kernel.json")
        self.ip = str(self._workspace.ipc / "kernel")
        self.kernel_spec.interrupt_mode = "message"  # a signal would hit bubblewrap, not the kernel
        self._cgroup = None
        try:
            if self.use_memory_cgroup and MemoryCgroup.available():
                self._cgroup = MemoryCgroup.create(self.memory_mb)
            kw["cwd"] = str(self._workspace.scratch)
            return await super()._async_pre_start_kernel(**kw)
        except BaseException:
            self._remove_sandbox()
            raise

    def _remove_sandbox(self):
        cgroup, self._cgroup = getattr(self, "_cgroup", None), None
        if cgroup is not None:
            cgroup.remove()
        workspace, self._workspace = getattr(self, "_workspace", None), None
        if workspace is not None:
            workspace.remove()

    def write_connection_file(self, **kwargs):
        super().write_connection_file(**kwargs)
        workspace = getattr(self, "_workspace", None)
        if workspace is not None and os.path.exists(self.connection_file):
            chown_tree(workspace.ipc, sandbox_user())

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        workspace = getattr(self, "_workspace", None)
        if workspace is None or opted_out():
            return command
        hidden_root = self.course_root or os.getcwd()
        inner = bwrap_command(command, workspace, hidden_root, sandbox_user(), extra_hidden=self.extra_hidden)
        return launcher_command(inner, self.limits(), self._cgroup)

    async def _async_cleanup_resources(self, restart=False):
        await super()._async_cleanup_resources(restart=restart)
        if not restart:
            self._remove_sandbox()

    pre_start_kernel = _async_pre_start_kernel
    cleanup_resources = _async_cleanup_resources


# --- the command line -----------------------------------------------------------------------------------------

def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        from autograder.grading.kernel_driver import GraderFault, probe_answer_kernel

        course_root = argv[1] if len(argv) > 1 else os.getcwd()
        if opted_out():
            print(f"grading sandbox: not used ({OPT_OUT_VARIABLE}=1)")
        else:
            try:
                preflight(course_root)
            except SandboxUnavailable as error:
                print(f"grading sandbox: NOT available: {error}")
                return 1
            print("grading sandbox: available")
        try:
            seconds = probe_answer_kernel(course_root)
        except GraderFault as fault:
            print(f"answer kernel: NOT working: {fault}")
            return 1
        print(f"answer kernel: started, connected and answered in {seconds:.1f} s")
        return 0
    print("usage: python -m autograder.grading.sandbox check [COURSE_ROOT]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
