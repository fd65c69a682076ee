/**
 * The market stresses a simulation can switch on. Each one makes the in-process market harsher in one way, and each
 * shows in the result: gas (a base-fee path keepers must pay), oracle (Chainlink-style rounds on deviation or
 * heartbeat), liquidity (depth calibrated on mainnet, thinned as volatility rises; a finite, late arbitrageur),
 * sellers (liquidators sell what they seize; an outside sell flow tied to the drawdown), downtime (keepers that are
 * sometimes down, optionally all at once in the worst hour). All of them are on by default.
 */
import { SimulationError } from "./errors";

export const STRESS_KINDS = ["gas", "oracle", "liquidity", "sellers", "downtime"] as const;
export type StressKind = (typeof STRESS_KINDS)[number];
export type StressSet = ReadonlySet<StressKind>;

export const ALL_STRESS: StressSet = new Set(STRESS_KINDS);
export const NO_STRESS: StressSet = new Set();

/** `all`, `none`, or a comma-separated list of kinds. */
export function parseStress(value: string): StressSet {
  const words = value
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== "");
  if (words.length === 1 && words[0] === "all") return ALL_STRESS;
  if (words.length === 1 && words[0] === "none") return NO_STRESS;
  if (words.length === 0)
    throw new SimulationError(`--stress is empty: use all, none or some of ${STRESS_KINDS.join(",")}`);
  const out = new Set<StressKind>();
  for (const w of words) {
    if (!(STRESS_KINDS as readonly string[]).includes(w)) {
      throw new SimulationError(
        `Unknown stress "${w}" in --stress: use all, none or some of ${STRESS_KINDS.join(",")}`,
      );
    }
    out.add(w as StressKind);
  }
  return out;
}

export const OUTAGE_KINDS = ["correlated", "independent"] as const;
/** Downtime stress: whether every keeper is also down in the path's worst hour, or only in its own outages. */
export type OutageKind = (typeof OUTAGE_KINDS)[number];

/**
 * `--outage`: `correlated` (the default under downtime stress) or `independent`; refused without downtime stress,
 * where it would change nothing. Returns whether the outage is correlated, or undefined when the flag is absent.
 */
export function parseOutage(value: string | undefined, stress: StressSet): boolean | undefined {
  if (value === undefined) return undefined;
  const word = value.trim().toLowerCase();
  if (!(OUTAGE_KINDS as readonly string[]).includes(word)) {
    throw new SimulationError(`--outage must be ${OUTAGE_KINDS.join(" or ")}, got "${value}"`);
  }
  if (!stress.has("downtime")) {
    throw new SimulationError("--outage applies to the downtime stress: add downtime to --stress or leave it out");
  }
  return word === "correlated";
}

/** The range, in whole gwei, the simulated keepers' max fees are drawn from (gas stress). */
export interface FeeRange {
  min: number;
  max: number;
}

/** The most a `--keeper-max-fee` range may reach: far above any base fee the gas model gives (1,000 gwei). */
export const MAX_KEEPER_MAX_FEE_GWEI = 100_000;

/**
 * `--keeper-max-fee min-max` (whole gwei, `min <= max`): the range the keepers' own max fees are drawn from instead of
 * the default (`MAX_FEE_GWEI`); refused without gas stress, where keepers pay a fixed gas price and no max fee.
 */
export function parseFeeRange(value: string | undefined, stress: StressSet): FeeRange | undefined {
  if (value === undefined) return undefined;
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  const [min, max] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
  if (!(min >= 1 && min <= max && max <= MAX_KEEPER_MAX_FEE_GWEI)) {
    throw new SimulationError(
      `--keeper-max-fee must be min-max in whole gwei, 1 <= min <= max <= ${MAX_KEEPER_MAX_FEE_GWEI}, e.g. 80-400; got "${value}"`,
    );
  }
  if (!stress.has("gas")) {
    throw new SimulationError("--keeper-max-fee applies to the gas stress: add gas to --stress or leave it out");
  }
  return { min, max };
}

/** The outage as the result writes it: null without downtime stress. */
export function outageKind(stress: StressSet, correlated: boolean | undefined): OutageKind | null {
  if (!stress.has("downtime")) return null;
  return correlated === false ? "independent" : "correlated";
}

/** The set as written in the result: the kinds in their canonical order. */
export function stressList(set: StressSet): StressKind[] {
  return STRESS_KINDS.filter((k) => set.has(k));
}
