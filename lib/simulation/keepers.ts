/**
 * The simulated keepers: who they are (a seeded latency, gas and fee profile each) and when they act. They decide with
 * the keeper bot's own rules (`lib/keeper`): what to kick or cancel (`decideVault`), whether an execution pays
 * (`assessExecution`: the reward at that time and urgency against the gas at the prevailing base fee plus the tip,
 * and the least profit), whether a transaction can be sent under the base fee (`pricedOut`), who wins a race
 * (`raceOrder`). What the simulation adds is only around those rules: each keeper's latency, its downtime and the
 * base-fee path. The fastest keeper that is up kicks a vault once its latency has passed since the vault left its
 * band; each keeper executes at the first block, from its latency after the kick, where the bot's rule says it pays.
 */
import { ZeroAddress } from "ethers";

import type { KeeperAuction } from "../../typechain-types";
import {
  assessExecution,
  effectiveGasPrice,
  firstPayingElapsed,
  gasRewardBase,
  pricedOut,
  raceOrder,
  rewardGasPrice,
  type FeeView,
} from "../keeper/decide";
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
 * Gas stress only: each keeper's priority fee (gwei, in tenths) and the most it pays per gas (gwei): the bot's fees are
 * twice the base fee plus the tip; operators cap them (`--max-fee`), commonly at a few hundred gwei.
 */
export const TIP_GWEI = { min: 1, max: 3 } as const;
export const MAX_FEE_GWEI = { min: 80, max: 400 } as const;
/** Gas of a `kick`, as a keeper budgets it: 180,695 on average over the 18 kicks of a local run (6 vaults). */
export const KICK_GAS = 190_000n;
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
/** Its own stream, so that the fee draws leave the latency, gas price and least profit of a seed as they were. */
const FEE_STREAM = 21;
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
  /** Gas stress: its EIP-1559 priority fee and max fee, wei. */
  tip: bigint;
  maxFee: bigint;
}

/**
 * K keepers with seeded profiles, named keeper-1 … keeper-K. `maxFeeGwei` replaces the range their max fees are drawn
 * from (`--keeper-max-fee`); the draws themselves, and every other field, are the seed's.
 */
export function buildKeepers(
  count: number,
  seed: number,
  maxFeeGwei: { min: number; max: number } = MAX_FEE_GWEI,
): KeeperProfile[] {
  const random = new Random(streamSeed(seed, KEEPER_STREAM));
  const draw = (min: number, max: number, scale: number): number => {
    const low = Math.round(min * scale);
    return low + Math.floor(random.next() * (Math.round(max * scale) - low + 1));
  };
  const fees = new Random(streamSeed(seed, FEE_STREAM));
  const feeDraw = (min: number, max: number, scale: number): bigint => {
    const low = Math.round(min * scale);
    return BigInt(low + Math.floor(fees.next() * (Math.round(max * scale) - low + 1)));
  };
  return Array.from({ length: count }, (_, i) => ({
    name: `keeper-${i + 1}`,
    latency: draw(LATENCY_BLOCKS.min, LATENCY_BLOCKS.max, 1) * BLOCK_SECONDS,
    gasPrice: (BigInt(draw(GAS_PRICE_GWEI.min, GAS_PRICE_GWEI.max, 10)) * GWEI) / 10n,
    minProfitBase: (BigInt(draw(MIN_PROFIT_USD.min, MIN_PROFIT_USD.max, 100)) * BASE) / 100n,
    tip: (feeDraw(TIP_GWEI.min, TIP_GWEI.max, 10) * GWEI) / 10n,
    maxFee: feeDraw(maxFeeGwei.min, maxFeeGwei.max, 1) * GWEI,
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

/**
 * The auction's reward curve as keepers see it: `rewardBpsAt(elapsed, urgency)` read once per block of elapsed time,
 * at urgency 0 and 1, until the time curve stops growing. The reward at urgency u lies between the two, linearly
 * (§5.8: the boost is linear in u); the owner's and the protocol's caps are applied on top.
 */
export class RewardCurve {
  /**
   * `calm[i]` and `urgent[i]`: the curve at i blocks after the kick, at urgency 0 and 1; flat after the last. `gas`:
   * the auction's gas part (`KeeperAuction.gasConfig`: the units priced for one execution and the tip bound), absent
   * when the auction prices no gas.
   */
  constructor(
    private readonly calm: readonly number[],
    private readonly urgent: readonly number[],
    private readonly protocolCap: number,
    readonly gas?: { units: bigint; kickUnits: bigint; maxTip: bigint },
  ) {
    if (calm.length === 0 || calm.length !== urgent.length) {
      throw new SimulationError("RewardCurve: needs as many urgent samples as calm ones, at least one");
    }
  }

  static async read(auction: KeeperAuction, protocolCap: number): Promise<RewardCurve> {
    const { maxBps } = await auction.config();
    const g = await auction.gasConfig();
    const calm: number[] = [];
    const urgent: number[] = [];
    for (let i = 0; i < MAX_SAMPLES; i++) {
      const elapsed = i * BLOCK_SECONDS;
      calm.push(Number(await auction.rewardBpsAt(elapsed, 0n)));
      urgent.push(Number(await auction.rewardBpsAt(elapsed, WAD)));
      if (calm[i] >= Number(maxBps)) break;
    }
    const gas =
      g.nativeAsset === ZeroAddress ? undefined : { units: g.executeGas, kickUnits: g.kickGas, maxTip: g.maxTip };
    return new RewardCurve(calm, urgent, protocolCap, gas);
  }

  /**
   * The gas part the auction pays this keeper for one execution, base units, as on-chain (`rewardGasPrice`,
   * `gasRewardBase`): under gas stress at the next block's base fee and the keeper's tip; without it the node's base
   * fee is next to nothing and the keeper's constant gas price is all tip, which the auction bounds by `maxTip`.
   */
  gasPart(keeper: KeeperProfile, fees: FeeView | undefined, ethPrice: bigint, owner: OwnerRewardCaps): bigint {
    return this.priced(this.gas?.units ?? 0n, keeper, fees, ethPrice, owner);
  }

  /** The kick's refund the auction will pay this keeper for kicking now (`kickGas` at these fees), base units. */
  kickRefund(keeper: KeeperProfile, fees: FeeView | undefined, ethPrice: bigint, owner: OwnerRewardCaps): bigint {
    return this.priced(this.gas?.kickUnits ?? 0n, keeper, fees, ethPrice, owner);
  }

  private priced(
    units: bigint,
    keeper: KeeperProfile,
    fees: FeeView | undefined,
    ethPrice: bigint,
    owner: OwnerRewardCaps,
  ): bigint {
    if (this.gas === undefined || units === 0n) return 0n;
    const [baseFee, tip] = fees === undefined ? [0n, keeper.gasPrice] : [fees.baseFee, fees.tip];
    const price = rewardGasPrice(baseFee, tip, this.gas.maxTip, owner.maxGasPrice);
    return gasRewardBase(units, price, ethPrice, owner.maxRewardBase);
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

/** The owner's absolute caps on the keeper reward (`Policy.maxGasPrice`, `Policy.maxRewardBase`). */
export interface OwnerRewardCaps {
  maxGasPrice: bigint;
  maxRewardBase: bigint;
}

export interface RunningAuction extends OwnerRewardCaps {
  kickedAt: number;
  /** Who kicked it and the refund it is owed first out of the reward (none: nobody is owed one). */
  kicker?: number;
  kickRefundBase?: bigint;
  /** Oracle value of what the rebalance sells (the status's `amountIn`), base units. */
  valueBase: bigint;
  urgency: bigint;
  /** The owner's `maxKeeperRewardBps`. */
  ownerCap: number;
}

/** What the simulation adds around the keeper's rules: fees under the base-fee path, and downtime. */
export interface KeeperEnvironment {
  /** The keeper's fees in the next block under gas stress; undefined without it (constant `gasPrice`). */
  fees(keeper: number): FeeView | undefined;
  /** The first chain time at or after `t` at which the keeper is up (`t` itself without downtime). */
  upFrom(keeper: number, t: number): number;
}

/** What a unit of gas costs the keeper: its constant gas price, or the effective price under the base fee. */
export function keeperGasPrice(keeper: KeeperProfile, fees: FeeView | undefined): bigint {
  return fees === undefined ? keeper.gasPrice : effectiveGasPrice(fees);
}

export interface PlannedExecution {
  /** Chain time at which it sends; undefined when no keeper pays at this price. */
  at?: number;
  /** The keepers that send for it at `at`, winner first: more than one is a race (gas stress only). */
  order: number[];
  /** Keepers that would act but whose max fee is below the base fee: they send nothing. */
  pricedOut: number[];
}

/**
 * Who executes a running auction and when. Each keeper that is up and not priced out acts from its latency after the
 * kick (or `now`), at the first block where `assessExecution` says it pays, with the expected `EXECUTION_GAS` at its
 * gas price; the earliest time wins. Keepers due at that same time race: without gas stress only the winner is
 * listed (the faster one, then the lower index), as before; under gas stress all of them, in `raceOrder` (higher tip
 * first), and the losers' transactions are sent too.
 */
export function planExecution(
  keepers: readonly KeeperProfile[],
  curve: RewardCurve,
  auction: RunningAuction,
  now: number,
  ethPrice: bigint,
  env: KeeperEnvironment,
): PlannedExecution {
  const pricedOutKeepers: number[] = [];
  const due: { index: number; at: number }[] = [];
  for (const [index, k] of keepers.entries()) {
    const fees = env.fees(index);
    if (fees !== undefined && pricedOut(fees)) {
      pricedOutKeepers.push(index);
      continue;
    }
    const earliest = env.upFrom(index, Math.max(auction.kickedAt + k.latency, now));
    const elapsed = firstPayingElapsed(
      (e) => BigInt(curve.bps(e, auction.urgency, auction.ownerCap)),
      {
        valueSoldBase: auction.valueBase,
        ...executorShare(index, curve.gasPart(k, fees, ethPrice, auction), auction),
        gas: EXECUTION_GAS,
        gasPrice: keeperGasPrice(k, fees),
        nativePriceBase: ethPrice,
        minProfitBase: k.minProfitBase,
      },
      earliest - auction.kickedAt,
      curve.flatAfter,
      BLOCK_SECONDS,
    );
    if (elapsed === undefined) continue;
    // The reward does not fall with time: a keeper down when it would pay still pays when it is back.
    due.push({ index, at: env.upFrom(index, Math.max(auction.kickedAt + elapsed, now)) });
  }
  if (due.length === 0) return { order: [], pricedOut: pricedOutKeepers };
  const at = Math.min(...due.map((d) => d.at));
  const tied = due.filter((d) => d.at === at).map((d) => d.index);
  const gasStress = env.fees(tied[0]) !== undefined;
  const order = gasStress
    ? raceOrder(tied.map((index) => ({ index, tip: keepers[index].tip, latency: keepers[index].latency })))
    : [[...tied].sort((a, b) => keepers[a].latency - keepers[b].latency || a - b)[0]];
  return { at, order, pricedOut: pricedOutKeepers };
}

/**
 * What keeper `index` gets of an execution, as the auction pays it: the gas part, plus the kick's refund when it kicked;
 * another keeper's refund is paid first, so the executor's share of the owner's `maxRewardBase` is what is left.
 */
export function executorShare(
  index: number,
  gasPart: bigint,
  auction: Pick<RunningAuction, "kicker" | "kickRefundBase" | "maxRewardBase">,
): { gasRewardBase: bigint; maxRewardBase: bigint } {
  const refund = auction.kickRefundBase ?? 0n;
  if (auction.kicker === index) return { gasRewardBase: gasPart + refund, maxRewardBase: auction.maxRewardBase };
  const left = auction.maxRewardBase > refund ? auction.maxRewardBase - refund : 0n;
  return { gasRewardBase: gasPart, maxRewardBase: left };
}

/**
 * Who kicks a vault out of band since `outOfBand`, and when: of the keepers that are up, not priced out and for whom
 * `willing` (under gas stress: `kickPays`), the first to act, its latency after the vault left its band; ties go to the
 * faster keeper, then the lower index. Without downtime and gas stress that is always the fastest keeper.
 */
export function planKick(
  keepers: readonly KeeperProfile[],
  outOfBand: number,
  env: KeeperEnvironment,
  willing: (keeper: number) => boolean,
): { keeper: number; at: number; pricedOut: number[] } | { keeper?: undefined; pricedOut: number[] } {
  const out: number[] = [];
  let best: { keeper: number; at: number } | undefined;
  for (const [index, k] of keepers.entries()) {
    const fees = env.fees(index);
    if (fees !== undefined && pricedOut(fees)) {
      out.push(index);
      continue;
    }
    if (!willing(index)) continue;
    const at = env.upFrom(index, outOfBand + k.latency);
    if (best === undefined || at < best.at || (at === best.at && k.latency < keepers[best.keeper].latency)) {
      best = { keeper: index, at };
    }
  }
  return best === undefined ? { pricedOut: out } : { ...best, pricedOut: out };
}

/**
 * Whether kicking pays: the execution it starts, at the best reward the auction can reach for this vault (the curve's
 * end at its urgency, under the owner's and the protocol's caps), must cover the kick's and the execution's gas and
 * the keeper's least profit. When it does not, because the owner's reward cap is below what gas costs, keepers leave
 * the vault alone: that is the failure gas stress shows.
 */
export function kickPays(
  keeper: KeeperProfile,
  curve: RewardCurve,
  auction: Omit<RunningAuction, "kickedAt">,
  ethPrice: bigint,
  fees: FeeView | undefined,
): boolean {
  return assessExecution({
    valueSoldBase: auction.valueBase,
    rewardBps: BigInt(curve.bps(curve.flatAfter, auction.urgency, auction.ownerCap)),
    // It expects to execute too, and be refunded the kick with the execution's gas part.
    gasRewardBase: curve.gasPart(keeper, fees, ethPrice, auction) + curve.kickRefund(keeper, fees, ethPrice, auction),
    maxRewardBase: auction.maxRewardBase,
    gas: EXECUTION_GAS + KICK_GAS,
    gasPrice: keeperGasPrice(keeper, fees),
    nativePriceBase: ethPrice,
    minProfitBase: keeper.minProfitBase,
  }).pays;
}
