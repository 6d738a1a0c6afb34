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
            <g key={b.label + i}>
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
