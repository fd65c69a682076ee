import { task, types } from "hardhat/config";
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
