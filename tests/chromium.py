"""A headless Chromium driven over the Chrome DevTools Protocol, for the browser check of the book and slides.

The browser is the operating system's (Debian's ``chromium`` package); it is started with a fresh profile,
no extensions, no background networking, and is spoken to over its DevTools websocket with
``websocket-client``: nothing is downloaded, no driver binary is needed. Every request a page makes to
anything but a local file (``http``, ``https``, ``ws``, ``wss``, ``ftp``) is blocked before it leaves and
recorded, so a check can fail on it; so is a local file that fails to load, and an uncaught script error.

    with Chromium.start() as browser:
        page = browser.open(Path("build/book/html/index.html"), width=1280, height=800)
        page.evaluate("document.title")
        page.screenshot(Path("index.png"))
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BLOCKED = ("http://*", "https://*", "ws://*", "wss://*", "ftp://*")
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:", "chrome:", "devtools:")


class BrowserError(RuntimeError):
    """Chromium could not be started or did not answer: the message says what happened."""


def find_browser() -> str | None:
    """The path of an installed Chromium (``CHROMIUM`` overrides), or ``None``."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Page:
    """One tab: its DevTools session, and what it has loaded from outside and thrown."""

    browser: Chromium
    session: str
    target: str
    requests: list[str] = field(default_factory=list)  # every non-local request, blocked before it left
    failed: list[str] = field(default_factory=list)  # local files that could not be loaded
    exceptions: list[str] = field(default_factory=list)  # uncaught JavaScript errors
    urls: dict[str, str] = field(default_factory=dict)  # request id -> URL

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, params, session=self.session)

    def navigate(self, path: Path | str, timeout: float = 60.0) -> None:
        """Load ``path`` (a file, or a ``file://`` URL with a query) and wait for its load event."""
        url = path if isinstance(path, str) else Path(path).resolve().as_uri()
        self.browser.events.clear()
        self.send("Page.navigate", url=url)
        self.browser.wait_for("Page.loadEventFired", self.session, timeout)

    def evaluate(self, expression: str, timeout: float = 60.0) -> Any:
        """The value of a JavaScript expression (a promise is awaited); a thrown error raises BrowserError."""
        reply = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                       "awaitPromise": True, "timeout": timeout * 1000},
                                  session=self.session, timeout=timeout + 5)
        if "exceptionDetails" in reply:
            details = reply["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"the page's script failed: {text}")
        return reply["result"].get("value")

    def screenshot(self, target: Path) -> Path:
        """Save what the tab shows as a PNG."""
        data = self.send("Page.captureScreenshot", format="png")["data"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(data))
        return target


class Chromium:
    """A headless Chromium process and its DevTools connection (use :meth:`start` as a context manager)."""

    def __init__(self, process: subprocess.Popen[bytes], socket: websocket.WebSocket, profile: str) -> None:
        self.process = process
        self.socket = socket
        self.profile = profile
        self.events: list[dict[str, Any]] = []
        self.pages: dict[str, Page] = {}
        self._next_id = 0

    @classmethod
    @contextmanager
    def start(cls, executable: str | None = None, timeout: float = 30.0) -> Iterator[Chromium]:
        executable = executable or find_browser()
        if not executable:
            raise BrowserError("no Chromium found: install it (Debian: apt-get install chromium) or name it "
                               "in the CHROMIUM environment variable.")
        profile = tempfile.mkdtemp(prefix="course-chromium-")
        command = [executable, "--headless=new", "--remote-debugging-port=0", f"--user-data-dir={profile}",
                   "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                   "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                   "--disable-domain-reliability", "--no-pings", "--hide-scrollbars", "--mute-audio",
                   "--disable-gpu", "--force-device-scale-factor=1", "--allow-file-access-from-files",
                   "about:blank"]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # as root (CI), Chromium runs only without its sandbox
        log = open(Path(profile) / "chromium.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        try:
            url = cls._devtools_url(process, Path(profile), timeout)
            socket = websocket.create_connection(url, timeout=timeout, suppress_origin=True)
        except BaseException:
            process.kill()
            process.wait()
            shutil.rmtree(profile, ignore_errors=True)
            raise
        browser = cls(process, socket, profile)
        try:
            yield browser
        finally:
            browser.close()

    @staticmethod
    def _devtools_url(process: subprocess.Popen[bytes], profile: Path, timeout: float) -> str:
        """The DevTools websocket address, from the DevToolsActivePort file Chromium writes in its profile."""
        deadline = time.monotonic() + timeout
        port_file = profile / "DevToolsActivePort"
        while time.monotonic() < deadline and process.poll() is None:
            lines = port_file.read_text().split() if port_file.is_file() else []
            if len(lines) == 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        said = (profile / "chromium.log").read_text(errors="replace").strip().splitlines()[-5:]
        raise BrowserError(f"Chromium did not start (exit status {process.poll()}): " + " | ".join(said))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
             timeout: float = 60.0) -> dict[str, Any]:
        """Send one DevTools command and return its result; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, f"the answer to {method}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method} failed: {reply['error'].get('message')}")
                return reply.get("result", {})

    def wait_for(self, method: str, session: str | None, timeout: float) -> dict[str, Any]:
        """Wait for an event (one already received counts) and return its parameters."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event.get("params", {})
            self._receive(deadline, method)

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrowserError(f"Chromium did not send {waiting_for} in time.")
        self.socket.settimeout(remaining)
        try:
            message = json.loads(self.socket.recv())
        except websocket.WebSocketTimeoutException:
            raise BrowserError(f"Chromium did not send {waiting_for} in time.") from None
        if "method" in message:
            self._note(message)
        return message

    def _note(self, event: dict[str, Any]) -> None:
        """Record what a page fetched from outside and what it threw; keep the rest for wait_for."""
        page = self.pages.get(event.get("sessionId", ""))
        params = event.get("params", {})
        method = event["method"]
        if page is not None and method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            page.urls[params.get("requestId", "")] = url
            if not url.startswith(LOCAL_SCHEMES):
                page.requests.append(url)
        elif page is not None and method == "Network.webSocketCreated":
            page.requests.append(params.get("url", "a websocket"))
        elif page is not None and method == "Network.loadingFailed":
            url = page.urls.get(params.get("requestId", ""), "")
            if url.startswith("file:"):
                page.failed.append(f"{url} ({params.get('errorText', 'failed')})")
        elif page is not None and method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            page.exceptions.append(details.get("exception", {}).get("description") or details.get("text", ""))
        else:
            self.events.append(event)

    def new_page(self, width: int, height: int) -> Page:
        """A fresh tab of the given viewport size, with every non-local request blocked and recorded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session, target)
        self.pages[session] = page
        for method in ("Page.enable", "Network.enable", "Runtime.enable"):
            page.send(method)
        page.send("Network.setBlockedURLs", urls=list(BLOCKED))
        page.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        return page

    def open(self, path: Path | str, width: int, height: int) -> Page:
        """A fresh tab of the given size with ``path`` loaded."""
        page = self.new_page(width, height)
        page.navigate(path)
        return page
