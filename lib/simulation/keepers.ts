/**
 * The simulated keepers: who they are (a seeded latency and gas profile each) and how they decide, as plain functions
 * of what they can read. The fastest keeper kicks a vault once its latency has passed since the vault left its band;
 * then each keeper prices the auction off the auction's own reward curve and executes at the first block where the
 * reward, less what it expects to pay for gas, reaches its minimum profit. The earliest keeper wins (ties: the lower
 * latency), as the first transaction in a block wins a real race.
 */
import type { KeeperAuction } from "../../typechain-types";
import { Random, streamSeed } from "./random";
import { SimulationError } from "./errors";

export const BLOCK_SECONDS = 12;
/** Latencies are drawn in whole blocks from this range, both ends included. */
export const LATENCY_BLOCKS = { min: 1, max: 10 } as const;
/** Gas prices in gwei, drawn in tenths. */
export const GAS_PRICE_GWEI = { min: 2, max: 20 } as const;
/** Least profit per execution in USD, drawn in cents. */
export const MIN_PROFIT_USD = { min: 0, max: 10 } as const;
/**
 * Gas a keeper expects one execution to cost when it prices an auction: a single `execute` of a deleverage on the
 * local market, measured at 771,273-778,341; in a batch each vault costs less (about 566,000 in a batch of five).
 */
export const EXECUTION_GAS = 780_000n;

/** Oracle base units: USD with 8 decimals. */
const BASE = 10n ** 8n;
const GWEI = 10n ** 9n;
const WAD = 10n ** 18n;
const KEEPER_STREAM = 2;
/** Most curve samples read (one per block): 400 blocks is 80 minutes, beyond any local curve's growth. */
const MAX_SAMPLES = 400;

export interface KeeperProfile {
  name: string;
  /** Seconds between seeing something (a vault out of band, a kick) and acting on it; a multiple of 12. */
  latency: number;
  /** What the keeper pays per unit of gas, wei. */
  gasPrice: bigint;
  /** Least profit (reward less gas) it executes for, oracle base units. */
  minProfitBase: bigint;
}

/** K keepers with seeded profiles, named keeper-1 … keeper-K. */
export function buildKeepers(count: number, seed: number): KeeperProfile[] {
  const random = new Random(streamSeed(seed, KEEPER_STREAM));
  const draw = (min: number, max: number, scale: number): number => {
    const low = Math.round(min * scale);
    return low + Math.floor(random.next() * (Math.round(max * scale) - low + 1));
  };
  return Array.from({ length: count }, (_, i) => ({
    name: `keeper-${i + 1}`,
    latency: draw(LATENCY_BLOCKS.min, LATENCY_BLOCKS.max, 1) * BLOCK_SECONDS,
    gasPrice: (BigInt(draw(GAS_PRICE_GWEI.min, GAS_PRICE_GWEI.max, 10)) * GWEI) / 10n,
    minProfitBase: (BigInt(draw(MIN_PROFIT_USD.min, MIN_PROFIT_USD.max, 100)) * BASE) / 100n,
  }));
}

/** The fastest keeper (the first of them on a tie): it kicks. */
export function kickerOf(keepers: readonly KeeperProfile[]): number {
  let best = 0;
  keepers.forEach((k, i) => {
    if (k.latency < keepers[best].latency) best = i;
  });
  return best;
}

/** The keeper's expected gas cost of one execution, oracle base units, at a WETH price (8 decimals). */
export function executionGasCost(keeper: KeeperProfile, ethPrice: bigint): bigint {
  return (EXECUTION_GAS * keeper.gasPrice * ethPrice) / WAD;
}

/**
 * The auction's reward curve as keepers see it: `rewardBpsAt(elapsed, urgency)` read once per block of elapsed time,
 * at urgency 0 and 1, until the time curve stops growing. The reward at urgency u lies between the two, linearly
 * (§5.8: the boost is linear in u); the owner's and the protocol's caps are applied on top.
 */
export class RewardCurve {
  /** `calm[i]` and `urgent[i]`: the curve at i blocks after the kick, at urgency 0 and 1; flat after the last. */
  constructor(
    private readonly calm: readonly number[],
    private readonly urgent: readonly number[],
    private readonly protocolCap: number,
  ) {
    if (calm.length === 0 || calm.length !== urgent.length) {
      throw new SimulationError("RewardCurve: needs as many urgent samples as calm ones, at least one");
    }
  }

  static async read(auction: KeeperAuction, protocolCap: number): Promise<RewardCurve> {
    const { maxBps } = await auction.config();
    const calm: number[] = [];
    const urgent: number[] = [];
    for (let i = 0; i < MAX_SAMPLES; i++) {
      const elapsed = i * BLOCK_SECONDS;
      calm.push(Number(await auction.rewardBpsAt(elapsed, 0n)));
      urgent.push(Number(await auction.rewardBpsAt(elapsed, WAD)));
      if (calm[i] >= Number(maxBps)) break;
    }
    return new RewardCurve(calm, urgent, protocolCap);
  }

  /** Elapsed seconds from which the reward no longer grows. */
  get flatAfter(): number {
    return (this.calm.length - 1) * BLOCK_SECONDS;
  }

  /** Reward in bps `elapsed` seconds after the kick, at `urgency` (WAD), capped by `ownerCap` and the protocol. */
  bps(elapsed: number, urgency: bigint, ownerCap: number): number {
    const i = Math.min(Math.floor(Math.max(elapsed, 0) / BLOCK_SECONDS), this.calm.length - 1);
    const u = Math.min(Number(urgency) / Number(WAD), 1);
    const raw = Math.floor(this.calm[i] + (this.urgent[i] - this.calm[i]) * u);
    return Math.min(raw, ownerCap, this.protocolCap);
  }
}

export interface RunningAuction {
  kickedAt: number;
  /** Oracle value of what the rebalance sells (the status's `amountIn`), base units. */
  valueBase: bigint;
  urgency: bigint;
  /** The owner's `maxKeeperRewardBps`. */
  ownerCap: number;
}

export interface PlannedExecution {
  keeper: number;
  /** Chain time at which it sends. */
  at: number;
}

/**
 * Who executes a running auction and when: for each keeper, the first block at or after both `now` and the kick plus
 * its latency at which reward − gas ≥ its minimum profit; the earliest wins (ties: lower latency, then lower index).
 * Undefined when no keeper ever profits at this price.
 */
export function planExecution(
  keepers: readonly KeeperProfile[],
  curve: RewardCurve,
  auction: RunningAuction,
  now: number,
  ethPrice: bigint,
): PlannedExecution | undefined {
  // A vault whose move rounds to nothing sold pays nothing.
  if (auction.valueBase <= 0n) return undefined;
  let best: PlannedExecution | undefined;
  for (const [index, k] of keepers.entries()) {
    const need = executionGasCost(k, ethPrice) + k.minProfitBase;
    const earliest = Math.max(auction.kickedAt + k.latency, now);
    let elapsed: number | undefined = Math.ceil((earliest - auction.kickedAt) / BLOCK_SECONDS) * BLOCK_SECONDS;
    while (elapsed !== undefined) {
      const reward = (BigInt(curve.bps(elapsed, auction.urgency, auction.ownerCap)) * auction.valueBase) / 10_000n;
      if (reward >= need) break;
      elapsed = elapsed >= curve.flatAfter ? undefined : elapsed + BLOCK_SECONDS;
    }
    if (elapsed === undefined) continue;
    const at = Math.max(auction.kickedAt + elapsed, now);
    if (best === undefined || at < best.at || (at === best.at && k.latency < keepers[best.keeper].latency)) {
      best = { keeper: index, at };
    }
  }
  return best;
}
