// Charts drawn as SVG: stacked active/idle bars and a day timeline. A chart
// library would cost more than the rest of the app; these are a few shapes.
import { useEffect, useRef, useState } from "react";
import { duration, clock } from "./time";

// useWidth is the rendered width of a container, so that charts draw at the
// size they are shown and their text stays readable on a phone.
function useWidth(initial: number) {
  const ref = useRef<HTMLElement>(null);
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(Math.max(240, Math.floor(el.clientWidth - 16))));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, width] as const;
}

export interface Bar {
  label: string;
  active: number;
  idle: number;
}

export function BarChart({ bars, title }: { bars: Bar[]; title: string }) {
  const [ref, width] = useWidth(640);
  const max = Math.max(1, ...bars.map((b) => b.active + b.idle));
  const row = 28;
  const labelW = width < 480 ? 100 : 140;
  const plot = width - labelW - 90;
  const height = bars.length * row + 24;
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="xMinYMin meet">
        <title>{title}</title>
        {bars.map((b, i) => {
          const y = i * row + 4;
          const a = (b.active / max) * plot;
          const idle = (b.idle / max) * plot;
          return (
            // The numbers drawn, whole, for whoever reads the chart other
            // than by its shapes: a tooltip, and data attributes for checks.
            <g key={b.label + i} className="bar" data-label={b.label} data-active={b.active} data-idle={b.idle}>
              <title>{`${b.label}: ${duration(b.active)} active, ${duration(b.idle)} idle`}</title>
              <text x={labelW - 8} y={y + 15} textAnchor="end" className="label">{b.label.length > labelW / 8 ? b.label.slice(0, labelW / 8 - 1) + "…" : b.label}</text>
              <rect x={labelW} y={y} width={a} height={20} className="active" />
              <rect x={labelW + a} y={y} width={idle} height={20} className="idle" />
              <text x={labelW + a + idle + 6} y={y + 15} className="value">{duration(b.active + b.idle)}</text>
            </g>
          );
        })}
        <g transform={`translate(${labelW}, ${height - 12})`}>
          <rect width={10} height={10} className="active" />
          <text x={14} y={9} className="label">active</text>
          <rect x={70} width={10} height={10} className="idle" />
          <text x={84} y={9} className="label">idle</text>
        </g>
      </svg>
    </figure>
  );
}

export interface Span {
  start: string;
  end: string | null;
  label: string;
}

// Timeline draws spans on the hours of one day (dayStart is its first instant).
export function Timeline({ spans, dayStart, title, now }: { spans: Span[]; dayStart: Date; title: string; now: Date }) {
  const [ref, width] = useWidth(640);
  const day = 24 * 3600 * 1000;
  const x = (t: number) => Math.min(width, Math.max(0, ((t - dayStart.getTime()) / day) * width));
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} 56`} role="img" aria-label={title}>
        <title>{title}</title>
        <rect x={0} y={8} width={width} height={24} className="track" />
        {spans.map((s, i) => {
          const a = x(new Date(s.start).getTime());
          const b = x(s.end ? new Date(s.end).getTime() : now.getTime());
          return (
            <rect key={i} x={a} y={8} width={Math.max(2, b - a)} height={24} className="active">
              <title>{`${s.label}: ${clock(s.start)}–${s.end ? clock(s.end) : "now"}`}</title>
            </rect>
          );
        })}
        {[0, 6, 12, 18, 24].map((h) => (
          <text key={h} x={Math.min(width - 14, (h / 24) * width)} y={50} className="label">{String(h).padStart(2, "0")}:00</text>
        ))}
      </svg>
    </figure>
  );
}

export interface Point {
  label: string;
  // value is a percentage, or null on a day without tracked time.
  value: number | null;
}

// TrendChart draws a percentage per day as a line with its dots; a day
// without data breaks the line rather than counting as 0 %.
export function TrendChart({ points, title }: { points: Point[]; title: string }) {
  const [ref, width] = useWidth(640);
  const height = 180;
  const left = 40;
  const bottom = 28;
  const plotH = height - bottom - 10;
  const step = points.length > 1 ? (width - left - 16) / (points.length - 1) : 0;
  const x = (i: number) => left + (points.length > 1 ? i * step : (width - left) / 2);
  const y = (v: number) => 10 + plotH - (v / 100) * plotH;
  const runs: string[] = [];
  let run: string[] = [];
  points.forEach((p, i) => {
    if (p.value === null) {
      if (run.length) runs.push(run.join(" "));
      run = [];
    } else run.push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
  });
  if (run.length) runs.push(run.join(" "));
  // Label as many days as fit: every one on a laptop's week, fewer on a month or a phone.
  const every = Math.max(1, Math.ceil((points.length * 44) / Math.max(1, width - left)));
  return (
    <figure className="chart" ref={ref}>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title}>
        <title>{title}</title>
        {[0, 50, 100].map((v) => (
          <g key={v}>
            <line x1={left} x2={width - 8} y1={y(v)} y2={y(v)} className="grid" />
            <text x={left - 6} y={y(v) + 4} textAnchor="end" className="label">{v}%</text>
          </g>
        ))}
        {runs.map((r, i) => <polyline key={i} points={r} className="trend" />)}
        {points.map((p, i) =>
          p.value === null ? null : (
            <circle key={i} cx={x(i)} cy={y(p.value)} r={3.5} className="dot" data-date={p.label} data-value={p.value}>
              <title>{`${p.label}: ${p.value} %`}</title>
            </circle>
          ),
        )}
        {points.map((p, i) =>
          i % every === 0 ? (
            <text key={"l" + i} x={x(i)} y={height - 8} textAnchor="middle" className="label">{p.label.slice(5)}</text>
          ) : null,
        )}
      </svg>
    </figure>
  );
}
