// sound.js: the soft sound for a new message, off until turned on, remembered, made only in a
// gesture, and played only while the tab is out of sight.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Chime } from "../../static_site/js/sound.js";

function fakes({ stored = null } = {}) {
  const listeners = {};
  const doc = {
    visibilityState: "visible",
    addEventListener: (type, fn) => { listeners[type] = fn; },
  };
  const storage = { value: stored, getItem() { return this.value; }, setItem(_, v) { this.value = v; } };
  const button = { hidden: true, attrs: {}, title: "", clicks: [],
    setAttribute(name, value) { this.attrs[name] = value; },
    addEventListener(_, fn) { this.clicks.push(fn); } };
  const label = { textContent: "" };
  const made = [];
  class Context {
    constructor() { this.state = "running"; this.currentTime = 0; this.destination = {}; this.tones = 0; made.push(this); }
    resume() { this.state = "running"; return Promise.resolve(); }
    createGain() { return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} }; }
    createOscillator() { this.tones += 1; return { frequency: {}, connect() {}, start() {}, stop() {} }; }
  }
  return { doc, storage, button, label, made, listeners, Context };
}

test("off until turned on; no audio context before a gesture", () => {
  const f = fakes();
  const chime = new Chime({ button: f.button, label: f.label, storage: f.storage, doc: f.doc, Context: f.Context });
  assert.equal(f.button.hidden, false);
  assert.equal(f.button.attrs["aria-pressed"], "false");
  assert.equal(f.label.textContent, "Sound off");
  f.doc.visibilityState = "hidden";
  assert.equal(chime.play(), false);
  assert.equal(f.made.length, 0);
});

test("turned on by a click: remembered, and a new message in a background tab plays", () => {
  const f = fakes();
  const chime = new Chime({ button: f.button, label: f.label, storage: f.storage, doc: f.doc, Context: f.Context });
  f.button.clicks[0]();
  assert.equal(f.storage.value, "on");
  assert.equal(f.button.attrs["aria-pressed"], "true");
  assert.equal(f.label.textContent, "Sound on");
  assert.equal(chime.play(), false, "a visible tab: no sound");
  f.doc.visibilityState = "hidden";
  assert.equal(chime.play(), true);
  assert.equal(f.made[0].tones, 2);
  f.button.clicks[0]();
  assert.equal(f.storage.value, "off");
  assert.equal(chime.play(), false);
});

test("remembered on: the context waits for the page's first gesture", () => {
  const f = fakes({ stored: "on" });
  const chime = new Chime({ button: f.button, label: f.label, storage: f.storage, doc: f.doc, Context: f.Context });
  f.doc.visibilityState = "hidden";
  assert.equal(chime.play(), false, "no context yet: nothing is forced to autoplay");
  f.listeners.pointerdown();
  assert.equal(chime.play(), true);
});

test("no WebAudio: no toggle", () => {
  const f = fakes();
  new Chime({ button: f.button, label: f.label, storage: f.storage, doc: f.doc, Context: undefined });
  assert.equal(f.button.hidden, true);
});
