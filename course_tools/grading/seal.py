"""The grader's side of sealing a submission off: which seal this machine allows, and the limits around it.

:func:`choose` picks the mode (``root``: each submission gets its own unprivileged uid; ``userns``:
a user namespace of the grader's user; ``none`` only with ``--unsealed``), finds a GPU to pass in, and
whether the grader can make cgroups; :func:`probe` starts one empty sandbox to prove the mode works
here. For each submission :class:`Cgroup` makes its memory and process limits and ends every process
left in them, and :func:`sweep_user` ends any process of the submission's uid that is still alive.
:meth:`Seal.describe` says all of this in one paragraph, printed before the grades.
"""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course_tools.grading.sandbox import DEVICES, Spec

UID_BASE = 1_900_000_000  # the submissions' uids (mode "root"): far above any account's
MAX_SLOTS = 100  # submissions graded at once, at most
PROCESSES = 4096  # processes and threads of one submission (its pids cgroup, or RLIMIT_NPROC of its uid)


class SealError(RuntimeError):
    """This machine cannot seal submissions off in the way asked, in words."""


@dataclass(frozen=True)
class Seal:
    """How every submission of a run is sealed off."""

    mode: str  # "root", "userns" or "none"
    offline: bool
    memory_bytes: int
    cgroups: bool  # whether each submission gets a memory and a pids cgroup
    gpu: tuple[str, ...] = ()  # the GPU's device nodes, passed into every sandbox

    def uid(self, slot: int) -> int:
        """The uid of the submission graded in ``slot`` (mode "root"); unique to this grader's process."""
        return UID_BASE + (os.getpid() % 100_000) * MAX_SLOTS + slot

    def describe(self) -> str:
        gib = f"{self.memory_bytes / 2**30:g} GiB"
        if self.mode == "none":
            where = ("unsealed (--unsealed): each submission runs as your user, in its own working copy, "
                     "with nothing hidden from it")
        else:
            who = ("its own unprivileged user" if self.mode == "root"
                   else "your user inside a user namespace of its own")
            network = (" and network namespace (no network)" if self.offline
                       else " (with the network: use --offline)")
            where = (f"sealed: each submission runs as {who}, in its own mount, PID, IPC and UTS namespaces"
                     f"{network}"
                     ", on a root of its own that holds only the system, Python, a copy of utils/, datasets/ "
                     "and results/ and a scratch /tmp")
        memory = (f"memory: a cgroup limit of {gib} for the whole submission and RLIMIT_DATA of {gib} per "
                  "process" if self.cgroups else
                  f"memory: RLIMIT_DATA of {gib} per process (no cgroup could be made)")
        gpu = (f"GPU: {', '.join(self.gpu)} passed in (the limit is RLIMIT_DATA, not an address-space limit, "
               "which would stop CUDA from starting)" if self.gpu else "GPU: none found")
        return f"{where}; {memory}; {gpu}."


def gpu_devices() -> tuple[str, ...]:
    """The device nodes of NVIDIA GPUs on this machine, if any."""
    return tuple(sorted(glob.glob("/dev/nvidia*") + glob.glob("/dev/nvidia-caps/*")))


def choose(*, unsealed: bool, offline: bool, memory_bytes: int) -> Seal:
    """The seal this machine gives: as root, a uid per submission and cgroups; otherwise a user namespace."""
    if unsealed:
        return Seal("none", offline, memory_bytes, False)
    if not sys.platform.startswith("linux"):
        raise SealError("sealing submissions off needs Linux (namespaces); on this system grade only with "
                        "--unsealed, and only notebooks you trust.")
    root = os.geteuid() == 0
    cgroups = root and Cgroup.available()
    return Seal("root" if root else "userns", offline, memory_bytes, cgroups, gpu_devices())


def spec(seal: Seal, *, course: Path, root_dir: Path, connection: Path, slot: int, argv: list[str],
         env: dict[str, str], cgroups: list[str]) -> Spec:
    """The :class:`~course_tools.grading.sandbox.Spec` of one submission's sandbox."""
    readonly = sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix})
    return Spec(mode=seal.mode, course=str(course), root_dir=str(root_dir), connection=str(connection),
                argv=argv, env=env, readonly=readonly, devices=list(DEVICES) + list(seal.gpu),
                bind_sys=bool(seal.gpu), parent=os.getpid(),
                uid=seal.uid(slot), offline=seal.offline, memory_bytes=seal.memory_bytes, processes=PROCESSES,
                cgroups=cgroups)


def launch(spec_path: Path, log: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    """Start the sandbox launcher on a written spec, in a session (and process group) of its own."""
    return subprocess.Popen([sys.executable, "-m", "course_tools.grading.sandbox", str(spec_path)],
                            cwd=Path(__file__).resolve().parents[2], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=subprocess.STDOUT if log is not None else None,
                            start_new_session=True, close_fds=True)


def probe(seal: Seal, course: Path) -> None:
    """Start one sandbox that runs an empty Python program; :class:`SealError` saying why if it fails."""
    if seal.mode == "none":
        return
    with tempfile.TemporaryDirectory(prefix="cg-") as scratch:
        base = Path(scratch)
        root_dir, connection = base / "root", base / "kernel.json"
        root_dir.mkdir()
        connection.write_text("{}")
        trial = spec(seal, course=course, root_dir=root_dir, connection=connection, slot=MAX_SLOTS - 1,
                     argv=[sys.executable, "-c", "pass"], env={"PATH": "/usr/bin:/bin"}, cgroups=[])
        trial.copies = []
        trial.write(base / "spec.json")
        process = launch(base / "spec.json")
        try:
            output, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
        if process.returncode != 0:
            said = output.decode(errors="replace").strip().splitlines()
            reason = said[-1] if said else f"exit status {process.returncode}"
            how = ("run the grader as root, or allow unprivileged user namespaces "
                   "(sysctl kernel.unprivileged_userns_clone=1 or user.max_user_namespaces > 0)")
            raise SealError(f"this machine could not seal a submission off ({reason}): {how}; or grade with "
                            "--unsealed, only notebooks you trust.")


class Cgroup:
    """One submission's memory and pids cgroups (version 1 or 2), made before it starts, removed after."""

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, name: str, memory_bytes: int) -> None:
        self.folders: list[Path] = []
        try:
            for folder, limits in self._layout(name, memory_bytes):
                folder.mkdir()
                self.folders.append(folder)
                for limit, value in limits:
                    if (folder / limit).exists():
                        (folder / limit).write_text(str(value))
        except OSError as error:
            self.remove()
            raise SealError(f"could not make the cgroup {name} ({error}).") from None

    @classmethod
    def _own(cls) -> dict[str, str]:
        """This process's cgroup path per controller (``""`` for version 2)."""
        found = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                found[controller] = path
        return found

    @classmethod
    def _layout(cls, name: str, memory_bytes: int) -> list[tuple[Path, list[tuple[str, int | str]]]]:
        own = cls._own()
        if "memory" in own and (cls.ROOT / "memory").is_dir():
            memory = cls.ROOT / "memory" / own["memory"].lstrip("/") / name
            pids = cls.ROOT / "pids" / own.get("pids", "/").lstrip("/") / name
            return [(memory, [("memory.limit_in_bytes", memory_bytes),
                              ("memory.memsw.limit_in_bytes", memory_bytes), ("memory.swappiness", 0)]),
                    (pids, [("pids.max", PROCESSES)])]
        if "" in own and (cls.ROOT / "cgroup.controllers").exists():
            return [(cls.ROOT / own[""].lstrip("/") / name,
                     [("memory.max", memory_bytes), ("memory.swap.max", 0), ("pids.max", PROCESSES)])]
        raise OSError("no memory cgroup hierarchy")

    @classmethod
    def available(cls) -> bool:
        """Whether this process can make a cgroup with a memory limit here."""
        try:
            cls(f"course-grade-probe-{os.getpid()}", 1 << 30).remove()
            return True
        except SealError:
            return False

    def paths(self) -> list[str]:
        return [str(folder) for folder in self.folders]

    def remove(self) -> None:
        """End every process left in the cgroups, then remove them."""
        for folder in self.folders:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                time.sleep(0.05)
            try:
                folder.rmdir()
            except OSError:
                pass  # a process still exiting: the empty cgroup costs nothing
        self.folders = []


def sweep_user(uid: int) -> int:
    """SIGKILL every process whose real or effective uid is ``uid``; how many there were."""
    killed = 0
    for status in glob.glob("/proc/[0-9]*/status"):
        try:
            uids = next(line for line in Path(status).read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if str(uid) in uids.split()[1:3]:
            try:
                os.kill(int(status.split("/")[2]), signal.SIGKILL)
                killed += 1
            except (ProcessLookupError, PermissionError):
                pass
    return killed
