/**
 * What the engine knows about each vault between reads. Reading every vault every step would cost a lens call per
 * vault (about 4 ms each), so the engine keeps each vault's last HF and the WETH price it was read at, and predicts
 * the HF at a new price in proportion (the debt is USDC at $1, so the HF is the WETH price times a constant, up to the
 * interest accrued since the read). Only vaults predicted near or outside their band, or below 1, are read on chain.
 */
import { MaxUint256 } from "ethers";

import type { PolicyValues } from "../protocol";
import type { VaultSpec } from "./population";

/** A vault within this fraction of a band edge (or of HF 1) is read on chain: far above a few days' interest. */
export const PREDICTION_MARGIN = 0.002;

export interface Need {
  /** `IRebalanceExecutor.Direction`: 1 deleverage, 2 leverage. */
  direction: bigint;
  amountIn: bigint;
  urgency: bigint;
  debtBase: bigint;
}

export interface TrackedAuction {
  kickedAt: number;
  direction: bigint;
  /** Index of the keeper that kicked it (it cancels it when it is no longer needed). */
  kicker: number;
  /** The kick's gas refund the auction pays the kicker out of the execution's reward, base units. */
  kickRefundBase: bigint;
}

export interface TrackedVault {
  readonly spec: VaultSpec;
  readonly address: string;
  readonly policy: PolicyValues;
  /** False for the `static` policy, whose owners paused automation. */
  readonly automated: boolean;
  /** The last HF read (WAD; MaxUint256 without debt) and the WETH oracle price it was read at (8 decimals). */
  hf: bigint;
  hfPrice: bigint;
  /** Since when (chain time) the vault has been out of its band, in the current excursion. */
  outOfBand?: number;
  /** What it needs, from the latest status read; cleared once rebalanced or back in band. */
  need?: Need;
  /** The auction the simulated keepers started and have not ended. */
  auction?: TrackedAuction;
  /** No execution before this chain time (set after a failed one). */
  retryAt: number;
}

export function trackVault(spec: VaultSpec, address: string, policy: PolicyValues, automated: boolean): TrackedVault {
  return { spec, address, policy, automated, hf: MaxUint256, hfPrice: 1n, retryAt: 0 };
}

/** Records an HF read at a WETH price. */
export function observe(vault: TrackedVault, hf: bigint, price: bigint): void {
  vault.hf = hf;
  vault.hfPrice = price;
}

/** The HF at `price`, predicted from the last read; Infinity without debt. */
export function predictedHF(vault: TrackedVault, price: bigint): number {
  if (vault.hf === MaxUint256) return Infinity;
  return Number((vault.hf * price) / vault.hfPrice) / 1e18;
}

const wadToNumber = (wad: bigint): number => Number(wad) / 1e18;

/** Whether the keepers should read the vault now: near or outside its band, or with an auction running. */
export function keeperCandidate(vault: TrackedVault, price: bigint): boolean {
  if (!vault.automated) return false;
  if (vault.auction !== undefined) return true;
  // Without debt there is nothing to rebalance.
  if (vault.hf === MaxUint256) return false;
  const hf = predictedHF(vault, price);
  return (
    hf < wadToNumber(vault.policy.minHF) * (1 + PREDICTION_MARGIN) ||
    hf > wadToNumber(vault.policy.maxHF) * (1 - PREDICTION_MARGIN)
  );
}

/** Whether the liquidator should read the vault now: predicted at or near HF 1. */
export function liquidationCandidate(vault: TrackedVault, price: bigint): boolean {
  return predictedHF(vault, price) < 1 + PREDICTION_MARGIN;
}
