/**
 * report.html: one self-contained file (inline CSS, chart.js's UMD bundle inlined, the results
 * embedded as JSON) that opens offline. One section per experiment: claim, verdict, charts
 * (chart.js canvases or inline SVG figures), tables, notes.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { verdictWord, type LabResults } from './results.js';

let chartJs: string | undefined;

/** chart.js's UMD bundle, without its source-map comment (no request for a .map file). */
function chartBundle(): string {
  if (chartJs === undefined) {
    const require = createRequire(import.meta.url);
    // the package's exports hide dist/: find it beside the CommonJS entry (dist/chart.cjs)
    const path = join(dirname(require.resolve('chart.js')), 'chart.umd.js');
    chartJs = readFileSync(path, 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
  }
  return chartJs;
}

const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/** Chart.js for a dark-ish neutral theme is not needed: default colours, fixed palette per series. */
const CSS = `
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dde5; --ok:#1f7a3d; --partly:#9a6a00; --no:#b42318; }
* { box-sizing:border-box }
body { font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif; color:var(--fg); margin:0; background:#f6f7f9 }
header, section { max-width:1100px; margin:0 auto; padding:18px 24px }
header h1 { margin:0 0 4px; font-size:24px }
.machine { color:var(--muted); font-size:13px }
section { background:#fff; border:1px solid var(--line); border-radius:8px; margin:18px auto }
h2 { margin:0 0 6px; font-size:20px }
.claim { font-style:italic; margin:4px 0 10px }
.verdict { padding:8px 12px; border-radius:6px; border-left:5px solid; background:#f3f4f6; margin:8px 0 14px }
.verdict.ok { border-color:var(--ok) } .verdict.partly { border-color:var(--partly) } .verdict.no { border-color:var(--no) } .verdict.none { border-color:var(--muted) }
.verdict b { text-transform:uppercase; font-size:12px; letter-spacing:.04em }
.charts { display:grid; grid-template-columns:repeat(auto-fit,minmax(440px,1fr)); gap:16px }
figure { margin:0; border:1px solid var(--line); border-radius:6px; padding:10px }
figure .box { position:relative; height:320px }
figure.svg .box { height:auto; overflow-x:auto }
figcaption { font-size:13px; color:var(--muted); margin-top:6px }
figure h3 { margin:0 0 6px; font-size:15px }
table { border-collapse:collapse; margin:12px 0; font-size:13px; font-variant-numeric:tabular-nums }
th, td { border:1px solid var(--line); padding:4px 8px; text-align:right }
th:first-child, td:first-child { text-align:left }
caption { text-align:left; font-weight:600; padding:4px 0 }
.notes { color:var(--muted); font-size:13px }
.status { color:var(--no); font-weight:600 }
`;

function verdictClass(h: boolean | 'partly' | null | undefined): string {
  return h === true ? 'ok' : h === 'partly' ? 'partly' : h === false ? 'no' : 'none';
}

export function renderReport(results: LabResults): string {
  const m = results.machine;
  const sections = results.experiments.map((r) => {
    const figures = (r.charts ?? [])
      .map((c) => {
        const id = `${r.name}-${c.id}`;
        const body =
          c.kind === 'svg'
            ? `<div class="box">${c.svg}</div>`
            : `<div class="box"><canvas id="chart-${esc(id)}" data-chart="${esc(id)}" role="img" aria-label="${esc(c.title)}"></canvas></div>`;
        return `<figure class="${c.kind}" data-figure="${esc(id)}"><h3>${esc(c.title)}</h3>${body}${c.caption ? `<figcaption>${esc(c.caption)}</figcaption>` : ''}</figure>`;
      })
      .join('\n');
    const tables = (r.tables ?? [])
      .map(
        (t) =>
          `<table><caption>${esc(t.title)}</caption><thead><tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows
            .map((row) => `<tr>${row.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
            .join('')}</tbody></table>`,
      )
      .join('\n');
    const notes = (r.notes ?? []).map((n) => `<li>${esc(n)}</li>`).join('');
    const verdict = r.verdict;
    return `<section id="exp-${esc(r.name)}" data-experiment="${esc(r.name)}" data-status="${r.status}">
<h2>${r.number ?? ''}. ${esc(r.title)} <small>(${esc(r.name)})</small></h2>
<p class="claim">Claim: “${esc(r.claim)}”</p>
${
  r.status === 'ok' && verdict
    ? `<div class="verdict ${verdictClass(verdict.holds)}" data-holds="${String(verdict.holds)}"><b>${esc(verdictWord(verdict.holds))}</b><br>${esc(verdict.text)}</div>`
    : `<p class="status">${esc(r.status)}${r.error ? `: ${esc(r.error)}` : ''}</p>`
}
<div class="charts">${figures}</div>
${tables}
${notes ? `<ul class="notes">${notes}</ul>` : ''}
<p class="notes">ran for ${(r.durationMs / 1000).toFixed(1)} s</p>
</section>`;
  });
  // the chart configs, by canvas id
  const charts: Record<string, unknown> = {};
  for (const r of results.experiments) for (const c of r.charts ?? []) if (c.kind === 'chart') charts[`${r.name}-${c.id}`] = c.config;

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>evloop lab report</title>
<style>${CSS}</style>
</head><body>
<header>
<h1>evloop lab${results.quick ? ' (quick run)' : ''}</h1>
<div class="machine">${esc(m.cpuModel)} · ${m.cores} cores · Linux ${esc(m.kernel)} · Node ${esc(m.node)} · open files ${m.openFileLimit.soft}/${m.openFileLimit.hard} · load ${(m.loadAverage ?? []).join(' ')} · ${esc(m.date)} · ${(results.durationMs / 1000).toFixed(0)} s${
    results.aborted ? ' · <b>interrupted: partial results</b>' : ''
  }</div>
</header>
${sections.join('\n')}
<script type="application/json" id="lab-results">${scriptJson(results)}</script>
<script type="application/json" id="lab-charts">${scriptJson(charts)}</script>
<script>${chartBundle()}</script>
<script>
(function () {
  var configs = JSON.parse(document.getElementById('lab-charts').textContent);
  var palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563'];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  window.labCharts = [];
  document.querySelectorAll('canvas[data-chart]').forEach(function (canvas) {
    var config = configs[canvas.dataset.chart];
    if (!config) return;
    (config.data.datasets || []).forEach(function (ds, i) {
      var c = ds.color || palette[i % palette.length];
      delete ds.color;
      if (!ds.borderColor) ds.borderColor = c;
      if (!ds.backgroundColor) ds.backgroundColor = config.type === 'line' || config.type === 'scatter' ? c : c + 'cc';
    });
    window.labCharts.push(new Chart(canvas, config));
  });
})();
</script>
</body></html>
`;
}
