// Dates and durations as people read them, in one time zone for the whole
// app: the organization's.

let zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function setZone(z: string) {
  zone = z;
}

export function getZone(): string {
  return zone;
}

// today is the date (YYYY-MM-DD) it is now in the zone.
export function today(now = new Date()): string {
  return dateIn(now);
}

export function dateIn(d: Date): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);
}

export function clock(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, hour: "2-digit", minute: "2-digit" }).format(new Date(iso));
}

export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
}

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min`;
  return `${s % 60} s`;
}

export function addDays(date: string, days: number): string {
  const d = new Date(date + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

// offsetMs is how far the zone's wall clock is ahead of UTC at instant t.
function offsetMs(t: number): number {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(t));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second")) - Math.floor(t / 1000) * 1000;
}

// midnight is the first instant of date (YYYY-MM-DD) in the zone.
export function midnight(date: string): Date {
  const wall = Date.parse(date + "T00:00:00Z");
  // Twice: the offset at the guess can differ from the offset at the answer
  // when a DST change falls between them.
  let t = wall - offsetMs(wall);
  t = wall - offsetMs(t);
  return new Date(t);
}

export type View = "day" | "week" | "month";

// period is the day, the week (Monday to Sunday) or the calendar month
// that holds date, as dates (YYYY-MM-DD).
export function period(view: View, date: string): { start: string; end: string } {
  if (view === "day") return { start: date, end: date };
  const d = new Date(date + "T12:00:00Z");
  if (view === "week") {
    const start = addDays(date, -((d.getUTCDay() + 6) % 7));
    return { start, end: addDays(start, 6) };
  }
  const start = date.slice(0, 8) + "01";
  const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1, 12));
  return { start, end: addDays(next.toISOString().slice(0, 10), -1) };
}

// shift moves date by one period of view, back (-1) or forward (1).
export function shift(view: View, date: string, by: number): string {
  if (view === "day") return addDays(date, by);
  if (view === "week") return addDays(date, 7 * by);
  const d = new Date(date.slice(0, 8) + "01T12:00:00Z");
  d.setUTCMonth(d.getUTCMonth() + by);
  return d.toISOString().slice(0, 10);
}

// days lists every date from start to end, both included.
export function days(start: string, end: string): string[] {
  const out: string[] = [];
  for (let d = start; d <= end && out.length < 400; d = addDays(d, 1)) out.push(d);
  return out;
}
