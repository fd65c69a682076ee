/** Wall-clock time per phase of a run, for the report of where the time went (never part of a result). */
import { performance } from "node:perf_hooks";

export class Stopwatch {
  private readonly totals = new Map<string, number>();

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.totals.set(phase, (this.totals.get(phase) ?? 0) + performance.now() - start);
    }
  }

  /** Seconds per phase, in the order the phases first ran, to 0.1 s. */
  seconds(): Record<string, number> {
    return Object.fromEntries([...this.totals].map(([phase, ms]) => [phase, Math.round(ms / 100) / 10]));
  }
}
