/**
 * The Monte Carlo over price paths. Path 0 is the scenario itself; paths 1..N-1 are seeded variants of it
 * (`pathVariant`). A process runs all of them or one shard (a contiguous slice), and writes a shard result: the
 * header every shard shares (from the options alone) and one `PathRun` per path. `finalize` turns the shards of all
 * paths into the result: path 0's tables at the top level, as a single run writes them, and the summaries over
 * every path under `montecarlo`. It is a pure function of the runs, so one process, workers or merged shards give
 * the same bytes.
 */
import type { ComparedResult, HoldResult } from "./baselines";
import { SimulationError } from "./errors";
import { round } from "./metrics";
import type { PolicyName, VolatilityBand } from "./policies";
import type { SimulationResult } from "./result";
import type { PricePath } from "./scenarios";
import { meanP5, quantiles, wilson, type MeanP5, type Proportion, type Quantiles } from "./stats";
import type { OutageKind, StressKind } from "./stress";
import { pathVariant } from "./variants";
import { realizedVolatility } from "./volatility";

export const SHARD_FORMAT = "ballast-simulation-shard/1";

/** `--shard i/n`: the i-th of n slices, 1-based. */
export interface Shard {
  index: number;
  count: number;
}

/** The path of index `index`: the scenario itself for 0, a seeded variant of it otherwise. */
export function pathAt(base: PricePath, seed: number, index: number): PricePath {
  return index === 0 ? base : pathVariant(base, seed, index);
}

/** The path indices of a shard: contiguous, so that concatenating the shards in order gives every path in order. */
export function shardPaths(paths: number, shard: Shard = { index: 1, count: 1 }): number[] {
  if (!Number.isSafeInteger(paths) || paths < 1) throw new SimulationError(`paths must be 1 or more, got ${paths}`);
  const { index, count } = shard;
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index) || index < 1 || index > count) {
    throw new SimulationError(`shard must be i/n with 1 <= i <= n, got ${index}/${count}`);
  }
  if (count > paths) throw new SimulationError(`${count} shards for ${paths} paths: use at most one shard per path`);
  const from = Math.floor(((index - 1) * paths) / count);
  const to = Math.floor((index * paths) / count);
  return Array.from({ length: to - from }, (_, i) => from + i);
}

export type ScenarioSummary = SimulationResult["scenario"];
export type BandSummary = SimulationResult["volatilityBand"];

/** A path's description as the result gives it (source and seed are the run's, in the header). */
export function scenarioSummary(path: PricePath): Omit<ScenarioSummary, "source" | "seed"> {
  const points = path.points;
  const prices = points.map((p) => p.price);
  return {
    name: path.name,
    steps: points.length,
    spanSeconds: points[points.length - 1].timestamp - points[0].timestamp,
    startPrice: round(prices[0], 2),
    endPrice: round(prices[prices.length - 1], 2),
    lowPrice: round(Math.min(...prices), 2),
    highPrice: round(Math.max(...prices), 2),
    realizedVolatility: round(realizedVolatility(path), 4),
  };
}

const wad2 = (wad: bigint): number => Number(wad / 10n ** 16n) / 100;

export function bandSummary(band: VolatilityBand | undefined, survival: number): BandSummary {
  return band === undefined
    ? null
    : {
        sigmaAnnual: round(band.sigmaAnnual, 4),
        horizonSeconds: band.horizonSeconds,
        survival,
        minHF: wad2(band.policy.minHF),
        targetHF: wad2(band.policy.targetHF),
        maxHF: wad2(band.policy.maxHF),
      };
}

/** One path's results. */
export interface PathRun {
  path: number;
  scenario: Omit<ScenarioSummary, "source" | "seed">;
  volatilityBand: BandSummary;
  hold: HoldResult;
  policies: Partial<Record<PolicyName, ComparedResult>>;
  baselines: Partial<Record<PolicyName, ComparedResult>>;
}

/** What every shard of a run shares: it depends on the options only, and merging checks it is the same. */
export interface ShardHeader {
  scenario: ScenarioSummary;
  vaults: SimulationResult["vaults"];
  keepers: SimulationResult["keepers"];
  volatilityBand: BandSummary;
  stress: StressKind[];
  outage: OutageKind | null;
}

/** The JSON a `--shard` run writes, and what `keeper:merge` reads. */
export interface ShardResult {
  format: typeof SHARD_FORMAT;
  shard: Shard;
  paths: number;
  header: ShardHeader;
  runs: PathRun[];
}

/** A policy (or baseline) over every path. */
export interface MonteCarloSummary {
  /** Vaults liquidated at least once, over vaults × paths, with its 95% Wilson interval. */
  liquidationProbability: Proportion;
  /** The policy's equity change over each path, percent: mean and 5th percentile over the paths. */
  equityChange: MeanP5;
  /** The lowest HF of any vault on each path: its quantiles over the paths. */
  worstHF: Quantiles;
  /** End equity against the matched static run (null for static itself) and against holding, percent, per path. */
  equityVsStaticPct: MeanP5 | null;
  equityVsHoldPct: MeanP5;
}

export interface MonteCarloResult {
  paths: number;
  policies: Partial<Record<PolicyName, MonteCarloSummary>>;
  baselines: Partial<Record<PolicyName, MonteCarloSummary>>;
  /** Every path's results, path 0 first; only when there is more than one path (path 0 is the top level). */
  runs?: PathRun[];
}

export function summarizeRuns(results: readonly ComparedResult[], vaults: number): MonteCarloSummary {
  const liquidated = results.reduce((n, r) => n + r.liquidations, 0);
  const vsStatic = results.map((r) => r.equityVsStaticPct).filter((x): x is number => x !== null);
  return {
    liquidationProbability: wilson(liquidated, vaults * results.length),
    equityChange: meanP5(results.map((r) => r.equityChangePct)),
    worstHF: quantiles(results.map((r) => r.worstHF)),
    equityVsStaticPct: vsStatic.length === results.length ? meanP5(vsStatic) : null,
    equityVsHoldPct: meanP5(results.map((r) => r.equityVsHoldPct)),
  };
}

function summaries(
  runs: readonly PathRun[],
  group: "policies" | "baselines",
  vaults: number,
): Partial<Record<PolicyName, MonteCarloSummary>> {
  const out: Partial<Record<PolicyName, MonteCarloSummary>> = {};
  for (const name of Object.keys(runs[0][group]) as PolicyName[]) {
    out[name] = summarizeRuns(
      runs.map((r) => {
        const x = r[group][name];
        if (x === undefined) throw new SimulationError(`path ${r.path} has no ${group}.${name}`);
        return x;
      }),
      vaults,
    );
  }
  return out;
}

/**
 * Every path's run from shards, in path order, refusing a path that is missing, repeated or out of range. A plain
 * copy through JSON, so the result is the same bytes whether the runs were just measured or read back from files.
 */
export function shardRuns<R extends { path: number }>(shards: readonly { runs: readonly R[] }[], paths: number): R[] {
  const runs = (JSON.parse(JSON.stringify(shards.flatMap((s) => s.runs))) as R[]).sort((a, b) => a.path - b.path);
  const seen = new Set<number>();
  for (const r of runs) {
    if (seen.has(r.path)) throw new SimulationError(`Path ${r.path} is in more than one shard: merge each shard once`);
    if (!(Number.isSafeInteger(r.path) && r.path >= 0 && r.path < paths)) {
      throw new SimulationError(`Path ${r.path} is not one of the run's ${paths} paths`);
    }
    seen.add(r.path);
  }
  for (let i = 0; i < paths; i++) {
    if (!seen.has(i)) throw new SimulationError(`Path ${i} of ${paths} is missing: merge every shard`);
  }
  return runs;
}

/** The full result from shards that together hold every path once, with the same header. */
export function finalize(shards: readonly ShardResult[]): SimulationResult {
  if (shards.length === 0) throw new SimulationError("No shard to merge");
  const [first] = shards;
  const header = JSON.stringify(first.header);
  for (const s of shards) {
    if (s.format !== SHARD_FORMAT) throw new SimulationError(`Not a simulation shard (format ${String(s.format)})`);
    if (s.paths !== first.paths || JSON.stringify(s.header) !== header) {
      throw new SimulationError(
        `Shard ${s.shard.index}/${s.shard.count} is from another run (different flags, paths or stress): ` +
          "merge the shards of one command only",
      );
    }
  }
  const runs = shardRuns(shards, first.paths);
  const { scenario, vaults, keepers, volatilityBand, stress, outage } = JSON.parse(header) as ShardHeader;
  const base = runs[0];
  return {
    scenario,
    vaults,
    keepers,
    volatilityBand,
    stress,
    outage,
    policies: base.policies,
    baselines: base.baselines,
    hold: base.hold,
    montecarlo: {
      paths: first.paths,
      policies: summaries(runs, "policies", vaults.count),
      baselines: summaries(runs, "baselines", vaults.count),
      ...(runs.length > 1 ? { runs } : {}),
    },
  };
}
