/**
 * Simulation benchmark: `keeper:simulate` at 100 vaults and 500 price steps (the default scenario, all three policies,
 * three keepers, seed 1), timed end to end, deployment included. Merges `{"simulate": {"vaults", "steps", "seconds"}}`
 * into reports/gas.json, keeping every other key. Not part of `bench:check`: a time depends on the machine.
 */
import { performance } from "node:perf_hooks";

import hre from "hardhat";

import { mergeReport } from "./report";

const VAULTS = 100;
const STEPS = 500;

async function main(): Promise<void> {
  const started = performance.now();
  await hre.run("keeper:simulate", { vaults: VAULTS, steps: STEPS });
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  console.log(`keeper:simulate with ${VAULTS} vaults and ${STEPS} steps: ${seconds} s`);
  mergeReport({ simulate: { vaults: VAULTS, steps: STEPS, seconds } });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
