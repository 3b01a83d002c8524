// A self-contained line chart of a time series: SVG text (no scripts, no
// fonts or styles fetched, no network), or an HTML page around it with a
// metrics table. Browser-safe: it builds a string and touches no DOM.
//
// A chart library would bring a renderer and a DOM shim for what is a few
// polylines, two axes and a legend; this file is the whole of it.

export interface ChartSegment {
  times: readonly number[];
  values: ArrayLike<number>;
}

export interface ChartSeries {
  label: string;
  color: string;
  /** Lines; a NaN value breaks a line. */
  segments: ChartSegment[];
  dashed?: boolean;
  width?: number;
  /** Draw a dot at each point (for short series). */
  dots?: boolean;
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  /** Shaded time spans, e.g. the test period. */
  spans?: { from: number; to: number; label: string }[];
  series: ChartSeries[];
  width?: number;
  height?: number;
}

export const COLORS = { history: '#555555', actual: '#111111', forecast: '#1f77b4', naive: '#ff7f0e', seasonalNaive: '#2ca02c', span: '#f2f2f2' } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for an axis: about `count` ticks on 1, 2, 5 × 10^k. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  }
  return ticks;
}

function decimalsFor(ticks: readonly number[]): number {
  if (ticks.length < 2) return 2;
  const step = Math.abs(ticks[1]! - ticks[0]!);
  const decimals = -Math.floor(Math.log10(step) + 1e-9);
  const extra = step / 10 ** Math.floor(Math.log10(step)) === 2.5 ? 1 : 0;
  return Math.max(0, Math.min(6, decimals + extra));
}

const DAY = 86_400_000;

/** Time ticks at calendar boundaries (years, months, days or hours) with labels. */
export function timeTicks(min: number, max: number, count = 8): { time: number; label: string }[] {
  const span = max - min;
  const out: { time: number; label: string }[] = [];
  const iso = (t: number) => new Date(t).toISOString();
  const years = span / (365.25 * DAY);
  if (years >= 2) {
    const step = [1, 2, 5, 10, 20, 50, 100].find((s) => years / s <= count) ?? 100;
    const first = new Date(min).getUTCFullYear();
    for (let y = Math.ceil(first / step) * step; ; y += step) {
      const t = Date.UTC(y, 0, 1);
      if (t > max) break;
      if (t >= min) out.push({ time: t, label: String(y) });
    }
    return out;
  }
  const months = span / (30.44 * DAY);
  if (months >= 2) {
    const step = [1, 2, 3, 6].find((s) => months / s <= count) ?? 6;
    const d = new Date(min);
    for (let m = d.getUTCFullYear() * 12 + d.getUTCMonth(); ; m++) {
      if (m % step !== 0) continue;
      const t = Date.UTC(Math.floor(m / 12), m % 12, 1);
      if (t > max) break;
      if (t >= min) out.push({ time: t, label: iso(t).slice(0, 7) });
    }
    return out;
  }
  const unit = span >= 2 * DAY ? DAY : 3_600_000;
  const steps = [1, 2, 3, 6, 7, 12, 14, 24, 48].map((s) => s * unit);
  const step = steps.find((s) => span / s <= count) ?? steps[steps.length - 1]!;
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) {
    out.push({ time: t, label: unit === DAY ? iso(t).slice(0, 10) : iso(t).slice(5, 16).replace('T', ' ') });
  }
  return out;
}

/** The chart as an SVG document. */
export function renderSvg(spec: ChartSpec): string {
  const width = spec.width ?? 960;
  const height = spec.height ?? 440;
  const legendRows = Math.ceil(spec.series.length / 4);
  const margin = { left: 64, right: 24, top: 44 + (spec.subtitle ? 18 : 0) + legendRows * 18, bottom: 40 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  let tMin = Infinity;
  let tMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const s of spec.series) {
    for (const seg of s.segments) {
      seg.times.forEach((t, i) => {
        const v = seg.values[i]!;
        if (!Number.isFinite(v)) return;
        tMin = Math.min(tMin, t);
        tMax = Math.max(tMax, t);
        yMin = Math.min(yMin, v);
        yMax = Math.max(yMax, v);
      });
    }
  }
  if (!Number.isFinite(tMin)) [tMin, tMax, yMin, yMax] = [0, 1, 0, 1];
  if (tMax === tMin) tMax = tMin + 1;
  const pad = (yMax - yMin) * 0.05 || Math.abs(yMax) * 0.05 || 1;
  yMin -= pad;
  yMax += pad;
  const x = (t: number) => margin.left + ((t - tMin) / (tMax - tMin)) * plotW;
  const y = (v: number) => margin.top + (1 - (v - yMin) / (yMax - yMin)) * plotH;
  const f = (n: number) => n.toFixed(1);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">',
  );
  parts.push(`<title>${escapeXml(spec.title)}</title>`);
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  for (const span of spec.spans ?? []) {
    const a = x(Math.max(tMin, span.from));
    const b = x(Math.min(tMax, span.to));
    if (b <= a) continue;
    parts.push(`<rect x="${f(a)}" y="${margin.top}" width="${f(b - a)}" height="${plotH}" fill="${COLORS.span}"/>`);
    parts.push(`<text x="${f(a + 4)}" y="${margin.top + 14}" fill="#777">${escapeXml(span.label)}</text>`);
  }
  const yTicks = niceTicks(yMin, yMax);
  const decimals = decimalsFor(yTicks);
  for (const v of yTicks) {
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e3e3e3"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${f(y(v) + 4)}" text-anchor="end" fill="#444">${v.toFixed(decimals)}</text>`);
  }
  for (const tick of timeTicks(tMin, tMax)) {
    parts.push(`<line x1="${f(x(tick.time))}" x2="${f(x(tick.time))}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#444"/>`);
    parts.push(`<text x="${f(x(tick.time))}" y="${margin.top + plotH + 18}" text-anchor="middle" fill="#444">${escapeXml(tick.label)}</text>`);
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (const s of spec.series) {
    const style = `fill="none" stroke="${s.color}" stroke-width="${s.width ?? 1.5}" stroke-linejoin="round"${s.dashed ? ' stroke-dasharray="5 3"' : ''}`;
    for (const seg of s.segments) {
      let d = '';
      let pen = false;
      seg.times.forEach((t, i) => {
        const v = seg.values[i]!;
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${f(x(t))} ${f(y(v))}`;
        pen = true;
      });
      if (d) parts.push(`<path d="${d}" ${style}/>`);
      if (s.dots) {
        seg.times.forEach((t, i) => {
          if (Number.isFinite(seg.values[i]!)) parts.push(`<circle cx="${f(x(t))}" cy="${f(y(seg.values[i]!))}" r="2" fill="${s.color}"/>`);
        });
      }
    }
  }
  parts.push(`<text x="${margin.left}" y="20" font-size="15" font-weight="600" fill="#111">${escapeXml(spec.title)}</text>`);
  if (spec.subtitle) parts.push(`<text x="${margin.left}" y="38" fill="#555">${escapeXml(spec.subtitle)}</text>`);
  const legendTop = spec.subtitle ? 56 : 38;
  spec.series.forEach((s, i) => {
    const lx = margin.left + (i % 4) * Math.floor(plotW / 4);
    const ly = legendTop + Math.floor(i / 4) * 18;
    const dash = s.dashed ? ' stroke-dasharray="5 3"' : '';
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="${Math.max(2, s.width ?? 1.5)}"${dash}/>`,
    );
    parts.push(`<text x="${lx + 28}" y="${ly}" fill="#222">${escapeXml(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

export interface ChartSection {
  spec: ChartSpec;
  /** Preformatted text shown under the chart (a metrics table). */
  text?: string;
}

/** The page style of renderHtml: system fonts, charts that shrink to the window, metrics tables in grey boxes. */
const PAGE_STYLE = 'body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#111}' +
  'section{margin-bottom:32px}svg{max-width:100%;height:auto;display:block}' +
  'pre{font-size:13px;background:#f7f7f7;padding:12px;display:inline-block;margin-top:8px;white-space:pre-wrap;max-width:100%}';

/** An HTML page of charts, each with its text below it. */
export function renderHtml(title: string, sections: readonly ChartSection[]): string {
  const body = sections.map((s) => `<section>\n${renderSvg(s.spec)}${s.text ? `<pre>${escapeXml(s.text)}</pre>\n` : ''}</section>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * One chart as SVG or HTML, by the file name's extension
 * (.html / .htm → HTML with the text below the chart, else SVG).
 */
export function renderChart(spec: ChartSpec, fileName: string, text = ''): string {
  return /\.html?$/i.test(fileName) ? renderHtml(spec.title, [{ spec, ...(text ? { text } : {}) }]) : renderSvg(spec);
}
