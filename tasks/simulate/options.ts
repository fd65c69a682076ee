/**
 * `keeper:simulate`'s flags checked and turned into the engine's options, before anything touches the chain: every
 * mistake is one line that names the flag and what is expected.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { isPolicyName, POLICY_NAMES, type PolicyName } from "../../lib/simulation/policies";
import {
  buildScenario,
  DEFAULT_START_PRICE,
  readPricePathCsv,
  rescalePath,
  SimulationError,
  type PricePath,
} from "../../lib/simulation";
import type { SimulationOptions } from "../../lib/simulation/engine";
import type { Shard } from "../../lib/simulation/montecarlo";
import { parseFeeRange, parseOutage, parseStress } from "../../lib/simulation/stress";
import { parseSurvival, parseVol } from "../policy/recommend";
import { TaskError } from "../shared/errors";
import { DEFAULTS, type SimulateArgs } from "./args";

/** Limits that keep a run within minutes and within the in-process network's accounts; `steps`: replayed rows only. */
export const LIMITS = { steps: 5_000, vaults: 500, keepers: 10, paths: 10_000, workers: 64 } as const;

export interface SimulatePlan {
  options: Omit<SimulationOptions, "decoder" | "events">;
  /** Where to write the JSON result, the SVG chart and the events CSV, if asked. */
  json?: string;
  chart?: string;
  events?: string;
  /** Processes to spread the paths over: 1 runs them here. */
  workers: number;
}

/** `--shard i/n`, 1 <= i <= n <= paths. */
export function parseShard(value: string, paths: number): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (m === null) throw new TaskError(`--shard must be i/n like 1/4, got "${value}"`);
  const [index, count] = [Number(m[1]), Number(m[2])];
  if (count < 1 || index < 1 || index > count) {
    throw new TaskError(`--shard ${value}: i must be from 1 to n, and n 1 or more`);
  }
  if (count > paths) throw new TaskError(`--shard ${value}: ${count} shards for ${paths} paths; use n <= --paths`);
  return { index, count };
}

/** The cores this machine offers: the default of --workers. */
export const defaultWorkers = (): number =>
  typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;

function wholeInRange(value: number, flag: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TaskError(`${flag} must be a whole number from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function parsePolicies(value: string): PolicyName[] {
  const names = value
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter((p) => p !== "");
  if (names.length === 0) throw new TaskError(`--policies is empty: use some of ${POLICY_NAMES.join(", ")}`);
  const out: PolicyName[] = [];
  for (const name of names) {
    if (!isPolicyName(name)) {
      throw new TaskError(`Unknown policy "${name}" in --policies: use some of ${POLICY_NAMES.join(", ")}`);
    }
    if (out.includes(name)) throw new TaskError(`--policies names ${name} twice`);
    out.push(name);
  }
  return out;
}

/** An output file: its folder must exist, so that a long run does not fail at the very end. */
function outputFile(file: string | undefined, flag: string, extension: string): string | undefined {
  if (file === undefined) return undefined;
  if (path.extname(file).toLowerCase() !== extension) {
    throw new TaskError(`${flag} ${file}: expected a ${extension} file`);
  }
  const folder = path.dirname(path.resolve(file));
  if (!fs.existsSync(folder)) throw new TaskError(`${flag} ${file}: the folder ${folder} does not exist`);
  return file;
}

function pricePath(args: SimulateArgs, policies: readonly PolicyName[]): { path: PricePath; source: string } {
  if (args.prices !== undefined) {
    if (args.scenario !== undefined) throw new TaskError("Pass either --scenario or --prices, not both");
    if (args.steps !== undefined) {
      throw new TaskError("--steps applies to a built-in --scenario; a --prices file has one step per row");
    }
    if (args.vol !== undefined) throw new TaskError("--vol applies to a built-in --scenario, not to a --prices file");
    if (args.warmup === undefined && policies.includes("volatility")) {
      throw new TaskError(
        "The volatility policy sizes its band on a warm-up before the replay: pass --warmup N (the CSV's first N " +
          "rows) or leave volatility out of --policies",
      );
    }
    const warmupRows = args.warmup ?? 0;
    if (args.warmup !== undefined && !(Number.isSafeInteger(warmupRows) && warmupRows >= 2)) {
      throw new TaskError(`--warmup must be a whole number of rows, at least 2, got ${args.warmup}`);
    }
    const csv = readPricePathCsv(args.prices, { warmupRows });
    if (csv.points.length > LIMITS.steps) {
      const rows = warmupRows === 0 ? "rows" : `rows after its ${warmupRows} of warm-up`;
      throw new TaskError(
        `${args.prices} has ${csv.points.length} ${rows}; the simulation replays at most ${LIMITS.steps}`,
      );
    }
    // The market starts at $2,000 and its concentrated liquidity spans 2.5x either way: keep the relative moves.
    return { path: rescalePath(csv, DEFAULT_START_PRICE), source: args.prices };
  }
  if (args.warmup !== undefined) {
    throw new TaskError(
      "--warmup applies to a --prices file (its first N rows as warm-up), not to a built-in scenario",
    );
  }
  const steps = wholeInRange(args.steps ?? DEFAULTS.steps, "--steps", 2, LIMITS.steps);
  const vol = args.vol === undefined ? undefined : parseVol(args.vol);
  const path = buildScenario(args.scenario ?? DEFAULTS.scenario, { steps, seed: args.seed, vol });
  return { path, source: "scenario" };
}

/** Checks every flag; throws a TaskError naming the first wrong one. */
export function planSimulation(args: SimulateArgs): SimulatePlan {
  try {
    if (!Number.isSafeInteger(args.seed) || args.seed < 0) {
      throw new TaskError(`--seed must be a whole number 0 or more, got ${args.seed}`);
    }
    const vaults = wholeInRange(args.vaults, "--vaults", 1, LIMITS.vaults);
    const keepers = wholeInRange(args.keepers, "--keepers", 1, LIMITS.keepers);
    const policies = parsePolicies(args.policies);
    const survival = parseSurvival(args.survival);
    const stress = parseStress(args.stress);
    const correlatedOutage = parseOutage(args.outage, stress);
    const keeperMaxFeeGwei = parseFeeRange(args.keeperMaxFee, stress);
    const json = outputFile(args.json, "--json", ".json");
    const chart = outputFile(args.chart, "--chart", ".svg");
    const events = outputFile(args.events, "--events", ".csv");
    const paths = wholeInRange(args.paths, "--paths", 1, LIMITS.paths);
    const shard = args.shard === undefined ? undefined : parseShard(args.shard, paths);
    if (args.workers !== undefined) wholeInRange(args.workers, "--workers", 1, LIMITS.workers);
    if (shard !== undefined && (args.workers ?? 1) > 1) {
      throw new TaskError("--shard runs one slice in this process: leave out --workers or pass --workers 1");
    }
    if (shard !== undefined && json === undefined) {
      throw new TaskError("--shard needs --json <file>: the slice is written there for keeper:merge");
    }
    if (shard !== undefined && chart !== undefined && shard.index !== 1) {
      throw new TaskError(`--chart draws path 0, which only shard 1/${shard.count} runs`);
    }
    const workers = shard !== undefined ? 1 : Math.min(args.workers ?? defaultWorkers(), paths);
    const { path, source } = pricePath(args, policies);
    return {
      options: {
        path,
        source,
        policies,
        vaults,
        keepers,
        seed: args.seed,
        survival,
        stress,
        correlatedOutage,
        keeperMaxFeeGwei,
        paths,
        shard,
      },
      json,
      chart,
      events,
      workers,
    };
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
}
