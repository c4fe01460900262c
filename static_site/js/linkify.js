// Finds web links in message text, for the view to make clickable. Pure: it returns pieces of
// text, and the view builds DOM nodes from them (never HTML). Only http: and https: links
// become links; anything else (javascript:, data:, mailto:…) stays text.

const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/giu;
const TRAILING = /[.,;:!?'")\]}>»”’…]+$/u;
const MAX_LINK = 2048;

const count = (text, char) => text.split(char).length - 1;

/** Drops the punctuation that ends a sentence rather than the link; a ")" closing a "(" of the link stays. */
function trimEnd(candidate) {
  let link = candidate.replace(TRAILING, "");
  while (candidate[link.length] === ")" && count(link, "(") > count(link, ")")) link = candidate.slice(0, link.length + 1);
  return link;
}

/** The link a piece of text may be, or null: an http(s) URL with a host, at most 2048 characters. */
export function safeHref(text) {
  if (text.length > MAX_LINK) return null;
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || !url.hostname) return null;
  return url.href;
}

/** Splits text into [{text}] and [{text, href}] pieces, in order; joined, the texts are the input. */
export function splitLinks(text) {
  const pieces = [];
  let last = 0;
  for (const match of text.matchAll(CANDIDATE)) {
    const link = trimEnd(match[0]);
    const href = safeHref(link);
    if (!href) continue;
    if (match.index > last) pieces.push({ text: text.slice(last, match.index) });
    pieces.push({ text: link, href });
    last = match.index + link.length;
  }
  if (last < text.length || !pieces.length) pieces.push({ text: text.slice(last) });
  return pieces;
}
