// catch-up.js: a history fetch that failed is tried again after a pause that grows.
import assert from "node:assert/strict";
import { test } from "node:test";

import { CatchUpRetry, retryNotice } from "../../static_site/js/catch-up.js";
import { fakeTimers } from "./helpers.mjs";

const failure = (status) => Object.assign(new Error(`status ${status}`), { status });

/** A CatchUpRetry over a fetch that answers with the next of `answers` (an Error is thrown). */
function retrying(answers, { stopped = () => false } = {}) {
  const timers = fakeTimers();
  const said = [];
  const fetched = [];
  const retry = new CatchUpRetry({
    fetch: async (after) => {
      fetched.push(after);
      const answer = answers.shift();
      if (answer instanceof Error) throw answer;
      return answer;
    },
    retry: () => said.push("retry"),
    waiting: (notice) => said.push(notice),
    recovered: () => said.push("recovered"),
    stopped,
    timers,
  });
  return { retry, timers, said, fetched };
}

test("the notice says who failed and when the next try is", () => {
  assert.equal(retryNotice(429, 4000), "The server is busy: trying again in 4 s.");
  assert.equal(retryNotice(503, 1000), "Can't reach the server: trying again in 1 s.");
  assert.equal(retryNotice(0, 30000), "Can't reach the server: trying again in 30 s.");
});

test("a page that comes is handed on and says the fetch works", async () => {
  const { retry, said, fetched, timers } = retrying([{ messages: [1] }]);
  assert.deepEqual(await retry.list("c1"), { messages: [1] });
  assert.deepEqual(fetched, ["c1"]);
  assert.deepEqual(said, ["recovered"]);
  assert.equal(timers.pending, 0);
});

test("transient failures are tried again after 1, 2, 4 … s, at most 30 s", async () => {
  const { retry, said, timers } = retrying(Array.from({ length: 7 }, () => failure(503)));
  const pauses = [];
  for (let round = 0; round < 7; round += 1) {
    await assert.rejects(retry.list(null), { status: 503 });
    const failedAt = timers.now;
    while (said.at(-1) !== "retry") timers.advance(100);
    pauses.push(timers.now - failedAt);
  }
  assert.deepEqual(pauses, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
});

test("a fetch that works after failures starts the pause at 1 s again", async () => {
  const { retry, said, timers } = retrying([failure(0), failure(0), { messages: [] }, failure(429)]);
  await assert.rejects(retry.list(null));
  timers.advance(1000);
  await assert.rejects(retry.list(null));
  timers.advance(2000);
  await retry.list(null);
  await assert.rejects(retry.list(null));
  assert.deepEqual(said, [
    "Can't reach the server: trying again in 1 s.", "retry",
    "Can't reach the server: trying again in 2 s.", "retry",
    "recovered",
    "The server is busy: trying again in 1 s.",
  ]);
});

test("one retry at a time: a failure while one waits adds none", async () => {
  const { retry, said, timers } = retrying([failure(502), failure(502)]);
  await assert.rejects(retry.list(null));
  await assert.rejects(retry.list(null));
  assert.equal(timers.pending, 1);
  assert.equal(said.length, 1);
});

test("a failure that trying again will not cure, or a page that is leaving, schedules nothing", async () => {
  for (const status of [400, 401, 403, 404]) {
    const { retry, said, timers } = retrying([failure(status)]);
    await assert.rejects(retry.list(null), { status });
    assert.deepEqual([said, timers.pending], [[], 0]);
  }
  const { retry, said, timers } = retrying([failure(503)], { stopped: () => true });
  await assert.rejects(retry.list(null), { status: 503 });
  assert.deepEqual([said, timers.pending], [[], 0]);
});
