/**
 * `policy:recommend --frontier f.json --max-liquidation-probability p`: the thinnest reactive band on a
 * `keeper:frontier` file whose liquidation probability, by its upper 95% Wilson bound, is at most p. The choice is
 * only as good as the frontier: the output says which scenario, paths and stresses it was measured on.
 */
import fs from "node:fs";

import type { FrontierPoint, FrontierResult } from "../../lib/simulation/frontier";
import { thinnestBand } from "../../lib/simulation/frontier";
import { TaskError } from "../shared/errors";

export interface FrontierRecommendArgs {
  frontier?: string;
  scenario?: string;
  prices?: string;
  vol?: string;
  maxLiquidationProbability?: string;
  json: boolean;
}

export interface FrontierRecommendation {
  frontier: string;
  maxLiquidationProbability: number;
  scenario: string;
  paths: number;
  vaults: number;
  stress: string[];
  point: FrontierPoint;
}

const pct = (x: number): string => `${Number((x * 100).toPrecision(3))}%`;

export function parseProbability(value: string | undefined): number {
  if (value === undefined) {
    throw new TaskError("--frontier needs --max-liquidation-probability, a probability like 0.01");
  }
  const p = /^\s*(0?\.\d+|0|1)\s*$/.test(value) ? Number(value) : NaN;
  if (!(p > 0 && p < 1)) {
    throw new TaskError(`--max-liquidation-probability must be above 0 and below 1 like 0.01, got "${value}"`);
  }
  return p;
}

export function readFrontier(file: string): FrontierResult {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "not JSON";
    throw new TaskError(`--frontier ${file}: cannot read it (${why})`);
  }
  const points = (json as { points?: unknown }).points;
  if (!Array.isArray(points) || points.length === 0) {
    throw new TaskError(`--frontier ${file}: no "points": write it with npx hardhat keeper:frontier --json`);
  }
  for (const p of points as FrontierPoint[]) {
    const l = p?.liquidationProbability;
    if (typeof p?.policy !== "string" || typeof p?.minHF !== "number" || typeof l?.high !== "number") {
      throw new TaskError(`--frontier ${file}: a point lacks policy, minHF or liquidationProbability.high`);
    }
  }
  return json as FrontierResult;
}

export async function frontierRecommendTask(args: FrontierRecommendArgs): Promise<FrontierRecommendation> {
  if (args.frontier === undefined) {
    throw new TaskError("--max-liquidation-probability applies to --frontier <keeper:frontier JSON file>");
  }
  if (args.scenario !== undefined || args.prices !== undefined || args.vol !== undefined) {
    throw new TaskError("Pass either --frontier or a volatility source (--scenario, --prices, --vol), not both");
  }
  const file = args.frontier;
  const max = parseProbability(args.maxLiquidationProbability);
  const frontier = readFrontier(file);
  const stress = frontier.stress ?? [];
  const reactive = frontier.points.filter((p) => p.policy === "reactive");
  if (reactive.length === 0) throw new TaskError(`--frontier ${file}: no reactive point to choose from`);
  const point = thinnestBand(frontier, max);
  const measured =
    `${frontier.scenario?.name ?? "?"}, ${frontier.paths} paths × ${frontier.vaults?.count ?? "?"} vaults, ` +
    `stress: ${stress.length === 0 ? "none" : stress.join(", ")}`;
  if (point === undefined) {
    const widest = [...reactive].sort((a, b) => b.minHF - a.minHF)[0];
    throw new TaskError(
      `No band on the frontier (${measured}) keeps the liquidation probability's upper 95% bound within ` +
        `${pct(max)}: the widest, minHF ${widest.minHF.toFixed(2)}, is at ${pct(widest.liquidationProbability.high)}; ` +
        `run wider buffers or more paths`,
    );
  }
  const result: FrontierRecommendation = {
    frontier: file,
    maxLiquidationProbability: max,
    scenario: frontier.scenario?.name ?? "",
    paths: frontier.paths,
    vaults: frontier.vaults?.count ?? 0,
    stress,
    point,
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result;
  }
  const l = point.liquidationProbability;
  const band = point.band ?? { minHF: point.minHF, targetHF: point.openHF, maxHF: point.openHF };
  console.log(`Frontier    ${file}: ${measured}`);
  if (stress.length === 0)
    console.log("Warning     this frontier ran without stress: the market was kinder than a crash");
  console.log(
    `Band        minHF ${band.minHF.toFixed(2)} · target ${band.targetHF.toFixed(2)} · maxHF ${band.maxHF.toFixed(2)}`,
  );
  console.log(
    `Why         the thinnest reactive band on the ${stress.length === 0 ? "" : "stressed "}frontier whose liquidation ` +
      `probability is within ${pct(max)} by its upper 95% Wilson bound: ${pct(l.estimate)} [${pct(l.low)}, ` +
      `${pct(l.high)}] (${l.liquidated} of ${l.trials} vault-paths); equity change ` +
      `${point.equityChange.mean.toFixed(2)}% mean, ${point.equityChange.p5.toFixed(2)}% at p5`,
  );
  return result;
}
