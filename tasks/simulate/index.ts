import { task, types } from "hardhat/config";

import { scenarioNames } from "../../lib/simulation/scenarios";
import { DEFAULTS, type SimulateArgs } from "./args";
import { ensureBuilt } from "../shared/build";

task(
  "keeper:simulate",
  "Replays a price path on an in-process market: vaults under each policy, competing keepers, an Aave liquidator; " +
    "prints a summary table",
)
  .addOptionalParam(
    "scenario",
    `Built-in price path: ${scenarioNames.join(", ")} (default ${DEFAULTS.scenario})`,
    undefined,
    types.string,
  )
  .addOptionalParam(
    "prices",
    "CSV price path instead of a scenario: header timestamp,price (unix seconds, USD); rescaled to start at the " +
      "market's $2,000",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "steps",
    `Price steps of a built-in scenario (default ${DEFAULTS.steps}); a CSV path has one step per row`,
    undefined,
    types.int,
  )
  .addOptionalParam(
    "vol",
    "Annualized volatility of a scenario, a fraction: gbm's volatility, or the noise over a historical shape " +
      "(defaults 0.8 and 0.5)",
    undefined,
    types.string,
  )
  .addOptionalParam("vaults", "Vaults, one per owner, opened under every policy", DEFAULTS.vaults, types.int)
  .addOptionalParam(
    "keepers",
    "Competing keepers, each with its own seeded latency (12-120 s), gas price (2-20 gwei) and least profit ($0-10)",
    DEFAULTS.keepers,
    types.int,
  )
  .addOptionalParam(
    "policies",
    "Policies to compare, comma-separated: static (no automation), reactive (band 1.3/1.5/1.8), volatility " +
      "(band from the path's realized volatility)",
    DEFAULTS.policies,
    types.string,
  )
  .addOptionalParam(
    "seed",
    "Seed of the scenario's noise, the vaults and the keepers; the same seed gives the same result",
    DEFAULTS.seed,
    types.int,
  )
  .addOptionalParam(
    "survival",
    "volatility policy: probability that a vault at minHF outlives the keepers' response horizon, between 0.5 and 1",
    DEFAULTS.survival,
    types.string,
  )
  .addOptionalParam(
    "stress",
    "Market stresses, all (the default), none, or some of gas,oracle,liquidity,sellers,downtime (README)",
    DEFAULTS.stress,
    types.string,
  )
  .addOptionalParam(
    "json",
    "Also write the result as JSON to this file (schema in the README)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "chart",
    "Also write an SVG chart of each policy's worst HF over time to this file",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "paths",
    "Monte Carlo: replay the scenario and paths - 1 seeded variants of it; adds liquidation probabilities (95% " +
      "Wilson interval), equity mean and 5th percentile, and worst-HF quantiles",
    DEFAULTS.paths,
    types.int,
  )
  .addOptionalParam(
    "workers",
    "Processes to spread the paths over (default: the number of cores, at most one per path); the result is the " +
      "same bytes for any number",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "shard",
    "i/n: run only the i-th of n slices of the paths and write it with --json; combine the slices with keeper:merge",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "events",
    "Also write one CSV row per event (open, kick, cancel, rebalance, liquidation) to this file",
    undefined,
    types.string,
  )
  .setAction(async (args: SimulateArgs, hre) => {
    await ensureBuilt(hre);
    const { simulateTask } = await import("./run");
    return simulateTask(args, hre);
  });

task(
  "keeper:frontier",
  "The liquidation frontier: liquidation probability (95% Wilson interval) and equity of reactive, its matched " +
    "static and volatility at each buffer --min-hf, over --paths paths; JSON for policy:recommend --frontier",
)
  .addOptionalParam(
    "scenario",
    `Built-in price path: ${scenarioNames.join(", ")} (default ${DEFAULTS.scenario})`,
    undefined,
    types.string,
  )
  .addOptionalParam("prices", "CSV price path instead of a scenario (header timestamp,price)", undefined, types.string)
  .addOptionalParam("steps", `Price steps of a built-in scenario (default ${DEFAULTS.steps})`, undefined, types.int)
  .addOptionalParam("vol", "Annualized volatility of a scenario, a fraction", undefined, types.string)
  .addOptionalParam("minHf", "Buffers: reactive minHFs, comma-separated", "1.05,1.1,1.2,1.3,1.5", types.string)
  .addOptionalParam("paths", "Paths: the scenario and paths - 1 seeded variants", 8, types.int)
  .addOptionalParam("vaults", "Vaults, one per owner", DEFAULTS.vaults, types.int)
  .addOptionalParam("keepers", "Competing keepers", DEFAULTS.keepers, types.int)
  .addOptionalParam("seed", "Seed of the paths, the vaults and the keepers", DEFAULTS.seed, types.int)
  .addOptionalParam("survival", "volatility policy: survival probability", DEFAULTS.survival, types.string)
  .addOptionalParam("stress", "Market stresses: all (the default), none, or a list", DEFAULTS.stress, types.string)
  .addOptionalParam("json", "Write the frontier as JSON to this file", undefined, types.string)
  .addOptionalParam("chart", "Write an SVG of the frontier to this file", undefined, types.string)
  .setAction(async (args, hre) => {
    await ensureBuilt(hre);
    const { frontierTask } = await import("./frontier");
    return frontierTask(args as Parameters<typeof frontierTask>[0], hre);
  });

task(
  "keeper:merge",
  "Combines the JSON slices of keeper:simulate --shard i/n into the result one run of every path would write",
)
  .addParam("out", "The merged result's JSON file", undefined, types.string)
  .addVariadicPositionalParam("shards", "The slices' JSON files, in any order", undefined, types.string)
  .setAction(async (args: { out: string; shards: string[] }, hre) => {
    await ensureBuilt(hre);
    const { mergeTask } = await import("./merge");
    return mergeTask(args);
  });
