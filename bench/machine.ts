import { cpus, loadavg, totalmem } from 'node:os';

/** The machine a result came from, stored beside every result. */
export interface Machine {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  /** 1-minute load average when the scenario started: a busy shared machine shows up here. */
  readonly loadAverage: number;
  readonly platform: string;
  readonly date: string;
}

export function machine(): Machine {
  const cores = cpus();
  return {
    node: process.version,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** One line for tables and charts: "Node v24.21.0 · AMD EPYC · 2 cores · 23.5 GiB · load 1.2". */
export function describeMachine(m: Machine): string {
  return `Node ${m.node} · ${m.cpu} · ${m.cores} cores · ${m.memoryGiB} GiB · load ${m.loadAverage} · ${m.date.slice(0, 10)}`;
}
