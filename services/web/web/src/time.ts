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
