import { task, types } from "hardhat/config";
import type { ConfigurableTaskDefinition } from "hardhat/types";

import { scenarioNames } from "../../lib/simulation/scenarios";
import { DEFAULTS, type SimulateArgs } from "./args";
import { ensureBuilt } from "../shared/build";

const PRICES_HELP =
  "CSV price path instead of a scenario: header timestamp,price[,gasGwei] (unix seconds, USD, base fee in gwei), " +
  "rows at least one block (12 s) apart; rescaled to start at the market's $2,000. With the volatility policy it " +
  "needs --warmup";
const WARMUP_HELP =
  "With --prices: the file's first N rows (N >= 2) are warm-up only: the volatility policy sizes its band on them " +
  "(EWMA, half-life 6 h); they are never replayed";
const STEPS_HELP =
  `Minutes replayed of a built-in scenario (default ${DEFAULTS.steps}): N consecutive minutes of its 1-minute ` +
  "path, in a window that contains the crash's low (the low at 2/3 of the window); a --prices file replays every " +
  "row after its warm-up";
const VOL_HELP =
  "Annualized volatility of a built-in scenario's minute model, a fraction: for a historical shape the crash " +
  "day's (default: its calibration from daily OHLC in scenarios.ts); the calm days' volatility and the jumps scale " +
  "with it (vol / calibration). gbm: its diffusion's (default 0.8), jumps scaled with it";
const OUTAGE_HELP =
  "Under downtime stress: correlated (the default: every keeper is also down during the path's worst hour, as when " +
  "a shared RPC provider fails) or independent (only each keeper's own seeded outages)";
const SHARD_HELP =
  "i/n: run only the i-th of n slices of the paths and write it with --json; combine the slices with keeper:merge";
const STRESS_HELP =
  "Market stresses, all (the default), none, or some of: gas (a base-fee path; keepers pay it plus a tip, up to a " +
  "max fee), oracle (Chainlink-style rounds on 0.5% deviation or heartbeat), liquidity (mainnet depth thinned as " +
  "volatility rises; a capped, late arbitrageur), sellers (liquidators sell what they seize; outside selling on " +
  "the drawdown), downtime (keepers sometimes down, maybe all at once in the worst hour)";

/** The price-path flags both tasks take: a built-in scenario or a CSV, its warm-up, its window and volatility. */
function pricePathParams(definition: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  return definition
    .addOptionalParam(
      "scenario",
      `Built-in price path: ${scenarioNames.join(", ")} (default ${DEFAULTS.scenario})`,
      undefined,
      types.string,
    )
    .addOptionalParam("prices", PRICES_HELP, undefined, types.string)
    .addOptionalParam("warmup", WARMUP_HELP, undefined, types.int)
    .addOptionalParam("steps", STEPS_HELP, undefined, types.int)
    .addOptionalParam("vol", VOL_HELP, undefined, types.string);
}

pricePathParams(
  task(
    "keeper:simulate",
    "Replays a price path on an in-process market: vaults under each policy, competing keepers, an Aave liquidator; " +
      "prints a summary table",
  ),
)
  .addOptionalParam("vaults", "Vaults, one per owner, opened under every policy", DEFAULTS.vaults, types.int)
  .addOptionalParam(
    "keepers",
    "Competing keepers, each with its own seeded latency (12-120 s), least profit ($0-10) and gas price (2-20 gwei); " +
      "under gas stress a tip (1-3 gwei) and a max fee (80-400 gwei) instead of the gas price",
    DEFAULTS.keepers,
    types.int,
  )
  .addOptionalParam(
    "policies",
    "Policies to compare, comma-separated: static (no automation), reactive (band 1.3/1.5/1.8), volatility " +
      "(band from the EWMA volatility of the warm-up before the replay)",
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
  .addOptionalParam("stress", STRESS_HELP, DEFAULTS.stress, types.string)
  .addOptionalParam("outage", OUTAGE_HELP, undefined, types.string)
  .addOptionalParam(
    "keeperMaxFee",
    "Under gas stress: min-max, the range in whole gwei the keepers' own max fees are drawn from instead of 80-400 " +
      "(e.g. 2000-2000: keepers that bid up to the owners' gas cap); the fee draws are the seed's either way",
    undefined,
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
  .addOptionalParam("shard", SHARD_HELP, undefined, types.string)
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

pricePathParams(
  task(
    "keeper:frontier",
    "The liquidation frontier: liquidation probability (95% Wilson interval) and equity of reactive, its matched " +
      "static and volatility at each buffer --min-hf, over --paths paths; JSON for policy:recommend --frontier",
  ),
)
  .addOptionalParam("minHf", "Buffers: reactive minHFs, comma-separated", "1.05,1.1,1.2,1.3,1.5", types.string)
  .addOptionalParam("paths", "Paths: the scenario and paths - 1 seeded variants", 8, types.int)
  .addOptionalParam("vaults", "Vaults, one per owner", DEFAULTS.vaults, types.int)
  .addOptionalParam("keepers", "Competing keepers", DEFAULTS.keepers, types.int)
  .addOptionalParam("seed", "Seed of the paths, the vaults and the keepers", DEFAULTS.seed, types.int)
  .addOptionalParam("survival", "volatility policy: survival probability", DEFAULTS.survival, types.string)
  .addOptionalParam("stress", STRESS_HELP, DEFAULTS.stress, types.string)
  .addOptionalParam("outage", OUTAGE_HELP, undefined, types.string)
  .addOptionalParam(
    "workers",
    "Processes to spread the paths over, each a keeper:frontier --shard i/W (default: the number of cores, at most " +
      "one per path); the frontier is the same bytes for any number",
    undefined,
    types.int,
  )
  .addOptionalParam("shard", SHARD_HELP, undefined, types.string)
  .addOptionalParam("json", "Write the frontier (or the --shard slice) as JSON to this file", undefined, types.string)
  .addOptionalParam("chart", "Write an SVG of the frontier to this file", undefined, types.string)
  .setAction(async (args, hre) => {
    await ensureBuilt(hre);
    const { frontierTask } = await import("./frontier");
    return frontierTask(args as Parameters<typeof frontierTask>[0], hre);
  });

task(
  "keeper:merge",
  "Combines the JSON slices of keeper:simulate --shard i/n (or of keeper:frontier --shard i/n) into the result one " +
    "run of every path would write; with --events, the slices' events CSVs into one",
)
  .addParam("out", "The merged result's JSON file", undefined, types.string)
  .addOptionalParam(
    "events",
    "Also merge the keeper:simulate slices' --events CSVs (passed among the files, .csv) into this file, in path order",
    undefined,
    types.string,
  )
  .addVariadicPositionalParam(
    "shards",
    "The slices' JSON files (and, with --events, their .csv events files), in any order",
    undefined,
    types.string,
  )
  .setAction(async (args: { out: string; events?: string; shards: string[] }, hre) => {
    await ensureBuilt(hre);
    const { mergeTask } = await import("./merge");
    return mergeTask(args);
  });
