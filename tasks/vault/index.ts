import { task, types } from "hardhat/config";
import type { ConfigurableTaskDefinition } from "hardhat/types";

import type { CloseArgs, PolicyArgs, StatusArgs, SwitchArgs } from "./manage";
import type { OpenArgs } from "./open";
import { ensureBuilt } from "../shared/build";

const DEPLOYMENTS_HELP = "Address book to read (default: deployments/<network>.json, written by local:deploy)";

function ownerParams(t: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  return t
    .addOptionalParam("ownerAccount", "Owner: index of a Hardhat account (default 0)", undefined, types.int)
    .addOptionalParam("ownerKey", "Owner: hex private key (instead of --owner-account)", undefined, types.string);
}

function gaslessParams(t: ConfigurableTaskDefinition, what: string): ConfigurableTaskDefinition {
  return t
    .addFlag("gasless", `The owner only signs (${what}); the relayer submits and pays the gas`)
    .addOptionalParam(
      "relayerAccount",
      "With --gasless: relayer's Hardhat account index (default 1)",
      undefined,
      types.int,
    )
    .addOptionalParam("relayerKey", "With --gasless: relayer's hex private key", undefined, types.string);
}

/** What the relayer of a signed intent may take (vault:policy, vault:close). */
function feeParams(t: ConfigurableTaskDefinition): ConfigurableTaskDefinition {
  return t
    .addOptionalParam(
      "fee",
      "With --gasless: fee the relayer takes, whole fee-token units (default 0)",
      undefined,
      types.string,
    )
    .addOptionalParam(
      "feeToken",
      "With --gasless: fee token, the vault's collateral or debt asset (default: debt)",
      undefined,
      types.string,
    );
}

function policyParams(t: ConfigurableTaskDefinition, defaults: string): ConfigurableTaskDefinition {
  return t
    .addOptionalParam(
      "minHf",
      `Lowest HF before a keeper deleverages, decimal like 1.3 (${defaults})`,
      undefined,
      types.string,
    )
    .addOptionalParam(
      "maxHf",
      `Highest HF before a keeper levers up, decimal like 1.8 (${defaults})`,
      undefined,
      types.string,
    )
    .addOptionalParam(
      "maxSlippageBps",
      `Largest swap shortfall against the oracle, bps (${defaults})`,
      undefined,
      types.int,
    )
    .addOptionalParam(
      "urgentSlippageBps",
      `A keeper deleverage's slippage bound at HF 1.0, bps: it widens from --max-slippage-bps at minHF, so that a ` +
        `sale still clears when the pools trade below the oracle in a crash; at least --max-slippage-bps, at most the ` +
        `cap (${defaults})`,
      undefined,
      types.int,
    )
    .addOptionalParam(
      "maxRewardBps",
      `Largest keeper premium, bps of the value moved (${defaults})`,
      undefined,
      types.int,
    )
    .addOptionalParam(
      "maxGasPriceGwei",
      `Highest gas price, gwei, at which keepers are refunded their gas, decimal like 2000 (${defaults})`,
      undefined,
      types.string,
    )
    .addOptionalParam(
      "maxRewardUsd",
      `Largest keeper reward per rebalance, premium and gas refund together, in the Aave base currency (USD), ` +
        `decimal like 5000; above 0 (${defaults})`,
      undefined,
      types.string,
    );
}

const open = task(
  "vault:open",
  "Creates your vault if missing and opens a leveraged position at a target HF (directly or --gasless)",
)
  .addParam("amount", "Collateral to deposit, whole units (e.g. 10 for 10 WETH)", undefined, types.string)
  .addOptionalParam(
    "targetHf",
    "HF to lever to, decimal like 1.5 (default: the policy's target)",
    undefined,
    types.string,
  )
  .addOptionalParam("collateral", "Collateral asset: symbol or address", "WETH", types.string)
  .addOptionalParam("debt", "Debt asset: symbol or address", "USDC", types.string)
  .addOptionalParam("salt", "Vault salt: a number or 32 bytes of hex (one vault per owner and salt)", "0", types.string)
  .addOptionalParam(
    "feeTier",
    "Uniswap fee tier of the debt -> collateral swap (default: the reference pool's)",
    undefined,
    types.int,
  )
  .addOptionalParam("path", "Hex Uniswap V3 path debt -> collateral (instead of --fee-tier)", undefined, types.string)
  .addFlag(
    "approve",
    "Send the missing collateral approval from the owner first (paid by the owner, also with --gasless)",
  );
policyParams(
  ownerParams(gaslessParams(open, "createVault + open as forward requests")),
  "new vault only; default: 1.3 / 1.8 / 100 / 100",
);
open
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: OpenArgs, hre) => {
    await ensureBuilt(hre);
    const { openTask } = await import("./open");
    return openTask(args, hre);
  });

task("vault:status", "Shows a vault: owner, assets, policy, position (USD), HF, whether a rebalance is needed")
  .addOptionalParam("vault", "Vault address (or give the owner and --salt)", undefined, types.string)
  .addOptionalParam("ownerAccount", "Owner's Hardhat account index, to find the vault by --salt", undefined, types.int)
  .addOptionalParam("owner", "Owner's address, to find the vault by --salt", undefined, types.string)
  .addOptionalParam("salt", "Vault salt with --owner/--owner-account", "0", types.string)
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: StatusArgs, hre) => {
    await ensureBuilt(hre);
    const { statusTask } = await import("./manage");
    return statusTask(args, hre);
  });

const policy = task(
  "vault:policy",
  "Changes a vault's policy: setPolicy by the owner, or --gasless a signed SetPolicy intent",
)
  .addOptionalParam("vault", "Vault address (default: the owner's vault for --salt)", undefined, types.string)
  .addOptionalParam("salt", "Vault salt, when --vault is not given", "0", types.string)
  .addOptionalParam(
    "targetHf",
    "HF every rebalance lands on, decimal like 1.5 (default: current)",
    undefined,
    types.string,
  );
policyParams(
  feeParams(ownerParams(gaslessParams(policy, "a SetPolicy intent relayed to setPolicyBySig"))),
  "default: current",
);
policy
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: PolicyArgs, hre) => {
    await ensureBuilt(hre);
    const { policyTask } = await import("./manage");
    return policyTask(args, hre);
  });

const close = task("vault:close", "Unwinds a vault fully and returns everything to the owner (directly or --gasless)")
  .addOptionalParam("vault", "Vault address (default: the owner's vault for --salt)", undefined, types.string)
  .addOptionalParam("salt", "Vault salt, when --vault is not given", "0", types.string)
  .addOptionalParam(
    "feeTier",
    "Uniswap fee tier of the collateral -> debt swap (default: the reference pool's)",
    undefined,
    types.int,
  )
  .addOptionalParam("path", "Hex Uniswap V3 path collateral -> debt (instead of --fee-tier)", undefined, types.string);
feeParams(ownerParams(gaslessParams(close, "a Close intent relayed to closeBySig")));
close
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: CloseArgs, hre) => {
    await ensureBuilt(hre);
    const { closeTask } = await import("./manage");
    return closeTask(args, hre);
  });

const switchCollateral = task(
  "vault:switch",
  "Moves a vault's collateral into another allowed asset in one transaction, keeping the debt (directly or --gasless)",
)
  .addParam(
    "to",
    "The new collateral, symbol or address (allowed against the vault's debt asset)",
    undefined,
    types.string,
  )
  .addOptionalParam("vault", "Vault address (default: the owner's vault for --salt)", undefined, types.string)
  .addOptionalParam("salt", "Vault salt, when --vault is not given", "0", types.string)
  .addOptionalParam(
    "path",
    "Hex Uniswap V3 path old collateral -> new (default: through the debt asset, over both reference pools)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "fee",
    "With --gasless: fee the relayer takes, whole units of the new collateral (default 0)",
    undefined,
    types.string,
  );
ownerParams(gaslessParams(switchCollateral, "a Switch intent relayed to switchCollateralBySig"));
switchCollateral
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: SwitchArgs, hre) => {
    await ensureBuilt(hre);
    const { switchTask } = await import("./manage");
    return switchTask(args, hre);
  });
