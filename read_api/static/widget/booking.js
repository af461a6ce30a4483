// The booking widget: free slots in the visitor's time zone, a contact form, one booking per attempt.
import { addDays, ApiError, Client, loadConfig, todayIn } from "../dashboard/api.js";

const DAYS = 7;
const $ = (id) => document.getElementById(id);
const visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const state = { client: null, service: null, business: null, first: null, attemptKey: null, busy: false, taken: new Set(), slotsRead: 0 };

// The embedding page hands over the customer's token (widget.js, or its own postMessage).
window.addEventListener("message", (event) => {
  if (event.source !== window.parent || !event.data || event.data.type !== "slotwise-token") return;
  if (typeof event.data.token === "string") {
    if (state.client) state.client.token = event.data.token;
    else state.pendingToken = event.data.token;
  }
});

function tell(text, kind) {
  const box = $("outcome");
  box.className = kind || "";
  box.textContent = text;
  tellHeight();
}

function tellHeight() {
  if (window.parent !== window) {
    window.parent.postMessage({ type: "slotwise-height", height: document.documentElement.scrollHeight }, "*");
  }
}

function fmt(iso, timeZone, options) {
  return new Intl.DateTimeFormat("en-GB", { timeZone, ...options }).format(new Date(iso));
}

async function start() {
  // Until the slots are loaded there is nothing to book, and a form the browser submitted
  // itself would put the name and email in the address bar and any proxy's log.
  $("form").addEventListener("submit", (event) => event.preventDefault());
  const serviceId = new URLSearchParams(location.search).get("service");
  const config = await loadConfig(new URL("config.json", location.href));
  state.client = new Client(location.origin, config.write_api_url, state.pendingToken || null);
  if (window.parent !== window) window.parent.postMessage({ type: "slotwise-ready" }, "*");
  if (!serviceId) {
    tell("This widget needs a service: add ?service=ID to its address.", "error");
    $("form").hidden = true;
    return;
  }
  try {
    state.service = await state.client.read(`/v1/services/${encodeURIComponent(serviceId)}`);
    state.business = await state.client.read(`/v1/businesses/${state.service.business_id}`);
  } catch (error) {
    tell(error.message, "error");
    $("form").hidden = true;
    return;
  }
  const { service, business } = state;
  $("title").textContent = `Book ${service.name} at ${business.name}`;
  const price = Number(service.price.amount) ? `${service.price.amount} ${service.price.currency}` : "free";
  $("service-info").textContent = `${service.duration_minutes} minutes · ${price}`;
  $("zones").textContent =
    visitorZone === business.timezone
      ? `Times in ${business.timezone}.`
      : `Times in your time zone (${visitorZone}); the business's time (${business.timezone}) is shown beneath each.`;
  state.first = todayIn(business.timezone);
  $("earlier").addEventListener("click", () => shift(-DAYS));
  $("later").addEventListener("click", () => shift(DAYS));
  $("form").addEventListener("submit", book);
  $("form").addEventListener("input", () => {
    state.attemptKey = null; // a changed choice is a new attempt
  });
  await loadSlots();
}

function shift(days) {
  const today = todayIn(state.business.timezone);
  const next = addDays(state.first, days);
  state.first = next < today ? today : next;
  loadSlots();
}

async function loadSlots(consistency) {
  const { service, business } = state;
  $("earlier").disabled = state.first <= todayIn(business.timezone);
  const last = addDays(state.first, DAYS - 1);
  const read = ++state.slotsRead; // answers can arrive out of order: only the latest is drawn
  let availability;
  try {
    availability = await state.client.read(
      `/v1/services/${service.id}/availability?from=${state.first}&to=${last}`,
      { consistency },
    );
  } catch (error) {
    tell(error.message, "error");
    return;
  }
  if (read !== state.slotsRead) return;
  const picked = chosen(); // a time chosen while this list loaded stays chosen
  const groups = new Map();
  for (const slot of availability.slots) {
    if (new Date(slot.start) <= new Date() || state.taken.has(slot.start)) continue;
    const day = fmt(slot.start, visitorZone, { weekday: "long", day: "numeric", month: "long" });
    if (!groups.has(day)) groups.set(day, []);
    groups.get(day).push(slot);
  }
  const box = $("slots");
  if (!groups.size) {
    const none = document.createElement("p");
    none.className = "info";
    none.textContent = "No free times in these days: try later days.";
    box.replaceChildren(none);
    tellHeight();
    return;
  }
  const sections = [];
  let index = 0;
  for (const [day, slots] of groups) {
    const heading = document.createElement("h2");
    heading.textContent = day;
    const row = document.createElement("div");
    row.className = "day";
    for (const slot of slots) {
      const id = `slot-${index++}`;
      const mine = fmt(slot.start, visitorZone, { hour: "2-digit", minute: "2-digit" });
      const theirs = fmt(slot.start, business.timezone, { hour: "2-digit", minute: "2-digit" });
      const theirDay = fmt(slot.start, business.timezone, { weekday: "short" });
      const wrap = document.createElement("div");
      wrap.className = "slot";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "slot";
      input.id = id;
      input.value = slot.start;
      input.required = true;
      input.checked = slot.start === picked;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = mine;
      if (visitorZone !== business.timezone) {
        const small = document.createElement("small");
        small.textContent = `${theirDay} ${theirs} there`;
        label.append(small);
        label.setAttribute("aria-label", `${day}, ${mine} your time, ${theirDay} ${theirs} ${business.timezone}`);
      } else {
        label.setAttribute("aria-label", `${day}, ${mine}`);
      }
      wrap.append(input, label);
      row.append(wrap);
    }
    sections.push(heading, row);
  }
  box.replaceChildren(...sections);
  tellHeight();
}

function chosen() {
  const input = document.querySelector('input[name="slot"]:checked');
  return input ? input.value : null;
}

async function book(event) {
  event.preventDefault();
  if (state.busy) return; // a double click is the same attempt
  const start = chosen();
  const name = $("name").value.trim();
  const email = $("email").value.trim();
  if (!start) return refuse("Choose a time first.", document.querySelector('input[name="slot"]'));
  if (!name) return refuse("Enter your name.", $("name"));
  if (!$("email").checkValidity() || !email) return refuse("Enter an email address like name@example.com.", $("email"));
  if (!state.client.token) {
    return refuse("Booking needs you to be signed in on this site: it did not give the widget a customer token.", null);
  }
  state.attemptKey = state.attemptKey || crypto.randomUUID();
  state.busy = true;
  $("book").disabled = true;
  tell("Booking…", "");
  try {
    const result = await state.client.command(
      "POST",
      "/v1/bookings",
      { service_id: state.service.id, start, contact: { name, email } },
      { idempotencyKey: state.attemptKey },
    );
    done(result, start);
  } catch (error) {
    const message = error instanceof ApiError ? error.message : String(error);
    if (error.status !== 0) state.attemptKey = null; // refused: the next try is a new attempt
    tell(message, "error");
    $("outcome").focus();
    if (error.status === 409) {
      state.taken.add(start); // the read side may not show it taken yet
      await loadSlots();
    }
  } finally {
    state.busy = false;
    $("book").disabled = false;
  }
}

function refuse(text, focus) {
  tell(text, "error");
  if (focus) focus.focus();
}

function done(result, start) {
  const when = fmt(start, visitorZone, { weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  const payment = result.payment;
  let text = `Booked: ${state.service.name} on ${when} (your time). Booking ${result.id}, ${String(result.status || "placed").replace("_", " ")}.`;
  if (payment && payment.client_secret) {
    text += " Payment is needed to hold it: the site will ask for it now.";
    window.parent.postMessage(
      { type: "slotwise-payment", booking_id: result.id, client_secret: payment.client_secret, amount: payment.amount },
      "*",
    );
  }
  tell(text, "ok");
  document.body.dataset.booking = result.id;
  $("outcome").focus();
  state.attemptKey = null;
  loadSlots(result.consistency_token);
}

start().catch((error) => tell(error.message || String(error), "error"));
