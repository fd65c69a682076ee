/**
 * `keeper:simulate`: checks the flags, runs the engine with a progress bar (or spreads the paths over worker
 * processes, each a `keeper:simulate --shard i/W`, and merges their slices), prints the summary and the timings,
 * and writes the JSON result, the SVG chart and the events CSV when asked.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { createProgress, renderHealthChart, SimulationError, type Progress } from "../../lib/simulation";
import { runSimulation, type SimulationOutcome, type SimulationTimings } from "../../lib/simulation/engine";
import { concatEventFiles, EventLog } from "../../lib/simulation/events";
import { finalize, shardPaths, type ShardResult } from "../../lib/simulation/montecarlo";
import type { SimulationResult } from "../../lib/simulation/result";
import { BUILT_ENV } from "../shared/build";
import { TaskError } from "../shared/errors";
import { decodeReason, describeFailure } from "../keeper/tx";
import type { SimulateArgs } from "./args";
import { planSimulation, type SimulatePlan } from "./options";
import { monteCarloLines, settingLines, shardLines, summaryLines, timingLines } from "./report";

/** Set by a parent process: where a worker writes its timings (never part of the JSON). */
const TIMINGS_ENV = "BALLAST_SIMULATE_TIMINGS";

/** The JSON file: the result (or a shard's slice) alone, so that two runs with the same flags write the same bytes. */
export function resultJson(result: SimulationResult | ShardResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

function rethrow(e: unknown): never {
  if (e instanceof SimulationError) throw new TaskError(e.message, e);
  throw e;
}

export async function simulateTask(args: SimulateArgs, hre: HardhatRuntimeEnvironment): Promise<SimulationOutcome> {
  const plan = planSimulation(args);
  if (plan.workers > 1) return runWorkers(args, plan, hre);
  console.log("Deploying the local market and Ballast, funding the owners…");
  let progress: Progress | undefined;
  let outcome: SimulationOutcome;
  const events = plan.events === undefined ? undefined : new EventLog();
  try {
    outcome = await runSimulation(
      hre,
      {
        ...plan.options,
        events,
        // The keeper bot's decoders name reverts from every Ballast ABI.
        decoder: { data: (d) => decodeReason(d).error, error: (e) => describeFailure(e).error },
      },
      {
        onReady: (setup) => {
          for (const line of settingLines(plan.options, setup)) console.log(line);
          progress = createProgress({ label: `replaying ${plan.options.path.name}`, total: setup.totalSteps });
        },
        onStep: () => progress?.increment(),
      },
    );
  } catch (e) {
    rethrow(e);
  } finally {
    progress?.stop();
  }
  console.log("");
  if (outcome.result === null) {
    for (const line of shardLines(outcome.shard)) console.log(line);
  } else {
    for (const line of summaryLines(outcome.result)) console.log(line);
    for (const line of monteCarloLines(outcome.result)) console.log(line);
  }
  console.log("");
  for (const line of timingLines(outcome.timings)) console.log(line);
  writeWorkerTimings(outcome.timings);
  await writeOutputs(plan, outcome.result ?? outcome.shard, outcome, events?.csv());
  return outcome;
}

async function writeOutputs(
  plan: SimulatePlan,
  json: SimulationResult | ShardResult,
  outcome: SimulationOutcome,
  eventsCsv: string | undefined,
): Promise<void> {
  if (plan.json !== undefined) {
    fs.writeFileSync(plan.json, resultJson(json));
    console.log(`Wrote ${plan.json}`);
  }
  if (plan.chart !== undefined && outcome.series.length > 0) {
    const svg = await renderHealthChart(outcome.series, {
      title: `${plan.options.path.name}: worst vault HF per policy`,
    });
    fs.writeFileSync(plan.chart, svg);
    console.log(`Wrote ${plan.chart}`);
  }
  if (plan.events !== undefined && eventsCsv !== undefined) {
    fs.writeFileSync(plan.events, eventsCsv);
    console.log(`Wrote ${plan.events}`);
  }
}

/** The flags a worker gets: the run's own, as the CLI spells them (`minHf` → `--min-hf`). */
export function workerFlags<T extends object>(args: T, keys: readonly (keyof T & string)[]): string[] {
  const flags: string[] = [];
  for (const key of keys) {
    const value = args[key];
    if (value !== undefined) flags.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(value));
  }
  return flags;
}

/** keeper:simulate's flags that every worker shares. */
const SIMULATE_FLAGS: (keyof SimulateArgs & string)[] = [
  "scenario",
  "prices",
  "warmup",
  "steps",
  "vol",
  "vaults",
  "keepers",
  "policies",
  "seed",
  "survival",
  "stress",
  "outage",
  "keeperMaxFee",
  "paths",
];

interface WorkerRun {
  code: number | null;
  output: string;
}

function runProcess(command: string, argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<WorkerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: string[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => chunks.push(d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: chunks.join("") }));
  });
}

/** The lines of a failed worker's output that say what went wrong: its error's message, not the stack under it. */
export function workerError(output: string): string {
  const lines = output.trim().split("\n");
  const first = lines.findIndex((line) => /^\s*at /.test(line));
  const message = (first === -1 ? lines.slice(-3) : lines.slice(Math.max(0, first - 3), first)).map((l) => l.trim());
  return message.filter((l) => l !== "").join(" | ");
}

/** What one worker wrote: its slice (JSON, parsed), its timings and, if asked, its events CSV. */
export interface WorkerSlice<S> {
  shard: S;
  timings: SimulationTimings;
  events?: string;
}

/**
 * The worker mechanism of `keeper:simulate --workers` and `keeper:frontier --workers`: W child processes, each
 * `<task> <flags> --shard i/W --workers 1 --json <tmp>` plus `extra(i, file)`, run at once; their slices are read
 * back in shard order (with the timings each wrote, and `file("csv")` when `events`).
 */
export async function runShardWorkers<S>(
  hre: HardhatRuntimeEnvironment,
  task: string,
  flags: readonly string[],
  workers: number,
  paths: number,
  options: { events?: boolean; extra?: (i: number, file: (ext: string) => string) => string[] } = {},
): Promise<WorkerSlice<S>[]> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-workers-"));
  const root = hre.config.paths.root;
  const cli = require.resolve("hardhat/internal/cli/cli", { paths: [root] });
  console.log(`Running ${paths} paths in ${workers} worker processes (${task} --shard i/${workers})…`);
  try {
    const jobs = Array.from({ length: workers }, async (_, k) => {
      const i = k + 1;
      const file = (ext: string) => path.join(tmp, `shard-${i}.${ext}`);
      const argv = [cli, task, ...flags, "--shard", `${i}/${workers}`, "--workers", "1", "--json", file("json")];
      argv.push(...(options.extra?.(i, file) ?? []));
      const t0 = performance.now();
      const env = { ...process.env, [TIMINGS_ENV]: file("timings"), [BUILT_ENV]: "1" };
      const run = await runProcess(process.execPath, argv, root, env);
      if (run.code !== 0) {
        throw new TaskError(`Worker ${i}/${workers} failed (exit ${run.code}): ${workerError(run.output)}`);
      }
      const range = shardPaths(paths, { index: i, count: workers });
      console.log(
        `  worker ${i}/${workers}: paths ${range[0]}-${range[range.length - 1]} in ` +
          `${((performance.now() - t0) / 1000).toFixed(1)} s`,
      );
      return {
        shard: JSON.parse(fs.readFileSync(file("json"), "utf8")) as S,
        timings: JSON.parse(fs.readFileSync(file("timings"), "utf8")) as SimulationTimings,
        events: options.events === true ? fs.readFileSync(file("csv"), "utf8") : undefined,
      };
    });
    return await Promise.all(jobs);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Writes a worker's timings where its parent asked (never part of the JSON). */
export function writeWorkerTimings(timings: SimulationTimings): void {
  const timingsFile = process.env[TIMINGS_ENV];
  if (timingsFile !== undefined && timingsFile !== "") fs.writeFileSync(timingsFile, JSON.stringify(timings));
}

/** `--workers W`: W child processes, `keeper:simulate --shard i/W`, then their slices merged here. */
async function runWorkers(
  args: SimulateArgs,
  plan: SimulatePlan,
  hre: HardhatRuntimeEnvironment,
): Promise<SimulationOutcome> {
  const workers = plan.workers;
  const paths = plan.options.paths ?? 1;
  const started = performance.now();
  const done = await runShardWorkers<ShardResult>(
    hre,
    "keeper:simulate",
    workerFlags(args, SIMULATE_FLAGS),
    workers,
    paths,
    {
      events: plan.events !== undefined,
      extra: (i, file) => [
        ...(plan.events !== undefined ? ["--events", file("csv")] : []),
        ...(plan.chart !== undefined && i === 1 ? ["--chart", plan.chart] : []),
      ],
    },
  );
  let result: SimulationResult;
  try {
    result = finalize(done.map((d) => d.shard));
  } catch (e) {
    rethrow(e);
  }
  const timings = combineTimings(
    done.map((d) => d.timings),
    (performance.now() - started) / 1000,
    workers,
  );
  console.log("");
  for (const line of summaryLines(result)) console.log(line);
  for (const line of monteCarloLines(result)) console.log(line);
  console.log("");
  for (const line of timingLines(timings)) console.log(line);
  const shard: ShardResult = { ...done[0].shard, shard: { index: 1, count: 1 }, runs: result.montecarlo.runs ?? [] };
  const outcome: SimulationOutcome = { result, shard, series: [], timings };
  await writeOutputs(
    { ...plan, chart: undefined },
    result,
    outcome,
    plan.events === undefined ? undefined : concatEventFiles(done.map((d) => d.events ?? "")),
  );
  if (plan.chart !== undefined) console.log(`Wrote ${plan.chart} (worker 1)`);
  return outcome;
}

/** The workers' timings as one: wall time here, work summed, ms per policy-step per process and on the wall. */
export function combineTimings(
  all: readonly SimulationTimings[],
  wallSeconds: number,
  workers: number,
): SimulationTimings {
  const sum = (f: (t: SimulationTimings) => number) => all.reduce((a, t) => a + f(t), 0);
  const merge = (f: (t: SimulationTimings) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const t of all) for (const [k, v] of Object.entries(f(t))) out[k] = Math.round(((out[k] ?? 0) + v) * 10) / 10;
    return out;
  };
  const steps = sum((t) => t.policySteps);
  return {
    totalSeconds: Math.round(wallSeconds * 10) / 10,
    setupSeconds: Math.max(...all.map((t) => t.setupSeconds)),
    policySeconds: merge((t) => t.policySeconds),
    policySteps: steps,
    msPerPolicyStep: steps === 0 ? 0 : Math.round((sum((t) => t.msPerPolicyStep * t.policySteps) / steps) * 10) / 10,
    phases: merge((t) => t.phases),
    workers,
    wallMsPerPolicyStep: steps === 0 ? 0 : Math.round(((wallSeconds * 1000) / steps) * 10) / 10,
  };
}
