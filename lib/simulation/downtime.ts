/**
 * Downtime stress: keepers that are sometimes down. Each keeper gets a seeded availability (90-99% of the path's
 * span) spent in outages of one minute to an hour at seeded times; optionally (`correlated`, on by default when the
 * stress is on) every keeper is also down together during the path's worst hour, the hour with the steepest drop, as
 * when a shared RPC provider or cloud region fails in a crash, or gas makes every keeper's transactions wait. A down
 * keeper neither kicks, executes nor cancels; it acts again when the outage ends.
 *
 * Draws come from the run's seed and the path's index (`pathIndex`), so each Monte Carlo path gets fresh outages
 * while a run stays reproducible. Times are seconds since the path's first point.
 */
import { Random, streamSeed } from "./random";
import type { PricePath } from "./scenarios";

/** Availability per keeper, drawn uniformly in this range (to 0.001). */
export const AVAILABILITY = { min: 0.9, max: 0.99 } as const;
/** Outage durations, seconds, drawn uniformly. */
export const OUTAGE_SECONDS = { min: 60, max: 3_600 } as const;
export const WORST_WINDOW_SECONDS = 3_600;
const DOWNTIME_STREAM = 22;

export interface Interval {
  /** Seconds since the path's first point, start included, end excluded. */
  start: number;
  end: number;
}

export interface KeeperDowntime {
  availability: number;
  /** The keeper's own outages, sorted by start (they may overlap). */
  outages: Interval[];
}

export interface DowntimePlan {
  keepers: KeeperDowntime[];
  /** The window of the steepest drop. */
  worstHour: Interval;
  /** Whether every keeper is down during `worstHour`. */
  correlated: boolean;
}

export interface DowntimeOptions {
  seed: number;
  /** The Monte Carlo path's index (0 for a single run). */
  pathIndex?: number;
  /** All keepers down together in the worst hour (default true). */
  correlated?: boolean;
}

/**
 * The window of `WORST_WINDOW_SECONDS` with the steepest drop: from a point, the lowest price within the window after
 * it, relative to that point's price; the earliest such window on a tie. Clipped to the path's span.
 */
export function worstHour(path: PricePath, windowSeconds = WORST_WINDOW_SECONDS): Interval {
  const pts = path.points;
  const t0 = pts[0].timestamp;
  let best = { start: 0, drop: -Infinity };
  for (let i = 0; i < pts.length; i++) {
    let low = pts[i].price;
    for (let j = i + 1; j < pts.length && pts[j].timestamp - pts[i].timestamp <= windowSeconds; j++) {
      low = Math.min(low, pts[j].price);
    }
    const drop = 1 - low / pts[i].price;
    if (drop > best.drop) best = { start: pts[i].timestamp - t0, drop };
  }
  const span = pts[pts.length - 1].timestamp - t0;
  return { start: best.start, end: Math.min(best.start + windowSeconds, Math.max(span, best.start + 1)) };
}

/** Each keeper's availability and outages over the path, and the correlated window. */
export function drawDowntime(path: PricePath, keepers: number, options: DowntimeOptions): DowntimePlan {
  const pts = path.points;
  const span = Math.max(pts[pts.length - 1].timestamp - pts[0].timestamp, 1);
  const random = new Random(streamSeed(streamSeed(options.seed, DOWNTIME_STREAM), options.pathIndex ?? 0));
  const uniform = (min: number, max: number): number => min + random.next() * (max - min);
  const out: KeeperDowntime[] = [];
  for (let k = 0; k < keepers; k++) {
    const availability = Math.round(uniform(AVAILABILITY.min, AVAILABILITY.max) * 1_000) / 1_000;
    let budget = Math.round((1 - availability) * span);
    const outages: Interval[] = [];
    while (budget > 0) {
      const length = Math.min(budget, Math.round(uniform(OUTAGE_SECONDS.min, OUTAGE_SECONDS.max)));
      const start = Math.floor(random.next() * Math.max(span - length, 1));
      outages.push({ start, end: start + length });
      budget -= length;
    }
    outages.sort((a, b) => a.start - b.start);
    out.push({ availability, outages });
  }
  return { keepers: out, worstHour: worstHour(path), correlated: options.correlated ?? true };
}

/** Every interval a keeper is down: its own outages and, when correlated, the worst hour. */
export function outagesOf(plan: DowntimePlan, keeper: number): Interval[] {
  const own = plan.keepers[keeper].outages;
  return plan.correlated ? [...own, plan.worstHour].sort((a, b) => a.start - b.start) : own;
}

/** Whether the keeper is down at `t` (seconds since the path's start). */
export function isDown(plan: DowntimePlan, keeper: number, t: number): boolean {
  return outagesOf(plan, keeper).some((o) => o.start <= t && t < o.end);
}

/** The first time at or after `t` the keeper is up. */
export function upFrom(plan: DowntimePlan, keeper: number, t: number): number {
  let at = t;
  const intervals = outagesOf(plan, keeper);
  for (let moved = true; moved;) {
    moved = false;
    for (const o of intervals) {
      if (o.start <= at && at < o.end) {
        at = o.end;
        moved = true;
      }
    }
  }
  return at;
}

/** Seconds the keeper is down within [0, span]: the union of its intervals. */
export function downSeconds(plan: DowntimePlan, keeper: number, span: number): number {
  let total = 0;
  let reach = 0;
  for (const o of outagesOf(plan, keeper)) {
    const start = Math.max(o.start, reach, 0);
    const end = Math.min(o.end, span);
    if (end > start) total += end - start;
    reach = Math.max(reach, o.end);
  }
  return total;
}
