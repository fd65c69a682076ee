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
import type { ShardHeader } from "./montecarlo";
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

/** The frontier from every path's outcome (runs as `frontierRuns` gives them, pairs of policy then matched static). */
export function frontierResult(
  header: ShardHeader,
  outcomes: readonly PathOutcome[],
  population: readonly VaultSpec[],
  survival: number,
): FrontierResult {
  if (outcomes.length === 0) throw new SimulationError("frontier: no path ran");
  const pairs = outcomes[0].plan.runs.length / 2;
  const points: FrontierPoint[] = [];
  const vaults = population.length;
  for (let k = 0; k < pairs; k++) {
    const policyRuns: ComparedResult[] = [];
    const staticRuns: ComparedResult[] = [];
    for (const o of outcomes) {
      const hold = holdResult(population, o.plan.path);
      const [ps, ss] = [o.plan.runs[2 * k], o.plan.runs[2 * k + 1]];
      const [pr, sr] = [o.results[2 * k], o.results[2 * k + 1]];
      policyRuns.push(compare(pr, ps.setup.openHF(population[0]), sr, hold));
      staticRuns.push(compare(sr, ss.setup.openHF(population[0]), undefined, hold));
    }
    const spec = outcomes[0].plan.runs[2 * k];
    const policy = spec.setup.policy;
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
    const mins = outcomes.map((o) => wad2(o.plan.runs[2 * k].setup.policy.minHF));
    const band = { minHF: wad2(policy.minHF), targetHF: wad2(policy.targetHF), maxHF: wad2(policy.maxHF) };
    const isVolatility = spec.name === "volatility";
    points.push({
      policy: spec.name,
      minHF: band.minHF,
      band,
      openHF: policyRuns[0].openHF,
      ...(isVolatility ? { minHFRange: { min: Math.min(...mins), max: Math.max(...mins) } } : {}),
      ...summary(policyRuns),
    });
    points.push({
      policy: "static",
      minHF: band.minHF,
      band: null,
      openHF: staticRuns[0].openHF,
      matches: spec.name,
      ...summary(staticRuns),
    });
  }
  return { ...header, paths: outcomes.length, survival, points };
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
