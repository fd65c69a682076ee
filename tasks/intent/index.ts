import { task, types } from "hardhat/config";

import type { RelayArgs } from "./relay";
import type { SignArgs } from "./sign";
import { ensureBuilt } from "../shared/build";

const DEPLOYMENTS_HELP = "Address book to read (default: deployments/<network>.json, written by local:deploy)";

task(
  "intent:sign",
  "Builds and signs a vault intent (set-policy, rebalance, close, switch) or a forward request; writes JSON",
)
  .addParam("kind", "What to sign: set-policy | rebalance | close | switch | forward", undefined, types.string)
  .addOptionalParam("key", "Signer's hex private key (exactly one of --key and --account)", undefined, types.string)
  .addOptionalParam(
    "account",
    "Signer: index of a Hardhat account (exactly one of --key and --account)",
    undefined,
    types.int,
  )
  .addOptionalParam("vault", "The vault the intent (or --call) is for", undefined, types.string)
  .addOptionalParam(
    "minHf",
    "set-policy, --call set-policy: new minHF, decimal like 1.3 (default: current)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "targetHf",
    "set-policy, --call set-policy: new targetHF (default: current); rebalance: the HF to reach (required)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxHf",
    "set-policy, --call set-policy: new maxHF, decimal like 1.8 (default: current)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxSlippageBps",
    "set-policy, rebalance, close, switch, --call set-policy: largest swap shortfall in bps; on close and switch, " +
      "the swap's bound " +
      "(default: current policy; at most the protocol cap)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "urgentSlippageBps",
    "set-policy, --call set-policy: a keeper deleverage's slippage bound at HF 1.0 in bps, widening from the max " +
      "slippage at minHF (default: current policy)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "maxRewardBps",
    "set-policy, --call set-policy: largest keeper premium in bps (default: current policy)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "maxGasPriceGwei",
    "set-policy, --call set-policy: highest gas price, gwei, at which keepers are refunded their gas (default: current policy)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxRewardUsd",
    "set-policy, --call set-policy: largest keeper reward per rebalance in the Aave base currency, USD (default: current policy)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "feeToken",
    "set-policy, close: token the relayer is paid in, symbol (WETH, USDC, ...) or address (default: the debt asset)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxFee",
    "set-policy, close, switch: most the relayer may take, in whole fee-token units (switch: of the new " +
      "collateral) (default 0)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "direction",
    "rebalance: deleverage | leverage, the move the owner signs; a fill the other way (the HF moved past the " +
      "target) is refused (default: from the HF now and --target-hf, above the HF: deleverage)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "rewardToken",
    "rebalance: token the relayer is paid in, symbol or address (default: the debt asset)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxReward",
    "rebalance: most the relayer may take, in whole reward-token units (default 0)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "newCollateral",
    "switch: the asset the collateral moves into, symbol or address; the factory must allow it against the debt asset",
    undefined,
    types.string,
  )
  .addOptionalParam("to", "forward: target contract (with --data)", undefined, types.string)
  .addOptionalParam("data", "forward: hex calldata for --to", undefined, types.string)
  .addOptionalParam(
    "call",
    "forward: build the vault call instead of --to/--data: set-policy | pause | resume | withdraw | close",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "gas",
    "forward: gas the call must receive (default: estimated, plus a margin)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "amount",
    'forward --call withdraw: collateral to withdraw, whole units or "max"',
    undefined,
    types.string,
  )
  .addOptionalParam(
    "recipient",
    "forward --call withdraw: where the collateral goes (default: the signer)",
    undefined,
    types.string,
  )
  .addOptionalParam("path", "forward --call close: hex Uniswap V3 path collateral -> debt", undefined, types.string)
  .addOptionalParam(
    "feeTier",
    "forward --call close: Uniswap fee tier of a single-hop path (default: the price guard's reference pool)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "nonce",
    "Nonce (default: a random unused 64-bit nonce for vault intents, the forwarder's current nonce for forward)",
    undefined,
    types.string,
  )
  .addOptionalParam("deadline", "Seconds from now (the latest block's time) until it expires", 3600, types.int)
  .addOptionalParam(
    "out",
    "Write the JSON to this file (default: stdout; progress goes to stderr)",
    undefined,
    types.string,
  )
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: SignArgs, hre) => {
    await ensureBuilt(hre);
    const { signTask } = await import("./sign");
    return signTask(args, hre);
  });

task("intent:relay", "Submits a signed intent to its vault (*BySig) or a forward request through the forwarder")
  .addParam("file", "JSON written by intent:sign", undefined, types.string)
  .addOptionalParam(
    "via",
    "direct (vault intents, to the vault's *BySig) or forwarder (ForwardRequest files); default: from the file",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "fee",
    "Fee or reward to take, in whole units of the signed token (default: the signed maximum)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "path",
    "Rebalance, Close, Switch: hex Uniswap V3 path in the direction of the swap (Switch default: old collateral -> " +
      "debt asset -> new collateral through the reference pools)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "feeTier",
    "Rebalance, Close: fee tier of a single-hop path, e.g. 500 (default: the price guard's reference pool)",
    undefined,
    types.int,
  )
  .addOptionalParam("relayerAccount", "Relayer: index of a Hardhat account (default 1)", undefined, types.int)
  .addOptionalParam("relayerKey", "Relayer: hex private key (instead of --relayer-account)", undefined, types.string)
  .addOptionalParam("deployments", DEPLOYMENTS_HELP, undefined, types.string)
  .setAction(async (args: RelayArgs, hre) => {
    await ensureBuilt(hre);
    const { relayTask } = await import("./relay");
    return relayTask(args, hre);
  });
