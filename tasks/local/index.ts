import { task, types } from "hardhat/config";

import type { FundArgs } from "./deploy";
import { ensureBuilt } from "../shared/build";

const DEPLOYMENTS_HELP = "Address book file (default: deployments/<network>.json)";

task("local:deploy", "Deploys the local market and Ballast (hardhat/localhost only) and writes the address book")
  .addOptionalParam("deployments", `${DEPLOYMENTS_HELP} to write`, undefined, types.string)
  .setAction(async (args: { deployments?: string }, hre) => {
    await ensureBuilt(hre);
    const { localDeploy } = await import("./deploy");
    const { deployment, file } = await localDeploy(hre, args);
    return { deployment, file };
  });

task("local:fund", "Gives an address local test tokens: WETH wrapped from ETH, WBTC and USDC minted (local only)")
  .addParam("token", "Token symbol (WETH, WBTC, USDC) or address", undefined, types.string)
  .addParam("amount", "Amount in whole token units, e.g. 10 or 2.5", undefined, types.string)
  .addOptionalParam("to", "Recipient address (or --account)", undefined, types.string)
  .addOptionalParam("account", "Recipient: index of a Hardhat account (or --to)", undefined, types.int)
  .addOptionalParam(
    "fromAccount",
    "Hardhat account that pays the ETH for WETH and sends the transactions (default 0)",
    undefined,
    types.int,
  )
  .addOptionalParam("deployments", `${DEPLOYMENTS_HELP} to read`, undefined, types.string)
  .setAction(async (args: FundArgs, hre) => {
    await ensureBuilt(hre);
    const { localFund } = await import("./deploy");
    await localFund(hre, args);
  });

task("local:refresh", "Re-posts the local price feeds' answers so that they are not stale (local only)")
  .addOptionalParam("deployments", `${DEPLOYMENTS_HELP} to read`, undefined, types.string)
  .setAction(async (args: { deployments?: string }, hre) => {
    await ensureBuilt(hre);
    const { localRefresh } = await import("./deploy");
    await localRefresh(hre, args);
  });
