/**
 * Summaries for the Monte Carlo: a Wilson score interval for a share of liquidated vaults, and quantiles. Plain
 * functions of their inputs, rounded to fixed places, so that a merged result is the same bytes as a single run.
 */
import { mean, quantileSorted } from "simple-statistics";

import { SimulationError } from "./errors";

/** The 97.5% point of the standard normal: a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

export interface Proportion {
  /** successes / trials; 0 without trials. */
  estimate: number;
  /** The Wilson score interval's bounds. */
  low: number;
  high: number;
  /** What the estimate is made of: vaults liquidated at least once, and vaults × paths. */
  liquidated: number;
  trials: number;
}

const round = (x: number, places: number): number => Math.round(x * 10 ** places) / 10 ** places;

/**
 * The Wilson score interval for `successes` out of `trials` (Wilson 1927; Agresti & Coull 1998): unlike the normal
 * approximation it stays inside [0, 1] and is not empty at 0 or n successes. Rounded to 6 places.
 */
export function wilson(successes: number, trials: number, z: number = Z_95): Proportion {
  if (!Number.isSafeInteger(trials) || trials < 0 || !Number.isSafeInteger(successes) || successes < 0) {
    throw new SimulationError(`wilson: counts must be whole numbers 0 or more, got ${successes}/${trials}`);
  }
  if (successes > trials) throw new SimulationError(`wilson: ${successes} successes out of ${trials} trials`);
  if (trials === 0) return { estimate: 0, low: 0, high: 1, liquidated: 0, trials: 0 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  return {
    estimate: round(p, 6),
    low: successes === 0 ? 0 : round(Math.max(0, centre - half), 6),
    high: successes === trials ? 1 : round(Math.min(1, centre + half), 6),
    liquidated: successes,
    trials,
  };
}

export interface MeanP5 {
  mean: number;
  /** The 5th percentile: the outcome of a bad path, one in twenty. */
  p5: number;
}

export interface Quantiles {
  min: number;
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
  max: number;
}

function sorted(xs: readonly number[], what: string): number[] {
  if (xs.length === 0) throw new SimulationError(`${what}: no values`);
  return [...xs].sort((a, b) => a - b);
}

/** The mean and 5th percentile (simple-statistics' quantile), to `places` decimals. */
export function meanP5(xs: readonly number[], places = 2): MeanP5 {
  const s = sorted(xs, "meanP5");
  return { mean: round(mean(s), places), p5: round(quantileSorted(s, 0.05), places) };
}

export function quantiles(xs: readonly number[], places = 4): Quantiles {
  const s = sorted(xs, "quantiles");
  const q = (p: number): number => round(quantileSorted(s, p), places);
  return { min: s[0], p5: q(0.05), p25: q(0.25), p50: q(0.5), p75: q(0.75), p95: q(0.95), max: s[s.length - 1] };
}
