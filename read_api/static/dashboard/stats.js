// The charts of one answer of the stats API: per period, then per service or per resource.
import { barChart } from "./charts.js";

const number = (v) => String(Math.round(v));
const percent = (v) => `${(v * 100).toFixed(1)}%`;

function counts(id, title, categories, rows) {
  return barChart({
    id,
    title,
    categories,
    series: [
      { name: "bookings", className: "bookings", values: rows.map((r) => r.bookings) },
      { name: "cancellations", className: "cancellations", values: rows.map((r) => r.cancellations) },
      { name: "no-shows", className: "no-shows", values: rows.map((r) => r.no_shows) },
    ],
    format: number,
  });
}

/** Each service's or resource's figures summed over the periods, in the order first seen. */
function totals(periods, field, key) {
  const found = new Map();
  for (const period of periods) {
    for (const s of period[field] || []) {
      const total = found.get(s[key]) || {
        name: s.name, bookings: 0, cancellations: 0, no_shows: 0, booked_minutes: 0, open_minutes: 0,
      };
      for (const name of ["bookings", "cancellations", "no_shows", "booked_minutes", "open_minutes"]) {
        total[name] += s[name] || 0;
      }
      found.set(s[key], total);
    }
  }
  return [...found.values()];
}

/** The figures of a stats answer (`by` service or resource) as charts. */
export function statsCharts(stats) {
  const periods = stats.periods;
  const labels = periods.map((p) => p.period);
  const charts = [
    counts("chart-counts", `Bookings, cancellations and no-shows by ${stats.group}`, labels, periods),
    barChart({
      id: "chart-utilization",
      title: `Utilisation by ${stats.group}`,
      categories: labels,
      series: [{ name: "utilisation", className: "utilization", values: periods.map((p) => p.utilization) }],
      format: percent,
    }),
  ];
  const currencies = [...new Set(periods.flatMap((p) => p.revenue.map((m) => m.currency)))].sort();
  currencies.forEach((currency, i) => {
    const amount = (p) => Number((p.revenue.find((m) => m.currency === currency) || { amount: "0" }).amount);
    charts.push(
      barChart({
        id: `chart-revenue-${currency}`,
        title: `Revenue in ${currency} by ${stats.group}`,
        categories: labels,
        series: [{ name: currency, className: i % 2 ? "money2" : "money", values: periods.map(amount) }],
        format: (v) => v.toFixed(2),
      }),
    );
  });
  if (stats.by === "resource") {
    const rows = totals(periods, "resources", "resource_id");
    const names = rows.map((r) => r.name);
    charts.push(
      counts("chart-resources", "Per resource, over the whole range", names, rows),
      barChart({
        id: "chart-resource-utilization",
        title: "Utilisation per resource (of its own open time), over the whole range",
        categories: names,
        series: [{
          name: "utilisation",
          className: "utilization",
          values: rows.map((r) => (r.open_minutes ? r.booked_minutes / r.open_minutes : 0)),
        }],
        format: percent,
      }),
    );
  } else {
    const rows = totals(periods, "services", "service_id");
    charts.push(counts("chart-services", "Per service, over the whole range", rows.map((s) => s.name), rows));
  }
  return charts;
}
