import { task, types } from "hardhat/config";

import type { KeeperArgs } from "./run";
import { ensureBuilt } from "../shared/build";

task("keeper:run", "Keeper bot: kicks, cancels and executes Ballast keeper auctions when the reward beats the gas")
  .addOptionalParam(
    "keeperConfig",
    'JSON file of options, named as these flags in camelCase (e.g. {"minProfit": "2"}); KEEPER_* environment variables (KEEPER_MIN_PROFIT) override it, and flags override both',
    undefined,
    types.string,
  )
  .addOptionalParam(
    "account",
    "Keeper: index of a Hardhat account (default 0 on hardhat/localhost only; elsewhere set KEEPER_PRIVATE_KEY or use --keystore)",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "keystore",
    "Keeper: encrypted JSON keystore file; its password from KEEPER_KEYSTORE_PASSWORD, else asked for on the terminal",
    undefined,
    types.string,
  )
  // Kept only to refuse it with a message that names the alternatives: Hardhat's own error would not.
  .addOptionalParam(
    "key",
    "Refused: a key on the command line shows in ps and shell history; set KEEPER_PRIVATE_KEY or use --keystore",
    undefined,
    types.string,
  )
  .addOptionalParam("recipient", "Address paid the rewards (default: the keeper)", undefined, types.string)
  .addOptionalParam(
    "deployments",
    "Address book to read (default: deployments/<network>.json, written by local:deploy)",
    undefined,
    types.string,
  )
  .addOptionalParam("factory", "VaultFactory address (instead of the address book's)", undefined, types.string)
  .addOptionalParam("lens", "VaultLens address (instead of the address book's)", undefined, types.string)
  .addOptionalParam("quoter", "Uniswap QuoterV2 address (instead of the address book's)", undefined, types.string)
  .addOptionalParam(
    "fromBlock",
    "Replay VaultCreated and Kicked events from this block (default: read the factory's registry through the lens at start, then follow events from the next block)",
    undefined,
    types.int,
  )
  .addOptionalParam("blockRange", "Most blocks per eth_getLogs request (default: 5000)", undefined, types.int)
  .addOptionalParam("pageSize", "Vaults per VaultLens call (default: 100)", undefined, types.int)
  .addOptionalParam("interval", "Seconds between passes, without --once (default: 15)", undefined, types.float)
  .addFlag("once", "Run a single pass, print its summary and exit")
  .addOptionalParam(
    "minProfit",
    "Least profit in USD (reward less gas) for an execution, e.g. 0.5 (default: 0)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxFee",
    "Most gwei per gas, e.g. 30: nothing is sent while base fee + tip is above it, and no fee or replacement offers more",
    undefined,
    types.string,
  )
  .addOptionalParam("maxGasPrice", "Old name of --max-fee", undefined, types.string)
  .addOptionalParam(
    "priorityFee",
    "Tip in gwei per gas, e.g. 1.5 (default: the node's suggestion)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "maxSpendPerPass",
    "Most ETH one pass commits to gas (gas limit x max fee of each transaction); once reached the pass sends nothing more",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "txTimeout",
    "Seconds a transaction may stay unmined before it is replaced with a 12.5%+ higher fee (or cancelled at --max-fee) (default: 90)",
    undefined,
    types.float,
  )
  .addOptionalParam(
    "batchSize",
    "Most vaults per executeBatch; 1 executes each alone (default: 5)",
    undefined,
    types.int,
  )
  .addFlag("noCancel", "Do not cancel the auctions of vaults back in band")
  .addOptionalParam(
    "via",
    "Intermediate tokens for two-hop routes, comma-separated symbols or addresses (default: WETH,USDC)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "logFormat",
    "Log lines as json (one object per line) or pretty (default: json)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "privateRpc",
    "Send every transaction (kicks, executions, cancels, replacements) signed, as eth_sendRawTransaction, to this private RPC (Flashbots Protect-style) instead of the public mempool; needs a local key; no public fallback",
    undefined,
    types.string,
  )
  .addFlag(
    "noIndex",
    "Read every vault with the lens every pass, instead of only those the trigger-price index picks (crossed triggers, vaults with new events, running auctions)",
  )
  .addOptionalParam(
    "sweepInterval",
    "With the index: chain seconds within which every vault is read again, a rolling share each pass, bounding the interest drift its margin must cover (default: 3600)",
    undefined,
    types.float,
  )
  .addOptionalParam(
    "triggerMargin",
    "With the index: bps by which a vault counts as crossed before its trigger, for interest accrued since the last read (default: 10)",
    undefined,
    types.int,
  )
  .addFlag("logDebug", "Also log debug lines: every route quote, skipped cancels, dust")
  .addOptionalParam(
    "metricsPort",
    "Serve Prometheus metrics at /metrics and a health check at /healthz (200, or 503 when the last pass failed or none finished lately) on this port; 0 picks a free one, logged as metrics-listening; not with --once",
    undefined,
    types.int,
  )
  .addOptionalParam(
    "metricsHost",
    "Address the metrics server binds to, e.g. 0.0.0.0 for every interface (default: 127.0.0.1, this machine only)",
    undefined,
    types.string,
  )
  .setAction(async (args: KeeperArgs, hre) => {
    await ensureBuilt(hre);
    const { keeperRun } = await import("./run");
    return keeperRun(args, hre);
  });
