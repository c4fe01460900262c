"""The browser's hello state machine (static_site/js/handshake.js, run by Node
through tests/js/handshake-interop.mjs) and its Python twin
(tests/support/handshake_rules.py) make the same decisions on the same scripted
hello sequences: what each page publishes (generation, revealed or not), its
session's marks, whether it may seal, the problems it reports, the generations
it counts as abandoned and the private keys it still holds. Keys are
random on each side, so safety codes are compared by which pages share one."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from devkit.servers import ROOT, find_program
from tests.support import e2ee
from tests.support.handshake_rules import Handshake

SCRIPT = ROOT / "tests" / "js" / "handshake-interop.mjs"
ROOM = "roomroomroomroomroom1"

Step = dict[str, Any]


def run_twin(steps: list[Step], link: bytes) -> list[dict[str, Any]]:
    """The script on handshake_rules.py, recorded as the Node script records it."""
    hello_key = e2ee.hello_key(link, ROOM)
    foreign_key = e2ee.hello_key(e2ee.new_link_key(), ROOM)
    relay: dict[int, dict[str, Any]] = {}
    pages: dict[str, Handshake] = {}
    reported: dict[str, int] = {}
    forged: dict[str, bytes] = {}

    def state(name: str, **extra: Any) -> dict[str, Any]:
        page = pages[name]
        s = page.current
        record = {
            "page": name,
            **extra,
            "session": None
            if s is None
            else {
                "generation": s.generation,
                "keyChange": s.key_change,
                "accepted": s.accepted,
                "verified": s.verified,
                "code": s.safety,
            },
            "canSeal": page.can_seal(),
            "problems": [[p.kind, p.seat, p.generation] for p in page.problems[reported[name] :]],
            "abandoned": sorted(page.abandoned),
            "privateKeys": sorted(page.private_keys),
        }
        reported[name] = len(page.problems)
        return record

    def hellos_of(ref: dict[str, Any]) -> list[dict[str, Any]]:
        if ref.get("server"):
            return list(relay.values())
        forge = ref["forge"]
        key = forge["key"]
        if key not in forged:
            forged[key] = bytes(32) if forge.get("zero") else e2ee.new_key_pair().pub
        mac_key = foreign_key if forge.get("foreign") else hello_key
        return [
            e2ee.make_hello(
                mac_key,
                ROOM,
                forge["seat"],
                forge["generation"],
                forged[key],
                reveal=forge.get("reveal", False),
            )
        ]

    def update(name: str, hellos: list[dict[str, Any]]) -> dict[str, Any]:
        out = pages[name].update(hellos)
        for hello in out:
            relay[hello["seat"]] = hello
        return state(name, do="update", published=[[h["generation"], "pub" in h] for h in out])

    records: list[dict[str, Any]] = []
    for step in steps:
        kind = step["do"]
        if kind == "open":
            pages[step["page"]] = Handshake(ROOM, step["seat"], hello_key)
            reported[step["page"]] = 0
            records.append(state(step["page"], do="open"))
        elif kind == "update":
            hellos = [hello for ref in step["hellos"] for hello in hellos_of(ref)]
            records.append(update(step["page"], hellos))
        elif kind == "settle":
            for _ in range(20):
                round_records = [update(name, list(relay.values())) for name in step["pages"]]
                records += round_records
                if not any(record["published"] for record in round_records):
                    break
        elif kind == "reload":
            pages[step["page"]].reload()
            records.append(state(step["page"], do="reload"))
        elif kind == "leave":
            pages[step["page"]].leave()
            records.append(state(step["page"], do="leave"))
        elif kind == "mark":
            pages[step["page"]].mark(**step["marks"])
            records.append(state(step["page"], do="mark"))
        else:
            raise AssertionError(f"unknown step {step}")
    return records


def run_node(steps: list[Step], link: bytes) -> list[dict[str, Any]]:
    program = find_program("node")
    script = {"roomId": ROOM, "link": e2ee.b64url(link), "steps": steps}
    done = subprocess.run(
        [program, str(SCRIPT)],
        cwd=ROOT,
        input=json.dumps(script),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    records: list[dict[str, Any]] = json.loads(done.stdout)
    return records


def labelled(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Safety codes replaced by their order of first appearance: "code 1", "code 2"."""
    labels: dict[str, str] = {}
    out = []
    for record in records:
        session = record["session"]
        if session is not None:
            code = session["code"]
            session = {**session, "code": labels.setdefault(code, f"code {len(labels) + 1}")}
        out.append({**record, "session": session})
    return out


def forge(seat: int, generation: int, key: str, **flags: bool) -> dict[str, Any]:
    return {"forge": {"seat": seat, "generation": generation, "key": key, **flags}}


SERVER = {"server": True}


def opened(*seats: tuple[str, int]) -> list[Step]:
    return [{"page": name, "do": "open", "seat": seat} for name, seat in seats]


def agreed() -> list[Step]:
    return [
        *opened(("A", 1), ("B", 2)),
        {"pages": ["A"], "do": "settle"},
        {"pages": ["A", "B"], "do": "settle"},
        {"page": "A", "do": "mark", "marks": {"verified": True}},
        {"page": "B", "do": "mark", "marks": {"verified": True}},
    ]


SCRIPTS: dict[str, list[Step]] = {
    "a-forced-rekey-after-comparison": [
        *agreed(),
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "m2")]},
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "m2", reveal=True)]},
        {"page": "B", "do": "update", "hellos": [forge(1, 2, "m1")]},
        {"page": "B", "do": "update", "hellos": [forge(1, 2, "m1", reveal=True)]},
        {"page": "A", "do": "mark", "marks": {"accepted": True}},
        {"page": "A", "do": "update", "hellos": []},
    ],
    "b-rejoin-after-leave": [
        *agreed(),
        {"page": "B", "do": "leave"},
        {"pages": ["A", "B"], "do": "settle"},
        {"page": "B", "do": "mark", "marks": {"accepted": True}},
    ],
    "b-rejoin-forged-by-the-server": [
        *agreed(),
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "m", reveal=True)]},
    ],
    "c-grinding-across-generations": [
        *opened(("A", 1)),
        {"pages": ["A"], "do": "settle"},
        *[{"page": "A", "do": "update", "hellos": [forge(2, g, f"m{g}")]} for g in range(1, 7)],
        {"page": "A", "do": "update", "hellos": [forge(2, 3, "m3", reveal=True)]},
    ],
    "c-two-commits-in-one-push": [
        *opened(("A", 1)),
        {"pages": ["A"], "do": "settle"},
        {"page": "A", "do": "update", "hellos": [forge(2, 1, "m1"), forge(2, 2, "m2")]},
        {"page": "A", "do": "update", "hellos": [forge(2, 3, "m3")]},
    ],
    "d-withheld-reveal": [
        *opened(("B", 2)),
        {"pages": ["B"], "do": "settle"},
        *opened(("A", 1)),
        {"page": "A", "do": "update", "hellos": [SERVER]},
        {"page": "B", "do": "update", "hellos": [SERVER]},
        {"page": "A", "do": "update", "hellos": []},
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "m2")]},
        {"page": "A", "do": "update", "hellos": [forge(2, 3, "m3")]},
        {"page": "A", "do": "update", "hellos": [forge(2, 4, "m4")]},
    ],
    "e-first-keys-then-a-reload": [
        *opened(("A", 1), ("B", 2)),
        {"pages": ["A"], "do": "settle"},
        {"pages": ["A", "B"], "do": "settle"},
        {"page": "A", "do": "reload"},
        {"pages": ["A", "B"], "do": "settle"},
    ],
    "e-reload-before-the-other-arrives": [
        *opened(("A", 1)),
        {"pages": ["A"], "do": "settle"},
        {"page": "A", "do": "reload"},
        {"pages": ["A"], "do": "settle"},
        *opened(("B", 2)),
        {"pages": ["A", "B"], "do": "settle"},
    ],
    "e-reload-after-revealing-before-the-other-did": [
        *opened(("B", 2)),
        {"pages": ["B"], "do": "settle"},
        *opened(("A", 1)),
        {"page": "A", "do": "update", "hellos": [SERVER]},
        {"page": "A", "do": "reload"},
        {"pages": ["A", "B"], "do": "settle"},
    ],
    "e-reload-after-the-other-derived-is-a-key-change-there": [
        *opened(("B", 2)),
        {"pages": ["B"], "do": "settle"},
        *opened(("A", 1)),
        {"page": "A", "do": "update", "hellos": [SERVER]},
        {"page": "B", "do": "update", "hellos": [SERVER]},
        {"page": "A", "do": "reload"},
        {"pages": ["A", "B"], "do": "settle"},
    ],
    "e-three-reloads-racing-the-others-reveal-stop-the-other": [
        *opened(("A", 1)),
        {"pages": ["A"], "do": "settle"},
        *opened(("B", 2)),
        *[
            step
            for _ in range(3)
            for step in (
                {"page": "B", "do": "update", "hellos": [SERVER]},
                {"page": "A", "do": "reload"},
                {"page": "A", "do": "update", "hellos": [SERVER]},
            )
        ],
        {"page": "B", "do": "update", "hellos": [SERVER]},
    ],
    "refused-foreign-mac-equivocation-low-order-key": [
        *agreed(),
        {"page": "A", "do": "update", "hellos": [forge(2, 1, "x", reveal=True, foreign=True)]},
        {"page": "A", "do": "update", "hellos": [forge(2, 1, "y", reveal=True)]},
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "zero", reveal=True, zero=True)]},
        {"page": "A", "do": "update", "hellos": [forge(2, 2, "zero", reveal=True, zero=True)]},
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_handshake_js_and_the_python_twin_decide_alike(name: str) -> None:
    steps = SCRIPTS[name]
    link = e2ee.new_link_key()
    browser = labelled(run_node(steps, link))
    twin = labelled(run_twin(steps, link))
    assert len(browser) == len(twin)
    for i, (js, py) in enumerate(zip(browser, twin, strict=True)):
        assert js == py, f"step {i} of {name!r}: handshake.js {js} != twin {py}"
