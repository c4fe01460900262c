// i18n.js: every key of English is in every language shipped, with the same placeholders and,
// for counts, every plural form the language has; the language follows the browser, a choice
// wins, English is the fallback; Arabic is right to left.
import assert from "node:assert/strict";
import { test } from "node:test";

import { LANGUAGES, language, pickLanguage, t, useLanguage } from "../../static_site/js/i18n.js";

const en = LANGUAGES.en.table;
const placeholders = (value) => {
  const texts = typeof value === "string" ? [value] : Object.values(value);
  return [...new Set(texts.flatMap((text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1])))].sort();
};

test("every language has every key of English, and no key English lacks", () => {
  for (const [code, { table }] of Object.entries(LANGUAGES)) {
    const missing = Object.keys(en).filter((key) => !(key in table));
    const extra = Object.keys(table).filter((key) => !(key in en));
    assert.deepEqual(missing, [], `${code} lacks ${missing.join(", ")}`);
    assert.deepEqual(extra, [], `${code} has keys English lacks: ${extra.join(", ")}`);
  }
});

test("a translation keeps its placeholders (a count may be spelt out in one form)", () => {
  for (const [code, { table }] of Object.entries(LANGUAGES)) {
    for (const [key, value] of Object.entries(en)) {
      const theirs = placeholders(table[key]).filter((name) => name !== "count");
      const ours = placeholders(value).filter((name) => name !== "count");
      assert.deepEqual(theirs, ours, `${code} ${key}`);
    }
  }
});

test("a count's forms cover every plural category of the language", () => {
  for (const [code, { table }] of Object.entries(LANGUAGES)) {
    const categories = new Intl.PluralRules(code).resolvedOptions().pluralCategories;
    for (const [key, value] of Object.entries(en)) {
      assert.equal(typeof table[key], typeof value, `${code} ${key}`);
      if (typeof value !== "object") continue;
      for (const category of categories) assert.ok(table[key][category], `${code} ${key} lacks "${category}"`);
    }
  }
});

test("plurals: 1 character, 2 characters; Arabic's dual", () => {
  useLanguage("en");
  assert.equal(t("composer.overNote", { count: 1, limit: 1000 }), "1 character over the 1000-character limit: shorten it to send.");
  assert.equal(t("composer.overNote", { count: 2, limit: 1000 }), "2 characters over the 1000-character limit: shorten it to send.");
  assert.equal(t("msg.earlierKeys", { count: 5 }), "5 earlier messages can't be read in this browser");
  assert.equal(t("msg.earlierKeys", { count: 1 }), "1 earlier message can't be read in this browser");
  useLanguage("ar");
  assert.equal(t("time.minutes", { count: 2 }), "دقيقتين");
  assert.equal(t("time.minutes", { count: 3 }), "3 دقائق");
  useLanguage("de");
  assert.equal(t("msg.gap", { count: 1 }), "Hier fehlt vielleicht eine Nachricht.");
  useLanguage("en");
});

test("the browser's languages decide, a choice wins, English is the fallback", () => {
  assert.equal(pickLanguage(["de-AT", "en"]), "de");
  assert.equal(pickLanguage(["fr-FR", "es-MX"]), "es");
  assert.equal(pickLanguage(["fr", "it"]), "en");
  assert.equal(pickLanguage([]), "en");
  assert.equal(pickLanguage(["de"], "ar"), "ar");
  assert.equal(pickLanguage(["de"], "xx"), "de");
  assert.equal(language(), "en"); // Node has no browser languages here
  assert.equal(LANGUAGES.ar.dir, "rtl");
  for (const code of ["en", "de", "es"]) assert.equal(LANGUAGES[code].dir, "ltr");
});
