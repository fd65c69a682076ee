/**
 * `keeper:frontier`: the liquidation probability (95% Wilson interval) and the equity outcome of reactive, its
 * matched static and volatility at each buffer `--min-hf`, over `--paths` paths of the scenario, one process
 * (lib/simulation/frontier.ts). Writes `{…header, paths, survival, points: [...]}` with --json and a two-panel SVG
 * with --chart; `policy:recommend --frontier f.json --max-liquidation-probability p` reads the JSON.
 */
import fs from "node:fs";

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { createProgress, SimulationError, type Progress } from "../../lib/simulation";
import { runPaths, shardHeader } from "../../lib/simulation/engine";
import {
  frontierResult,
  frontierRuns,
  parseMinHFs,
  renderFrontierChart,
  type FrontierPoint,
  type FrontierResult,
} from "../../lib/simulation/frontier";
import { shardPaths } from "../../lib/simulation/montecarlo";
import { TaskError } from "../shared/errors";
import { decodeReason, describeFailure } from "../keeper/tx";
import type { SimulateArgs } from "./args";
import { planSimulation } from "./options";
import { timingLines } from "./report";

export interface FrontierArgs extends Omit<
  SimulateArgs,
  "policies" | "workers" | "shard" | "events" | "paths" | "json" | "chart"
> {
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
      `${f.stress.length === 0 ? "none" : f.stress.join(", ")}`,
    ...grid.map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]))
        .join("  ")
        .trimEnd(),
    ),
  ];
}

export async function frontierTask(args: FrontierArgs, hre: HardhatRuntimeEnvironment): Promise<FrontierResult> {
  let minHFs: bigint[];
  try {
    minHFs = parseMinHFs(args.minHf);
    // Every band must fit the bounds before anything is deployed.
    frontierRuns(minHFs, undefined);
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
  const plan = planSimulation({
    ...args,
    policies: "reactive,volatility",
    workers: 1,
    paths: args.paths,
    json: args.json,
    chart: args.chart,
  } as SimulateArgs);
  const options = {
    ...plan.options,
    decoder: { data: (d: string) => decodeReason(d).error, error: (e: unknown) => describeFailure(e).error },
  };
  console.log(
    `Frontier: ${minHFs.length} buffers × (reactive + matched static), volatility once, over ${args.paths} paths…`,
  );
  let progress: Progress | undefined;
  let result: FrontierResult;
  try {
    const engine = await runPaths(hre, options, shardPaths(args.paths), (_, band) => frontierRuns(minHFs, band), {
      onReady: (setup) => {
        progress = createProgress({ label: `frontier ${options.path.name}`, total: setup.totalSteps });
      },
      onStep: () => progress?.increment(),
    });
    result = frontierResult(
      shardHeader(options, engine.population, engine.keepers),
      engine.outcomes,
      engine.population,
      options.survival,
    );
    progress?.stop();
    console.log("");
    for (const line of frontierLines(result)) console.log(line);
    console.log("");
    for (const line of timingLines(engine.timings)) console.log(line);
  } catch (e) {
    progress?.stop();
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
  if (plan.json !== undefined) {
    fs.writeFileSync(plan.json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`Wrote ${plan.json}`);
  }
  if (plan.chart !== undefined) {
    fs.writeFileSync(plan.chart, await renderFrontierChart(result, `${result.scenario.name}: liquidation frontier`));
    console.log(`Wrote ${plan.chart}`);
  }
  return result;
}
