// The owner's dashboard: bookings by day or week, actions, charts from the stats API, live updates.
import { addDays, ApiError, Client, dayLabel, loadConfig, readEvents, timeIn, todayIn } from "./api.js";
import { barChart } from "./charts.js";

const TOKEN_KEY = "slotwise.owner-token";
const ACTIONS = {
  pending: [["confirm", "Confirm"], ["cancel", "Cancel"]],
  pending_payment: [["cancel", "Cancel"]],
  confirmed: [["check-in", "Check in"], ["no-show", "No-show"], ["cancel", "Cancel"]],
  checked_in: [["complete", "Complete"]],
};
const STATUS_NAMES = {
  pending_payment: "awaiting payment", pending: "pending", confirmed: "confirmed", checked_in: "checked in",
  completed: "completed", cancelled: "cancelled", no_show: "no-show", expired: "expired",
};

const $ = (id) => document.getElementById(id);
const state = {
  client: null, config: null, business: null, businesses: [], view: "day", anchor: null,
  seen: new Set(), stream: null, lastEventId: null, refreshTimer: null, statsTimer: null,
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
  state.config = await loadConfig(new URL("config.json", location.href));
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("token").value.trim());
  });
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
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) signIn(saved);
}

async function signIn(token) {
  const client = new Client(location.origin, state.config.write_api_url, token);
  try {
    state.businesses = await client.readAll("/v1/me/businesses?limit=200");
  } catch (error) {
    $("signin").hidden = false;
    $("app").hidden = true;
    sessionStorage.removeItem(TOKEN_KEY);
    say(error.message);
    $("message").hidden = false;
    $("signin").append($("message"));
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
  const path = `/v1/businesses/${business.id}/bookings?from=${days[0]}&to=${days[days.length - 1]}&limit=200`;
  let items;
  try {
    items = await state.client.readAll(path, { consistency });
  } catch (error) {
    say(error.message);
    return;
  }
  if (business !== state.business) return;
  const first = state.seen.size === 0;
  renderBookings(days, items, first);
  for (const item of items) state.seen.add(item.id);
}

function renderBookings(days, items, first) {
  const tz = state.business.timezone;
  $("range").textContent =
    days.length === 1
      ? `${dayLabel(days[0])} · times in ${tz}`
      : `${dayLabel(days[0])} to ${dayLabel(days[6])} · times in ${tz}`;
  const box = $("bookings");
  box.className = `bookings ${state.view}`;
  const byDay = new Map(days.map((d) => [d, []]));
  for (const item of items) (byDay.get(item.local_date) || []).push(item);
  const columns = days.map((day) => {
    const column = document.createElement("div");
    column.className = "day-column";
    column.dataset.date = day;
    if (days.length > 1) {
      const heading = document.createElement("h3");
      heading.textContent = dayLabel(day);
      column.append(heading);
    }
    const list = document.createElement("ol");
    list.className = "day-list";
    for (const item of byDay.get(day)) list.append(card(item, !first && !state.seen.has(item.id)));
    if (!byDay.get(day).length) {
      const none = document.createElement("p");
      none.className = "empty";
      none.textContent = "No bookings.";
      column.append(list, none);
    } else {
      column.append(list);
    }
    return column;
  });
  box.replaceChildren(...columns);
}

function card(item, fresh) {
  const tz = state.business.timezone;
  const li = document.createElement("li");
  li.className = `booking s-${item.status}${fresh ? " fresh" : ""}`;
  li.dataset.id = item.id;
  li.dataset.status = item.status;
  const when = document.createElement("div");
  when.className = "when";
  when.textContent = `${timeIn(item.start, tz)}–${timeIn(item.end, tz)} ${item.service_name}`;
  const status = document.createElement("span");
  status.className = `status s-${item.status}`;
  status.textContent = STATUS_NAMES[item.status] || item.status;
  const who = document.createElement("div");
  who.className = "who";
  const contact = item.contact && (item.contact.name || item.contact.email);
  who.textContent = contact ? `${contact} · ` : "";
  who.append(status);
  li.append(when, who);
  const actions = ACTIONS[item.status] || [];
  if (actions.length) {
    const row = document.createElement("div");
    row.className = "actions";
    for (const [action, label] of actions) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.dataset.action = action;
      button.setAttribute("aria-label", `${label}: ${when.textContent}`);
      button.addEventListener("click", () => act(item, action, label, button));
      row.append(button);
    }
    li.append(row);
  }
  return li;
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
  const group = $("group").value;
  const path = `/v1/businesses/${business.id}/stats?from=${$("from").value}&to=${$("to").value}&group=${group}&by=service`;
  let stats;
  try {
    stats = await state.client.read(path);
  } catch (error) {
    say(error.message);
    return;
  }
  if (business !== state.business) return;
  renderCharts(stats);
}

function scheduleStats() {
  clearTimeout(state.statsTimer);
  state.statsTimer = setTimeout(loadStats, 1000);
}

function renderCharts(stats) {
  const periods = stats.periods;
  const labels = periods.map((p) => p.period);
  const number = (v) => String(Math.round(v));
  const charts = [
    barChart({
      id: "chart-counts",
      title: `Bookings, cancellations and no-shows by ${stats.group}`,
      categories: labels,
      series: [
        { name: "bookings", className: "bookings", values: periods.map((p) => p.bookings) },
        { name: "cancellations", className: "cancellations", values: periods.map((p) => p.cancellations) },
        { name: "no-shows", className: "no-shows", values: periods.map((p) => p.no_shows) },
      ],
      format: number,
    }),
    barChart({
      id: "chart-utilization",
      title: `Utilisation by ${stats.group}`,
      categories: labels,
      series: [{ name: "utilisation", className: "utilization", values: periods.map((p) => p.utilization) }],
      format: (v) => `${(v * 100).toFixed(1)}%`,
    }),
  ];
  const currencies = [...new Set(periods.flatMap((p) => p.revenue.map((m) => m.currency)))].sort();
  currencies.forEach((currency, i) => {
    charts.push(
      barChart({
        id: `chart-revenue-${currency}`,
        title: `Revenue in ${currency} by ${stats.group}`,
        categories: labels,
        series: [{
          name: currency,
          className: i % 2 ? "money2" : "money",
          values: periods.map((p) => Number((p.revenue.find((m) => m.currency === currency) || { amount: "0" }).amount)),
        }],
        format: (v) => v.toFixed(2),
      }),
    );
  });
  const services = new Map();
  for (const period of periods) {
    for (const s of period.services || []) {
      const total = services.get(s.service_id) || { name: s.name, bookings: 0, cancellations: 0, no_shows: 0 };
      total.bookings += s.bookings;
      total.cancellations += s.cancellations;
      total.no_shows += s.no_shows;
      services.set(s.service_id, total);
    }
  }
  const rows = [...services.values()];
  charts.push(
    barChart({
      id: "chart-services",
      title: "Per service, over the whole range",
      categories: rows.map((s) => s.name),
      series: [
        { name: "bookings", className: "bookings", values: rows.map((s) => s.bookings) },
        { name: "cancellations", className: "cancellations", values: rows.map((s) => s.cancellations) },
        { name: "no-shows", className: "no-shows", values: rows.map((s) => s.no_shows) },
      ],
      format: number,
    }),
  );
  $("charts").replaceChildren(...charts);
  document.body.dataset.statsFrom = stats.periods.length ? `${$("from").value}/${$("to").value}/${stats.group}` : "";
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
            if (event.type.startsWith("slotwise.booking.")) {
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
