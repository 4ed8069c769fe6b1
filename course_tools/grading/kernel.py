"""One submission's IPython kernel as the grader sees it: started in its sandbox, reached over ZMQ, ended.

:class:`Kernel` writes the kernel's connection file, starts the sandbox launcher
(:mod:`course_tools.grading.sandbox`) with ``ipykernel`` as its command, and talks to the kernel over
Unix sockets (ZMQ's ``ipc`` transport, which works with the network cut) that the kernel makes inside
its sandbox: the grader reaches them through ``/proc/PID/root`` of the sandbox's first process, so a
submission writes nothing outside its size-limited root. It uses two channels only: ``shell`` for
execute requests and ``stdin`` for the input requests that carry the callbacks of
:mod:`course_tools.grading.proxy`. It never subscribes to the kernel's output, so whatever the
notebook prints costs the grader nothing, and it accepts no message over :data:`MAX_MESSAGE`. Every
wait has a deadline and notices a dead kernel; :meth:`Kernel.close` ends the sandbox (its launcher ends
the PID namespace), then the launcher's process group, the cgroups and (as root) every process of the
submission's uid.
"""

from __future__ import annotations

import collections
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.session import Session

from course_tools.grading import seal as sealing
from course_tools.grading.sandbox import KERNEL_DIR, LAUNCH_FAILED, Spec

MAX_MESSAGE = 64 << 20  # bytes: a larger message from the kernel is dropped (and its call times out)
START_TIMEOUT = 120  # seconds for the kernel to answer its first request
LOG_TAIL = 8192  # bytes of the sandbox's own output kept, for a message when it fails to start
PORTS = {"shell": 1, "iopub": 2, "stdin": 3, "control": 4, "hb": 5}
PASSED_ENV = ("LANG", "LC_ALL", "TZ", "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES", "OMP_NUM_THREADS",
              "TF_CPP_MIN_LOG_LEVEL", "XLA_FLAGS", "COURSE_PROGRESS")


def _is_socket(path: Path) -> bool:
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except OSError:
        return False


class KernelDied(BaseException):
    """The kernel is gone (or never started). A BaseException, so that no checker's ``except`` catches it."""


class Kernel:
    """A submission's kernel in its sandbox; usable as a context manager that closes it."""

    def __init__(self, seal: sealing.Seal, work: Path, slot: int, *, course: Path, mode: str,
                 backend: str) -> None:
        self.seal, self.work, self.slot = seal, work, slot
        self.course, self.course_mode, self.backend = course, mode, backend
        self.process: subprocess.Popen[bytes] | None = None
        self.cgroup: sealing.Cgroup | None = None
        self._log: collections.deque[bytes] = collections.deque()
        self._context: zmq.Context[Any] | None = None
        self.session: Session | None = None
        self.shell: zmq.Socket[Any] | None = None
        self.stdin: zmq.Socket[Any] | None = None
        self.starts = 0
        self.pending = ""
        self.course_dir = ""  # where the kernel sees its copy of the course

    # Starting ---------------------------------------------------------------------------------------

    def _env(self, spec: Spec) -> dict[str, str]:
        home = f"{spec.course_dir}/home" if spec.mode == "none" else "/tmp/home"
        env = {name: os.environ[name] for name in PASSED_ENV if name in os.environ}
        env.update({
            "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin", "HOME": home,
            "USER": "learner", "LOGNAME": "learner",
            "TMPDIR": "/tmp" if spec.mode != "none" else spec.root_dir,
            "PYTHONPATH": spec.course_dir, "PYTHONNOUSERSITE": "1", "COURSE_MODE": self.course_mode,
            "KERAS_BACKEND": self.backend, "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/matplotlib",
            "KERAS_HOME": f"{home}/keras", "IPYTHONDIR": f"{home}/ipython",
            "JUPYTER_RUNTIME_DIR": f"{home}/jupyter",
            "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        })
        return env

    def start(self) -> None:
        """Start a fresh sandbox and kernel; :class:`KernelDied` saying why if it does not answer."""
        self.close()
        self.starts += 1
        self._log.clear()
        folder = self.work / f"s{self.slot}-{self.starts}"
        root_dir, connection = folder / "root", folder / "kernel.json"
        for path in (folder, root_dir):
            path.mkdir(mode=0o700)
        if self.seal.cgroups:
            name = f"course-grade-{os.getpid()}-{self.slot}-{self.starts}"
            self.cgroup = sealing.Cgroup(name, self.seal.memory_bytes)
        key = secrets.token_hex(32)
        cgroups = self.cgroup.paths() if self.cgroup else []
        spec = sealing.spec(self.seal, course=self.course, root_dir=root_dir, connection=connection,
                            slot=self.slot, argv=[], env={}, cgroups=cgroups)
        spec.argv = [sys.executable, "-m", "ipykernel_launcher", "-f", f"{spec.socket_dir}/kernel.json",
                     "--HistoryManager.hist_file=:memory:", "--IPKernelApp.quiet=True"]
        spec.env = self._env(spec)
        self.course_dir = spec.course_dir
        connection.write_text(
            '{"transport": "ipc", "ip": "%s/k", "key": "%s", "signature_scheme": "hmac-sha256", %s}'
            % (spec.socket_dir, key, ", ".join(f'"{name}_port": {port}' for name, port in PORTS.items())))
        spec.write(folder / "spec.json")
        self.process = sealing.launch(folder / "spec.json")
        threading.Thread(target=self._read_log, args=(self.process,), daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        sockets = folder if spec.mode == "none" else Path(f"/proc/{self._first(deadline)}/root{KERNEL_DIR}")
        self._connect(sockets, key, deadline)
        reply = None
        while reply is None and time.monotonic() < deadline:
            message = self._send("kernel_info_request", {})
            reply = self._wait(message, min(deadline, time.monotonic() + 1.0), None)
        if reply is None:
            raise KernelDied(self.death() if not self.alive() else
                             f"the kernel did not answer within {START_TIMEOUT} s{self._said()}")

    def _first(self, deadline: float) -> int:
        """The outer pid of the sandbox's first process: through its root the grader reaches the sockets."""
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        while time.monotonic() < deadline and self.alive():
            try:
                found = children.read_text().split()
            except OSError:
                found = []
            if found:
                return int(found[0])
            time.sleep(0.01)
        raise KernelDied(self.death() if not self.alive() else "the sandbox did not start its first process")

    def _connect(self, sockets: Path, key: str, deadline: float) -> None:
        """Connect once the kernel's shell and stdin sockets exist, before any of the notebook's code runs.

        The sockets are checked to be sockets, not links, and the connection is never made again, so
        that a notebook cannot send the grader's connection elsewhere by replacing them later.
        """
        paths = [sockets / f"k-{PORTS[name]}" for name in ("shell", "stdin")]
        while not all(_is_socket(path) for path in paths):
            if not self.alive() or time.monotonic() > deadline:
                late = f"the kernel did not open its sockets within {START_TIMEOUT} s{self._said()}"
                raise KernelDied(self.death() if not self.alive() else late)
            time.sleep(0.02)
        self._context = zmq.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE)
        self._context.setsockopt(zmq.LINGER, 0)
        self.session = Session(key=key.encode(), signature_scheme="hmac-sha256", username="grader")
        self.shell, self.stdin = self._context.socket(zmq.DEALER), self._context.socket(zmq.DEALER)
        for socket, name in ((self.shell, "shell"), (self.stdin, "stdin")):
            socket.setsockopt(zmq.IDENTITY, self.session.bsession)
            socket.setsockopt(zmq.RECONNECT_IVL, -1)
            socket.connect(f"ipc://{sockets}/k-{PORTS[name]}")

    def _read_log(self, process: subprocess.Popen[bytes]) -> None:
        """Keep the last :data:`LOG_TAIL` bytes of the sandbox's output; drop the rest as it comes."""
        size = 0
        assert process.stdout is not None
        for chunk in iter(lambda: process.stdout.read1(4096), b""):  # type: ignore[union-attr]
            self._log.append(chunk)
            size += len(chunk)
            while size > LOG_TAIL and len(self._log) > 1:
                size -= len(self._log.popleft())

    def death(self) -> str:
        """How the sandbox ended, in words."""
        code = self.process.poll() if self.process is not None else None
        if code is None:
            return "the kernel stopped answering"
        if code == LAUNCH_FAILED:
            return f"the sandbox could not start the kernel{self._said()}"
        if code > 128:
            number = code - 128
            name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
            cause = " (out of memory, or killed)" if number == signal.SIGKILL else ""
            return f"the kernel died: killed by {name}{cause}"
        return f"the kernel died: it exited with status {code}"

    def _said(self) -> str:
        lines = [line for line in b"".join(self._log).decode(errors="replace").splitlines() if line.strip()]
        return f" (it said: {' | '.join(lines[-3:])[:600]})" if lines else ""

    # Talking to it ----------------------------------------------------------------------------------

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _send(self, kind: str, content: dict[str, Any]) -> str:
        assert self.session is not None and self.shell is not None
        return self.session.send(self.shell, kind, content)["header"]["msg_id"]

    def _wait(self, msg_id: str, deadline: float,
              on_input: Callable[[str], str] | None) -> dict[str, Any] | None:
        """The content of the shell reply to ``msg_id``; None when ``deadline`` passes first.

        Answers the kernel's input requests meanwhile (``on_input(prompt)``, else an empty line);
        :class:`KernelDied` if the sandbox ends. A message that cannot be read is skipped.
        """
        assert self.session is not None and self.shell is not None and self.stdin is not None
        poller = zmq.Poller()
        poller.register(self.shell, zmq.POLLIN)
        poller.register(self.stdin, zmq.POLLIN)
        while True:
            if not self.alive():
                raise KernelDied(self.death())
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for socket, _ in poller.poll(min(left, 0.25) * 1000):
                try:
                    _, message = self.session.recv(socket, mode=zmq.NOBLOCK)
                except Exception:  # a message the kernel forged or broke: not one of ours
                    continue
                if not isinstance(message, dict) or not isinstance(message.get("content"), dict):
                    continue
                parent = message.get("parent_header") or {}
                if socket is self.stdin and message.get("msg_type") == "input_request":
                    prompt = str(message["content"].get("prompt", ""))
                    ours = on_input is not None and parent.get("msg_id") == msg_id
                    value = on_input(prompt) if ours else ""  # type: ignore[misc]
                    self.session.send(self.stdin, "input_reply", {"value": value}, parent=message)
                elif socket is self.shell and parent.get("msg_id") == msg_id:
                    return message["content"]

    def execute(self, code: str, timeout: float, *, silent: bool = False,
                user_expressions: dict[str, str] | None = None,
                on_input: Callable[[str], str] | None = None) -> dict[str, Any] | None:
        """Run ``code``; the execute reply's content, or None if ``timeout`` seconds pass first.

        After a timeout the request is still running: :meth:`interrupt` it.
        """
        self.pending = self._send("execute_request", {
            "code": code, "silent": silent, "store_history": not silent,
            "user_expressions": user_expressions or {}, "allow_stdin": on_input is not None,
            "stop_on_error": False})
        return self._wait(self.pending, time.monotonic() + max(timeout, 0.0), on_input)

    def interrupt(self, grace: float = 10.0) -> bool:
        """Interrupt the request still running (SIGINT); whether it ended within ``grace`` seconds."""
        if not self.alive():
            return False
        assert self.process is not None
        try:
            os.kill(self.process.pid, signal.SIGINT)
            return self._wait(self.pending, time.monotonic() + grace, None) is not None
        except KernelDied:
            return False

    def responsive(self, timeout: float = 10.0) -> bool:
        """Whether the kernel still answers a request (after an interrupted one, say)."""
        try:
            return self.alive() and self._wait(self._send("kernel_info_request", {}),
                                               time.monotonic() + timeout, None) is not None
        except KernelDied:
            return False

    # Ending -----------------------------------------------------------------------------------------

    def close(self) -> None:
        """End the sandbox and everything in it, then remove its folder."""
        if self.process is not None:  # the launcher kills the namespace's first process, reaps it and ends
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
            self.cgroup = None
        if self.seal.mode == "root" and self.process is not None:
            sealing.sweep_user(self.seal.uid(self.slot))
        if self.process is not None:
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            self.process = None
        for socket in (self.shell, self.stdin):
            if socket is not None:
                socket.close(linger=0)
        self.shell = self.stdin = None
        if self._context is not None:
            self._context.term()
            self._context = None
        for folder in self.work.glob(f"s{self.slot}-*"):
            shutil.rmtree(folder, ignore_errors=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
