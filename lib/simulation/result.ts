/**
 * The result of a run, as the task prints it and writes it with --json: plain numbers (USD in dollars to the cent,
 * HFs to 2 or 4 decimals), the same bytes for the same options, and no wall-clock time.
 */
import type { ComparedResult, HoldResult } from "./baselines";
import type { KeeperProfile } from "./keepers";
import { round, type PolicyResult } from "./metrics";
import type { PolicyName, VolatilityBand } from "./policies";
import type { VaultSpec } from "./population";
import type { PricePath } from "./scenarios";
import { scenarioSummary, type MonteCarloResult } from "./montecarlo";
import type { OutageKind, StressKind } from "./stress";

export interface KeeperSummary {
  name: string;
  latencySeconds: number;
  gasPriceGwei: number;
  minProfitUsd: number;
  /** Under gas stress: the EIP-1559 tip and max fee it sends with (gwei). */
  tipGwei: number;
  maxFeeGwei: number;
}

/** What a run measured on one path: the same bytes for the same options, so no wall-clock time in it. */
export interface SimulationSummary {
  scenario: {
    name: string;
    source: string;
    steps: number;
    seed: number;
    spanSeconds: number;
    startPrice: number;
    endPrice: number;
    lowPrice: number;
    highPrice: number;
    /** Annualized volatility realized over the replayed points (a description of the path; no band uses it). */
    realizedVolatility: number;
  };
  vaults: {
    count: number;
    depositWeth: { min: number; max: number; total: number };
  };
  keepers: KeeperSummary[];
  /**
   * The volatility policy's band (null without that policy). `sigmaAnnual`: an EWMA (half-life 6 h,
   * `warmupVolatility`) of the warm-up before the replay (24 h for a built-in path, `--warmup` rows for a CSV), never
   * of the replay itself; `horizonSeconds`: the slowest keeper's latency + the deleverage TWAP window + one 12 s block.
   */
  volatilityBand: {
    sigmaAnnual: number;
    horizonSeconds: number;
    survival: number;
    minHF: number;
    targetHF: number;
    maxHF: number;
  } | null;
  policies: Partial<Record<PolicyName, PolicyResult>>;
}

/**
 * The result a run writes: the summary above for the scenario itself (path 0), with the stresses on, each result
 * compared with its matched static baseline and with holding, and the Monte Carlo over every path
 * (lib/simulation/baselines.ts, montecarlo.ts).
 */
export interface SimulationResult extends Omit<SimulationSummary, "policies"> {
  stress: StressKind[];
  /** Under downtime stress: whether every keeper was also down in the worst hour (`--outage`); null without it. */
  outage: OutageKind | null;
  policies: Partial<Record<PolicyName, ComparedResult>>;
  /** The static run matched to each automated policy other than reactive (whose match is `policies.static`). */
  baselines: Partial<Record<PolicyName, ComparedResult>>;
  hold: HoldResult;
  montecarlo: MonteCarloResult;
}

const wadNumber = (wad: bigint, places = 2): number => Number(wad / 10n ** BigInt(18 - places)) / 10 ** places;

/** The result of a run from its inputs and each policy's measurements. */
export function summarize(
  path: PricePath,
  source: string,
  seed: number,
  population: readonly VaultSpec[],
  keepers: readonly KeeperProfile[],
  band: VolatilityBand | undefined,
  policies: Partial<Record<PolicyName, PolicyResult>>,
): SimulationSummary {
  const { name, steps, ...rest } = scenarioSummary(path);
  const deposits = population.map((s) => wadNumber(s.deposit));
  return {
    scenario: { name, source, steps, seed, ...rest },
    vaults: {
      count: population.length,
      depositWeth: {
        min: Math.min(...deposits),
        max: Math.max(...deposits),
        total: round(
          deposits.reduce((a, b) => a + b, 0),
          2,
        ),
      },
    },
    keepers: keepers.map((k) => ({
      name: k.name,
      latencySeconds: k.latency,
      gasPriceGwei: Number(k.gasPrice / 10n ** 8n) / 10,
      minProfitUsd: Number(k.minProfitBase / 10n ** 6n) / 100,
      tipGwei: Number(k.tip / 10n ** 8n) / 10,
      maxFeeGwei: Number(k.maxFee / 10n ** 9n),
    })),
    volatilityBand:
      band === undefined
        ? null
        : {
            sigmaAnnual: round(band.sigmaAnnual, 4),
            horizonSeconds: band.horizonSeconds,
            survival: band.survival,
            minHF: wadNumber(band.policy.minHF),
            targetHF: wadNumber(band.policy.targetHF),
            maxHF: wadNumber(band.policy.maxHF),
          },
    policies,
  };
}
