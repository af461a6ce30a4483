// Bar charts drawn as SVG by hand, each with its numbers in a table beside it.

const SVG = "http://www.w3.org/2000/svg";

function el(name, attrs = {}, ns = SVG) {
  const node = document.createElementNS(ns, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/**
 * A grouped bar chart: `categories` along x, one bar per series in each.
 * series: [{name, values: number[], className}]; format(value) -> text.
 */
export function barChart({ id, title, categories, series, format = String }) {
  const figure = document.createElement("figure");
  figure.className = "chart";
  figure.id = id;
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  figure.append(caption);

  const width = 640;
  const height = 220;
  const left = 48;
  const bottom = 28;
  const top = 10;
  const max = Math.max(1e-9, ...series.flatMap((s) => s.values));
  const plotHeight = height - bottom - top;
  const group = (width - left) / Math.max(1, categories.length);
  const bar = Math.max(2, Math.min(28, (group - 6) / Math.max(1, series.length)));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title });
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - fraction);
    svg.append(el("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
    const label = el("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "axis" });
    label.textContent = format(max * fraction);
    svg.append(label);
  }
  categories.forEach((category, i) => {
    const x0 = left + i * group + (group - bar * series.length) / 2;
    series.forEach((s, j) => {
      const value = s.values[i];
      const h = (value / max) * plotHeight;
      const rect = el("rect", {
        x: x0 + j * bar,
        y: top + plotHeight - h,
        width: bar - 1,
        height: h,
        class: `bar ${s.className || ""}`,
        "data-series": s.name,
        "data-category": category,
        "data-value": value,
      });
      const tip = el("title");
      tip.textContent = `${s.name}, ${category}: ${format(value)}`;
      rect.append(tip);
      svg.append(rect);
    });
    if (categories.length <= 16 || i % Math.ceil(categories.length / 16) === 0) {
      const label = el("text", { x: left + i * group + group / 2, y: height - 8, "text-anchor": "middle", class: "axis" });
      label.textContent = /^\d{4}-\d{2}-\d{2}$/.test(category) ? category.slice(5) : category;
      svg.append(label);
    }
  });
  figure.append(svg);

  const legend = document.createElement("ul");
  legend.className = "legend";
  for (const s of series) {
    const item = document.createElement("li");
    item.innerHTML = `<span class="swatch ${s.className || ""}"></span>`;
    item.append(s.name);
    legend.append(item);
  }
  figure.append(legend);

  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = `${title}: the numbers`;
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const text of ["", ...series.map((s) => s.name)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.append(th);
  }
  const body = table.createTBody();
  categories.forEach((category, i) => {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = category;
    row.append(th);
    for (const s of series) row.insertCell().textContent = format(s.values[i]);
  });
  details.append(summary, table);
  figure.append(details);
  return figure;
}
