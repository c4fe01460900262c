// Talks to the PrivoChat HTTP API (its contract: docs/api.md).
// Endpoints come from optional /config.json {"apiBase", "wsUrl"}; by default the same origin.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status; // 0 when the request never got an answer
    this.code = code;
  }
}

const REQUEST_TIMEOUT_MS = 20000;
let configPromise;

export function loadConfig() {
  configPromise ??= (async () => {
    const sameOrigin = {
      apiBase: "",
      wsUrl: `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
    };
    try {
      const response = await fetch("/config.json", { cache: "no-store" });
      if (!response.ok) return sameOrigin;
      return { ...sameOrigin, ...(await response.json()) };
    } catch {
      return sameOrigin;
    }
  })();
  return configPromise;
}

async function request(method, path, body) {
  const { apiBase } = await loadConfig();
  let response;
  try {
    response = await fetch(apiBase + path, {
      method,
      credentials: "include",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    throw new ApiError(0, "network", "Can't reach the server.");
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.error, data.message);
  return data;
}

const q = (roomId) => `roomId=${encodeURIComponent(roomId)}`;

export const api = {
  createRoom: (verifier) => request("POST", "/api/room/create", { verifier }),
  joinRoom: (roomId, proof) => request("POST", `/api/room/join?${q(roomId)}`, { proof }),
  hello: (roomId, hello) => request("POST", `/api/room/hello?${q(roomId)}`, hello),
  /** Read-only, before a Join: {exists, seated} (docs/api.md). */
  status: (roomId) => request("GET", `/api/room/status?${q(roomId)}`),
  door: (roomId, proof) => request("POST", `/api/room/status?${q(roomId)}`, { proof }),
  ttl: (roomId) => request("GET", `/api/room/ttl?${q(roomId)}`),
  destroyRoom: (roomId) => request("DELETE", `/api/room?${q(roomId)}`),
  /** One page of the history (at most 200, oldest first) after a message id: {messages, hellos, more}. */
  messages: (roomId, after) =>
    request("GET", `/api/messages?${q(roomId)}${after ? `&after=${encodeURIComponent(after)}` : ""}`),
  send: (roomId, message) => request("POST", `/api/messages?${q(roomId)}`, message),
};
