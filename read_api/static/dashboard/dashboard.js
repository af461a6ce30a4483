// The owner's dashboard: bookings by day or week (by resource once there are resources),
// actions, charts from the stats API, live updates; sign-in by token or OpenID Connect.
import { addDays, ApiError, Client, dayLabel, loadConfig, readEvents, timeIn, todayIn } from "./api.js";
import { beginSignIn, finishSignIn, isCallback } from "./oidc.js";
import { statsCharts } from "./stats.js";
import { renderBookings } from "./views.js";

const TOKEN_KEY = "slotwise.owner-token";

const $ = (id) => document.getElementById(id);
const state = {
  client: null, config: null, business: null, businesses: [], view: "day", anchor: null,
  seen: new Set(), stream: null, lastEventId: null, refreshTimer: null, statsTimer: null,
  bookingsRead: 0, statsRead: 0, resources: null, resourcesFor: null,
};

function say(text, ok = false) {
  const box = $("message");
  box.textContent = text;
  box.classList.toggle("ok", ok);
  box.setAttribute("role", ok ? "status" : "alert");
  box.hidden = !text;
}

function setLive(text, on) {
  $("live").textContent = text;
  $("live").classList.toggle("on", on);
  document.body.dataset.live = on ? "on" : "off";
}

async function start() {
  // The form is handled before anything is awaited: a token sent while the page's settings
  // load must not be submitted the browser's way, into the address bar and any proxy's log.
  const configured = loadConfig(new URL("config.json", location.href));
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    configured.then(() => signIn(token), () => {});
  });
  state.config = await configured;
  const oidc = state.config.oidc;
  if (oidc) {
    $("oidc").hidden = false;
    $("oidc-issuer").textContent = oidc.issuer;
    $("oidc-signin").addEventListener("click", () => {
      beginSignIn(oidc, redirectUri()).catch((error) => signInFailed(error.message));
    });
  }
  $("signout").addEventListener("click", signOut);
  $("business").addEventListener("change", () => chooseBusiness($("business").value));
  $("view-day").addEventListener("click", () => setView("day"));
  $("view-week").addEventListener("click", () => setView("week"));
  $("prev").addEventListener("click", () => move(-1));
  $("next").addEventListener("click", () => move(1));
  $("today").addEventListener("click", () => {
    state.anchor = todayIn(state.business.timezone);
    loadBookings();
  });
  $("stats-form").addEventListener("submit", (event) => {
    event.preventDefault();
    loadStats();
  });
  $("group").addEventListener("change", loadStats);
  $("per").addEventListener("change", loadStats);
  if (oidc && isCallback(new URL(location.href))) {
    const answer = new URL(location.href);
    history.replaceState(null, "", redirectUri()); // the code is single-use: not in history
    let token;
    try {
      token = await finishSignIn(answer);
    } catch (error) {
      signInFailed(error.message);
      return;
    }
    signIn(token);
    return;
  }
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
}

/** Where the identity provider sends the browser back: this folder, no query. */
function redirectUri() {
  return new URL("./", location.href).toString();
}

function signInFailed(text) {
  $("signin").hidden = false;
  $("app").hidden = true;
  say(text);
  $("signin").append($("message"));
}

async function signIn(token) {
  const client = new Client(location.origin, state.config.write_api_url, token);
  try {
    state.businesses = await client.readAll("/v1/me/businesses?limit=200");
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    signInFailed(error.message);
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  state.client = client;
  $("token").value = "";
  $("signin").hidden = true;
  $("app").hidden = false;
  $("app").insertBefore($("message"), $("app").children[1]);
  say("");
  const select = $("business");
  select.replaceChildren(
    ...state.businesses.map((b) => new Option(`${b.name} (${b.timezone})`, b.id)),
  );
  if (!state.businesses.length) {
    say("You own no business yet: register one through the write API (POST /v1/businesses).");
    setLive("Signed in", false);
    return;
  }
  chooseBusiness(state.businesses[0].id);
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (state.stream) state.stream.abort();
  state.client = null;
  $("app").hidden = true;
  $("signin").hidden = false;
  setLive("Not signed in", false);
  $("token").focus();
}

function chooseBusiness(id) {
  state.business = state.businesses.find((b) => b.id === id);
  state.anchor = todayIn(state.business.timezone);
  state.seen = new Set();
  state.resources = null;
  const to = todayIn(state.business.timezone);
  $("from").value = addDays(to, -55);
  $("to").value = to;
  loadBookings();
  loadStats();
  listen();
}

function setView(view) {
  state.view = view;
  $("view-day").setAttribute("aria-pressed", String(view === "day"));
  $("view-week").setAttribute("aria-pressed", String(view === "week"));
  loadBookings();
}

function move(direction) {
  state.anchor = addDays(state.anchor, direction * (state.view === "day" ? 1 : 7));
  loadBookings();
}

function shownDays() {
  if (state.view === "day") return [state.anchor];
  const weekday = (new Date(`${state.anchor}T00:00:00Z`).getUTCDay() + 6) % 7;
  const monday = addDays(state.anchor, -weekday);
  return Array.from({ length: 7 }, (_, i) => addDays(monday, i));
}

async function loadBookings(consistency) {
  const business = state.business;
  const days = shownDays();
  const span = `from=${days[0]}&to=${days[days.length - 1]}`;
  const path = `/v1/businesses/${business.id}/bookings?${span}&limit=200`;
  const read = ++state.bookingsRead; // answers can arrive out of order: only the latest is drawn
  let items;
  let resources;
  try {
    [items, resources] = await Promise.all([state.client.readAll(path, { consistency }), loadResources(span)]);
  } catch (error) {
    say(error.message);
    return;
  }
  if (business !== state.business || read !== state.bookingsRead) return;
  const first = state.seen.size === 0;
  $("range").textContent =
    days.length === 1
      ? `${dayLabel(days[0])} · times in ${business.timezone}`
      : `${dayLabel(days[0])} to ${dayLabel(days[6])} · times in ${business.timezone}`;
  renderBookings($("bookings"), days, items, {
    timezone: business.timezone,
    resources,
    isFresh: (item) => !first && !state.seen.has(item.id),
    onAction: act,
  });
  for (const item of items) state.seen.add(item.id);
}

/** The business's resources with their schedules of the shown days (kept until they change). */
async function loadResources(span) {
  const key = `${state.business.id}?${span}`;
  if (state.resourcesFor !== key || !state.resources) {
    state.resourcesFor = key;
    const reading = state.client.readAll(`/v1/businesses/${state.business.id}/resources?${span}`);
    state.resources = reading;
    reading.catch(() => {
      if (state.resources === reading) state.resources = null; // try again next time
    });
  }
  return state.resources;
}

async function act(item, action, label, button) {
  button.disabled = true;
  const body = action === "cancel" ? { reason: "cancelled by the business" } : undefined;
  try {
    const result = await state.client.command("POST", `/v1/bookings/${item.id}/${action}`, body);
    say(`${label}: done for ${timeIn(item.start, state.business.timezone)} ${item.service_name}.`, true);
    await loadBookings(result.consistency_token);
    scheduleStats();
  } catch (error) {
    button.disabled = false;
    say(error instanceof ApiError ? error.message : String(error));
  }
}

async function loadStats() {
  const business = state.business;
  const params = `from=${$("from").value}&to=${$("to").value}&group=${$("group").value}&by=${$("per").value}`;
  const read = ++state.statsRead;
  let stats;
  try {
    stats = await state.client.read(`/v1/businesses/${business.id}/stats?${params}`);
  } catch (error) {
    say(error.message);
    return;
  }
  if (business !== state.business || read !== state.statsRead) return;
  $("charts").replaceChildren(...statsCharts(stats));
  document.body.dataset.statsFrom = stats.periods.length ? `${$("from").value}/${$("to").value}/${stats.group}/${stats.by}` : "";
}

function scheduleStats() {
  clearTimeout(state.statsTimer);
  state.statsTimer = setTimeout(loadStats, 1000);
}

function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => loadBookings(), 30);
}

/** Follow the business's event stream; reconnect with Last-Event-ID when it breaks. */
function listen() {
  if (state.stream) state.stream.abort();
  const controller = new AbortController();
  state.stream = controller;
  state.lastEventId = null;
  const business = state.business;
  const url = `${location.origin}/v1/businesses/${business.id}/events`;
  const run = async () => {
    while (!controller.signal.aborted) {
      setLive("Connecting…", false);
      try {
        await readEvents(url, state.client.token, {
          lastEventId: state.lastEventId,
          signal: controller.signal,
          onOpen: () => setLive("Live", true),
          onEvent: (event) => {
            state.lastEventId = event.id;
            if (event.type.startsWith("slotwise.business.")) state.resources = null; // hours, resources
            if (event.type.startsWith("slotwise.booking.") || event.type.startsWith("slotwise.business.")) {
              scheduleRefresh();
              scheduleStats();
            }
          },
        });
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          setLive(`Live updates off: ${error.message}`, false);
          return;
        }
      }
      if (controller.signal.aborted) return;
      setLive("Reconnecting…", false);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  };
  run();
}

start().catch((error) => say(error.message || String(error)));
