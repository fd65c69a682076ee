/**
 * Matched baselines. An automated policy is compared with `static` opened at the same HF as that policy opens at
 * (its target), and with holding the deposit unlevered, so that a difference in exposure is never counted as
 * protection:
 * - `policies.static` is static opened at reactive's target (1.5);
 * - `baselines.<policy>` is static opened at `<policy>`'s target, for every other automated policy that ran;
 * - `hold` is the WETH deposited, kept, valued at the path's first and last price.
 * Every policy's result then carries `openHF`, `equityVsStaticPct` (its end equity against its matched static run's)
 * and `equityVsHoldPct` (against holding), in percent.
 */
import { DEFAULT_POLICY, LOCAL_PARAMS, type PolicyValues } from "../protocol";
import { SimulationError } from "./errors";
import { round, type PolicyResult } from "./metrics";
import { REACTIVE_POLICY, STATIC_POLICY, type PolicyName, type PolicySetup, type VolatilityBand } from "./policies";
import type { VaultSpec } from "./population";
import type { PricePath } from "./scenarios";

const WAD = 10n ** 18n;
const CENT = 10n ** 16n;
const E8 = 1e8;

/** A policy's result with what it is measured against. */
export interface ComparedResult extends PolicyResult {
  /** The HF every vault opened at. */
  openHF: number;
  /** End equity against the matched static run's, percent; null for a static run itself. */
  equityVsStaticPct: number | null;
  /** End equity against holding the deposits unlevered, percent. */
  equityVsHoldPct: number;
}

export interface HoldResult {
  equityStartUsd: number;
  equityEndUsd: number;
  equityChangePct: number;
}

/** `static` opened at `openHF` (WAD), automation paused: the matched baseline of a policy opening there. */
export function staticSetupAt(openHF: bigint): PolicySetup {
  return { name: "static", policy: STATIC_POLICY, openHF: () => openHF, paused: true };
}

/** The HF a policy opens at: its target (reactive's for `static`). */
export function openingHF(name: PolicyName, band: VolatilityBand | undefined): bigint {
  if (name === "volatility") {
    if (band === undefined) throw new SimulationError("openingHF: the volatility policy needs its band");
    return band.policy.targetHF;
  }
  return REACTIVE_POLICY.targetHF;
}

/**
 * The reactive band with its min at `minHF` (WAD) and target and max shifted as DEFAULT_POLICY's are from its min
 * (+0.20 and +0.50), kept within the factory's bounds: at least the floor, the band gap between levels, max at most
 * the ceiling. Throws when the band cannot fit.
 */
export function reactiveBandAt(minHF: bigint, bounds = LOCAL_PARAMS.bounds): PolicyValues {
  const min = BigInt(DEFAULT_POLICY.minHF);
  const toTarget = BigInt(DEFAULT_POLICY.targetHF) - min;
  const toMax = BigInt(DEFAULT_POLICY.maxHF) - min;
  if (minHF % CENT !== 0n) throw new SimulationError(`minHF ${Number(minHF) / 1e18} must be a multiple of 0.01`);
  if (minHF < bounds.minHFFloor) {
    throw new SimulationError(
      `minHF ${Number(minHF) / 1e18} is below the protocol floor ${Number(bounds.minHFFloor) / 1e18}`,
    );
  }
  const targetHF = minHF + (toTarget > bounds.minBandGap ? toTarget : bounds.minBandGap);
  let maxHF = minHF + toMax;
  if (maxHF < targetHF + bounds.minBandGap) maxHF = targetHF + bounds.minBandGap;
  if (maxHF > bounds.maxHFCeiling) maxHF = bounds.maxHFCeiling;
  if (targetHF + bounds.minBandGap > maxHF) {
    throw new SimulationError(
      `minHF ${Number(minHF) / 1e18}: the band ${Number(minHF) / 1e18} / ${Number(targetHF) / 1e18} does not fit ` +
        `under the protocol ceiling ${Number(bounds.maxHFCeiling) / 1e18}`,
    );
  }
  return { ...REACTIVE_POLICY, minHF, targetHF, maxHF };
}

/** The reactive policy on `reactiveBandAt(minHF)`, opened at its target. */
export function reactiveSetupAt(minHF: bigint): PolicySetup {
  const policy = reactiveBandAt(minHF);
  return { name: "reactive", policy, openHF: () => policy.targetHF, paused: false };
}

const priceE8 = (usd: number): bigint => BigInt(Math.round(usd * E8));
const usd = (base: bigint): number => Number(base / 1_000_000n) / 100;

/** Holding every deposit unlevered over the path, valued at the oracle prices the engine sets. */
export function holdResult(population: readonly VaultSpec[], path: PricePath): HoldResult {
  const total = population.reduce((a, s) => a + s.deposit, 0n);
  const start = (total * priceE8(path.points[0].price)) / WAD;
  const end = (total * priceE8(path.points[path.points.length - 1].price)) / WAD;
  return {
    equityStartUsd: usd(start),
    equityEndUsd: usd(end),
    equityChangePct: start === 0n ? 0 : Number(((end - start) * 10_000n) / start) / 100,
  };
}

/** `a` against `b` in percent, to 2 places; null when `b` is not positive. */
export function versus(a: number, b: number): number | null {
  return b > 0 ? round((a / b - 1) * 100, 2) : null;
}

/** A result with its opening HF and its comparisons; `matched` is undefined for a static run itself. */
export function compare(
  result: PolicyResult,
  openHF: bigint,
  matched: PolicyResult | undefined,
  hold: HoldResult,
): ComparedResult {
  return {
    ...result,
    openHF: Number(openHF / CENT) / 100,
    equityVsStaticPct: matched === undefined ? null : versus(result.equityEndUsd, matched.equityEndUsd),
    equityVsHoldPct: versus(result.equityEndUsd, hold.equityEndUsd) ?? 0,
  };
}
