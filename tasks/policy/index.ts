import { task, types } from "hardhat/config";

import { scenarioNames } from "../../lib/simulation/scenarios";
import type { RecommendArgs } from "./recommend";
import { ensureBuilt } from "../shared/build";

// 360 s: the price guard compares a deleverage's oracle price with a 60 s TWAP and may refuse it until that TWAP
// catches up with a fast move; 300 s more (25 blocks) covers the kick, the keepers' auction and inclusion.
const DEFAULT_HORIZON = 360;

task(
  "policy:recommend",
  "Recommends a health-factor band: the minHF that survives the keepers' response horizon with a given probability",
)
  .addOptionalParam(
    "scenario",
    `Forecast the volatility from the warm-up (the day before the replay) of a built-in path: ${scenarioNames.join(", ")}`,
    undefined,
    types.string,
  )
  .addOptionalParam(
    "prices",
    "Forecast the volatility from a CSV price path, all of it past data (header timestamp,price; unix seconds, USD)",
    undefined,
    types.string,
  )
  .addOptionalParam("vol", "Use this annualized volatility, a fraction: 0.8 for 80%", undefined, types.string)
  .addOptionalParam(
    "horizon",
    "Keepers' response horizon in seconds: the price guard's 60 s deleverage TWAP window plus 25 blocks for kick and auction",
    DEFAULT_HORIZON,
    types.int,
  )
  .addOptionalParam(
    "survival",
    "Probability that a vault at minHF stays above HF 1 over the horizon, between 0.5 and 1",
    "0.99",
    types.string,
  )
  .addFlag("json", "Print the recommendation as JSON on stdout, HFs as WAD decimal strings, and nothing else")
  .addOptionalParam(
    "frontier",
    "Instead: pick from a keeper:frontier JSON file the thinnest reactive band within --max-liquidation-probability",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxLiquidationProbability",
    "With --frontier: the most liquidation probability allowed (upper 95% Wilson bound), e.g. 0.01",
    undefined,
    types.string,
  )
  .setAction(async (args: RecommendArgs & { frontier?: string; maxLiquidationProbability?: string }, hre) => {
    await ensureBuilt(hre);
    if (args.frontier !== undefined || args.maxLiquidationProbability !== undefined) {
      const { frontierRecommendTask } = await import("./frontier");
      return frontierRecommendTask(args);
    }
    const { recommendTask } = await import("./recommend");
    return recommendTask(args);
  });
