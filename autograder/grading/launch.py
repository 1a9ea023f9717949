"""The answer kernel's launcher: what jupyter_client runs as the kernel process, before bubblewrap.

    python -I -S .../autograder/grading/launch.py [--cgroup PATH] [LIMIT=SOFT:HARD ...] -- bwrap ...

sets each resource limit (`RLIMIT_<LIMIT>`, inherited by bubblewrap and the kernel it starts), joins the memory
cgroup at PATH, then execs the rest. It runs once per notebook graded, so it imports only the standard library
and starts without `site` (-S): the grading package's own imports (NumPy and its thread pool) would cost it
about 0.2 CPU seconds, 20 times what it needs.
"""
import os
import resource
import sys


def apply_rlimits(limits):
    """Set {RLIMIT_*: (soft, hard)} on this process (inherited by everything it execs and forks). Without root a
    hard limit cannot be raised: a limit above the current hard one is lowered to it."""
    for which, (soft, hard) in limits.items():
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY and os.geteuid() != 0:
            hard = min(hard, current_hard)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def arguments(limits, cgroup=None):
    """The launcher's arguments before `--` for {RLIMIT_*: (soft, hard)} and a cgroup folder (or None)."""
    names = {getattr(resource, name): name[len("RLIMIT_"):] for name in dir(resource) if name.startswith("RLIMIT_")}
    args = ["--cgroup", str(cgroup)] if cgroup is not None else []
    return args + [f"{names[which]}={soft}:{hard}" for which, (soft, hard) in limits.items()]


def parse(argv):
    """(limits, cgroup folder or None, command) from the launcher's arguments."""
    if "--" not in argv:
        raise SystemExit("usage: launch.py [--cgroup PATH] [LIMIT=SOFT:HARD ...] -- COMMAND ...")
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    cgroup = None
    if options[:1] == ["--cgroup"]:
        cgroup, options = options[1], options[2:]
    limits = {}
    for option in options:
        name, _, values = option.partition("=")
        soft, _, hard = values.partition(":")
        limits[getattr(resource, f"RLIMIT_{name}")] = (int(soft), int(hard))
    return limits, cgroup, command


def main(argv):
    limits, cgroup, command = parse(argv)
    if cgroup is not None:
        with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:  # its children are born in the group
            procs.write(str(os.getpid()))
    apply_rlimits(limits)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
