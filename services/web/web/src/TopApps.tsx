// The applications a report's summaries were spent in, as a chart and as a
// table: the chart to see at a glance, the table for exact numbers and for
// screen readers, which read a chart drawn as an image by its title alone.
import type { Summary } from "./api";
import { BarChart, type Bar } from "./Chart";
import { duration } from "./time";

// topApps adds up the summaries' applications and keeps the n most used,
// in the API's order: most tracked time first, then by name.
export function topApps(list: Summary[], n = 8): Bar[] {
  const by = new Map<string, Bar>();
  for (const s of list) {
    for (const a of s.app_usage ?? []) {
      const b = by.get(a.app) ?? { label: a.app, active: 0, idle: 0 };
      b.active += a.active_seconds;
      b.idle += a.idle_seconds;
      by.set(a.app, b);
    }
  }
  const total = (b: Bar) => b.active + b.idle;
  return [...by.values()].sort((a, b) => total(b) - total(a) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0)).slice(0, n);
}

export function TopApps({ bars, title }: { bars: Bar[]; title: string }) {
  return (
    <>
      <BarChart bars={bars} title={title} />
      <div className="scroll">
        <table data-testid="apps">
          <caption>{title}</caption>
          <thead>
            <tr><th scope="col">Application</th><th scope="col">Tracked</th><th scope="col">Active</th><th scope="col">Idle</th></tr>
          </thead>
          <tbody>
            {bars.map((b) => (
              <tr key={b.label}>
                <th scope="row">{b.label}</th>
                <td>{duration(b.active + b.idle)}</td>
                <td>{duration(b.active)}</td>
                <td>{duration(b.idle)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
