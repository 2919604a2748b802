/**
 * One `evloop lab --quick --json` run of every implemented experiment, then shape, sanity and
 * verdict-consistency checks on its results.json, and the report opened in headless Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { ExperimentRecord, LabResults } from '../../src/lab/runner.js';
import { ROOT, runLabCli, type LabRun } from './helpers.js';

const OUT = `${ROOT}.tmp/lab-quick-test`;
let run: LabRun;
let results: LabResults;
const exp = (name: string): ExperimentRecord & { figures: Record<string, any> } => {
  const e = results.experiments.find((x) => x.name === name);
  assert.ok(e, `${name} ran`);
  assert.equal(e.status, 'ok', e.error);
  return e as ExperimentRecord & { figures: Record<string, any> };
};
/** The verdict word the text ends with must match `holds`. */
function assertVerdictText(e: ExperimentRecord): void {
  const h = e.verdict!.holds;
  const ending = h === true ? /claim holds$/ : h === 'partly' ? /claim partly holds/ : /claim does not hold here$/;
  assert.match(e.verdict!.text, ending);
}

describe('evloop lab --quick (experiments 3–6)', () => {
  before(async () => {
    rmSync(OUT, { recursive: true, force: true });
    run = await runLabCli(['--quick', '--json', '--plain', '--out', OUT, 'multiplexers', 'polling-vs-events', 'blocking-scan', 'shared-state']);
    results = JSON.parse(run.stdout) as LabResults;
  });

  it('exits 0, prints results.json on stdout and progress on stderr, and writes the report folder', () => {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /\[lab\] multiplexers \d+\/\d+/);
    assert.deepEqual(JSON.parse(readFileSync(`${OUT}/results.json`, 'utf8')), results);
    assert.ok(existsSync(`${OUT}/report.html`));
    assert.equal(results.quick, true);
    assert.equal(results.aborted, false);
    assert.deepEqual(results.experiments.map((e) => e.name), ['multiplexers', 'polling-vs-events', 'blocking-scan', 'shared-state']);
    assert.ok(results.durationMs < 60_000, `quick run took ${results.durationMs} ms`);
  });

  it('describes the machine and leaves nothing behind', () => {
    const m = results.machine;
    assert.ok(m.cpuModel && m.cores >= 1 && m.kernel && m.node.startsWith('v') && m.openFileLimit.soft > 0 && !Number.isNaN(Date.parse(m.date)));
    assert.deepEqual(results.leftovers, { disposers: [], children: [], disposeFailures: [] });
    assert.equal(results.verdicts.length, 4);
  });

  it('multiplexers: positive wait costs per backend, select below FD_SETSIZE, a verdict that matches the ratios', () => {
    const e = exp('multiplexers');
    const f = e.figures;
    for (const b of ['epoll', 'poll', 'select']) {
      assert.ok(f.waitUs[b].length >= 2, `${b} has points`);
      for (const p of f.waitUs[b]) assert.ok(p.waitUs > 0 && p.n > 0);
    }
    assert.ok(f.waitUs.select.every((p: { n: number }) => p.n < 1024));
    assert.ok(f.waitUs.poll.at(-1).n > 1024, 'poll and epoll go past FD_SETSIZE');
    const flat = f.ratios.epollGrowth <= f.thresholds.flatMax;
    const pollGrows = f.ratios.pollGrowth >= f.thresholds.growsMin;
    const selectGrows = f.ratios.selectGrowth >= f.thresholds.growsMin;
    const expected = flat && pollGrows && selectGrows ? true : flat && (pollGrows || selectGrows) ? 'partly' : false;
    assert.equal(e.verdict!.holds, expected);
    assertVerdictText(e);
    assert.ok(e.charts!.some((c) => c.kind === 'chart' && c.config.type === 'line'));
  });

  it('polling-vs-events: every watcher saw events and used CPU; the verdict follows the CPU and latency figures', () => {
    const e = exp('polling-vs-events');
    const vs = e.figures.variants as { id: string; cpuPct: number; events: number; sent: number; latencyUs: { p50: number; p99: number } }[];
    assert.deepEqual(vs.map((v) => v.id), ['busy', 'sleep-1', 'sleep-10', 'sleep-50', 'event']);
    for (const v of vs) {
      assert.ok(v.sent > 0 && v.events > 0 && v.events <= v.sent, `${v.id} read ${v.events} of ${v.sent}`);
      assert.ok(v.cpuPct >= 0 && v.latencyUs.p50 > 0 && v.latencyUs.p99 >= v.latencyUs.p50);
    }
    const busy = vs[0]!;
    const event = vs[4]!;
    const t = e.figures.thresholds;
    assert.ok(busy.cpuPct > event.cpuPct, 'the busy poller burns more CPU than the waiter');
    const ratio = event.cpuPct > 0 ? busy.cpuPct / event.cpuPct : Infinity;
    const wastes = busy.cpuPct >= t.busyWasteMinPct && ratio >= t.cpuRatioMin;
    const fast = event.latencyUs.p50 <= t.eventP50MaxUs;
    assert.equal(e.verdict!.holds, wastes && fast ? true : wastes || fast ? 'partly' : false);
    assertVerdictText(e);
  });

  it('blocking-scan: keyboard latencies per scanner; the verdict follows their medians', () => {
    const e = exp('blocking-scan');
    const [blocking, mux] = e.figures.scanners as { mode: string; b: { count: number; p50: number }; sent: number[]; bDistribution: number[] }[];
    assert.equal(blocking!.mode, 'blocking');
    assert.equal(mux!.mode, 'multiplexed');
    for (const s of [blocking!, mux!]) {
      assert.equal(s.b.count, s.sent[1], 'every keyboard event is read by the end');
      assert.ok(s.b.p50 > 0);
      assert.ok(Math.abs(s.bDistribution.reduce((a, b) => a + b, 0) - 100) < 0.5);
    }
    const ratio = blocking!.b.p50 / Math.max(1, mux!.b.p50);
    const t = e.figures.thresholds;
    const longWait = blocking!.b.p50 >= t.blockedP50MinUs;
    assert.equal(e.verdict!.holds, ratio >= t.ratioMin && longWait ? true : ratio >= t.ratioMin || longWait ? 'partly' : false);
    assertVerdictText(e);
  });

  it('shared-state: Atomics, the mutex and the event loop lose nothing; the deadlock is detected and its threads ended', () => {
    const e = exp('shared-state');
    const f = e.figures;
    const by = (id: string) => f.variants.find((v: { id: string }) => v.id === id);
    for (const id of ['atomic', 'mutex', 'event-loop']) {
      assert.equal(by(id).lost, 0, `${id} loses nothing`);
      assert.equal(by(id).actual, by(id).expected);
      assert.ok(by(id).ms > 0);
    }
    assert.ok(by('unsync').lost >= 0 && by('unsync').actual <= by('unsync').expected);
    assert.equal(f.deadlock.terminated, true);
    if (f.deadlock.detected) assert.equal(f.deadlock.bothWaiting, true);
    const bugs = by('unsync').lost > 0 && f.deadlock.detected;
    assert.equal(e.verdict!.holds, bugs ? true : by('unsync').lost > 0 || f.deadlock.detected ? 'partly' : false);
    assertVerdictText(e);
  });

  it('report.html opens offline in Chromium: a section per experiment, charts drawn, no console error, no request but the file', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      page.on('pageerror', (err) => errors.push(err.message));
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(`${OUT}/report.html`).href;
      await page.goto(url, { waitUntil: 'load' });
      const info = await page.evaluate(() => {
        const w = window as unknown as { labCharts?: unknown[]; Chart?: { getChart(c: HTMLCanvasElement): unknown } };
        return {
          sections: [...document.querySelectorAll('section[data-experiment]')].map((s) => (s as HTMLElement).dataset.experiment),
          verdicts: document.querySelectorAll('.verdict').length,
          canvases: [...document.querySelectorAll('canvas[data-chart]')].map((c) => ({
            w: (c as HTMLCanvasElement).width,
            h: (c as HTMLCanvasElement).height,
            chart: !!w.Chart?.getChart(c as HTMLCanvasElement),
          })),
          instances: w.labCharts?.length ?? 0,
          tables: document.querySelectorAll('section table').length,
        };
      });
      assert.deepEqual(info.sections, ['multiplexers', 'polling-vs-events', 'blocking-scan', 'shared-state']);
      assert.equal(info.verdicts, 4);
      assert.ok(info.canvases.length >= 6, `${info.canvases.length} charts`);
      for (const c of info.canvases) assert.ok(c.w > 0 && c.h > 0 && c.chart, JSON.stringify(c));
      assert.equal(info.instances, info.canvases.length);
      assert.ok(info.tables >= 4);
      assert.deepEqual(errors, []);
      assert.deepEqual([...new Set(requests)], [url]);
    } finally {
      await browser.close();
    }
  });
});
