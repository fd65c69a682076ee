/**
 * Volatility and the health-factor band it calls for.
 *
 * A vault's HF is proportional to the collateral price (the debt is a stablecoin), so over a horizon h the HF is
 * multiplied by exp(X), X ~ N(0, σ²h) for a lognormal price without drift (the -σ²h/2 convexity term is left out:
 * it is negligible over minutes and leaving it out errs on the safe side). A vault at HF H stays above 1 with
 * probability p when H·exp(-z·σ·√h) >= 1, z = Φ⁻¹(p): the smallest such H is exp(z·σ·√h).
 */
import { DEFAULT_POLICY, type PolicyValues } from "../protocol";
import { SimulationError } from "./errors";
import { SECONDS_PER_HOUR, SECONDS_PER_YEAR, type PricePath, type PricePoint } from "./scenarios";

/** Policies are recommended in steps of 0.01 HF. */
const CENT = 10n ** 16n;

export class PolicyBoundsError extends SimulationError {}

/**
 * The half-life of `pastVolatility`'s weights. RiskMetrics' daily λ = 0.94 is a half-life of 11 days for daily
 * returns; minutes call for a shorter memory, and 6 hours still averages a few hundred 1-minute returns.
 */
export const EWMA_HALF_LIFE_SECONDS = 6 * SECONDS_PER_HOUR;

/**
 * sqrt(Σ w·r² / Σ w·Δt): r the log return between consecutive points, Δt the time between them in years, each
 * weighted by w = 2^(-age / halfLife), its age measured from the last point to the return's end (no decay when
 * halfLife is Infinity). The mean return is not subtracted (the usual convention: over a crash it is part of the
 * risk).
 */
function weightedVolatility(points: readonly PricePoint[], name: string, halfLife: number): number {
  if (points.length < 2) throw new SimulationError(`Path ${name}: at least 2 points are needed for a volatility`);
  const end = points[points.length - 1].timestamp;
  let weightedSquares = 0;
  let weightedYears = 0;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (!(b.timestamp > a.timestamp)) {
      throw new SimulationError(`Path ${name}: timestamps must increase (point ${i}: ${b.timestamp})`);
    }
    if (!(a.price > 0 && b.price > 0)) throw new SimulationError(`Path ${name}: prices must be positive`);
    const w = 2 ** (-(end - b.timestamp) / halfLife);
    weightedSquares += w * Math.log(b.price / a.price) ** 2;
    weightedYears += (w * (b.timestamp - a.timestamp)) / SECONDS_PER_YEAR;
  }
  return Math.sqrt(weightedSquares / weightedYears);
}

/**
 * Realized annualized volatility of a path's replay, every return weighted alike. Normalizing by the actual time
 * deltas makes uneven sampling harmless. It looks at the whole replay: a description of the path, not a forecast.
 */
export function realizedVolatility(path: PricePath): number {
  return weightedVolatility(path.points, path.name, Infinity);
}

/**
 * Annualized volatility forecast from past points only (RiskMetrics-style EWMA): each return weighted by
 * 2^(-age / EWMA_HALF_LIFE_SECONDS). Weights decay with time, not with the count of returns, and each return is
 * normalized by its own Δt, so the same market sampled every minute or every 5 minutes gives the same forecast up
 * to sampling noise.
 */
export function pastVolatility(points: readonly PricePoint[], name: string): number {
  return weightedVolatility(points, name, EWMA_HALF_LIFE_SECONDS);
}

/**
 * The volatility a band may be sized from before a path is replayed: `pastVolatility` of its warm-up, which
 * never looks at the replay. A path without warm-up (a CSV without warm-up rows) is refused.
 */
export function warmupVolatility(path: PricePath): number {
  const warmup = path.warmup ?? [];
  if (warmup.length < 2) {
    throw new SimulationError(
      `Path ${path.name} has ${warmup.length === 0 ? "no" : "1 point of"} warm-up: a volatility sized before the ` +
        `replay needs at least 2 points before it (for a CSV file, its first rows as warm-up)`,
    );
  }
  return pastVolatility(warmup, path.name);
}

// Acklam's coefficients: P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
// function" (2003; archived at web.archive.org/web/2007/http://home.online.no/~pjacklam/notes/invnorm/).
const A = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
  2.506628277459239,
];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;

/** Horner evaluation of c[0]·x^(n-1) + … + c[n-1]. */
const poly = (c: readonly number[], x: number): number => c.reduce((acc, k) => acc * x + k, 0);

/**
 * Φ⁻¹(p), the standard normal quantile, by Acklam's rational approximation: relative error below 1.15e-9 on (0, 1),
 * a central rational function for |p - 0.5| <= 0.47575 and a tail one in sqrt(-2 ln p) beyond.
 */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) throw new SimulationError(`inverseNormalCdf: p must be strictly between 0 and 1, got ${p}`);
  if (p < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(C, q) / (poly(D, q) * q + 1);
  }
  if (p > 1 - P_LOW) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(C, q) / (poly(D, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(A, r) * q) / (poly(B, r) * r + 1);
}

export interface MinHFInput {
  /** Annualized volatility of the collateral price, e.g. 0.8. */
  sigmaAnnual: number;
  /** How long the HF may move before a keeper acts, in seconds. */
  horizonSeconds: number;
  /** Probability of staying above HF 1 over the horizon, in (0.5, 1), e.g. 0.99. */
  survival: number;
}

function checkInput({ sigmaAnnual, horizonSeconds, survival }: MinHFInput): void {
  if (!(Number.isFinite(sigmaAnnual) && sigmaAnnual >= 0)) {
    throw new SimulationError(`The volatility must be an annualized number >= 0 like 0.8, got ${sigmaAnnual}`);
  }
  if (!(Number.isFinite(horizonSeconds) && horizonSeconds > 0)) {
    throw new SimulationError(`The horizon must be a number of seconds > 0, got ${horizonSeconds}`);
  }
  if (!(survival > 0.5 && survival < 1)) {
    throw new SimulationError(`The survival probability must be above 0.5 and below 1, like 0.99, got ${survival}`);
  }
}

/**
 * The smallest HF that stays at or above 1 over the horizon with probability `survival` under a lognormal move:
 * exp(z·σ·√h), z = Φ⁻¹(survival), h in years. It is also the factor by which a p-quantile move changes any HF.
 */
export function recommendMinHF(input: MinHFInput): number {
  checkInput(input);
  const z = inverseNormalCdf(input.survival);
  return Math.exp(z * input.sigmaAnnual * Math.sqrt(input.horizonSeconds / SECONDS_PER_YEAR));
}

/** The policy bounds the factory enforces that shape a band (LOCAL_PARAMS.bounds fits). */
export interface BandBounds {
  minHFFloor: bigint;
  maxHFCeiling: bigint;
  minBandGap: bigint;
}

export interface PolicyInput extends MinHFInput {
  bounds: BandBounds;
  /** Smallest distance between minHF, targetHF and maxHF, WAD (default: the bounds' minBandGap). */
  gap?: bigint;
}

/** Hundredths of HF, rounded up; the epsilon keeps an exact product like 1.3 from rounding to 1.31. */
const centsUp = (hf: number): bigint => BigInt(Math.ceil(hf * 100 - 1e-9));
const wadToCentsUp = (wad: bigint): bigint => (wad + CENT - 1n) / CENT;
const hfText = (cents: bigint): string => (Number(cents) / 100).toFixed(2);

/**
 * A band for a volatility, horizon and survival probability, in steps of 0.01 rounded up, each step multiplying by
 * the same p-quantile move m = recommendMinHF(input):
 * - minHF = m, raised to the bounds' floor: the HF that survives one horizon's move with probability p;
 * - targetHF = max(minHF + gap, minHF·m): a deleverage lands where one more such move does not leave the band;
 * - maxHF = max(targetHF + gap, targetHF·m): a leverage lands where one such move up does not trigger another;
 *   lowered to the bounds' ceiling if above it (maxHF only decides when to lever up, not safety).
 * It is refused with a PolicyBoundsError when targetHF + gap is above the ceiling. Slippage and keeper-reward caps
 * are DEFAULT_POLICY's.
 */
export function recommendPolicy(input: PolicyInput): PolicyValues {
  const move = recommendMinHF(input);
  const { bounds } = input;
  const gap = input.gap ?? bounds.minBandGap;
  if (gap < bounds.minBandGap) {
    throw new SimulationError(
      `The band gap ${hfText(wadToCentsUp(gap))} is below the protocol's minimum ${hfText(wadToCentsUp(bounds.minBandGap))}`,
    );
  }
  const gapCents = wadToCentsUp(gap);
  const ceiling = bounds.maxHFCeiling / CENT;
  const floor = wadToCentsUp(bounds.minHFFloor);
  const raw = centsUp(move);
  const minHF = raw > floor ? raw : floor;
  const byMove = centsUp((Number(minHF) / 100) * move);
  const targetHF = byMove > minHF + gapCents ? byMove : minHF + gapCents;
  if (targetHF + gapCents > ceiling) {
    throw new PolicyBoundsError(
      `The band for volatility ${input.sigmaAnnual}, a ${input.horizonSeconds} s horizon and survival ` +
        `${input.survival} needs minHF ${hfText(minHF)} and targetHF ${hfText(targetHF)}, so maxHF at least ` +
        `${hfText(targetHF + gapCents)}: above the protocol ceiling ${hfText(ceiling)}; ` +
        `lower the survival probability or the horizon`,
    );
  }
  const maxByMove = centsUp((Number(targetHF) / 100) * move);
  const maxWanted = maxByMove > targetHF + gapCents ? maxByMove : targetHF + gapCents;
  const maxHF = maxWanted < ceiling ? maxWanted : ceiling;
  return {
    minHF: minHF * CENT,
    targetHF: targetHF * CENT,
    maxHF: maxHF * CENT,
    maxSlippageBps: BigInt(DEFAULT_POLICY.maxSlippageBps),
    maxKeeperRewardBps: BigInt(DEFAULT_POLICY.maxKeeperRewardBps),
    // Per vault at its open (policies.ts `withOwnerRewardCaps`).
    maxGasPrice: BigInt(DEFAULT_POLICY.maxGasPrice),
    maxRewardBase: BigInt(DEFAULT_POLICY.maxRewardBase),
    urgentSlippageBps: BigInt(DEFAULT_POLICY.urgentSlippageBps),
  };
}
