/** The machine a lab run measured: recorded in results.json and shown in the report. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { fileLimits } from './wait-cost.js';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  os: string;
  arch: string;
  node: string;
  memoryGiB: number;
  openFileLimit: { soft: number; hard: number };
  /** 1, 5 and 15 min load averages when the run started: other work skews CPU shares. */
  loadAverage: number[];
  date: string;
}

export function describeMachine(): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':')[1]!.trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  const limits = fileLimits();
  return {
    cpuModel,
    cores: os.availableParallelism(),
    kernel: os.release(),
    os: `${os.type()} ${os.version()}`,
    arch: process.arch,
    node: process.version,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    openFileLimit: { soft: limits.soft, hard: limits.hard },
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}
