/**
 * `keeper:frontier`: the liquidation probability (95% Wilson interval) and the equity outcome of reactive, its
 * matched static and volatility at each buffer `--min-hf`, over `--paths` paths of the scenario, one process
 * (lib/simulation/frontier.ts). Writes `{…header, paths, survival, points: [...]}` with --json and a two-panel SVG
 * with --chart; `policy:recommend --frontier f.json --max-liquidation-probability p` reads the JSON.
 */
import fs from "node:fs";
import { performance } from "node:perf_hooks";

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { createProgress, SimulationError, type Progress } from "../../lib/simulation";
import { runPaths, shardHeader, type SimulationTimings } from "../../lib/simulation/engine";
import {
  frontierRuns,
  frontierShard,
  mergeFrontier,
  type FrontierShard,
  parseMinHFs,
  renderFrontierChart,
  type FrontierPoint,
  type FrontierResult,
} from "../../lib/simulation/frontier";
import { shardPaths } from "../../lib/simulation/montecarlo";
import { rethrowing, TaskError } from "../shared/errors";
import { decodeReason, describeFailure } from "../keeper/tx";
import type { SimulateArgs } from "./args";
import { planSimulation } from "./options";
import { timingLines } from "./report";
import { combineTimings, runShardWorkers, workerFlags, writeWorkerTimings } from "./run";

export interface FrontierArgs extends Omit<SimulateArgs, "policies" | "events" | "paths" | "json" | "chart"> {
  minHf: string;
  paths: number;
  json?: string;
  chart?: string;
}

const pct = (x: number): string => `${Number((x * 100).toPrecision(3))}%`;

export function frontierLines(f: FrontierResult): string[] {
  const rows = f.points.map((p: FrontierPoint) => {
    const name = p.policy === "static" ? `static (≙ ${p.matches})` : p.policy;
    const band =
      p.band === null
        ? `opened at ${p.openHF.toFixed(2)}`
        : `${p.band.minHF.toFixed(2)} / ${p.band.targetHF.toFixed(2)} / ${p.band.maxHF.toFixed(2)}`;
    const l = p.liquidationProbability;
    return [
      p.minHF.toFixed(2),
      name,
      band,
      `${pct(l.estimate)} [${pct(l.low)}, ${pct(l.high)}] (${l.liquidated}/${l.trials})`,
      `${p.equityChange.mean.toFixed(2)}% / ${p.equityChange.p5.toFixed(2)}%`,
      p.equityVsStaticPct === null ? "–" : `${p.equityVsStaticPct.mean.toFixed(2)}%`,
    ];
  });
  const grid = [["minHF", "policy", "band / open", "liquidated, 95% CI", "equity mean / p5", "vs static"], ...rows];
  const widths = grid[0].map((_, c) => Math.max(...grid.map((r) => r[c].length)));
  return [
    `Frontier over ${f.paths} paths × ${f.vaults.count} vaults of ${f.scenario.name} · stress: ` +
      `${f.stress.length === 0 ? "none" : f.stress.join(", ")}${f.outage === null ? "" : ` (${f.outage} outage)`}`,
    ...grid.map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    ),
  ];
}

/** keeper:frontier's flags that every worker shares. */
const FRONTIER_FLAGS: (keyof FrontierArgs & string)[] = [
  "scenario",
  "prices",
  "warmup",
  "steps",
  "vol",
  "minHf",
  "paths",
  "vaults",
  "keepers",
  "seed",
  "survival",
  "stress",
  "outage",
];

export async function frontierTask(
  args: FrontierArgs,
  hre: HardhatRuntimeEnvironment,
): Promise<FrontierResult | FrontierShard> {
  let minHFs: bigint[];
  try {
    minHFs = parseMinHFs(args.minHf);
    // Every band must fit the bounds before anything is deployed.
    frontierRuns(minHFs, undefined);
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
  if (args.shard !== undefined && args.chart !== undefined) {
    throw new TaskError("--chart draws the whole frontier: leave it out of --shard runs and merge with keeper:merge");
  }
  const plan = planSimulation({
    ...args,
    policies: "reactive,volatility",
    workers: args.workers,
    shard: args.shard,
    paths: args.paths,
    json: args.json,
    chart: args.chart,
  } as SimulateArgs);
  const shard = plan.options.shard;
  const options = {
    ...plan.options,
    decoder: { data: (d: string) => decodeReason(d).error, error: (e: unknown) => describeFailure(e).error },
  };
  console.log(
    `Frontier: ${minHFs.length} buffers × (reactive + matched static), volatility once, over ${args.paths} paths…`,
  );
  let result: FrontierResult;
  let timings: SimulationTimings;
  if (plan.workers > 1) {
    const started = performance.now();
    const done = await runShardWorkers<FrontierShard>(
      hre,
      "keeper:frontier",
      workerFlags(args, FRONTIER_FLAGS),
      plan.workers,
      args.paths,
    );
    result = rethrowing(() => mergeFrontier(done.map((d) => d.shard)));
    timings = combineTimings(
      done.map((d) => d.timings),
      (performance.now() - started) / 1000,
      plan.workers,
    );
  } else {
    let progress: Progress | undefined;
    let slice: FrontierShard;
    try {
      const engine = await runPaths(
        hre,
        options,
        shardPaths(args.paths, shard),
        (_, band) => frontierRuns(minHFs, band),
        {
          onReady: (setup) => {
            progress = createProgress({ label: `frontier ${options.path.name}`, total: setup.totalSteps });
          },
          onStep: () => progress?.increment(),
        },
      );
      slice = frontierShard(
        shardHeader(options, engine.population, engine.keepers),
        engine.outcomes,
        engine.population,
        options.survival,
        shard ?? { index: 1, count: 1 },
        args.paths,
      );
      timings = engine.timings;
    } catch (e) {
      progress?.stop();
      if (e instanceof SimulationError) throw new TaskError(e.message, e);
      throw e;
    }
    progress?.stop();
    if (shard !== undefined) {
      // A slice for keeper:merge (or for the parent of --workers): written as is.
      console.log("");
      console.log(`Frontier shard ${shard.index}/${shard.count}: paths ${slice.runs.map((r) => r.path).join(", ")}`);
      for (const line of timingLines(timings)) console.log(line);
      writeWorkerTimings(timings);
      fs.writeFileSync(plan.json as string, `${JSON.stringify(slice, null, 2)}\n`);
      console.log(`Wrote ${plan.json}`);
      return slice;
    }
    result = rethrowing(() => mergeFrontier([slice]));
  }
  console.log("");
  for (const line of frontierLines(result)) console.log(line);
  console.log("");
  for (const line of timingLines(timings)) console.log(line);
  if (plan.json !== undefined) {
    fs.writeFileSync(plan.json, frontierJson(result));
    console.log(`Wrote ${plan.json}`);
  }
  if (plan.chart !== undefined) {
    fs.writeFileSync(plan.chart, await renderFrontierChart(result, `${result.scenario.name}: liquidation frontier`));
    console.log(`Wrote ${plan.chart}`);
  }
  return result;
}

/** The frontier's JSON file: the same bytes for the same flags, whatever --workers. */
export const frontierJson = (result: FrontierResult): string => `${JSON.stringify(result, null, 2)}\n`;
