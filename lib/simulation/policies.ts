/**
 * The policies the simulation compares, on the same price path and the same owners:
 * - `static`: no automation, the baseline. Each owner opens at reactive's target (1.5) and pauses automation, so that
 *   reactive is compared at the same exposure; the baseline of another policy opens at that policy's target
 *   (lib/simulation/baselines.ts).
 * - `reactive`: Ballast's default band 1.3 / 1.5 / 1.8, opened at its target.
 * - `volatility`: a band from the volatility forecast on the path's warm-up (never the replay: no look-ahead) over
 *   the keepers' response horizon, for a survival probability: `recommendPolicy`, the same calculation as
 *   `policy:recommend`. Opened at its target.
 */
import { parseUnits } from "ethers";

import { DEFAULT_POLICY, LOCAL_PARAMS, policyValues, type PolicyValues } from "../protocol";
import { BLOCK_SECONDS, type KeeperProfile } from "./keepers";
import type { VaultSpec } from "./population";
import type { PricePath } from "./scenarios";
import { recommendPolicy, warmupVolatility } from "./volatility";

export const POLICY_NAMES = ["static", "reactive", "volatility"] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(name: string): name is PolicyName {
  return (POLICY_NAMES as readonly string[]).includes(name);
}

export const REACTIVE_POLICY: PolicyValues = policyValues(DEFAULT_POLICY);

/** The owner's gas price cap in the simulation: 2,000 gwei, above any base fee a stress path reaches. */
export const SIMULATED_MAX_GAS_PRICE = parseUnits("2000", "gwei");
/** The owner's absolute reward cap in the simulation: 2% of the vault's opening equity, bps. */
export const SIMULATED_MAX_REWARD_BPS_OF_EQUITY = 200n;

/**
 * `policy` with the absolute keeper reward caps an owner of a vault with `equityBase` (its opening equity, base
 * units) would set: gas priced at up to 2,000 gwei and at most 2% of the equity per rebalance (at least 1 base unit,
 * which the vault requires). Every simulated vault opens with them (reactive and volatility; static never pays).
 */
export function withOwnerRewardCaps(policy: PolicyValues, equityBase: bigint): PolicyValues {
  const cap = (equityBase * SIMULATED_MAX_REWARD_BPS_OF_EQUITY) / 10_000n;
  return { ...policy, maxGasPrice: SIMULATED_MAX_GAS_PRICE, maxRewardBase: cap > 0n ? cap : 1n };
}

/** Static vaults pause automation, so their band never acts; it only has to admit any opening HF for `open`. */
export const STATIC_POLICY: PolicyValues = {
  ...REACTIVE_POLICY,
  minHF: LOCAL_PARAMS.bounds.minHFFloor,
  targetHF: parseUnits("1.5", 18),
  maxHF: LOCAL_PARAMS.bounds.maxHFCeiling,
};

export interface VolatilityBand {
  sigmaAnnual: number;
  horizonSeconds: number;
  /** The slowest keeper's latency, part of the horizon. */
  slowestLatency: number;
  survival: number;
  policy: PolicyValues;
}

/**
 * The `volatility` policy's band for a path and keepers: σ = `warmupVolatility(path)`, from data before the replay
 * only; the horizon is how long a vault may drift before a rebalance lands: the slowest keeper's latency, the price
 * guard's blind time while the TWAP a deleverage is checked against catches up (the deleverage window) and one block
 * for inclusion. Throws a
 * SimulationError for a path without warm-up, PolicyBoundsError when the band cannot fit the bounds.
 */
export function volatilityBand(path: PricePath, keepers: readonly KeeperProfile[], survival: number): VolatilityBand {
  const sigmaAnnual = warmupVolatility(path);
  const slowestLatency = Math.max(...keepers.map((k) => k.latency));
  const horizonSeconds = slowestLatency + LOCAL_PARAMS.deleverageTwapWindow + BLOCK_SECONDS;
  const policy = recommendPolicy({ sigmaAnnual, horizonSeconds, survival, bounds: LOCAL_PARAMS.bounds });
  return { sigmaAnnual, horizonSeconds, slowestLatency, survival, policy };
}

export interface PolicySetup {
  name: PolicyName;
  policy: PolicyValues;
  /** The HF a vault opens at. */
  openHF(spec: VaultSpec): bigint;
  /** Whether the owner pauses automation right after opening. */
  paused: boolean;
}

export function policySetup(name: PolicyName, band: VolatilityBand | undefined): PolicySetup {
  switch (name) {
    case "static":
      return { name, policy: STATIC_POLICY, openHF: () => REACTIVE_POLICY.targetHF, paused: true };
    case "reactive":
      return { name, policy: REACTIVE_POLICY, openHF: () => REACTIVE_POLICY.targetHF, paused: false };
    case "volatility": {
      if (band === undefined) throw new RangeError("policySetup: the volatility policy needs its band");
      const policy = band.policy;
      return { name, policy, openHF: () => policy.targetHF, paused: false };
    }
  }
}
