import { task, types } from "hardhat/config";

import type { PriceArgs } from "./price";
import { ensureBuilt } from "../shared/build";

task(
  "market:deploy",
  "Deploys the local market (real Aave V3 + Uniswap V3 from npm artifacts) and prints its addresses",
)
  .addOptionalParam("json", "Also write the addresses to this JSON file", undefined, types.string)
  .setAction(async ({ json }: { json?: string }, hre) => {
    await ensureBuilt(hre);
    const { deployMarketWithReport } = await import("./deploy");
    await deployMarketWithReport(hre, json);
  });

task(
  "market:price",
  "Local market only: sets an asset's mock oracle price, arbitrages the Uniswap pools to it, and moves the chain's " +
    "clock on until the price guard's TWAP check accepts a rebalance (--no-wait: only says when)",
)
  .addParam("asset", "Asset symbol: WETH, WBTC or USDC", undefined, types.string)
  .addParam("price", "New USD price, e.g. 1600 or 1612.5", undefined, types.string)
  .addFlag("noWait", "Leave the chain's clock alone; print after how many seconds the guard will accept a rebalance")
  .addOptionalParam("deployments", "Address book file (default: deployments/<network>.json)", undefined, types.string)
  .setAction(async (args: PriceArgs, hre) => {
    await ensureBuilt(hre);
    const { marketPrice } = await import("./price");
    return marketPrice(hre, args);
  });
