// The bookings views: a day or a week, as one list per day or, once the business has
// resources, as one lane per resource (and a "No resource" lane for the rest).
import { dayLabel, timeIn } from "./api.js";

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
const KIND_NAMES = { staff: "staff", room: "room", equipment: "equipment" };
const NO_RESOURCE = "none";

function el(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draw `items` (bookings) over `days` into `box`.
 * view: {timezone, resources (with `schedule`, maybe empty), isFresh(item), onAction(item, action, label, button)}
 */
export function renderBookings(box, days, items, view) {
  const lanes = view.resources.length ? lanesOf(view.resources, items) : null;
  box.className = `bookings ${days.length === 1 ? "day" : "week"}${lanes ? " by-resource" : ""}`;
  if (!lanes) {
    box.replaceChildren(...days.map((day) => dayColumn(day, items.filter((i) => i.local_date === day), days.length > 1, view)));
  } else if (days.length === 1) {
    box.replaceChildren(...lanes.map((lane) => dayLane(lane, days[0], view)));
  } else {
    box.replaceChildren(weekTable(lanes, days, view));
  }
}

function list(items, view, lane) {
  const ol = el("ol", "day-list");
  for (const item of items) ol.append(card(item, view, lane));
  return ol;
}

function dayColumn(day, items, headed, view) {
  const column = el("div", "day-column");
  column.dataset.date = day;
  if (headed) column.append(el("h3", "", dayLabel(day)));
  column.append(list(items, view, null));
  if (!items.length) column.append(el("p", "empty", "No bookings."));
  return column;
}

/** One lane per resource (active ones, and inactive ones holding a booking), then "No resource". */
function lanesOf(resources, items) {
  const lanes = new Map();
  for (const r of resources) lanes.set(r.id, { id: r.id, resource: r, items: [] });
  const none = { id: NO_RESOURCE, resource: null, items: [] };
  for (const item of items) {
    const held = item.resources || [];
    if (!held.length) none.items.push(item);
    for (const ref of held) {
      if (!lanes.has(ref.id)) lanes.set(ref.id, { id: ref.id, resource: { ...ref, active: false, schedule: [] }, items: [] });
      lanes.get(ref.id).items.push(item);
    }
  }
  const shown = [...lanes.values()].filter((lane) => lane.resource.active !== false || lane.items.length);
  return none.items.length ? [...shown, none] : shown;
}

function laneName(lane) {
  return lane.resource ? lane.resource.name : "No resource";
}

function laneAbout(lane) {
  if (!lane.resource) return "services without resources";
  const r = lane.resource;
  const kind = KIND_NAMES[r.kind] && r.category.toLowerCase() !== r.kind ? `${r.category} · ${KIND_NAMES[r.kind]}` : r.category;
  return r.active === false ? `${kind} · inactive` : kind;
}

/** The lane's hours on `day` and its time off, as short lines. */
function hours(lane, day, timezone) {
  if (!lane.resource) return [];
  const today = (lane.resource.schedule || []).find((d) => d.date === day);
  if (!today) return [];
  const spans = today.open.map((o) => `${timeIn(o.start, timezone)}–${timeIn(o.end, timezone)}`);
  const lines = [spans.length ? spans.join(", ") : "Not working"];
  for (const off of today.time_off) {
    const reason = off.reason ? ` (${off.reason})` : "";
    lines.push(`Time off ${timeIn(off.start, timezone)}–${timeIn(off.end, timezone)}${reason}`);
  }
  return lines;
}

function dayLane(lane, day, view) {
  const section = el("section", "lane");
  section.dataset.resource = lane.id;
  const title = el("h3", "", laneName(lane));
  title.id = `lane-${lane.id}`;
  section.setAttribute("aria-labelledby", title.id);
  section.append(title, el("p", "lane-about", laneAbout(lane)));
  for (const line of hours(lane, day, view.timezone)) section.append(el("p", "hours", line));
  section.append(list(lane.items, view, lane));
  if (!lane.items.length) section.append(el("p", "empty", "No bookings."));
  return section;
}

function weekTable(lanes, days, view) {
  const wrap = el("div", "week-lanes");
  wrap.tabIndex = 0; // it may scroll sideways: reachable by keyboard
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", "The week by resource");
  const table = el("table", "lanes-table");
  const head = table.createTHead().insertRow();
  head.append(Object.assign(el("th", "", "Resource"), { scope: "col" }));
  for (const day of days) head.append(Object.assign(el("th", "", dayLabel(day)), { scope: "col" }));
  const body = table.createTBody();
  for (const lane of lanes) {
    const row = body.insertRow();
    row.dataset.resource = lane.id;
    const th = Object.assign(el("th", "", laneName(lane)), { scope: "row" });
    th.append(el("span", "lane-about", laneAbout(lane)));
    row.append(th);
    for (const day of days) {
      const cell = row.insertCell();
      cell.dataset.date = day;
      for (const line of hours(lane, day, view.timezone)) cell.append(el("p", "hours", line));
      const items = lane.items.filter((i) => i.local_date === day);
      if (items.length) cell.append(list(items, view, lane));
    }
  }
  wrap.append(table);
  return wrap;
}

function card(item, view, lane) {
  const tz = view.timezone;
  const li = el("li", `booking s-${item.status}${view.isFresh(item) ? " fresh" : ""}`);
  li.dataset.id = item.id;
  li.dataset.status = item.status;
  const when = el("div", "when", `${timeIn(item.start, tz)}–${timeIn(item.end, tz)} ${item.service_name}`);
  const status = el("span", `status s-${item.status}`, STATUS_NAMES[item.status] || item.status);
  const who = el("div", "who");
  const contact = item.contact && (item.contact.name || item.contact.email);
  who.textContent = contact ? `${contact} · ` : "";
  who.append(status);
  li.append(when, who);
  const others = (item.resources || []).filter((r) => !lane || r.id !== lane.id).map((r) => r.name);
  if (others.length) li.append(el("div", "with", `${lane ? "also " : "with "}${others.join(", ")}`));
  const actions = ACTIONS[item.status] || [];
  if (actions.length) {
    const row = el("div", "actions");
    const where = lane && lane.resource ? `, ${lane.resource.name}` : "";
    for (const [action, label] of actions) {
      const button = el("button", "", label);
      button.type = "button";
      button.dataset.action = action;
      button.setAttribute("aria-label", `${label}: ${when.textContent}${where}`);
      button.addEventListener("click", () => view.onAction(item, action, label, button));
      row.append(button);
    }
    li.append(row);
  }
  return li;
}
