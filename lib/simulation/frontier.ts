/**
 * The liquidation frontier: for each buffer (a reactive band's minHF), the share of vaults liquidated over every
 * path (with its 95% Wilson interval) and the equity outcome, for
 * - `reactive` on the band minHF / minHF + 0.20 / minHF + 0.50 (DEFAULT_POLICY's offsets; `reactiveBandAt`);
 * - `static` opened at that band's target, automation paused (the matched baseline of the point);
 * - `volatility`, once: its band is its own (from each path's realized volatility), so it is one point at its
 *   minHF (path 0's; `minHFRange` gives the spread over paths), with its own matched static.
 */
import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

import { compare, holdResult, reactiveSetupAt, staticSetupAt, type ComparedResult } from "./baselines";
import type { PathOutcome, RunSpec } from "./engine";
import { SimulationError } from "./errors";
import type { PolicyName, VolatilityBand } from "./policies";
import { policySetup } from "./policies";
import type { VaultSpec } from "./population";
import { shardRuns, type Shard, type ShardHeader } from "./montecarlo";
import { meanP5, quantiles, wilson, type MeanP5, type Proportion, type Quantiles } from "./stats";

const CENT = 10n ** 16n;
const hfLabel = (wad: bigint): string => (Number(wad / CENT) / 100).toFixed(2);

export interface FrontierPoint {
  policy: PolicyName;
  /** The buffer: the reactive band's minHF this point belongs to (volatility: its own minHF on path 0). */
  minHF: number;
  /** The band (null for static) and where the vaults opened. */
  band: { minHF: number; targetHF: number; maxHF: number } | null;
  openHF: number;
  /** For static: the policy it is matched to. */
  matches?: PolicyName;
  /** Volatility only: its minHF over the paths. */
  minHFRange?: { min: number; max: number };
  liquidationProbability: Proportion;
  /** Equity change over each path, percent: mean and 5th percentile. */
  equityChange: MeanP5;
  equityVsStaticPct: MeanP5 | null;
  equityVsHoldPct: MeanP5;
  worstHF: Quantiles;
}

export interface FrontierResult extends ShardHeader {
  paths: number;
  survival: number;
  points: FrontierPoint[];
}

/** Parses "1.05,1.1,1.2": sorted, distinct, multiples of 0.01. */
export function parseMinHFs(value: string): bigint[] {
  const words = value
    .split(",")
    .map((w) => w.trim())
    .filter((w) => w !== "");
  if (words.length === 0) throw new SimulationError("--min-hf is empty: give buffers like 1.05,1.1,1.2,1.3,1.5");
  const out: bigint[] = [];
  for (const w of words) {
    if (!/^\d+(\.\d{1,2})?$/.test(w)) {
      throw new SimulationError(`--min-hf: "${w}" is not an HF with at most two decimals like 1.2`);
    }
    const [whole, frac = ""] = w.split(".");
    const wad = BigInt(whole) * 10n ** 18n + BigInt(frac.padEnd(2, "0")) * CENT;
    if (out.includes(wad)) throw new SimulationError(`--min-hf names ${w} twice`);
    out.push(wad);
  }
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The runs of one path: reactive and its matched static at each buffer, then volatility and its static. */
export function frontierRuns(minHFs: readonly bigint[], band: VolatilityBand | undefined): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const m of minHFs) {
    const reactive = reactiveSetupAt(m);
    runs.push({
      name: "reactive",
      group: "policies",
      key: "reactive",
      label: `reactive@${hfLabel(m)}`,
      setup: reactive,
    });
    runs.push({
      name: "static",
      group: "baselines",
      key: "reactive",
      label: `static≙reactive@${hfLabel(m)}`,
      setup: staticSetupAt(reactive.policy.targetHF),
    });
  }
  if (band !== undefined) {
    const v = policySetup("volatility", band);
    runs.push({ name: "volatility", group: "policies", key: "volatility", label: "volatility", setup: v });
    runs.push({
      name: "static",
      group: "baselines",
      key: "volatility",
      label: "static≙volatility",
      setup: staticSetupAt(v.policy.targetHF),
    });
  }
  return runs;
}

const wad2 = (wad: bigint): number => Number(wad / CENT) / 100;

export const FRONTIER_SHARD_FORMAT = "ballast-frontier-shard/1";

/** One pair of a path: a policy's run compared with its matched static, and the static's own. */
export interface FrontierPair {
  policy: PolicyName;
  /** The policy's band on this path. */
  band: { minHF: number; targetHF: number; maxHF: number };
  result: ComparedResult;
  matched: ComparedResult;
}

/** What the frontier keeps of one path: plain numbers, so that it can cross processes as JSON. */
export interface FrontierPathRun {
  path: number;
  pairs: FrontierPair[];
}

/** The JSON a `keeper:frontier --shard i/n` run writes, and what `keeper:merge` reads. */
export interface FrontierShard {
  format: typeof FRONTIER_SHARD_FORMAT;
  shard: Shard;
  paths: number;
  survival: number;
  header: ShardHeader;
  runs: FrontierPathRun[];
}

/** A path's outcome (runs as `frontierRuns` gives them, pairs of policy then matched static) as the frontier keeps it. */
export function frontierPathRun(outcome: PathOutcome, population: readonly VaultSpec[]): FrontierPathRun {
  const { plan, results } = outcome;
  const hold = holdResult(population, plan.path);
  const pairs: FrontierPair[] = [];
  for (let k = 0; k < plan.runs.length / 2; k++) {
    const [ps, ss] = [plan.runs[2 * k], plan.runs[2 * k + 1]];
    const [pr, sr] = [results[2 * k], results[2 * k + 1]];
    const policy = ps.setup.policy;
    pairs.push({
      policy: ps.name,
      band: { minHF: wad2(policy.minHF), targetHF: wad2(policy.targetHF), maxHF: wad2(policy.maxHF) },
      result: compare(pr, ps.setup.openHF(population[0]), sr, hold),
      matched: compare(sr, ss.setup.openHF(population[0]), undefined, hold),
    });
  }
  return { path: plan.index, pairs };
}

/** The frontier from every path's runs, in path order. */
export function frontierFromRuns(
  header: ShardHeader,
  runs: readonly FrontierPathRun[],
  survival: number,
): FrontierResult {
  if (runs.length === 0) throw new SimulationError("frontier: no path ran");
  const vaults = header.vaults.count;
  const points: FrontierPoint[] = [];
  const summary = (rs: readonly ComparedResult[]) => {
    const vs = rs.map((r) => r.equityVsStaticPct).filter((x): x is number => x !== null);
    return {
      liquidationProbability: wilson(
        rs.reduce((n, r) => n + r.liquidations, 0),
        vaults * rs.length,
      ),
      equityChange: meanP5(rs.map((r) => r.equityChangePct)),
      equityVsStaticPct: vs.length === rs.length ? meanP5(vs) : null,
      equityVsHoldPct: meanP5(rs.map((r) => r.equityVsHoldPct)),
      worstHF: quantiles(rs.map((r) => r.worstHF)),
    };
  };
  for (let k = 0; k < runs[0].pairs.length; k++) {
    const pairs = runs.map((r) => {
      const pair = r.pairs[k];
      if (pair === undefined) throw new SimulationError(`frontier: path ${r.path} has no run pair ${k}`);
      return pair;
    });
    const policyRuns = pairs.map((p) => p.result);
    const staticRuns = pairs.map((p) => p.matched);
    const { band, policy } = pairs[0];
    const mins = pairs.map((p) => p.band.minHF);
    points.push({
      policy,
      minHF: band.minHF,
      band,
      openHF: policyRuns[0].openHF,
      ...(policy === "volatility" ? { minHFRange: { min: Math.min(...mins), max: Math.max(...mins) } } : {}),
      ...summary(policyRuns),
    });
    points.push({
      policy: "static",
      minHF: band.minHF,
      band: null,
      openHF: staticRuns[0].openHF,
      matches: policy,
      ...summary(staticRuns),
    });
  }
  return { ...header, paths: runs.length, survival, points };
}

/**
 * The frontier from shards that together hold every path once, with the same header and survival. The runs are
 * copied through JSON, so one process, workers and merged shards give the same bytes.
 */
export function mergeFrontier(shards: readonly FrontierShard[]): FrontierResult {
  if (shards.length === 0) throw new SimulationError("No frontier shard to merge");
  const [first] = shards;
  const header = JSON.stringify(first.header);
  for (const s of shards) {
    if (s.format !== FRONTIER_SHARD_FORMAT) {
      throw new SimulationError(`Not a frontier shard (format ${String(s.format)})`);
    }
    if (s.paths !== first.paths || s.survival !== first.survival || JSON.stringify(s.header) !== header) {
      throw new SimulationError(
        `Frontier shard ${s.shard.index}/${s.shard.count} is from another run (different flags, paths or stress): ` +
          "merge the shards of one command only",
      );
    }
  }
  const runs = shardRuns(shards, first.paths);
  return frontierFromRuns(JSON.parse(header) as ShardHeader, runs, first.survival);
}

/** The frontier from every path's outcome in this process: a shard of all paths, merged. */
export function frontierResult(
  header: ShardHeader,
  outcomes: readonly PathOutcome[],
  population: readonly VaultSpec[],
  survival: number,
): FrontierResult {
  if (outcomes.length === 0) throw new SimulationError("frontier: no path ran");
  return mergeFrontier([
    frontierShard(header, outcomes, population, survival, { index: 1, count: 1 }, outcomes.length),
  ]);
}

/** A shard's slice of the frontier. */
export function frontierShard(
  header: ShardHeader,
  outcomes: readonly PathOutcome[],
  population: readonly VaultSpec[],
  survival: number,
  shard: Shard,
  paths: number,
): FrontierShard {
  return {
    format: FRONTIER_SHARD_FORMAT,
    shard,
    paths,
    survival,
    header,
    runs: outcomes.map((o) => frontierPathRun(o, population)),
  };
}

/** The thinnest reactive band whose liquidation probability's upper Wilson bound is at most `maxProbability`. */
export function thinnestBand(
  frontier: Pick<FrontierResult, "points">,
  maxProbability: number,
): FrontierPoint | undefined {
  return frontier.points
    .filter((p) => p.policy === "reactive" && p.liquidationProbability.high <= maxProbability)
    .sort((a, b) => a.minHF - b.minHF)[0];
}

/** Two panels over the buffer: liquidation probability with its interval, and mean equity change. */
export async function renderFrontierChart(frontier: FrontierResult, title: string): Promise<string> {
  const values = frontier.points.map((p) => ({
    series: p.policy === "static" ? `static (≙ ${p.matches})` : p.policy,
    minHF: p.minHF,
    estimate: p.liquidationProbability.estimate,
    low: p.liquidationProbability.low,
    high: p.liquidationProbability.high,
    equity: p.equityChange.mean,
  }));
  const x = { field: "minHF", type: "quantitative" as const, title: "buffer: reactive minHF", scale: { zero: false } };
  const color = { field: "series", type: "nominal" as const, title: "policy" };
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: `${title} (${frontier.paths} paths × ${frontier.vaults.count} vaults)`,
    background: "white",
    data: { values },
    hconcat: [
      {
        width: 360,
        height: 280,
        layer: [
          {
            mark: { type: "rule" },
            encoding: {
              x,
              y: { field: "low", type: "quantitative", title: "liquidation probability (95% Wilson)" },
              y2: { field: "high" },
              color,
            },
          },
          {
            mark: { type: "line", point: true },
            encoding: { x, y: { field: "estimate", type: "quantitative" }, color },
          },
        ],
      },
      {
        width: 360,
        height: 280,
        mark: { type: "line", point: true },
        encoding: {
          x,
          y: { field: "equity", type: "quantitative", title: "equity change, mean over paths (%)" },
          color,
        },
      },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
