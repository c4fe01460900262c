"""What the protocol asks of each engine's WebCrypto, checked in the engine itself with the
page's own module: a key agreement with a low-order public key is refused (Firefox refuses
it at import, Chromium and WebKit at derive; protocol.js treats both the same). That keys
made in one engine agree with another's is the two-person flow (test_two_engines.py)."""

from __future__ import annotations

import pytest

from devkit.servers import LocalStack
from tests.engines.conftest import Person

pytestmark = pytest.mark.timeout(120)

ENGINES = ["chromium", "firefox", "webkit"]

# u = 0 and u = 1: X25519 with either gives an all-zero shared secret (RFC 7748, section 6.1).
LOW_ORDER = [[0] * 32, [1] + [0] * 31]

DERIVE = """
const P = await import("/js/protocol.js");
const pair = await P.newKeyPair();
const theirs = Uint8Array.from(args[0]);
try {
  await P.deriveSession({ privateKey: pair.privateKey, pub1: pair.pub, pub2: theirs, theirPub: theirs,
    roomId: "r".repeat(21), mySeat: 1, generation: 1 });
  return "derived";
} catch (error) {
  return error.message;
}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_a_low_order_public_key_is_refused(person: Person, stack: LocalStack, engine: str) -> None:
    page = person(engine, (800, 600))
    page.goto(f"{stack.origin}/")
    for point in LOW_ORDER:
        assert page.run(DERIVE, point) == "key agreement refused", (engine, point[0])
    assert page.run(DERIVE, list(range(9, 41))) == "derived", "positive control: a valid key"
    assert page.errors() == []
