/**
 * Simulation benchmark: the Monte Carlo of `keeper:simulate` at 32 paths × 300 steps × 3 policies (and volatility's
 * matched static) × 10 vaults under `--stress all`, spread over the machine's cores with `--workers`, against a
 * reference of a few paths in one process. Merges into reports/gas.json:
 *
 *   "simulate": { paths, steps, vaults, policies, stress, workers, policySteps, wallSeconds,
 *                 msPerPolicyStep (engine time per policy-step inside one process, opening included),
 *                 wallMsPerPolicyStep (wall time over every policy-step, start-up included),
 *                 reference: { paths, workers: 1, wallSeconds, wallMsPerPolicyStep },
 *                 speedup (reference wall ms per policy-step / this run's) }
 *
 * BENCH_SIM_PATHS, BENCH_SIM_STEPS, BENCH_SIM_WORKERS and BENCH_SIM_REF_PATHS shrink or change it; the sizes run
 * are recorded with the times. Not part of `bench:check`: a time depends on the machine.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";

import hre from "hardhat";

import type { SimulationOutcome } from "../lib/simulation/engine";
import { mergeReport } from "./report";

const env = (name: string, fallback: number): number => {
  const v = process.env[name];
  return v === undefined || v === "" ? fallback : Number(v);
};

const PATHS = env("BENCH_SIM_PATHS", 32);
const STEPS = env("BENCH_SIM_STEPS", 300);
const VAULTS = 10;
const POLICIES = "static,reactive,volatility";
const WORKERS = env(
  "BENCH_SIM_WORKERS",
  typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length,
);
const REF_PATHS = env("BENCH_SIM_REF_PATHS", Math.min(4, PATHS));

async function timed(paths: number, workers: number): Promise<{ outcome: SimulationOutcome; wallSeconds: number }> {
  const started = performance.now();
  const outcome = (await hre.run("keeper:simulate", {
    vaults: VAULTS,
    steps: STEPS,
    policies: POLICIES,
    stress: "all",
    paths,
    workers,
  })) as SimulationOutcome;
  return { outcome, wallSeconds: (performance.now() - started) / 1000 };
}

const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const reference = await timed(REF_PATHS, 1);
  const run = await timed(PATHS, WORKERS);
  const steps = run.outcome.timings.policySteps;
  const refSteps = reference.outcome.timings.policySteps;
  const wallMs = (run.wallSeconds * 1000) / steps;
  const refWallMs = (reference.wallSeconds * 1000) / refSteps;
  const simulate = {
    paths: PATHS,
    steps: STEPS,
    vaults: VAULTS,
    policies: POLICIES,
    stress: "all",
    workers: WORKERS,
    policySteps: steps,
    wallSeconds: r1(run.wallSeconds),
    msPerPolicyStep: run.outcome.timings.msPerPolicyStep,
    wallMsPerPolicyStep: r1(wallMs),
    reference: {
      paths: REF_PATHS,
      workers: 1,
      policySteps: refSteps,
      wallSeconds: r1(reference.wallSeconds),
      msPerPolicyStep: reference.outcome.timings.msPerPolicyStep,
      wallMsPerPolicyStep: r1(refWallMs),
    },
    speedup: Math.round((refWallMs / wallMs) * 100) / 100,
  };
  console.log(JSON.stringify({ simulate }, null, 2));
  mergeReport({ simulate });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
