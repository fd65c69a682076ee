/**
 * The keeper's health for `/healthz`: healthy while the last pass succeeded and finished recently enough. A liveness
 * probe then fails when every pass fails (the node is down, the lens is gone) and when the loop is stuck (a call that
 * never returns), both of which a restart or a person should look at; not for a single skipped or failed vault.
 */
import type { Failure } from "./tx";

export interface HealthOptions {
  /**
   * How long after the last successful pass (or the start) the bot still counts as alive, ms: a few intervals, plus
   * the longest a pass may wait for its transactions (see `staleAfterMs`).
   */
  staleAfterMs: number;
  /** Milliseconds since the epoch. */
  clock?: () => number;
}

export type HealthStatus = "starting" | "ok" | "failing" | "stale";

export interface HealthReport {
  status: HealthStatus;
  healthy: boolean;
  /** Why it is not healthy. */
  reason?: string;
  lastPassAt?: string;
  lastSuccessAt?: string;
  /** Block of the last successful pass. */
  block?: number;
  consecutiveFailures: number;
  staleAfterSeconds: number;
}

/**
 * Three intervals without a pass, plus the time one pass may legitimately spend waiting for a transaction that is not
 * mined: its deadline, and once more for each replacement.
 */
export function staleAfterMs(intervalMs: number, txTimeoutMs: number, maxReplacements: number): number {
  return 3 * intervalMs + (maxReplacements + 1) * txTimeoutMs;
}

export class PassHealth {
  readonly now: () => number;
  private readonly staleAfter: number;
  private readonly startedAt: number;
  private lastPassAt?: number;
  private lastSuccessAt?: number;
  private block?: number;
  private failures = 0;
  private lastFailure?: Failure;

  constructor(options: HealthOptions) {
    this.now = options.clock ?? (() => Date.now());
    this.staleAfter = options.staleAfterMs;
    this.startedAt = this.now();
  }

  passed(block: number): void {
    this.lastPassAt = this.lastSuccessAt = this.now();
    this.block = block;
    this.failures = 0;
    this.lastFailure = undefined;
  }

  failed(failure: Failure): void {
    this.lastPassAt = this.now();
    this.failures++;
    this.lastFailure = failure;
  }

  report(): HealthReport {
    const now = this.now();
    const iso = (ms: number | undefined) => (ms !== undefined ? new Date(ms).toISOString() : undefined);
    const base = {
      lastPassAt: iso(this.lastPassAt),
      lastSuccessAt: iso(this.lastSuccessAt),
      block: this.block,
      consecutiveFailures: this.failures,
      staleAfterSeconds: this.staleAfter / 1000,
    };
    const since = now - (this.lastSuccessAt ?? this.startedAt);
    if (this.lastFailure !== undefined) {
      const { error, reason } = this.lastFailure;
      const passes = this.failures === 1 ? "the last pass" : `the last ${this.failures} passes`;
      return { status: "failing", healthy: false, reason: `${passes} failed: ${error}: ${reason}`, ...base };
    }
    if (since > this.staleAfter) {
      const what =
        this.lastSuccessAt === undefined
          ? `no pass has finished in the ${Math.round(since / 1000)}s since the start`
          : `the last pass finished ${Math.round(since / 1000)}s ago`;
      return {
        status: "stale",
        healthy: false,
        reason: `${what}, more than ${this.staleAfter / 1000}s: the loop is stuck (an RPC call that never returns?)`,
        ...base,
      };
    }
    return { status: this.lastSuccessAt === undefined ? "starting" : "ok", healthy: true, ...base };
  }
}
