"""Start a submission's kernel sealed off from the course, the other submissions and the grader (Linux).

The grader runs ``python -m course_tools.grading.sandbox SPEC.json`` for each submission (the spec is
a :class:`Spec` as JSON). This launcher, which uses the standard library only,

1. puts itself in the cgroups the grader made for the submission (memory and process limits), if any;
2. enters new mount, PID, IPC and UTS namespaces, and a network namespace with ``--offline``: as root
   directly, otherwise inside a new user namespace of its own;
3. forks the namespace's first process, which builds a new root on a size-limited tmpfs: the
   system's ``/usr``, ``/etc``, ``/bin`` and ``/lib*``, the Python installation and the virtual
   environment read-only and nosuid, a fresh ``/proc``, a few device nodes (and the GPU's, if there is
   one), ``/tmp``, the kernel's folder (its connection file, copied in, and later its sockets, which
   the grader reaches through ``/proc/PID/root``) and ``/course``, a copy of the course's ``utils/``,
   ``datasets/`` and ``results/``; it pivots into that root and detaches the old one, so nothing else
   on the machine (the course's checkout and its solutions, the other submissions, the grader and
   its command line) can even be named;
4. becomes the submission's own user (as root: a fresh unprivileged uid; otherwise uid 1000 of the
   user namespace, which is the grader's user outside it) with no capabilities, ``no_new_privs`` and
   a data-size limit (RLIMIT_DATA, which, unlike an address-space limit, leaves room for the virtual
   memory that CUDA reserves), then starts the kernel. It stays behind as the namespace's init:
   it reaps orphans and passes interrupts on to the kernel.

When the grader dies, the launcher gets SIGKILL, and when the launcher dies, the first process does
(``PR_SET_PDEATHSIG``); when that one dies, Linux kills every other process in the namespace, so
nothing a submission starts outlives it. With
``mode="none"`` (``--unsealed``) none of this happens: the kernel runs as the grader's user in a
plain working copy, with the data-size limit only.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import resource
import shutil
import signal
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND = 1, 2, 4, 8, 32, 4096
MS_NOATIME, MS_NODIRATIME, MS_REC, MS_PRIVATE, MS_RELATIME = 1024, 2048, 16384, 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}  # the syscall's number (glibc has no wrapper)
INSIDE_UID = 1000  # the submission's uid inside a user namespace (not 0: it keeps no capabilities)
KERNEL_DIR, COURSE_DIR = "/run/kernel", "/course"  # where the sandbox has its sockets and its copy
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
LAUNCH_FAILED = 70


class SandboxError(RuntimeError):
    """A step of building the sandbox that failed, in words."""


@dataclass
class Spec:
    """What one sandbox is made of (the grader writes it as JSON; see the module's docstring)."""

    mode: str  # "root", "userns" or "none"
    course: str  # the checkout the working copy is made from
    root_dir: str  # an empty folder: the new root's mount point (mode "none": the working folder)
    connection: str  # the kernel's connection file (copied into the sandbox; mode "none": used where it is)
    argv: list[str]  # the kernel's command, with the paths the sandbox sees
    env: dict[str, str]
    copies: list[str] = field(default_factory=lambda: ["utils", "datasets", "results"])
    readonly: list[str] = field(default_factory=list)  # folders bound read-only (Python, the venv)
    devices: list[str] = field(default_factory=lambda: list(DEVICES))
    bind_sys: bool = False  # /sys, read-only (a GPU's driver needs it)
    uid: int = 0  # mode "root": the submission's own user and group
    offline: bool = False
    memory_bytes: int = 8 << 30  # RLIMIT_DATA of every process
    tmpfs_bytes: int = 1 << 30  # the new root: the working copy, /tmp and /dev/shm together
    processes: int = 4096  # mode "root": RLIMIT_NPROC of the submission's user (threads count)
    cgroups: list[str] = field(default_factory=list)  # cgroup folders to join (memory and pids limits)
    parent: int = 0  # the grader's pid: the launcher ends if the grader has (0: not checked)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> Spec:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    @property
    def course_dir(self) -> str:
        """Where the kernel sees its working copy."""
        return str(Path(self.root_dir) / "course") if self.mode == "none" else COURSE_DIR

    @property
    def socket_dir(self) -> str:
        """Where the kernel finds its connection file and makes its sockets."""
        return str(Path(self.connection).parent) if self.mode == "none" else KERNEL_DIR


_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise SandboxError(f"{what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encoded = [value.encode() if value is not None else None for value in (source, target, fstype, data)]
    _check(_libc.mount(encoded[0], encoded[1], encoded[2], ctypes.c_ulong(flags), encoded[3]),
           f"mount {source or fstype} on {target}")


def _locked_flags(path: str) -> int:
    """The mount flags of ``path`` that a read-only remount must keep (inside a user namespace it must)."""
    found = os.statvfs(path).f_flag
    pairs = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
             (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))
    return sum(ms for st, ms in pairs if found & st)


def mount_plan(spec: Spec) -> list[str]:
    """The host folders bound read-only into the new root, parents before children, none inside another."""
    wanted = sorted({os.path.realpath(path) for path in spec.readonly if os.path.isdir(path)}
                    | {path for path in SYSTEM_DIRS if os.path.isdir(path) and not os.path.islink(path)})
    kept: list[str] = []
    for path in wanted:
        if not any(path == other or path.startswith(other.rstrip("/") + "/") for other in kept):
            kept.append(path)
    return kept


def _bind(source: str, target: str, *, readonly: bool, device: bool = False) -> None:
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        Path(target).touch()
    _mount(source, target, None, MS_BIND | MS_REC)
    if readonly:
        extra = 0 if device else MS_NOSUID | MS_NODEV
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | extra | _locked_flags(target))


def _copy_course(spec: Spec, destination: Path) -> None:
    """The submission's working copy: ``utils/``, ``datasets/``, ``results/`` and an empty ``chapters/``."""
    for part in spec.copies:
        source = Path(spec.course) / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
    (destination / "chapters").mkdir(parents=True, exist_ok=True)


def _chown_tree(path: Path, uid: int) -> None:
    os.chown(path, uid, uid)
    for folder, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def build_root(spec: Spec) -> None:
    """In the new mount namespace: the new root, pivoted into, the old one detached."""
    root = spec.root_dir
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={spec.tmpfs_bytes},mode=755")
    for path in SYSTEM_DIRS:  # /bin -> usr/bin on merged-/usr systems: keep the link
        if os.path.islink(path):
            os.symlink(os.readlink(path), root + path)
    for path in mount_plan(spec):
        _bind(path, root + path, readonly=True)
    os.makedirs(root + "/proc")
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/dev/shm")
    for device in spec.devices:
        if os.path.exists(device):
            _bind(device, root + device, readonly=False, device=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2")):
        os.symlink(target, f"{root}/dev/{name}")
    if spec.bind_sys and os.path.isdir("/sys"):
        _bind("/sys", root + "/sys", readonly=True)
    os.makedirs(root + KERNEL_DIR, mode=0o700)
    shutil.copyfile(spec.connection, root + KERNEL_DIR + "/kernel.json")
    course = Path(root + COURSE_DIR)
    _copy_course(spec, course)
    for folder in ("/tmp", "/dev/shm"):
        os.makedirs(root + folder, exist_ok=True)
        os.chmod(root + folder, 0o1777)
    if spec.mode == "root":
        _chown_tree(course, spec.uid)
        _chown_tree(Path(root + KERNEL_DIR), spec.uid)
    os.makedirs(root + "/.old")
    pivot = PIVOT_ROOT[platform.machine()]
    _check(_libc.syscall(pivot, root.encode(), (root + "/.old").encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old", MNT_DETACH), "detach the old root")
    os.rmdir("/.old")


def _drop_privileges(spec: Spec) -> None:
    if spec.mode == "root":
        os.setgroups([])
        os.setresgid(spec.uid, spec.uid, spec.uid)
        os.setresuid(spec.uid, spec.uid, spec.uid)  # from root to a plain uid: every capability is gone
        resource.setrlimit(resource.RLIMIT_NPROC, (spec.processes, spec.processes))
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    resource.setrlimit(resource.RLIMIT_DATA, (spec.memory_bytes, spec.memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _enter_namespaces(spec: Spec) -> None:
    flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | (CLONE_NEWNET if spec.offline else 0)
    if spec.mode == "root":
        _check(_libc.unshare(flags), "unshare")
        return
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(flags | CLONE_NEWUSER), "unshare (a user namespace)")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{INSIDE_UID} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{INSIDE_UID} {gid} 1")


def _init(spec: Spec) -> int:
    """The namespace's first process: build the root, become the submission, start the kernel, reap."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    if spec.mode == "none":
        _copy_course(spec, Path(spec.course_dir))
        os.environ["TMPDIR"] = spec.root_dir
    else:
        build_root(spec)
    _drop_privileges(spec)
    kernel = os.fork()
    if kernel == 0:
        try:
            os.chdir(str(Path(spec.course_dir) / "chapters"))
            os.execve(spec.argv[0], spec.argv, spec.env)
        finally:
            os._exit(LAUNCH_FAILED)
    signal.signal(signal.SIGINT, lambda *_: os.kill(kernel, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(kernel, signal.SIGKILL))
    while True:  # reap every orphan; end with the kernel
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        if pid == kernel:
            return exit_code(status)


def exit_code(status: int) -> int:
    """A wait status as a shell does: the exit status, or 128 + the signal that killed the process."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code & 0xFF


def launch(spec: Spec) -> int:
    """Join the cgroups, enter the namespaces, fork the first process; wait for it and pass interrupts on."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "parent-death signal")
    if spec.parent and os.getppid() != spec.parent:
        raise SandboxError("the grader ended before its sandbox started")
    for cgroup in spec.cgroups:
        Path(cgroup, "cgroup.procs").write_text(str(os.getpid()))
    if spec.mode == "root":
        _check(_libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
    if spec.mode != "none":
        _enter_namespaces(spec)
    first = os.fork()
    if first == 0:
        try:
            code = _init(spec)
        except BaseException as error:  # anything that stops the sandbox from being built: say what
            print(f"sandbox: {error}", file=sys.stderr, flush=True)
            code = LAUNCH_FAILED
        os._exit(code)
    signal.signal(signal.SIGINT, lambda *_: os.kill(first, signal.SIGINT))
    signal.signal(signal.SIGTERM, lambda *_: os.kill(first, signal.SIGKILL))
    while True:
        pid, status = os.waitpid(first, 0)
        if pid == first:
            return exit_code(status)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        return launch(Spec.read(Path(args[0])))
    except (SandboxError, OSError, KeyError, TypeError, ValueError, IndexError) as error:
        print(f"sandbox: {error}", file=sys.stderr, flush=True)
        return LAUNCH_FAILED


if __name__ == "__main__":
    sys.exit(main())
