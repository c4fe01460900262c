// The display name this browser shows to the other person: random and anonymous
// by default (anonymous-otter-x7k2q), kept in localStorage, editable.

const STORAGE_KEY = "privochat.name";
const NAME_MAX = 100;

const ANIMALS = [
  "otter", "fox", "heron", "lynx", "panda", "koala", "badger", "falcon", "gecko", "ibis",
  "jaguar", "lemur", "marten", "narwhal", "ocelot", "puffin", "quokka", "raven", "seal", "tapir",
  "walrus", "yak", "zebra", "wombat", "beaver", "crane", "dingo", "egret", "ferret", "moose",
];

function suffix() {
  const alphabet = "abcdefghijkmnpqrstuvwxyz23456789";
  return Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => alphabet[b % alphabet.length]).join("");
}

export function randomName() {
  const animal = ANIMALS[crypto.getRandomValues(new Uint32Array(1))[0] % ANIMALS.length];
  return `anonymous-${animal}-${suffix()}`;
}

function cleanName(value) {
  return value.replace(/\s+/g, " ").trim().slice(0, NAME_MAX);
}

export function getName() {
  let name = "";
  try {
    name = cleanName(localStorage.getItem(STORAGE_KEY) || "");
  } catch {
    // storage blocked: a fresh name per page is still anonymous
  }
  if (!name) {
    name = randomName();
    setName(name);
  }
  return name;
}

export function setName(value) {
  const name = cleanName(value) || randomName();
  try {
    localStorage.setItem(STORAGE_KEY, name);
  } catch {
    // storage blocked: the name lasts for this page only
  }
  return name;
}
