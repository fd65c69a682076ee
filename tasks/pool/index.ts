import { task, types } from "hardhat/config";
import type { ConfigurableTaskDefinition } from "hardhat/types";

import type { CreateArgs, DepositArgs, RedeemArgs, StatusArgs } from "./pool";
import { ensureBuilt } from "../shared/build";

const DEPLOYMENTS_HELP = "Address book to read (default: deployments/<network>.json, written by local:deploy)";

function signerParams(t: ConfigurableTaskDefinition, who: string): ConfigurableTaskDefinition {
  return t
    .addOptionalParam("account", `${who}: index of a Hardhat account (default 0)`, undefined, types.int)
    .addOptionalParam("key", `${who}: hex private key (instead of --account)`, undefined, types.string)
    .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string);
}

signerParams(
  task(
    "pool:create",
    "Deploys a BallastPool (ERC-4626) over a new leveraged position of the factory, with the default policy; the " +
      "signer is its governance",
  )
    .addOptionalParam("collateral", "Collateral asset, which holders deposit: symbol or address", "WETH", types.string)
    .addOptionalParam("debt", "Debt asset: symbol or address", "USDC", types.string)
    .addOptionalParam("fee", "Fee tier of the pool exits sell through (an allowed route)", 500, types.int)
    .addOptionalParam("supplyCap", "Most the pool takes, whole collateral units; 0 for no cap", "0", types.string)
    .addOptionalParam("guardian", "Who may pause deposits (default: the signer)", undefined, types.string),
  "Deployer and governance",
).setAction(async (args: CreateArgs, hre) => {
  await ensureBuilt(hre);
  const { createTask } = await import("./pool");
  return createTask(args, hre);
});

signerParams(
  task(
    "pool:deposit",
    "Deposits collateral into a pool at its oracle NAV; the first deposits are levered at once (lever), later ones " +
      "by the next keeper rebalance",
  )
    .addParam("pool", "Pool address (pool:create prints it)", undefined, types.string)
    .addParam("amount", "Collateral to deposit, whole units like 1.5", undefined, types.string)
    .addFlag("approve", "Approve the pool for the amount first if needed"),
  "Depositor",
).setAction(async (args: DepositArgs, hre) => {
  await ensureBuilt(hre);
  const { depositTask } = await import("./pool");
  return depositTask(args, hre);
});

signerParams(
  task(
    "pool:redeem",
    "Redeems shares: the holder's share of the position is unwound in one transaction and the collateral left is " +
      "sent to the holder, at least previewRedeem",
  )
    .addParam("pool", "Pool address", undefined, types.string)
    .addOptionalParam("shares", "Shares to redeem, whole share units (or --all)", undefined, types.string)
    .addFlag("all", "Redeem every share the holder has"),
  "Holder",
).setAction(async (args: RedeemArgs, hre) => {
  await ensureBuilt(hre);
  const { redeemTask } = await import("./pool");
  return redeemTask(args, hre);
});

task("pool:status", "Shows a pool: total assets, shares, share price, the position's HF, room for deposits")
  .addParam("pool", "Pool address", undefined, types.string)
  .addOptionalParam("holder", "Also show this holder's shares and what they redeem for", undefined, types.string)
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: StatusArgs, hre) => {
    await ensureBuilt(hre);
    const { statusTask } = await import("./pool");
    return statusTask(args, hre);
  });
