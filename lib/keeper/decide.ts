/**
 * The keeper's decisions, as plain functions of what it has read. The keeper bot (`tasks/keeper`, `KeeperBot`) and the
 * simulation's keepers (`lib/simulation/automation.ts`, `KeeperFleet`) both decide with these and nothing else: what
 * to do with a vault (kick, cancel, cancel and kick again, execute, leave), whether an execution pays (the reward at
 * the current time and urgency against the gas at the prevailing base fee plus the tip, and a least profit), whether
 * a transaction can be sent at all under the base fee, and how executions are grouped into batches. The bot reads its
 * inputs from the chain (`currentRewardBps`, `estimateGas`, the latest block's base fee); the simulation reads the
 * same reward curve off the auction and adds only what a simulation adds: latency, downtime and a base-fee path.
 */

/** `IRebalanceExecutor.Direction`. */
export const DIRECTIONS = ["none", "deleverage", "leverage", "close"] as const;
export type Direction = (typeof DIRECTIONS)[number];

export function direction(value: bigint): Direction {
  return DIRECTIONS[Number(value)] ?? "none";
}

const BPS = 10_000n;
const WAD = 10n ** 18n;

/** What a keeper knows about one vault when it decides: the lens status and the auction's state. */
export interface VaultView {
  /** The lens says a rebalance is needed. */
  needed: boolean;
  /** The direction the vault needs (when `needed`). */
  wanted: Direction;
  /** Debt in oracle base units (dust check). */
  debtBase: bigint;
  /** An auction is running for the vault. */
  auctionRunning: boolean;
  /** The running auction's direction. */
  auctionDirection?: Direction;
}

export interface DecideRules {
  /** The auction's dust threshold: smaller positions are not kicked. */
  minDebtBase: bigint;
  /** Cancel the auctions of vaults back in band. */
  cancel: boolean;
}

export type VaultAction =
  /** Start the auction. */
  | { kind: "kick"; direction: Direction }
  /** Too small to kick. */
  | { kind: "dust" }
  /** The auction runs the other way: cancel it and kick again the way the vault needs now. */
  | { kind: "cancel"; rekick: Direction }
  /** Back in band with an auction running: cancel it (`rekick` unset). */
  | { kind: "cancel"; rekick?: undefined }
  /** Back in band, auction running, cancelling switched off. */
  | { kind: "cancel-skipped" }
  /** A running auction the vault still needs: price its execution. */
  | { kind: "execute" }
  /** Nothing to do. */
  | { kind: "none" };

/** What to do with one vault. */
export function decideVault(v: VaultView, rules: DecideRules): VaultAction {
  if (!v.needed) {
    if (!v.auctionRunning) return { kind: "none" };
    return rules.cancel ? { kind: "cancel" } : { kind: "cancel-skipped" };
  }
  if (!v.auctionRunning) {
    return v.debtBase < rules.minDebtBase ? { kind: "dust" } : { kind: "kick", direction: v.wanted };
  }
  if (v.auctionDirection !== undefined && v.auctionDirection !== v.wanted) return { kind: "cancel", rekick: v.wanted };
  return { kind: "execute" };
}

/** The fees a keeper would pay in the next block (EIP-1559). */
export interface FeeView {
  /** The prevailing base fee (the next block's), wei. */
  baseFee: bigint;
  /** The priority fee the keeper offers, wei. */
  tip: bigint;
  /** The most the keeper will pay per gas, wei. */
  maxFee: bigint;
}

/** A keeper's fees over a base fee: twice the base fee plus the tip, at most `cap` (and never below base + tip). */
export function feesFor(baseFee: bigint, tip: bigint, cap?: bigint): FeeView {
  let maxFee = baseFee * 2n + tip;
  if (cap !== undefined && maxFee > cap) maxFee = cap > baseFee + tip ? cap : baseFee + tip;
  return { baseFee, tip, maxFee };
}

/** What one unit of gas costs in the next block: base fee plus tip, at most the max fee. */
export function effectiveGasPrice(f: FeeView): bigint {
  const full = f.baseFee + f.tip;
  return full < f.maxFee ? full : f.maxFee;
}

/** A transaction whose max fee is below the base fee is not included: the keeper does not send it. */
export function pricedOut(f: FeeView): boolean {
  return f.maxFee < f.baseFee;
}

/** Gas valued in oracle base units at a gas price (wei) and the native token's oracle price. */
export function gasCostBase(gas: bigint, gasPrice: bigint, nativePriceBase: bigint): bigint {
  return (gas * gasPrice * nativePriceBase) / WAD;
}

/**
 * The gas price the auction's gas part is priced at, exactly as `KeeperAuction` computes it on-chain: the base fee
 * plus the keeper's tip bounded by governance's `maxTip`, at most the owner's `maxGasPrice`.
 */
export function rewardGasPrice(baseFee: bigint, tip: bigint, maxTip: bigint, maxGasPrice: bigint): bigint {
  const price = baseFee + (tip < maxTip ? tip : maxTip);
  return price < maxGasPrice ? price : maxGasPrice;
}

/**
 * The auction's gas part in oracle base units, exactly as on-chain (`RewardCurve.gasRewardBase`): `units` of gas at
 * `gasPrice` (wei) valued at the native token's price, rounded down, at most the owner's `maxRewardBase`.
 */
export function gasRewardBase(units: bigint, gasPrice: bigint, nativePriceBase: bigint, maxRewardBase: bigint): bigint {
  const value = (units * gasPrice * nativePriceBase) / WAD;
  return value < maxRewardBase ? value : maxRewardBase;
}

/** A reward in oracle base units: `rewardBps` of the value sold. */
export function rewardBase(valueSoldBase: bigint, rewardBps: bigint): bigint {
  return (valueSoldBase * rewardBps) / BPS;
}

export interface ExecutionInputs {
  /** Oracle value of what the rebalance sells (the status's `amountIn`), base units. */
  valueSoldBase: bigint;
  /** The reward now, bps (the auction's `currentRewardBps`, or its curve at the elapsed time and urgency). */
  rewardBps: bigint;
  /**
   * The auction's gas part, base units (`quoteReward`'s `gasRewardBase`, or `gasRewardBase` above); 0 or absent when
   * the auction prices no gas.
   */
  gasRewardBase?: bigint;
  /** The owner's cap on the whole reward (premium plus gas part), base units; absent: no cap. */
  maxRewardBase?: bigint;
  /** Gas the execution is expected to use. */
  gas: bigint;
  /** What a unit of gas costs (`effectiveGasPrice`), wei. */
  gasPrice: bigint;
  /** The native token's oracle price (WETH), base units. */
  nativePriceBase: bigint;
  /** Least profit (reward less gas) the keeper executes for, base units. */
  minProfitBase: bigint;
}

export interface ExecutionValue {
  rewardBase: bigint;
  gasCostBase: bigint;
  profitBase: bigint;
  /** Worth sending: a reward, and a profit above the least profit. */
  pays: boolean;
  /** Why not, when it does not pay. */
  reason?: "no-reward" | "unprofitable";
}

/**
 * Whether executing pays: a reward (the auction pays nothing for a move too small), and reward less gas above the
 * least profit (strictly). The reward is the vault's: the premium plus the gas part, at most `maxRewardBase`.
 */
export function assessExecution(x: ExecutionInputs): ExecutionValue {
  let reward = rewardBase(x.valueSoldBase, x.rewardBps) + (x.gasRewardBase ?? 0n);
  if (x.maxRewardBase !== undefined && reward > x.maxRewardBase) reward = x.maxRewardBase;
  const gasCost = gasCostBase(x.gas, x.gasPrice, x.nativePriceBase);
  const profit = reward - gasCost;
  if (reward === 0n) {
    return { rewardBase: reward, gasCostBase: gasCost, profitBase: profit, pays: false, reason: "no-reward" };
  }
  if (profit <= x.minProfitBase) {
    return { rewardBase: reward, gasCostBase: gasCost, profitBase: profit, pays: false, reason: "unprofitable" };
  }
  return { rewardBase: reward, gasCostBase: gasCost, profitBase: profit, pays: true };
}

/**
 * The first elapsed time (seconds since the kick), on a grid of `step` seconds from `from` up to `until`, at which an
 * execution pays by `assessExecution`, the reward at each time given by `rewardBpsAt`; undefined when none does. The
 * simulation schedules its keepers with it; at each time the decision is `assessExecution`'s.
 */
export function firstPayingElapsed(
  rewardBpsAt: (elapsed: number) => bigint,
  inputs: Omit<ExecutionInputs, "rewardBps">,
  from: number,
  until: number,
  step: number,
): number | undefined {
  let elapsed = Math.ceil(Math.max(from, 0) / step) * step;
  for (;;) {
    if (assessExecution({ ...inputs, rewardBps: rewardBpsAt(elapsed) }).pays) return elapsed;
    if (elapsed >= until) return undefined;
    elapsed += step;
  }
}

/**
 * Executions grouped for sending: the most profitable first, in `executeBatch`es of at most `batchSize` when two or
 * more pay and batching is on (`batchSize` ≥ 2), else one `execute` each.
 */
export function batches<T extends { profitBase: bigint }>(executions: readonly T[], batchSize: number): T[][] {
  const ordered = [...executions].sort((a, b) =>
    a.profitBase === b.profitBase ? 0 : a.profitBase > b.profitBase ? -1 : 1,
  );
  if (batchSize < 2 || ordered.length < 2) return ordered.map((e) => [e]);
  const out: T[][] = [];
  for (let i = 0; i < ordered.length; i += batchSize) out.push(ordered.slice(i, i + batchSize));
  return out;
}

/**
 * Who wins when several keepers send for the same auction in the same block: the block orders by priority fee (the
 * higher tip first), then, between equal tips, the faster keeper's transaction arrives first, then the lower index.
 * Returns the contenders' indexes, winner first.
 */
export function raceOrder(contenders: readonly { index: number; tip: bigint; latency: number }[]): number[] {
  return [...contenders]
    .sort((a, b) => (a.tip !== b.tip ? (a.tip > b.tip ? -1 : 1) : a.latency - b.latency || a.index - b.index))
    .map((c) => c.index);
}
