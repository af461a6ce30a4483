// Calls to the two SlotWise APIs from a page: bearer token, problems as sentences, live events.

/** The write API's address, as the read API that served this page tells it. */
export async function loadConfig(configUrl) {
  const response = await fetch(configUrl, { cache: "no-store" });
  if (!response.ok) throw new ApiError(`The page's settings could not be read (HTTP ${response.status}).`, response.status);
  return response.json();
}

/** An answer that was not a success, with a sentence a person can read. */
export class ApiError extends Error {
  constructor(message, status, problem = null) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

/** A problem+json body (or its absence) as one sentence. */
export function sentence(problem, status) {
  let text = (problem && (problem.detail || problem.title)) || "";
  if (!text) {
    text = status === 0 ? "The server could not be reached" : `The server answered HTTP ${status}`;
  }
  text = text.trim();
  text = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

async function failure(response) {
  let problem = null;
  try {
    problem = await response.json();
  } catch {
    problem = null;
  }
  if (response.status === 401) {
    problem = { detail: (problem && problem.detail) || "the token was refused: sign in again" };
  }
  return new ApiError(sentence(problem, response.status), response.status, problem);
}

export class Client {
  constructor(readBase, writeBase, token) {
    this.readBase = readBase.replace(/\/$/, "");
    this.writeBase = writeBase.replace(/\/$/, "");
    this.token = token;
  }

  headers(extra = {}) {
    const headers = { Accept: "application/json", ...extra };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    return headers;
  }

  /** GET from the read API; `consistency` waits until our own write shows. */
  async read(path, { consistency } = {}) {
    const extra = consistency ? { "X-Consistency-Token": consistency } : {};
    let response;
    try {
      response = await fetch(this.readBase + path, { headers: this.headers(extra) });
    } catch {
      throw new ApiError(sentence(null, 0), 0);
    }
    if (!response.ok) throw await failure(response);
    return response.json();
  }

  /** Every page of a list. */
  async readAll(path, { consistency } = {}) {
    const items = [];
    let cursor = null;
    do {
      const sep = path.includes("?") ? "&" : "?";
      const url = cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path;
      const page = await this.read(url, { consistency: cursor ? undefined : consistency });
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return items;
  }

  /** A command to the write API: its body and consistency token, or an ApiError. */
  async command(method, path, body, { idempotencyKey } = {}) {
    const extra = { "Content-Type": "application/json" };
    if (idempotencyKey) extra["Idempotency-Key"] = idempotencyKey;
    let response;
    try {
      response = await fetch(this.writeBase + path, {
        method,
        headers: this.headers(extra),
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(sentence(null, 0), 0);
    }
    if (!response.ok) throw await failure(response);
    const result = await response.json();
    result.consistency_token = response.headers.get("X-Consistency-Token") || result.consistency_token;
    return result;
  }
}

/**
 * Read a Server-Sent Events stream with fetch (EventSource cannot send Authorization).
 * Calls onEvent({id, type, data}) per event; resolves when the stream ends.
 */
export async function readEvents(url, token, { lastEventId, signal, onEvent, onOpen }) {
  const headers = { Accept: "text/event-stream", Authorization: `Bearer ${token}` };
  if (lastEventId) headers["Last-Event-ID"] = String(lastEventId);
  const response = await fetch(url, { headers, signal, cache: "no-store" });
  if (!response.ok) throw await failure(response);
  if (onOpen) onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let fields = {};
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, "");
      buffer = buffer.slice(newline + 1);
      if (line === "") {
        if (fields.data !== undefined) onEvent({ id: fields.id, type: fields.event, data: JSON.parse(fields.data) });
        fields = {};
      } else if (!line.startsWith(":")) {
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        fields[name] = name === "data" && fields.data !== undefined ? `${fields.data}\n${text}` : text;
      }
    }
  }
}

/** Today's date (YYYY-MM-DD) in a time zone. */
export function todayIn(timeZone, now = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

/** A YYYY-MM-DD date moved by some days. */
export function addDays(day, days) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

export function timeIn(iso, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function dayLabel(day) {
  return new Intl.DateTimeFormat("en-GB", { timeZone: "UTC", weekday: "long", day: "numeric", month: "long" }).format(
    new Date(`${day}T00:00:00Z`),
  );
}
