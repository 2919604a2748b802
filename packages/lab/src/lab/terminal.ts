/** The terminal summary: per experiment its claim, verdict and tables (cli-table3). */
import Table from 'cli-table3';
import type { LabResults } from './results.js';

export function renderTerminal(results: LabResults): string {
  const out: string[] = [];
  const m = results.machine;
  out.push(`evloop lab${results.quick ? ' (quick)' : ''} — ${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}, Node ${m.node}, load ${(m.loadAverage ?? []).join(' ')}`);
  for (const r of results.experiments) {
    out.push('', `${r.number ?? '·'}. ${r.name} — ${r.title}`, `   claim:   ${r.claim}`);
    if (r.status !== 'ok') {
      out.push(`   ${r.status.toUpperCase()}${r.error ? `: ${r.error}` : ''}`);
      continue;
    }
    for (const t of r.tables ?? []) {
      const table = new Table({ head: t.head, style: { head: [], border: [] } });
      for (const row of t.rows) table.push(row.map(String));
      out.push(`   ${t.title}`, table.toString());
    }
    for (const n of r.notes ?? []) out.push(`   note: ${n}`);
    out.push(`   verdict: ${r.verdict?.text ?? '—'}`);
  }
  if (results.aborted) out.push('', 'interrupted: the report holds the experiments gathered so far.');
  const left = results.leftovers;
  if (left.children.length + left.disposers.length + left.disposeFailures.length > 0) {
    out.push('', `LEFTOVERS: children ${left.children.join(', ') || '—'}; disposers ${left.disposers.join(', ') || '—'}; failures ${left.disposeFailures.join(', ') || '—'}`);
  }
  return out.join('\n');
}
