/**
 * Reading the fees a keeper pays from a node, the fees of a replacement for a transaction not mined in time, and
 * finding the hash of a mined transaction whose send threw.
 */
import type { Provider } from "ethers";

import { effectiveGasPrice, feesFor } from "./decide";

export type FeeOverrides = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | { gasPrice: bigint };

export interface Fees {
  /** What one unit of gas costs now: the latest base fee plus the priority fee (or the legacy gas price). */
  gasPrice: bigint;
  /** The latest base fee (0 on a chain without one), wei: what the auction's gas part is priced at, with `tip`. */
  baseFee: bigint;
  /** The priority fee offered on top of the base fee (the whole legacy gas price without a base fee), wei. */
  tip: bigint;
  overrides: FeeOverrides;
}

export const DEFAULT_PRIORITY_FEE = 1_000_000_000n;

/**
 * Fees for this pass (`feesFor` over the latest base fee); with a cap (`--max-fee`), the EIP-1559 fee ceiling never
 * exceeds it. The tip is `tip` (`--priority-fee`) when given, else the node's suggestion.
 */
export async function readFees(provider: Provider, cap?: bigint, tip?: bigint): Promise<Fees> {
  const [block, feeData] = await Promise.all([provider.getBlock("latest"), provider.getFeeData()]);
  const base = block?.baseFeePerGas ?? null;
  if (base !== null) {
    const fees = feesFor(base, tip ?? feeData.maxPriorityFeePerGas ?? DEFAULT_PRIORITY_FEE, cap);
    const gasPrice = effectiveGasPrice(fees);
    return {
      gasPrice,
      baseFee: base,
      tip: gasPrice - base,
      overrides: { maxFeePerGas: fees.maxFee, maxPriorityFeePerGas: fees.tip },
    };
  }
  if (feeData.gasPrice === null) throw new Error("the node reports neither a base fee nor a gas price");
  return { gasPrice: feeData.gasPrice, baseFee: 0n, tip: feeData.gasPrice, overrides: { gasPrice: feeData.gasPrice } };
}

/**
 * The hash of a transaction that was mined although sending it failed: Hardhat's automine mines a reverting
 * transaction and answers `eth_sendTransaction` with the revert, naming the hash in `transactionHash`.
 */
export function minedHash(e: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof e !== "object" || e === null) return undefined;
  const o = e as { transactionHash?: unknown; data?: unknown; error?: unknown; info?: unknown; cause?: unknown };
  if (typeof o.transactionHash === "string" && o.transactionHash.startsWith("0x")) return o.transactionHash;
  return (
    minedHash(o.data, depth + 1) ??
    minedHash(o.error, depth + 1) ??
    minedHash(o.info, depth + 1) ??
    minedHash(o.cause, depth + 1)
  );
}

/** The fee ceiling of a transaction: what one unit of its gas can cost at most (`maxFeePerGas`, or the gas price). */
export function feeCeiling(fees: FeeOverrides): bigint {
  return "gasPrice" in fees ? fees.gasPrice : fees.maxFeePerGas;
}

/** `fees` raised by at least 12.5% (rounded up): a replacement with the same nonce needs more than geth's 10% bump. */
export function minimumBump(fees: FeeOverrides): FeeOverrides {
  const up = (wei: bigint): bigint => wei + (wei + 7n) / 8n;
  return "gasPrice" in fees
    ? { gasPrice: up(fees.gasPrice) }
    : { maxFeePerGas: up(fees.maxFeePerGas), maxPriorityFeePerGas: up(fees.maxPriorityFeePerGas) };
}

/** What to do with a transaction not mined by its deadline. */
export type Unstick =
  /** Send the same call again with the same nonce at these fees. */
  | { kind: "replace"; fees: FeeOverrides }
  /** Send a 0-value self-transfer with the same nonce at these fees: it frees the nonce for less gas. */
  | { kind: "cancel"; fees: FeeOverrides }
  /** Even the smallest bump is above the cap: leave it in the mempool and stop waiting. */
  | { kind: "stuck"; needed: bigint };

/**
 * The next step for a transaction still unmined at its deadline, sent at `fees`. A replacement offers at least the
 * minimum bump, and follows the market (twice the latest base fee plus the bumped tip) so that one is enough after a
 * base-fee jump. When that is above `cap` the call is not worth its price, but its nonce still blocks the account:
 * cancel it at the minimum bump if that fits under `cap`, else give up. A cancel still unmined is bumped like the rest.
 */
export function unstick(
  fees: FeeOverrides,
  latestBaseFee: bigint,
  cap: bigint | undefined,
  cancelling: boolean,
): Unstick {
  const bumped = minimumBump(fees);
  const least = feeCeiling(bumped);
  if (cap !== undefined && least > cap) return { kind: "stuck", needed: least };
  if (cancelling) return { kind: "cancel", fees: bumped };
  if ("gasPrice" in bumped) return { kind: "replace", fees: bumped };
  const market = latestBaseFee * 2n + bumped.maxPriorityFeePerGas;
  const target = market > bumped.maxFeePerGas ? market : bumped.maxFeePerGas;
  if (cap !== undefined && target > cap) return { kind: "cancel", fees: bumped };
  return { kind: "replace", fees: { maxFeePerGas: target, maxPriorityFeePerGas: bumped.maxPriorityFeePerGas } };
}
