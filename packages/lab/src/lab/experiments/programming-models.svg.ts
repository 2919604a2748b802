/**
 * The classic three-lane figure of experiment 2 as an SVG: one panel per programming model, one
 * lane per task, spans coloured by what the task was doing, the same time scale in every panel
 * (so the synchronous panel is visibly longer), and each panel's total time.
 */
import type { Span, SpanKind } from './programming-models.worker.js';

export interface TimelinePanel {
  title: string;
  /** µs */
  totalUs: number;
  tasks: number[];
  spans: Span[];
}

const COLORS: Record<SpanKind, string> = { compute: '#2f6fb3', blocked: '#a9a9a9', waiting: '#f2c14e' };
const LABELS: Record<SpanKind, string> = { compute: 'computing', blocked: 'blocked on I/O', waiting: 'waiting to run' };

const W = 900;
const LEFT = 150;
const RIGHT = 20;
const LANE = 22;
const GAP = 6;
const PANEL_HEAD = 26;
const PANEL_GAP = 18;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function timelineSvg(panels: TimelinePanel[]): string {
  const maxUs = Math.max(1, ...panels.map((p) => p.totalUs));
  const scale = (W - LEFT - RIGHT) / maxUs;
  const x = (us: number): number => LEFT + Math.max(0, us) * scale;
  const out: string[] = [];
  let y = 10;
  // legend
  let lx = LEFT;
  for (const k of ['compute', 'blocked', 'waiting'] as SpanKind[]) {
    out.push(`<rect x="${lx}" y="${y}" width="14" height="14" fill="${COLORS[k]}"/>`);
    out.push(`<text x="${lx + 20}" y="${y + 12}">${LABELS[k]}</text>`);
    lx += 160;
  }
  y += 30;
  for (const p of panels) {
    out.push(`<text x="10" y="${y + 16}" font-weight="bold">${esc(p.title)}</text>`);
    out.push(`<text x="${W - RIGHT}" y="${y + 16}" text-anchor="end">total ${(p.totalUs / 1000).toFixed(0)} ms</text>`);
    y += PANEL_HEAD;
    const laneTop = y;
    for (const [i, task] of p.tasks.entries()) {
      const ly = y + i * (LANE + GAP);
      out.push(`<text x="10" y="${ly + LANE - 6}">task ${task}</text>`);
      out.push(`<rect x="${LEFT}" y="${ly}" width="${(W - LEFT - RIGHT).toFixed(1)}" height="${LANE}" fill="#f7f7f7"/>`);
      for (const s of p.spans) {
        if (s.task !== task || s.end <= s.start) continue;
        const w = Math.max(0.5, (s.end - s.start) * scale);
        out.push(`<rect x="${x(s.start).toFixed(1)}" y="${ly}" width="${w.toFixed(1)}" height="${LANE}" fill="${COLORS[s.kind]}"><title>task ${task} ${LABELS[s.kind]} ${((s.end - s.start) / 1000).toFixed(1)} ms</title></rect>`);
      }
    }
    y += p.tasks.length * (LANE + GAP);
    // the end of this model's run
    out.push(`<line x1="${x(p.totalUs).toFixed(1)}" y1="${laneTop - 4}" x2="${x(p.totalUs).toFixed(1)}" y2="${y}" stroke="#c0392b" stroke-width="1.5"/>`);
    y += PANEL_GAP;
  }
  // time axis
  const step = niceStep(maxUs / 1000 / 8);
  for (let ms = 0; ms * 1000 <= maxUs; ms += step) {
    out.push(`<line x1="${x(ms * 1000).toFixed(1)}" y1="${y - 10}" x2="${x(ms * 1000).toFixed(1)}" y2="${y - 4}" stroke="#555"/>`);
    out.push(`<text x="${x(ms * 1000).toFixed(1)}" y="${y + 8}" text-anchor="middle">${ms} ms</text>`);
  }
  y += 16;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${y}" width="${W}" height="${y}" font-family="sans-serif" font-size="12">${out.join('')}</svg>`;
}

function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-3)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
