/** What a keeper pass decides and reports: plain data, shared by the bot, the loop and the tests. */
import type { Quote } from "../../lib/keeper/routing";
import type { Failure, FeeOverrides } from "./tx";

import type { Direction } from "../../lib/keeper/decide";

export { DIRECTIONS, direction, type Direction } from "../../lib/keeper/decide";

export interface ExecutedVault {
  vault: string;
  rewardBps: number;
  /** Reward paid, in the vault's debt asset (smallest units). */
  reward: bigint;
  hfBefore: bigint;
  hfAfter: bigint;
  tx: string;
  batched: boolean;
}

export type FailureStage = "status" | "kick" | "cancel" | "simulate" | "execute" | "disable-collateral";

export interface FailedVault extends Failure {
  vault: string;
  stage: FailureStage;
}

/** `spend-cap`: the pass reached `--max-spend-per-pass` before sending it. */
export type SkipReason = "dust" | "no-reward" | "no-route" | "unprofitable" | "gas-price" | "spend-cap";

export interface SkippedVault {
  vault: string;
  reason: SkipReason;
}

/** What a pass saw and did. */
export interface PassSummary {
  block: number;
  /** Vaults known after the event sync. */
  vaults: number;
  /** Vaults first seen in this pass. */
  discovered: number;
  /** Vaults whose status this pass read with the lens: those the trigger index picked, or all of them. */
  read: number;
  /** The trigger-price index was rebuilt from a read of every known vault; never with `--no-index`. */
  sweep: boolean;
  /** Of `read`, the vaults read as the index's rolling share of the registry (re-read against interest drift). */
  rolled: number;
  /** Vaults whose status says a rebalance is needed. */
  outOfBand: number;
  kicked: string[];
  /** Kicks that found an auction started by someone else (`AuctionActive`). */
  kickRaces: string[];
  cancelled: string[];
  executed: ExecutedVault[];
  /** Executions another keeper got to first (`AuctionNotActive`). */
  lostRaces: string[];
  failed: FailedVault[];
  skipped: SkippedVault[];
  /** Hashes of the transactions sent. */
  transactions: string[];
}

export interface Execution {
  vault: string;
  direction: Direction;
  tokenIn: string;
  tokenOut: string;
  debtAsset: string;
  amountIn: bigint;
  /** The hint the execution was estimated with: `MaxUint256` (the whole move), or a part of a deleverage. */
  maxAmountIn: bigint;
  rewardBps: bigint;
  rewardBase: bigint;
  gas: bigint;
  gasCostBase: bigint;
  profitBase: bigint;
  route: Quote;
}

export interface Cancellation {
  vault: string;
  /** Set when the auction runs the other way from what the vault needs now: kick again, this way, after cancelling. */
  rekick?: Direction;
}

export interface Kick {
  vault: string;
  direction: Direction;
}

/** The decisions of a pass, before anything is sent. */
export interface PassPlan {
  summary: PassSummary;
  fees: FeeOverrides;
  gasPrice: bigint;
  sendAllowed: boolean;
  cancels: Cancellation[];
  kicks: Kick[];
  executions: Execution[];
  /** Foreign collateral to disable (finding R1): a vault's rebalance failed on it. */
  disables: CollateralDisable[];
}

/** A vault's `disableCollateral(asset)`: someone supplied `asset` on its behalf and Aave set its LTV to 0. */
export interface CollateralDisable {
  vault: string;
  asset: string;
}

export function emptySummary(block: number): PassSummary {
  return {
    block,
    vaults: 0,
    discovered: 0,
    read: 0,
    sweep: false,
    rolled: 0,
    outOfBand: 0,
    kicked: [],
    kickRaces: [],
    cancelled: [],
    executed: [],
    lostRaces: [],
    failed: [],
    skipped: [],
    transactions: [],
  };
}
