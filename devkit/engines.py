"""The three browser engines people chat on, from Debian's packages, behind one small interface
(`EnginePage`) so one two-person flow runs on any pair of them:

- Chromium (`chromium`) through Playwright, as the rest of the browser suite drives it;
- Firefox (`firefox-esr`) over WebDriver BiDi, which it speaks natively (no geckodriver);
- WebKit (`webkit2gtk-driver`: WebKitWebDriver and its MiniBrowser) over W3C WebDriver, under
  Xvfb (MiniBrowser has no headless mode).

Nothing is downloaded: a missing program is `MissingProgram`. Clicks and typing are real input
events of each engine (pointer and key actions), not `element.click()` from a script.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import httpx
from websockets.sync.client import ClientConnection, connect

from devkit.chromium import CHROMIUM_ARGS
from devkit.servers import MissingProgram, find_program, free_port

WEBKIT_MINIBROWSER_GLOB = "/usr/lib/*/webkit2gtk-4.*/MiniBrowser"
STEP_SECONDS = 20.0  # the longest any one step of a flow may take (two busy cores)

# Uncaught errors and unhandled rejections of a page, kept in its sessionStorage where an engine's
# driver has no event for them (WebKitWebDriver drops the console). Every script the test runs in
# the page installs it first, so it is there from the first look at each page on.
_ERROR_HOOK = """
if (!window.__engineErrorHook) {
  window.__engineErrorHook = true;
  const keep = (text) => {
    const kept = JSON.parse(sessionStorage.getItem("engine-errors") || "[]");
    kept.push(String(text));
    sessionStorage.setItem("engine-errors", JSON.stringify(kept));
  };
  addEventListener("error", (event) => keep(event.message));
  addEventListener("unhandledrejection", (event) => keep(`unhandled rejection: ${event.reason}`));
}
"""


class EnginePage(Protocol):
    """One person's tab in one engine."""

    engine: str
    version: str

    def goto(self, url: str) -> None: ...

    def run(self, body: str, *args: Any) -> Any:
        """Runs `body`, the statements of an async function of `args`, in the page; returns what
        it returns, through JSON."""

    def click(self, selector: str) -> None: ...

    def type(self, selector: str, text: str) -> None:
        """Focuses the element with a click, then types `text` key by key (BMP characters)."""

    def press_enter(self) -> None: ...

    def reload(self) -> None: ...

    def screenshot(self, path: Path) -> None: ...

    def errors(self) -> list[str]:
        """Uncaught errors and unhandled rejections the page has had."""

    def close(self) -> None:
        """Closes the person's tab and forgets its cookies and storage."""


def wait_until(
    page: EnginePage, expression: str, *args: Any, what: str, seconds: float = STEP_SECONDS
) -> Any:
    """Re-evaluates `expression` (a JavaScript expression over `args`) until it is truthy and
    returns it; fails with `what` and the last value after `seconds`. A navigation under way
    (the page is being replaced) counts as not yet."""
    deadline = time.monotonic() + seconds
    last: Any = None
    while True:
        with contextlib.suppress(EngineError):
            last = page.run(f"return {expression};", *args)
            if last:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{page.engine}: {what} (last seen: {last!r})")
        time.sleep(0.1)


class EngineError(RuntimeError):
    """The driver refused a command (a script error, a page being replaced, no such element)."""


def _script(body: str) -> str:
    return f"(async (...args) => {{ {body} }})"


# ---------- Chromium (Playwright) ----------


class ChromiumPage:
    """A Playwright page, seen through `EnginePage`."""

    engine = "chromium"

    def __init__(self, page: Any) -> None:
        self.page = page
        self.version = page.context.browser.version
        self._errors: list[str] = []
        page.on("pageerror", lambda error: self._errors.append(str(error)))

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def run(self, body: str, *args: Any) -> Any:
        try:
            return self.page.evaluate(f"(args) => {_script(body)}(...args)", list(args))
        except Exception as error:  # Playwright's Error: a script error or a navigation
            raise EngineError(str(error)) from error

    def click(self, selector: str) -> None:
        self.page.locator(selector).click()

    def type(self, selector: str, text: str) -> None:
        self.page.locator(selector).click()
        self.page.keyboard.type(text)

    def press_enter(self) -> None:
        self.page.keyboard.press("Enter")

    def reload(self) -> None:
        self.page.reload()

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=str(path))

    def errors(self) -> list[str]:
        return list(self._errors)

    def close(self) -> None:
        self.page.context.close()


@contextlib.contextmanager
def chromium() -> Iterator[Callable[[int, int], ChromiumPage]]:
    """Debian's chromium; each call of the factory is a new person (own context) at a size."""
    from playwright.sync_api import sync_playwright

    executable = find_program("chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )

        def new_page(width: int, height: int) -> ChromiumPage:
            context = browser.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(STEP_SECONDS * 1000)
            return ChromiumPage(context.new_page())

        try:
            yield new_page
        finally:
            browser.close()


# ---------- Firefox (WebDriver BiDi) ----------

_FIREFOX_PREFS = {
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.update.disabledForTesting": True,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.update.enabled": False,
    "remote.active-protocols": 1,  # WebDriver BiDi only
}


class BiDi:
    """A WebDriver BiDi session: commands answered in order; events kept as they pass."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=STEP_SECONDS * 3))
            if message.get("id") == self.next_id:
                if message["type"] == "error":
                    raise EngineError(f"{method}: {message['error']}: {message.get('message')}")
                result: dict[str, Any] = message["result"]
                return result
            if message.get("type") == "event":
                self.events.append(message)


class FirefoxPage:
    """A tab of Firefox in a user context of its own (own cookies and storage)."""

    engine = "firefox"

    def __init__(self, bidi: BiDi, version: str, width: int, height: int) -> None:
        self.bidi = bidi
        self.version = version
        self.user_context = bidi.call("browser.createUserContext")["userContext"]
        self.context = bidi.call(
            "browsingContext.create", type="tab", userContext=self.user_context
        )["context"]
        bidi.call(
            "browsingContext.setViewport",
            context=self.context,
            viewport={"width": width, "height": height},
        )

    def goto(self, url: str) -> None:
        self.bidi.call("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def run(self, body: str, *args: Any) -> Any:
        answer = self.bidi.call(
            "script.callFunction",
            functionDeclaration=f"async (...args) => JSON.stringify(await {_script(body)}(...args.map((a) => JSON.parse(a))))",
            arguments=[{"type": "string", "value": json.dumps(arg)} for arg in args],
            target={"context": self.context},
            awaitPromise=True,
        )
        if answer["type"] == "exception":
            raise EngineError(answer["exceptionDetails"]["text"])
        value = answer["result"].get("value")
        return None if value is None else json.loads(value)

    def _centre(self, selector: str) -> tuple[int, int]:
        found = self.run(
            """const el = document.querySelector(args[0]);
            if (!el) return null;
            el.scrollIntoView({ block: "center" });
            const r = el.getBoundingClientRect();
            return [Math.round(r.x + r.width / 2), Math.round(r.y + r.height / 2)];""",
            selector,
        )
        if not found:
            raise EngineError(f"no element {selector}")
        return found[0], found[1]

    def click(self, selector: str) -> None:
        x, y = self._centre(selector)
        pointer = [
            {"type": "pointerMove", "x": x, "y": y, "origin": "viewport"},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self._act({"type": "pointer", "id": "mouse", "actions": pointer})

    def type(self, selector: str, text: str) -> None:
        self.click(selector)
        keys = [
            step
            for c in text
            for step in ({"type": "keyDown", "value": c}, {"type": "keyUp", "value": c})
        ]
        self._act({"type": "key", "id": "keyboard", "actions": keys})

    def press_enter(self) -> None:
        enter = "\ue007"
        self._act(
            {
                "type": "key",
                "id": "keyboard",
                "actions": [{"type": "keyDown", "value": enter}, {"type": "keyUp", "value": enter}],
            }
        )

    def _act(self, source: dict[str, Any]) -> None:
        self.bidi.call("input.performActions", context=self.context, actions=[source])

    def reload(self) -> None:
        self.bidi.call("browsingContext.reload", context=self.context, wait="complete")

    def screenshot(self, path: Path) -> None:
        data = self.bidi.call("browsingContext.captureScreenshot", context=self.context)["data"]
        path.write_bytes(base64.b64decode(data))

    def errors(self) -> list[str]:
        self.run("return null;")  # reads the events that arrived meanwhile
        return [
            event["params"].get("text", "")
            for event in self.bidi.events
            if event.get("method") == "log.entryAdded"
            and event["params"].get("type") == "javascript"
            and event["params"].get("source", {}).get("context") == self.context
        ]

    def close(self) -> None:
        self.bidi.call("browsingContext.close", context=self.context)
        self.bidi.call("browser.removeUserContext", userContext=self.user_context)


@contextlib.contextmanager
def firefox() -> Iterator[Callable[[int, int], FirefoxPage]]:
    """Debian's firefox-esr, headless, on a fresh profile; each page is a new person."""
    executable = find_program("firefox-esr")
    with tempfile.TemporaryDirectory(prefix="privochat-firefox-") as profile:
        Path(profile, "user.js").write_text(
            "".join(
                f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in _FIREFOX_PREFS.items()
            )
        )
        process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-remote",
                "--profile",
                profile,
                "--remote-debugging-port=0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = _bidi_address(process)
            with connect(f"{url}/session", max_size=None, open_timeout=STEP_SECONDS) as socket:
                bidi = BiDi(socket)
                version = bidi.call("session.new", capabilities={})["capabilities"][
                    "browserVersion"
                ]
                bidi.call("session.subscribe", events=["log.entryAdded"])
                yield lambda width, height: FirefoxPage(bidi, version, width, height)
                with contextlib.suppress(Exception):
                    bidi.call("browser.close")
        finally:
            _stop(process)


def _bidi_address(process: subprocess.Popen[str]) -> str:
    """Firefox says where BiDi listens on stderr, once it is ready."""
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
        if found:
            return found.group(1)
    raise RuntimeError(f"firefox exited ({process.wait()}) before WebDriver BiDi listened")


# ---------- WebKit (W3C WebDriver) ----------

_ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
_SMALL_CHROME = "headerbar, toolbar, entry, button, box { min-width: 0; min-height: 0; padding: 0; margin: 0; font-size: 4px; }\n"


class WebKitPage:
    """A MiniBrowser window of its own (own cookies and storage), driven by WebKitWebDriver."""

    engine = "webkit"

    def __init__(self, driver: httpx.Client, binary: str, width: int, height: int) -> None:
        self.driver = driver
        options = {"binary": binary, "args": ["--automation"]}
        session = self._call(
            "POST",
            "/session",
            {"capabilities": {"alwaysMatch": {"webkitgtk:browserOptions": options}}},
        )
        self.session = f"/session/{session['sessionId']}"
        self.version = session["capabilities"]["browserVersion"]
        self._resize(width, height)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.driver.request(method, path, json=body)
        value = answer.json()["value"]
        if answer.status_code != 200:
            raise EngineError(f"{method} {path}: {value.get('error')}: {value.get('message')}")
        return value

    def _resize(self, width: int, height: int) -> None:
        """Sizes the window so the page's viewport is width by height (the window adds its chrome)."""
        window = [width, height]
        for _ in range(4):
            self._call(
                "POST", f"{self.session}/window/rect", {"width": window[0], "height": window[1]}
            )
            inner = self.run("return [innerWidth, innerHeight];")
            if inner == [width, height]:
                return
            window = [max(1, window[0] + width - inner[0]), max(1, window[1] + height - inner[1])]
        raise EngineError(f"the viewport stays {inner}, not {[width, height]}")

    def goto(self, url: str) -> None:
        self._call("POST", f"{self.session}/url", {"url": url})

    def run(self, body: str, *args: Any) -> Any:
        script = f"{_ERROR_HOOK} const done = arguments[arguments.length - 1]; {_script(body)}(...Array.from(arguments).slice(0, -1)).then((v) => done(JSON.stringify(v ?? null)), (e) => done(JSON.stringify({{__error: String(e)}})));"
        value = json.loads(
            self._call(
                "POST", f"{self.session}/execute/async", {"script": script, "args": list(args)}
            )
        )
        if isinstance(value, dict) and "__error" in value:
            raise EngineError(value["__error"])
        return value

    def _element(self, selector: str) -> str:
        found = self._call(
            "POST", f"{self.session}/element", {"using": "css selector", "value": selector}
        )
        return str(found[_ELEMENT])

    def click(self, selector: str) -> None:
        self._call("POST", f"{self.session}/element/{self._element(selector)}/click", {})

    def type(self, selector: str, text: str) -> None:
        element = self._element(selector)
        self._call("POST", f"{self.session}/element/{element}/click", {})
        self._call("POST", f"{self.session}/element/{element}/value", {"text": text})

    def press_enter(self) -> None:
        enter = "\ue007"
        keys = [{"type": "keyDown", "value": enter}, {"type": "keyUp", "value": enter}]
        self._call(
            "POST",
            f"{self.session}/actions",
            {"actions": [{"type": "key", "id": "keyboard", "actions": keys}]},
        )

    def tap(self, selector: str) -> None:
        """A touch: a finger down and up on the element's centre."""
        element = {_ELEMENT: self._element(selector)}
        touch = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": element},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        source = {"type": "pointer", "id": "finger", "parameters": {"pointerType": "touch"}}
        self._call("POST", f"{self.session}/actions", {"actions": [{**source, "actions": touch}]})

    def reload(self) -> None:
        self._call("POST", f"{self.session}/refresh", {})

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self._call("GET", f"{self.session}/screenshot")))

    def errors(self) -> list[str]:
        kept = self.run("return sessionStorage.getItem('engine-errors');")
        return list(json.loads(kept)) if kept else []

    def close(self) -> None:
        self._call("DELETE", self.session)


@contextlib.contextmanager
def webkit() -> Iterator[Callable[[int, int], WebKitPage]]:
    """WebKitGTK's MiniBrowser under a private Xvfb display; each page is a new person."""
    driver_program = find_program("WebKitWebDriver")
    xvfb = find_program("Xvfb")
    binaries = sorted(Path("/").glob(WEBKIT_MINIBROWSER_GLOB.lstrip("/")))
    if not binaries:
        raise MissingProgram("MiniBrowser (Debian's webkit2gtk-driver brings it)")
    # Xvfb picks a free display itself and writes its number to a pipe once it serves it.
    read_end, write_end = os.pipe()
    screen = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1400x1000x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    )
    os.close(write_end)
    with os.fdopen(read_end) as numbers:
        display = f":{numbers.readline().strip()}"
    port = free_port()
    # MiniBrowser's toolbar keeps its window at least 447 px wide; shrinking its GTK widgets (the
    # browser's chrome only: pages are not styled by GTK) lets the viewport be a phone's 390 px.
    chrome = tempfile.TemporaryDirectory(prefix="privochat-webkit-")
    Path(chrome.name, "gtk-3.0").mkdir()
    Path(chrome.name, "gtk-3.0", "gtk.css").write_text(_SMALL_CHROME)
    env = {**os.environ, "DISPLAY": display, "XDG_CONFIG_HOME": chrome.name}
    driver = subprocess.Popen(
        [driver_program, f"--port={port}", "--host=local"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=STEP_SECONDS * 3) as client:
            _wait_for_driver(client, driver)

            # WebKitWebDriver runs one session (one MiniBrowser) at a time: close a page when done.
            yield lambda width, height: WebKitPage(client, str(binaries[-1]), width, height)
    finally:
        _stop(driver)
        _stop(screen)
        chrome.cleanup()


def _wait_for_driver(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STEP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"WebKitWebDriver exited with {process.returncode}")
        with contextlib.suppress(httpx.TransportError):
            if client.get("/status").status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("WebKitWebDriver did not answer")


def _stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


ENGINES: dict[
    str, Callable[[], contextlib.AbstractContextManager[Callable[[int, int], EnginePage]]]
] = {
    "chromium": chromium,
    "firefox": firefox,
    "webkit": webkit,
}
