/** Reading the fees a keeper pays from a node, and finding the hash of a mined transaction whose send threw. */
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

/** Fees for this pass (`feesFor` over the latest base fee); with a cap, the EIP-1559 fee ceiling never exceeds it. */
export async function readFees(provider: Provider, cap?: bigint): Promise<Fees> {
  const [block, feeData] = await Promise.all([provider.getBlock("latest"), provider.getFeeData()]);
  const base = block?.baseFeePerGas ?? null;
  if (base !== null) {
    const fees = feesFor(base, feeData.maxPriorityFeePerGas ?? DEFAULT_PRIORITY_FEE, cap);
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
