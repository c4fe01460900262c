// linkify.js: which parts of a message become links (http and https only), and that the
// pieces always join back into the text as written.
import assert from "node:assert/strict";
import { test } from "node:test";

import { safeHref, splitLinks } from "../../static_site/js/linkify.js";

const joined = (pieces) => pieces.map((piece) => piece.text).join("");
const links = (text) => splitLinks(text).filter((piece) => piece.href).map((piece) => piece.href);

test("an http or https link becomes a link, with the text around it kept", () => {
  const text = "see https://example.com/a?b=1 and http://example.org/x#y now";
  assert.deepEqual(splitLinks(text), [
    { text: "see " },
    { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" },
    { text: " and " },
    { text: "http://example.org/x#y", href: "http://example.org/x#y" },
    { text: " now" },
  ]);
});

test("other schemes stay text: javascript, data, file, mailto, ftp", () => {
  for (const text of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>", "file:///etc/passwd",
    "mailto:a@b.c", "ftp://example.com/f", "see javascript://example.com/%0aalert(1)"]) {
    assert.deepEqual(links(text), [], text);
    assert.equal(joined(splitLinks(text)), text);
  }
});

test("punctuation that ends a sentence is not part of the link; balanced parentheses are", () => {
  assert.deepEqual(links("Look: https://example.com/page."), ["https://example.com/page"]);
  assert.deepEqual(links("(https://example.com/x)"), ["https://example.com/x"]);
  assert.deepEqual(links("https://en.wikipedia.org/wiki/Foo_(bar)!"), ["https://en.wikipedia.org/wiki/Foo_(bar)"]);
  assert.deepEqual(links("“https://example.com/q”"), ["https://example.com/q"]);
});

test("a link stops at quotes and angle brackets, so markup around it stays text", () => {
  const text = '<a href="https://evil.test/">x</a>';
  assert.deepEqual(links(text), ["https://evil.test/"]);
  assert.equal(joined(splitLinks(text)), text);
});

test("the pieces always join back into the text", () => {
  for (const text of ["", "plain", "https://a.b", "x https:// y", "https://a.b/c).", "é https://ex.com/ü?q=✓ ok", "a\nhttps://b.c\n"]) {
    assert.equal(joined(splitLinks(text)), text, text);
  }
});

test("safeHref takes absolute http(s) URLs with a host only", () => {
  assert.equal(safeHref("https://example.com"), "https://example.com/");
  assert.equal(safeHref("javascript:alert(1)"), null);
  assert.equal(safeHref("https://"), null);
  assert.equal(safeHref("/relative"), null);
  assert.equal(safeHref(`https://example.com/${"a".repeat(3000)}`), null);
});
