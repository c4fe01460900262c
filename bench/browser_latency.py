"""Send-to-display latency in the browser, side by side: a commit before (`--before`) against this tree.

    .venv/bin/python -m bench.browser_latency                     # 30 messages per version
    .venv/bin/python -m bench.browser_latency --messages 60 --rounds 6 --after HEAD

Two Chromium pages (Debian's chromium through Playwright, two contexts of one browser)
sit in one room of a local stack; Alice sends N messages one at a time through the UI
(`#text`, Enter) and each is timed from the Enter key on Alice's page to its bubble
(`#messages .msg.other .bubble`) entering Bob's DOM. The next message goes once Bob shows
the last one and Alice's own copy is confirmed (`data-status="sent"`).

Versions, side by side in one run, each on a local stack of its own (its own code:
`PYTHONPATH=<tree>/functions`, since the venv's editable install points at this
checkout; the embedded store; rate limits lifted; the same venv):
  before  `--before` (default 3721f06, version 1: one AES-GCM key from the link), in a
          temporary `git worktree`, removed at the end;
  after   `--after`: this working tree (default "."), or a commit in a worktree too.
Each stack is checked to be what it claims (v2 serves js/protocol.js and refuses a create
without a verifier; v1 does neither). Messages go in `--rounds` batches that alternate
which version goes first, after `--warmup` messages per version that are not counted.

Clocks: the stamps are taken in the pages, `performance.timeOrigin + performance.now()`
(an init script: a capturing keydown listener for Enter on `#text`, a wrapper of `fetch`
for the POST of the message, a wrapper of `WebSocket` for the message frame, a
MutationObserver for the bubble). The two pages are two renderer processes, so the
end-to-end figure subtracts each page's offset from this process's clock, measured as
the best of several round trips; the table prints how far apart the two page clocks
were and within what. The parts need no such correction: Alice's Enter to the start of
her POST (the text is sealed in between) and Bob's frame to his bubble (opened in
between) each come from one page's clock; the middle (POST start to frame at Bob:
the server and the network) is what is left.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from devkit.chromium import CHROMIUM_ARGS
from devkit.servers import local_stack_of

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 20_000
NOW = "performance.timeOrigin + performance.now()"
SAFETY_CODE = re.compile(r"^\d{5} \d{5} \d{5}$")  # 15 digits since the safety-code change

# Stamps in the page, on the clock above; installed before any script of the site runs.
INIT_SCRIPT = """
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = { enter: [], encrypt: [], posts: [], answered: [], frames: [], seen: {}, writes: [] };
  window.__bench = bench;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && event.target?.id === "text") bench.enter.push(now());
  }, true);
  const fetch = window.fetch;
  window.fetch = function (input, init) {
    const post = init?.method === "POST" && String(input).includes("/api/messages");
    if (post) bench.posts.push(now());
    const answer = fetch.apply(this, arguments);
    if (post) answer.finally(() => bench.answered.push(now())).catch(() => {});
    return answer;
  };
  const transaction = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (names, mode) {
    const made = transaction.apply(this, arguments);
    if (mode === "readwrite") {
      const write = { start: now(), end: null };
      bench.writes.push(write);
      made.addEventListener("complete", () => { write.end = now(); });
    }
    return made;
  };
  const encrypt = SubtleCrypto.prototype.encrypt;
  const receiptLabel = new TextEncoder().encode("privochat/3 receipt");
  const isReceipt = (aad) => aad && receiptLabel.every((byte, i) => new Uint8Array(aad.buffer ?? aad, aad.byteOffset ?? 0)[i + 2] === byte);
  SubtleCrypto.prototype.encrypt = function (algorithm) {
    // A message's seal only: protocol v3 also seals receipts, which are timed apart.
    if (!isReceipt(algorithm?.additionalData)) bench.encrypt.push(now());
    return encrypt.apply(this, arguments);
  };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (frame) => {
        const at = now();
        try {
          if (JSON.parse(frame.data).type === "message") bench.frames.push(at);
        } catch {}
      });
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    const log = document.getElementById("messages");
    if (!log) return;
    new MutationObserver(() => {
      const at = now();
      for (const bubble of log.querySelectorAll(".msg.other .bubble")) {
        if (!(bubble.textContent in bench.seen)) bench.seen[bubble.textContent] = at;
      }
    }).observe(log, { childList: true, subtree: true, characterData: true });
  });
})();
"""


@dataclass
class Version:
    label: str
    ref: str  # what was asked for: a commit or "." (the working tree)
    tree: Path
    described: str = ""
    origin: str = ""
    v2: bool = False
    alice: Page | None = None
    bob: Page | None = None
    sent: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@contextmanager
def worktree(ref: str) -> Iterator[Path]:
    """A temporary detached worktree at `ref`, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="privochat-bench-")) / "tree"
    git("worktree", "add", "--detach", str(folder), ref)
    try:
        yield folder
    finally:
        git("worktree", "remove", "--force", str(folder))
        shutil.rmtree(folder.parent, ignore_errors=True)


@contextmanager
def stack(tree: Path) -> Iterator[str]:
    """`python -m infra.local_stack` of that tree with that tree's functions; its origin."""
    with local_stack_of(tree, LOG_LEVEL="WARNING") as running:
        yield running.origin


def speaks_v2(origin: str) -> bool:
    """Whether the stack serves version 2 in both halves (site and functions), checked
    against version 1 in both: a mix (an old site on new functions) is refused."""
    with httpx.Client(base_url=origin, headers={"Origin": origin}, timeout=10) as client:
        site = client.get("/js/protocol.js").status_code == 200
        created = client.post("/api/room/create", json={}).status_code
    functions = created == 422  # v2 wants a verifier; v1 creates a room from {}
    if site != functions or created not in (200, 422):
        raise RuntimeError(f"{origin}: site v2 {site}, create without a verifier {created}")
    return site


def new_page(browser: Browser, origin: str, contexts: list[BrowserContext]) -> Page:
    context = browser.new_context(base_url=origin, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(INIT_SCRIPT)
    contexts.append(context)
    return context.new_page()


def open_room(version: Version, browser: Browser, contexts: list[BrowserContext]) -> None:
    """Alice creates a room from the lobby, Bob opens its link (v2: and clicks Join);
    both are here (v2: and show one safety code)."""
    alice = new_page(browser, version.origin, contexts)
    alice.goto("/")
    alice.get_by_role("button", name="Create a private room").click()
    alice.wait_for_url("**/room/**")
    expect(alice.locator("#app")).to_be_visible(timeout=TIMEOUT_MS)
    link = alice.url
    bob = new_page(browser, version.origin, contexts)
    bob.goto(link)
    if version.v2:
        bob.get_by_role("button", name="Join", exact=True).click()
    for page in (alice, bob):
        expect(page.locator("#app")).to_be_visible(timeout=TIMEOUT_MS)
        expect(page.locator("#presence-text")).to_have_text("Both here", timeout=TIMEOUT_MS)
    if version.v2:
        for page in (alice, bob):
            expect(page.locator("#safety-code")).to_have_text(SAFETY_CODE, timeout=TIMEOUT_MS)
        codes = {page.locator("#safety-code").inner_text() for page in (alice, bob)}
        if len(codes) != 1:
            raise RuntimeError(f"{version.label}: two safety codes {codes}")
    version.alice, version.bob = alice, bob


def pages(version: Version) -> tuple[Page, Page]:
    """Alice's and Bob's pages, once the room is open."""
    if version.alice is None or version.bob is None:
        raise RuntimeError(f"{version.label}: the room is not open")
    return version.alice, version.bob


def send_one(version: Version, *, counted: bool) -> None:
    alice, bob = pages(version)
    text = f"{version.label} {len(version.sent)} {secrets.token_hex(4)}"
    alice.locator("#text").fill(text)
    alice.locator("#text").press("Enter")
    bob.wait_for_function("text => text in window.__bench.seen", arg=text, timeout=TIMEOUT_MS)
    version.sent.append(text)
    # Stored: ✓ sent, or already ✓✓ delivered or read (protocol v3's receipts).
    confirmed = alice.locator(
        "#messages .msg.own:is([data-status=sent], [data-status=delivered], [data-status=read])"
    )
    expect(confirmed).to_have_count(len(version.sent), timeout=TIMEOUT_MS)
    # The next message goes once this one's POST has its answer: the page sends one at a time.
    alice.wait_for_function(
        "n => window.__bench.answered.length >= n", arg=len(version.sent), timeout=TIMEOUT_MS
    )
    if counted:
        version.measured.append(text)


def clock_offset(page: Page, samples: int = 15) -> tuple[float, float]:
    """(page clock - this process's clock, half the round trip of the best sample), ms."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time() * 1000
        at = float(page.evaluate(NOW))
        after = time.time() * 1000
        half = (after - before) / 2
        if best is None or half < best[1]:
            best = (at - (before + half), half)
    assert best is not None
    return best


def quantile(values: list[float], q: float) -> float:
    """The q-quantile, interpolated between order statistics (inclusive method)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def collect(version: Version) -> dict[str, Any]:
    """Per measured message: end to end (clock-corrected), Alice's part, the middle, Bob's part."""
    alice, bob = pages(version)
    offset_a, error_a = clock_offset(alice)
    offset_b, error_b = clock_offset(bob)
    a: dict[str, Any] = alice.evaluate("window.__bench")
    b: dict[str, Any] = bob.evaluate("window.__bench")
    counts = {name: len(a[name]) for name in ("enter", "encrypt", "posts")}
    counts["frames at Bob"] = len(b["frames"])
    if set(counts.values()) != {len(version.sent)}:
        raise RuntimeError(f"{version.label}: {len(version.sent)} sent, {counts} (a reconnect?)")
    parts: dict[str, list[float]] = {key: [] for key, _ in ROWS}
    for index, text in enumerate(version.sent):
        if text not in version.measured:
            continue
        enter, encrypt, post = a["enter"][index], a["encrypt"][index], a["posts"][index]
        frame, seen = b["frames"][index], b["seen"][text]
        total = (seen - offset_b) - (enter - offset_a)
        parts["total"].append(total)
        parts["alice"].append(post - enter)
        parts["before_seal"].append(encrypt - enter)
        writes = [w for w in a["writes"] if enter <= w["start"] <= encrypt and w["end"]]
        if writes:
            parts["keystore"].append(sum(w["end"] - w["start"] for w in writes))
        parts["seal"].append(post - encrypt)
        parts["bob"].append(seen - frame)
        parts["middle"].append(total - (post - enter) - (seen - frame))
    return {
        "parts": parts,
        "clock_gap_ms": offset_b - offset_a,
        "clock_error_ms": error_a + error_b,
    }


# Where Alice's part goes, timed alone in her page with the site's own modules, as the mean
# of `runs` back to back (so warm): sealing one message (v2: protocol.js seal, v1: crypto.js
# encryptText) and, in v2, one read-write transaction of the keystore (keystore.js update,
# which takeSeq runs before each seal) on a scratch record shaped like a room's, deleted after.
PROBE_V2 = """async (runs) => {
  const P = await import("/js/protocol.js");
  const K = await import("/js/keystore.js");
  const aes = () => crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const key = await aes();
  let t = performance.now();
  for (let i = 0; i < runs; i += 1) {
    await P.seal(key, "bench-scratch-room-id", "AAAAAAAAAAA", 1, { name: "Alice", text: `message ${i}`, seq: i + 1, clock: Date.now(), ack: 0 }); // v3 reads clock and ack, v2 ignores them
  }
  const seal = (performance.now() - t) / runs;
  const store = await K.openKeystore();
  const pair = await P.newKeyPair();
  const record = { roomId: "bench-scratch", seat: 1, expiresAt: Date.now() + 60000, pairs: { 1: pair },
    sessions: { AAAAAAAAAAA: { generation: 1, sendKey: await aes(), recvKey: await aes(), safety: "000 000", nextSeq: 1 } } };
  await store.update("bench-scratch", () => ({ record, result: null }));
  t = performance.now();
  for (let i = 0; i < runs; i += 1) {
    await store.update("bench-scratch", (found) => { found.sessions.AAAAAAAAAAA.nextSeq += 1; return { record: found, result: 0 }; });
  }
  const keystore = (performance.now() - t) / runs;
  await store.remove("bench-scratch");
  return { seal, keystore };
}"""

PROBE_V1 = """async (runs) => {
  const C = await import("/js/crypto.js");
  const key = await C.importRoomKey(await C.newRoomKey());
  const t = performance.now();
  for (let i = 0; i < runs; i += 1) await C.encryptText(key, `message ${i}`);
  return { seal: (performance.now() - t) / runs, keystore: null };
}"""


def probe(version: Version, runs: int = 200) -> dict[str, float | None]:
    result: dict[str, float | None] = pages(version)[0].evaluate(
        PROBE_V2 if version.v2 else PROBE_V1, runs
    )
    return result


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"load_before": load_average(), "cores": os.cpu_count()}
    with ExitStack() as stack_of:
        versions = []
        for label, ref in (("before", args.before), ("after", args.after)):
            tree = ROOT if ref == "." else stack_of.enter_context(worktree(ref))
            described = git("-C", str(tree), "describe", "--always", "--dirty")
            versions.append(Version(label, ref, tree, described))
        for version in versions:
            version.origin = stack_of.enter_context(stack(version.tree))
            version.v2 = speaks_v2(version.origin)
        playwright = stack_of.enter_context(sync_playwright())
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        stack_of.callback(browser.close)
        contexts: list[BrowserContext] = []
        for version in versions:
            open_room(version, browser, contexts)
        for version in versions:
            for _ in range(args.warmup):
                send_one(version, counted=False)
        batches = [
            args.messages // args.rounds + (i < args.messages % args.rounds)
            for i in range(args.rounds)
        ]
        for round_number, batch in enumerate(batches):
            order = versions if round_number % 2 == 0 else versions[::-1]
            for version in order:
                for _ in range(batch):
                    send_one(version, counted=True)
        for version in versions:
            results[version.label] = {
                "ref": version.ref,
                "described": version.described,
                "protocol": 2 if version.v2 else 1,
                **collect(version),
                "alone": probe(version),
            }
        for context in contexts:
            context.close()
    results["load_after"] = load_average()
    results["messages"] = args.messages
    results["rounds"] = args.rounds
    results["warmup"] = args.warmup
    return results


ROWS = (
    ("total", "Enter on Alice's page -> bubble in Bob's DOM"),
    ("alice", "  Alice: Enter -> POST /api/messages starts"),
    ("before_seal", "    Enter -> AES-GCM encrypt called"),
    ("keystore", "      of which IndexedDB read-write (v2: the seq)"),
    ("seal", "    encrypt called -> POST starts"),
    ("middle", "  server and network: POST starts -> frame at Bob"),
    ("bob", "  Bob: frame -> bubble in the DOM"),
)


def table(results: dict[str, Any]) -> str:
    before, after = results["before"], results["after"]
    head = (
        f"{'':52} {'v' + str(before['protocol']) + ' ' + before['described']:>20}"
        f" {'v' + str(after['protocol']) + ' ' + after['described']:>20}"
    )
    lines = [
        "Send-to-display latency in Chromium (ms), median / p95, "
        f"{results['messages']} messages per version in {results['rounds']} alternating rounds "
        f"after {results['warmup']} warm-up each",
        head,
    ]
    for key, title in ROWS:
        cells = []
        for side in (before, after):
            values = side["parts"][key]
            cells.append(
                f"{statistics.median(values):8.1f} / {quantile(values, 0.95):7.1f}"
                if values
                else "-"
            )
        lines.append(f"{title:52} {cells[0]:>20} {cells[1]:>20}")
    for key, title in (
        ("seal", "  alone, back to back: sealing one message"),
        ("keystore", "  alone, back to back: one keystore read-write"),
    ):
        cells = []
        for side in (before, after):
            value = side["alone"][key]
            cells.append("-" if value is None else f"{value:8.2f}")
        lines.append(f"{title + ' (mean)':52} {cells[0]:>20} {cells[1]:>20}")
    for name, side in (("before", before), ("after", after)):
        lines.append(
            f"clocks ({name}): Bob's page - Alice's page = {side['clock_gap_ms']:+.1f} ms, "
            f"measured within +/-{side['clock_error_ms']:.1f} ms (corrected in the first row)"
        )
    lines.append(
        f"load average (1, 5, 15 min): {results['load_before']} before, "
        f"{results['load_after']} after; {results['cores']} cores"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=30, help="measured per version")
    parser.add_argument("--rounds", type=int, default=5, help="alternating batches")
    parser.add_argument("--warmup", type=int, default=3, help="uncounted, per version")
    parser.add_argument("--before", default="3721f06", help="commit of the 'before' side")
    parser.add_argument("--after", default=".", help='"." (this working tree) or a commit')
    args = parser.parse_args(argv)
    if args.messages < args.rounds or args.rounds < 1:
        parser.error("at least one message per round")
    if not Path(CHROMIUM).exists():
        parser.error(f"{CHROMIUM} is not installed (scripts/install-system-deps.sh)")
    print(table(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
