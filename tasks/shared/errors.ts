/**
 * Task errors: one line that says what went wrong and what to do (`TaskError`, task-error.ts), and contract errors
 * decoded into such lines.
 */
import type { ErrorDescription, Interface } from "ethers";

import {
  BallastForwarder__factory,
  BallastPool__factory,
  BallastVault__factory,
  KeeperAuction__factory,
  PriceGuard__factory,
  RebalanceExecutor__factory,
  RebalanceMath__factory,
  SwapPath__factory,
  VaultFactory__factory,
} from "../../typechain-types";
import { SimulationError } from "../../lib/simulation/errors";
import * as fmt from "./format";
import { TaskError } from "./task-error";

export { TaskError } from "./task-error";

let interfaces: Interface[] | undefined;

function knownInterfaces(): Interface[] {
  interfaces ??= [
    BallastVault__factory.createInterface(),
    VaultFactory__factory.createInterface(),
    KeeperAuction__factory.createInterface(),
    BallastForwarder__factory.createInterface(),
    PriceGuard__factory.createInterface(),
    RebalanceExecutor__factory.createInterface(),
    RebalanceMath__factory.createInterface(),
    SwapPath__factory.createInterface(),
    BallastPool__factory.createInterface(),
  ];
  return interfaces;
}

/** The revert data carried by an error from ethers or the Hardhat provider, if any. */
export function revertData(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== "object" || error === null) return undefined;
  const e = error as { data?: unknown; error?: unknown; info?: { error?: unknown }; cause?: unknown };
  if (typeof e.data === "string" && e.data.startsWith("0x")) return e.data;
  if (typeof e.data === "object" && e.data !== null) {
    const nested = (e.data as { data?: unknown }).data;
    if (typeof nested === "string" && nested.startsWith("0x")) return nested;
  }
  return revertData(e.error, depth + 1) ?? revertData(e.info?.error, depth + 1) ?? revertData(e.cause, depth + 1);
}

/** Decodes revert data against every Ballast contract's errors. */
export function decodeRevert(data: string): ErrorDescription | undefined {
  for (const iface of knownInterfaces()) {
    try {
      const parsed = iface.parseError(data);
      if (parsed !== null) return parsed;
    } catch {
      // not this interface
    }
  }
  return undefined;
}

/** A custom error in words, with the next step where there is one. */
export function describeError(e: ErrorDescription): string {
  const a = e.args;
  const big = (i: number): bigint => a[i] as bigint;
  switch (e.name) {
    case "VaultNotOwner":
      return `${String(a[0])} is not the vault's owner: sign with the owner's key or account`;
    case "VaultHealthBelowMin":
      return `HF ${fmt.hf(big(0))} is below your minHF ${fmt.hf(big(1))}: rebalance first`;
    case "VaultInBand":
      return `HF ${fmt.hf(big(0))} is inside the band [${fmt.hf(big(1))}, ${fmt.hf(big(2))}]: nothing to rebalance`;
    case "VaultAutomationPaused":
      return "the owner paused automation: resume it, or relay a signed Rebalance intent instead";
    case "VaultLeveragePaused":
      return "the guardian paused new leverage (open, leverage-up): wait until it is lifted";
    case "VaultOutOfBand":
      return `HF ${fmt.hf(big(0))} is outside the band [${fmt.hf(big(1))}, ${fmt.hf(big(2))}]: pick a target inside the band or change the policy`;
    case "VaultTargetMissed":
      return `the rebalance landed at HF ${fmt.hf(big(0))}, not within ${fmt.hf(big(2))} of the target ${fmt.hf(big(1))} (a keeper's deleverage must raise the HF): the pool moved; retry`;
    case "VaultEquityLoss":
      return `the swap lost ${fmt.usd(big(0))} of equity, more than the ${fmt.usd(big(1))} allowed: use a deeper pool (--fee-tier / --path) or a larger slippage bound`;
    case "VaultPolicyBandInvalid":
      return `band minHF ${fmt.hf(big(0))} / target ${fmt.hf(big(1))} / maxHF ${fmt.hf(big(2))} breaks the factory's policy bounds (floor <= minHF, minHF + gap <= target, target + gap <= maxHF <= ceiling)`;
    case "VaultPolicySlippageAboveCap":
      return `max slippage ${fmt.bps(big(0))} is above the protocol cap ${fmt.bps(big(1))}`;
    case "VaultPolicyRewardAboveCap":
      return `max keeper reward ${fmt.bps(big(0))} is above the protocol cap ${fmt.bps(big(1))}`;
    case "VaultNotEmpty":
      return `the vault already holds a position (collateral ${fmt.usd(big(0))}, debt ${fmt.usd(big(1))}): close it first or use another --salt`;
    case "VaultDebtRemaining":
      return `debt of ${fmt.usd(big(0))} remained after the unwind: retry with a deeper pool`;
    case "VaultNoDebt":
      return "the vault has no debt";
    case "VaultZeroAmount":
      return "the amount (or address) is zero";
    case "VaultTargetNotAbove":
      return `target HF ${fmt.hf(big(0))} is not above the current HF ${fmt.hf(big(1))}`;
    case "VaultIntentExpired":
      return `the intent expired at ${fmt.timestamp(big(0))}: ask the owner to sign a new one`;
    case "VaultNonceUsed":
      return `nonce ${big(0)} was already used or cancelled: ask the owner to sign a new intent`;
    case "VaultInvalidSignature":
      return `the signature is not the owner's (${String(a[0])}) for this vault and chain: sign it again with the owner's key`;
    case "VaultFeeAboveMax":
      return `fee ${big(0)} is above the signed maximum ${big(1)}: ask for at most the maximum (--fee)`;
    case "VaultFeeTokenInvalid":
      return `${String(a[0])} is neither the vault's collateral nor its debt asset: fees are paid in one of those`;
    case "VaultFeeUnavailable":
      return `only ${big(2)} of the fee token ${String(a[0])} is left after the close, fee ${big(1)}: take the fee in the collateral asset or a smaller fee`;
    case "VaultZeroHint":
      return "the keeper's amount hint (maxAmountIn) is zero";
    case "VaultHintTooSmall":
      return `the hint ${big(0)} sells less than a quarter of the deleverage (at least ${big(1)}): raise maxAmountIn`;
    case "VaultPolicyUrgentSlippageInvalid":
      return `urgent slippage ${fmt.bps(big(0))} must lie between the max slippage ${fmt.bps(big(1))} and the cap ${fmt.bps(big(2))}: change --urgent-slippage-bps`;
    case "VaultNotAuction":
      return `${String(a[0])} asked for a keeper reward but only the keeper auction may: call the auction instead`;
    case "VaultRewardAboveCap":
      return `a reward of ${fmt.bps(big(0))} is above the owner's cap ${fmt.bps(big(1))}`;
    case "AuctionUnknownVault":
      return `${String(a[0])} is not a vault of the auction's factory`;
    case "AuctionNotNeeded":
      return `vault ${String(a[0])} does not need a rebalance now (in band, no debt, or automation paused)`;
    case "AuctionDustPosition":
      return `vault ${String(a[0])} has only ${fmt.usd(big(1))} of debt, below the auction's dust threshold ${fmt.usd(big(2))}`;
    case "AuctionActive":
      return `an auction for vault ${String(a[0])} is already running (kicked at ${fmt.timestamp(big(1))})`;
    case "AuctionNotActive":
      return `no auction is running for vault ${String(a[0])}: it was executed or cancelled already, or never kicked`;
    case "AuctionStillNeeded":
      return `vault ${String(a[0])} still needs the rebalance its auction was kicked for: execute it instead of cancelling`;
    case "AuctionZeroRecipient":
      return "the reward recipient is the zero address: pass another --recipient";
    case "AuctionNothingOwed":
      return `nothing of ${String(a[0])} is owed to the caller`;
    case "FactoryPairNotAllowed":
      return `the factory does not allow the pair ${String(a[0])} / ${String(a[1])}: pick an allowed pair`;
    case "FactoryVaultExists":
      return `a vault already exists at ${String(a[0])}: use it, or another --salt`;
    case "ERC2771ForwarderInvalidSigner":
      return `the forward request was signed by ${String(a[0])}, not by its "from" ${String(a[1])} (or with another nonce): sign it again`;
    case "ERC2771ForwarderExpiredRequest":
      return `the forward request expired at ${fmt.timestamp(big(0))}: sign a new one`;
    case "ERC2771UntrustfulTarget":
      return `${String(a[0])} does not trust the forwarder ${String(a[1])}: only the factory and the vaults accept forwarded calls`;
    case "FailedCall":
      return "the forwarded call reverted";
    case "PriceGuardStalePrice":
      return `the price feed of ${String(a[0])} is stale (updated ${fmt.timestamp(big(1))}, heartbeat ${big(2)}s): on a local node run \`npx hardhat local:refresh --network localhost\``;
    case "PriceGuardNoRoundData":
      return `Aave's price source ${String(a[1])} for ${String(a[0])} has no latestRoundData (an adapter): governance must set the Chainlink feed behind it with PriceGuard.setFreshnessFeed (lib/deploy/config, then \`npx hardhat deploy\`)`;
    case "PriceGuardTwapDeviation":
      return "the pool price deviates too far from the oracle (TWAP check): wait for arbitrage or for the TWAP to catch up";
    case "PriceGuardRouteNotAllowed":
      return `the swap path goes through the ${String(a[0])}/${String(a[1])} pool at fee ${big(2)}, which governance has not allowed: route through an allowed pool (PriceGuard.routeAllowed; locally WETH/USDC 500 or 3000, WBTC/USDC 3000) with --path`;
    case "PriceGuardNoPool":
      return `the Uniswap factory holds no ${String(a[0])}/${String(a[1])} pool at fee ${big(2)}: create the pool first, or allow one that exists`;
    case "PoolExitStuck":
      return `the exit could not finish without a flash loan (${big(0)} of its debt left): redeem fewer shares, or wait until Aave can lend the debt asset again`;
    case "PoolNotOpenable":
      return "the pool's position is already open (or empty): later deposits are levered by the keepers";
    case "ERC4626ExceededMaxRedeem":
      return `at most ${big(2)} shares can be redeemed now: see pool:status (0 while the position is under its minHF or a reserve is paused)`;
    case "ERC4626ExceededMaxDeposit":
      return `the pool takes at most ${big(2)} now: see pool:status (0 while deposits are paused, a reserve is frozen or the oracle is stale)`;
    case "SwapPathWrongTokenIn":
    case "SwapPathWrongTokenOut":
      return `the swap path has the wrong ${e.name.endsWith("In") ? "input" : "output"} token (expected ${String(a[0])}, got ${String(a[1])}): check --path`;
    default:
      return `${e.name}(${a.map((x) => String(x)).join(", ")})`;
  }
}

/** Turns a failed call or transaction into a TaskError whose message names the contract error and the remedy. */
export function explain(action: string, error: unknown): TaskError {
  if (error instanceof TaskError) return error;
  const data = revertData(error);
  if (data !== undefined && data !== "0x") {
    const decoded = decodeRevert(data);
    if (decoded !== undefined) return new TaskError(`${action} failed: ${describeError(decoded)}`);
  }
  const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
  return new TaskError(`${action} failed: ${message}`, error instanceof Error ? error : undefined);
}

/** Runs `f`, turning a SimulationError into a TaskError: one line on the CLI instead of a stack trace. */
export function rethrowing<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SimulationError) throw new TaskError(e.message, e);
    throw e;
  }
}
