"""requirements.txt resolves, pin for pin, to binary wheels on every Python and platform the course supports.

For each target, CPython 3.11, 3.12 and 3.13 on manylinux x86-64, manylinux aarch64 and macOS arm64, the test runs
pip's own resolver for that foreign target without installing anything (`pip install --dry-run --ignore-installed
--only-binary=:all: --implementation cp --python-version X --platform P --target TMP --report R`) and asserts that

* the resolution succeeds: every pin that applies there has a wheel for the target;
* pip resolved exactly the pins that apply there: nothing floats (a package that some dependency pulls in only
  on that target, e.g. appnope on macOS, must be pinned too), every version is the pinned one, no yanked file;
* every dependency that the resolved packages declare for the target is among them (a check of the resolution
  that does not rely on pip).

The Pythons are taken at their first release (3.11.0, 3.12.0, 3.13.0), where a Requires-Python floor bites first,
and once more at 3.11.5, where the pins change (soupsieve): so every line of requirements.txt is resolved somewhere.

pip evaluates environment markers against the interpreter that runs it, not against --platform/--python-version.
So the test evaluates each line's marker itself for the target (packaging's Marker with the target's environment),
hands pip a filtered file of plain `name==version` lines (without `-e .`), and runs pip with its vendored
`packaging.markers.default_environment` replaced by the target's, so that the markers in the dependencies' own
metadata (`appnope; platform_system == "Darwin"`, `overrides; python_version < "3.12"`) are evaluated for the
target too. The report's "environment" and the last assertion above show that this took.

It asks the package index (PyPI, or PIP_INDEX_URL's) and nothing else: this machine's pip configuration files,
find-links, extra indexes and constraints are left out, since the question is what a newcomer's pip finds there.
A dry run reads each project's index page and each wheel's metadata file (PEP 658), not the wheels (see
PIP_FOR_TARGET). The targets run KBH_PIP_JOBS (default 5) pip processes at a time: 75 s for all ten here.

No index reachable: the test fails, saying so. It does not skip, because CI reaches the index and a pin without a
wheel on some platform is exactly what this test is for: an unreachable index must not pass for a green check.
To run the suite offline, set KBH_SKIP_INDEX_TESTS=1: the resolutions then skip, with that reason.
"""
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"


def _manylinux(arch, glibc_minor):
    """The tags a Linux pip accepts on glibc 2.<glibc_minor> (pip expands no manylinux_2_N tag given to it)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(glibc_minor, 16, -1)] + [f"manylinux2014_{arch}"]
    if arch == "x86_64":
        tags += [f"manylinux_2_12_{arch}", f"manylinux2010_{arch}", f"manylinux_2_5_{arch}", f"manylinux1_{arch}"]
    return tags


# glibc 2.35 is Ubuntu 22.04's (Debian 12 has 2.36, Ubuntu 24.04 2.39); macOS 14 (numpy's arm64 wheels need it),
# which pip expands to every older macOS itself.
PLATFORMS = {
    "linux-x86_64": (_manylinux("x86_64", 35), {"sys_platform": "linux", "platform_system": "Linux",
                                                "platform_machine": "x86_64"}),
    "linux-aarch64": (_manylinux("aarch64", 35), {"sys_platform": "linux", "platform_system": "Linux",
                                                  "platform_machine": "aarch64"}),
    "macos-arm64": (["macosx_14_0_arm64"], {"sys_platform": "darwin", "platform_system": "Darwin",
                                            "platform_machine": "arm64"}),
}
TARGETS = [(python, platform) for python in ("3.11.0", "3.12.0", "3.13.0") for platform in PLATFORMS]
TARGETS.append(("3.11.5", "linux-x86_64"))


def target_id(target):
    return f"cp{target[0]}-{target[1]}"


def marker_environment(python, platform):
    """What PEP 508 markers see on the target (`python` is the full version, e.g. 3.12.0)."""
    return {
        "implementation_name": "cpython",
        "implementation_version": python,
        "os_name": "posix",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "python_full_version": python,
        "python_version": ".".join(python.split(".")[:2]),
        **PLATFORMS[platform][1],
    }


def pinned_requirements():
    """requirements.txt's lines as Requirements, without comments, blanks and `-e .`."""
    pins = []
    for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            assert line == "-e .", f"requirements.txt: unexpected option line {line!r}"
            continue
        pins.append(Requirement(line))
    return pins


def pins_for(env):
    """{canonical name: version} of the lines whose marker holds in `env`; each must be an exact pin."""
    pins = {}
    for req in pinned_requirements():
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==", f"requirements.txt: {req} is not pinned with =="
        name = canonicalize_name(req.name)
        assert name not in pins, f"requirements.txt: two lines pin {name} for {env['python_full_version']} " \
                                 f"on {env['sys_platform']}/{env['platform_machine']}"
        pins[name] = specs[0].version
    return pins


# Runs pip (argv[3:]) with its vendored packaging evaluating every marker for the target (argv[1], JSON) instead
# of for this interpreter.
#
# The rest is for speed only, so that a dry run reads metadata, not wheels, and parses only the pinned release's
# files: pip's dry run parses every file of every release on each project's index page (~100,000 links), reads a
# wheel's metadata file (PEP 658) only where the index announces it (some PyPI mirrors drop that attribute but
# serve the file), and then, up to pip 24 at least, downloads every resolved wheel all the same (TensorFlow's alone
# is 270 MB, once per target). Here, pip sees on a pinned project's page (pins: argv[2]) only the wheels of the
# pinned version; takes metadata from `<wheel URL>.metadata`, else through HTTP range requests (pip's fast-deps),
# else from the wheel; and downloads no wheel after resolving. Each step falls back to pip's own behaviour where
# pip's internals differ, so another pip is only slower.
PIP_FOR_TARGET = """\
import json, sys
import pip._vendor.packaging.markers as markers
target, pins = json.loads(sys.argv[1]), json.loads(sys.argv[2])
markers.default_environment = lambda: dict(target)
try:
    from pip._internal.index import package_finder
    from pip._internal.models.link import Link
    from pip._internal.operations.prepare import RequirementPreparer
    from pip._internal.req.req_install import InstallRequirement
    from pip._internal.utils.direct_url_helpers import direct_url_from_link
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version
    parse_links = package_finder.parse_links
    announced = Link.metadata_link
    fetch = RequirementPreparer._fetch_metadata_using_link_data_attr
    prepare_more = RequirementPreparer.prepare_linked_requirements_more
    get_dist = InstallRequirement.get_dist
except (ImportError, AttributeError):
    pass
else:
    def metadata_link(link):
        found = announced(link)
        if found is None and link.is_wheel and link.url.startswith("https://"):
            found = Link(link.url_without_fragment + ".metadata")
        return found

    def fetch_metadata(preparer, req):
        try:
            dist = fetch(preparer, req)
        except Exception:
            if announced(req.link) is not None:
                raise
            dist = None
        if dist is None and req.link.is_wheel and req.link.url.startswith("https://"):
            lazy = getattr(preparer, "use_lazy_wheel", False)
            try:  # the wheel's metadata through HTTP range requests (pip's fast-deps)
                preparer.use_lazy_wheel = True
                dist = preparer._fetch_metadata_using_lazy_wheel(req.link)
            except Exception:
                dist = None  # pip downloads the wheel
            finally:
                preparer.use_lazy_wheel = lazy
        if dist is not None:
            req.kbh_metadata_dist = dist
        return dist

    def prepare_without_download(preparer, reqs, *args, **kwargs):
        rest = []
        for req in reqs:
            if getattr(req, "needs_more_preparation", False) and hasattr(req, "kbh_metadata_dist"):
                req.download_info = req.download_info or direct_url_from_link(req.link)
                req.needs_more_preparation = False
            else:
                rest.append(req)
        return prepare_more(preparer, rest, *args, **kwargs)

    def dist_of(req):
        if not req.metadata_directory and not req.local_file_path and hasattr(req, "kbh_metadata_dist"):
            return req.kbh_metadata_dist
        return get_dist(req)

    versions = {}

    def is_pinned_wheel(filename, pinned):
        if not filename.endswith(".whl"):
            return False
        text = filename.split("-")[1]
        if text not in versions:
            try:
                versions[text] = Version(text)
            except Exception:
                versions[text] = None
        return versions[text] == pinned

    def pinned_links(page):
        try:
            if page.content_type.lower().startswith("application/vnd.pypi.simple.v1+json"):
                data = json.loads(page.content)
                pinned = pins.get(canonicalize_name(data.get("name", "")))
                if pinned is not None:
                    pinned = Version(pinned)
                    data["files"] = [file for file in data["files"] if is_pinned_wheel(file["filename"], pinned)]
                    page.content = json.dumps(data).encode()
        except Exception:
            pass
        return parse_links(page)

    package_finder.parse_links = pinned_links
    Link.metadata_link = metadata_link
    RequirementPreparer._fetch_metadata_using_link_data_attr = fetch_metadata
    RequirementPreparer.prepare_linked_requirements_more = prepare_without_download
    InstallRequirement.get_dist = dist_of
from pip._internal.cli.main import main
sys.exit(main(sys.argv[3:]))
"""

# pip settings from the environment that say how to reach the index; every other one (and every config file) is
# left out.
KEPT_PIP_SETTINGS = {"PIP_INDEX_URL", "PIP_CERT", "PIP_CLIENT_CERT", "PIP_TRUSTED_HOST", "PIP_PROXY",
                     "PIP_DEFAULT_TIMEOUT", "PIP_RETRIES", "PIP_CACHE_DIR"}


def pip_environment():
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_") or key in KEPT_PIP_SETTINGS}
    env["PIP_CONFIG_FILE"] = os.devnull  # pip then reads no configuration file at all
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def resolve(python, platform, pins, workdir):
    """pip's resolution of `pins` for the target, installing nothing: (completed process, report or None)."""
    workdir.mkdir(parents=True, exist_ok=True)
    filtered = workdir / "requirements.txt"
    filtered.write_text("".join(f"{name}=={version}\n" for name, version in pins.items()), encoding="utf-8")
    report = workdir / "report.json"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-c", PIP_FOR_TARGET, json.dumps(marker_environment(python, platform)),
               json.dumps(pins),
               "install", "--dry-run", "--ignore-installed", "--only-binary=:all:", "--quiet",
               "--implementation", "cp", "--python-version", python,
               *[arg for tag in PLATFORMS[platform][0] for arg in ("--platform", tag)],
               "--target", str(workdir / "target"), "--report", str(report), "-r", str(filtered)]
    done = subprocess.run(command, capture_output=True, text=True, env=pip_environment(), timeout=900)
    return done, json.loads(report.read_text(encoding="utf-8")) if done.returncode == 0 else None


UNREACHABLE = ("NewConnectionError", "Failed to establish a new connection", "Temporary failure in name resolution",
               "Name or service not known", "ConnectTimeout", "ReadTimeout", "Max retries exceeded",
               "Could not fetch URL", "SSLError", "ProxyError")


def problems(python, platform, pins, done, report):
    """What is wrong with the target's resolution, as sentences (none: all good)."""
    target = f"CPython {python} on {platform}"
    if report is None:
        # Not pip's failure: the metadata files tried in vain before reading the wheel (PIP_FOR_TARGET).
        lines = [line for line in done.stderr.strip().splitlines()
                 if not (line.strip().startswith("ERROR: HTTP error 404") and line.endswith(".whl.metadata"))]
        tail = "\n".join(lines[-12:])
        if any(sign in done.stderr for sign in UNREACHABLE):
            return [f"the package index could not be reached, so requirements.txt could not be checked for {target} "
                    f"(KBH_SKIP_INDEX_TESTS=1 skips this test offline):\n{tail}"]
        missing = re.findall(r"No matching distribution found for (\S+)", done.stderr)
        because = f" (no wheel of {', '.join(missing)} fits it; pip was shown only the pinned release's wheels, " \
                  f"hence 'from versions: none')" if missing else ""
        return [f"requirements.txt does not resolve to wheels for {target}{because}:\n{tail}"]
    found = []
    env = marker_environment(python, platform)
    if report["environment"] != env:
        found.append(f"{target}: pip evaluated markers for {report['environment']}, not for the target")
    items = report["install"]
    resolved = {canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"] for item in items}
    floating = {name: version for name, version in resolved.items() if name not in pins}
    if floating:
        found.append(f"{target}: pip pulled in packages that requirements.txt does not pin: {floating}")
    unresolved = sorted(set(pins) - set(resolved))
    if unresolved:
        found.append(f"{target}: pinned but not resolved: {unresolved}")
    changed = {name: (pins[name], version) for name, version in resolved.items() if name in pins and
               version != pins[name]}
    if changed:
        found.append(f"{target}: pip picked other versions than pinned (pinned, picked): {changed}")
    not_wheels = [item["download_info"]["url"] for item in items if not item["download_info"]["url"].endswith(".whl")]
    if not_wheels:
        found.append(f"{target}: not wheels: {not_wheels}")
    yanked = [item["metadata"]["name"] for item in items if item.get("is_yanked")]
    if yanked:
        found.append(f"{target}: yanked releases pinned: {yanked}")
    unmet = []
    for item in items:
        extras = item.get("requested_extras") or [""]
        for line in item["metadata"].get("requires_dist") or []:
            dep = Requirement(line)
            if dep.marker is not None and not any(dep.marker.evaluate({**env, "extra": e}) for e in extras):
                continue
            name = canonicalize_name(dep.name)
            if name not in resolved or not dep.specifier.contains(resolved[name], prereleases=True):
                unmet.append(f"{item['metadata']['name']} needs {dep}")
    if unmet:
        found.append(f"{target}: dependencies that the resolution lacks: {unmet}")
    return found


def resolve_all(targets, base, jobs):
    """{target: (pins, completed process, report)}, `jobs` pip processes at a time."""
    def one(target):
        python, platform = target
        pins = pins_for(marker_environment(python, platform))
        return (pins, *resolve(python, platform, pins, base / target_id(target)))

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return dict(zip(targets, pool.map(one, targets)))


@pytest.fixture(scope="module")
def resolutions(request, tmp_path_factory):
    """Every selected target's resolution, run in parallel the first time a test asks."""
    selected = [item.callspec.params["target"] for item in request.session.items
                if getattr(item, "originalname", None) == "test_pins_resolve_to_wheels_and_nothing_floats"
                and hasattr(item, "callspec")]
    jobs = int(os.environ.get("KBH_PIP_JOBS", "5"))
    return resolve_all(selected or TARGETS, tmp_path_factory.mktemp("resolutions"), jobs)


@pytest.mark.skipif(os.environ.get("KBH_SKIP_INDEX_TESTS") == "1",
                    reason="KBH_SKIP_INDEX_TESTS=1: resolving the pins for every target needs the package index")
@pytest.mark.parametrize("target", TARGETS, ids=target_id)
def test_pins_resolve_to_wheels_and_nothing_floats(target, resolutions):
    found = problems(*target, *resolutions[target])
    if found:
        pytest.fail("\n".join(found), pytrace=False)


def test_every_line_applies_on_some_target():
    """A marker that no target satisfies is a typo (platform_machine == "arm64" on Linux, say)."""
    envs = [marker_environment(*target) for target in TARGETS]
    for req in pinned_requirements():
        assert req.marker is None or any(req.marker.evaluate(env) for env in envs), f"{req} applies on no target"


def test_requires_python_matches_the_targets():
    """pyproject's requires-python admits every target's Python and refuses 3.10 and 3.14: pip's 'requires a
    different Python' is the one sentence a too-old (or too-new) Python gets from the README's first command."""
    import tomllib

    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
                        ["project"]["requires-python"])
    assert all(python in spec for python, _ in TARGETS)
    assert "3.10.13" not in spec and "3.14.0" not in spec


if __name__ == "__main__":
    # python tests/test_requirements.py [DIR]: resolve every target and print what it resolved to and any problem.
    import tempfile
    import time

    base = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
    started = time.monotonic()
    results = resolve_all(TARGETS, base, int(os.environ.get("KBH_PIP_JOBS", "5")))
    print(f"{len(TARGETS)} targets in {time.monotonic() - started:.0f} s")
    reference = None
    for target, (pins, done, report) in results.items():
        print(f"{target_id(target)}: {len(pins)} pins; " + ("; ".join(problems(*target, pins, done, report)) or "ok"))
        if reference is None:
            reference = pins
        else:
            diff = {n: (reference.get(n), v) for n, v in pins.items() if reference.get(n) != v}
            diff.update({n: (v, None) for n, v in reference.items() if n not in pins})
            print(f"    differs from {target_id(TARGETS[0])} (there, here): {diff}")
