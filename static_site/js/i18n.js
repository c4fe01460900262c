// The words the pages show, one table per language (static_site/js/i18n-<lang>.js), and the
// language: the one this browser chose on the page (remembered), else the first of the
// browser's languages we ship, else English. A key missing from a table falls back to English
// (tests/js/i18n.test.mjs checks that none is missing). Arabic sets dir="rtl" on the page.
//
// A table's value is a string with {placeholders}, or for a count an object of plural forms
// ({one, other, ...}: Intl.PluralRules' categories for the language), picked by vars.count.
// Text from people (names, messages) only ever goes in through textContent.
import ar from "./i18n-ar.js";
import de from "./i18n-de.js";
import en from "./i18n-en.js";
import es from "./i18n-es.js";

/** The languages shipped: their tables, their own names, their direction. */
export const LANGUAGES = {
  en: { table: en, name: "English", dir: "ltr" },
  de: { table: de, name: "Deutsch", dir: "ltr" },
  es: { table: es, name: "Español", dir: "ltr" },
  ar: { table: ar, name: "العربية", dir: "rtl" },
};

const CHOSEN_KEY = "privochat.language";

function remembered() {
  try {
    return globalThis.localStorage?.getItem(CHOSEN_KEY) ?? null;
  } catch {
    return null; // storage refused (a sandbox, a privacy mode): the browser's languages decide
  }
}

/** The language to show: a chosen one, else the first of `preferred` we ship ("de-AT" is de). */
export function pickLanguage(preferred, chosen = null) {
  if (chosen && LANGUAGES[chosen]) return chosen;
  for (const tag of preferred ?? []) {
    const base = String(tag).toLowerCase().split("-")[0];
    if (LANGUAGES[base]) return base;
  }
  return "en";
}

let current = pickLanguage(globalThis.navigator?.languages ?? [globalThis.navigator?.language], remembered());
let rules = new Intl.PluralRules(current);

export function language() {
  return current;
}

/** For tests and the switcher: show `lang` from now on (not remembered; see choose()). */
export function useLanguage(lang) {
  current = LANGUAGES[lang] ? lang : "en";
  rules = new Intl.PluralRules(current);
}

/** The words for `key` in the current language, with {placeholders} filled from `vars`. */
export function t(key, vars = {}) {
  let value = LANGUAGES[current].table[key] ?? en[key];
  if (value === undefined) throw new Error(`i18n: no text for "${key}"`);
  if (typeof value === "object") {
    const forms = value;
    const count = Number(vars.count);
    value = forms[rules.select(count)] ?? forms.other;
  }
  return value.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** The page's static words: [data-i18n] sets an element's text, [data-i18n-attr] its attributes
 * ("aria-label:key title:key"); the <html> gets the language and its direction. */
export function translatePage(root = document) {
  const html = root.documentElement;
  html.lang = current;
  html.dir = LANGUAGES[current].dir;
  for (const node of root.querySelectorAll("[data-i18n]")) {
    const text = t(node.dataset.i18n);
    if (node.textContent !== text) node.textContent = text; // unchanged: nothing for a live region to say
  }
  for (const node of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of node.dataset.i18nAttr.split(/\s+/).filter(Boolean)) {
      const [attr, key] = pair.split(":");
      node.setAttribute(attr, t(key));
    }
  }
  const title = html.querySelector("title[data-i18n]");
  if (title) root.title = t(title.dataset.i18n);
}

/** The language switcher (a <select>): lists the languages in their own names; a choice is
 * remembered in this browser and the page reloads in it (every string is drawn once). */
export function setUpSwitcher(select) {
  if (!select) return;
  select.replaceChildren(...Object.entries(LANGUAGES).map(([code, { name }]) => {
    const option = document.createElement("option");
    option.value = code;
    option.lang = code;
    option.textContent = name;
    option.selected = code === current;
    return option;
  }));
  select.addEventListener("change", () => {
    try {
      localStorage.setItem(CHOSEN_KEY, select.value);
    } catch {
      // not remembered: it still applies to this page
    }
    location.reload();
  });
}
