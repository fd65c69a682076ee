/**
 * The simulation's market, with the stresses switched on (`oracle`, `liquidity`, `sellers`; lib/simulation/stress.ts).
 * The engine moves it with one call per step, `step(time, pathPrice)`, which returns the WETH price of the ORACLE: the
 * one Aave, the liquidator, the keepers and the HF predictions must use. The path is the MARKET price (before the
 * sellers' feedback); the pools follow the market through the arbitrageur, the feed follows its round rule.
 *
 * One step, in order (each a transaction of its own, so each lands in its own block):
 *  1. the chain moves to the step's time in 12-second blocks (`advanceTo`; with `oracle`, heartbeat rounds are
 *     published at their exact time on the way);
 *  2. `sellers`: a share of the route pool's move since the last step carries into the market price;
 *  3. `liquidity`: the LP sets its concentrated liquidity by the last hour's realized volatility;
 *  4. without `oracle`, the feed is set to the market price (today's behaviour);
 *  5. the arbitrageur swaps each WETH/USDC pool towards the market price: unlimited and every step, or with
 *     `liquidity`, capped at `LIMITED_ARBITRAGEUR.capitalUsd` per pool and only every `latencySeconds`;
 *  6. `sellers`: the outside sell flow of the drawdown rule goes into the 0.05% pool;
 *  7. `oracle`: a round, if the market deviates from the last one by 0.5% or the heartbeat is due: one block after the
 *     market's move;
 *  8. the other feeds (and, without `oracle`, WETH's) are re-published every `refreshSeconds`.
 * With none of the three stresses this is exactly what the engine did before: `world.setPrice` and the refresh.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { toQuantity } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { ASSET_SYMBOLS, ASSETS, poolKey, type AssetSymbol, type Market } from "../../market";
import { depthAt, poolPriceAt } from "../../market/world";
import type { BlockClock } from "../clock";
import { BLOCK_SECONDS } from "../keepers";
import type { StressSet } from "../stress";
import {
  keepShare,
  LIMITED_ARBITRAGEUR,
  LiquidityProvider,
  RealizedVolatility,
  type ArbitrageurParams,
} from "./liquidity";
import { OracleRounds } from "./oracle";
import { approveSales, DrawdownSellers, FLOW_PASS_THROUGH, OUTSIDE_FLOW, SELL_FEE, sellWeth } from "./sellers";

export * from "./liquidity";
export * from "./oracle";
export * from "./sellers";

/** The pool whose price the sellers' feedback and the pool-vs-market gap use: the route and price-guard pool. */
export const ROUTE_POOL = poolKey({ base: "WETH", quote: "USDC", fee: SELL_FEE });
/** Depth is the USD it takes to move the WETH/USDC pools this far down. */
export const DEPTH_BPS = 200;
/** WETH the outside sellers hold, far more than the rule can sell. */
const OUTSIDE_WETH = 2_000_000n * 10n ** 18n;

const E8 = 100_000_000;
const WEI = 10n ** 18n;
const USDC_UNIT = 10n ** BigInt(ASSETS.USDC.decimals);

/**
 * What the stresses did in one policy's run. Always filled (with zeros for a stress that is off, except where noted),
 * so that runs with and without a stress compare field by field.
 */
export interface MarketStressReport {
  /** WETH oracle rounds published during the replay (oracle stress; without it, one per step). */
  oracleRounds: number;
  /** Of which forced by the heartbeat (oracle stress only). */
  oracleHeartbeatRounds: number;
  /** Largest |oracle / market - 1| left standing after a step, bps (oracle stress; 0 without it). */
  oracleGapMaxBps: number;
  /** USD to move the WETH/USDC pools 2% down (summed over both), at the replay's start and at its worst step. */
  depthStartUsd: number;
  depthWorstUsd: number;
  /** Lowest share of their initial liquidity the LP's concentrated positions held (liquidity stress; 1 without). */
  lpShareMin: number;
  /** USD the arbitrageur sold into the pools (WETH at the market price, USDC at $1), and its swaps. */
  arbitrageVolumeUsd: number;
  arbitrageSwaps: number;
  /** Largest |route pool / market - 1| at the end of a step's market actions, bps: what keepers trade against. */
  poolGapMaxBps: number;
  /** WETH the liquidator sold into the pool, and the USDC it got (sellers stress). */
  liquidatorSoldWeth: number;
  liquidatorSoldUsd: number;
  /** WETH the outside holders sold under the drawdown rule, and the USDC they got (sellers stress). */
  outsideSoldWeth: number;
  outsideSoldUsd: number;
  /** Market price at the end over the path's, less 1, in %: the on-chain flow's permanent impact (sellers stress). */
  marketImpactPct: number;
}

interface PoolState {
  sqrtPriceX96: bigint;
  liquidity: bigint;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const usdOf = (base: bigint): number => Number(base / 1_000_000n) / 100;
const wethOf = (wei: bigint): number => Number(wei / 10n ** 14n) / 10_000;
const gapBps = (a: bigint, b: bigint): number => Number(((a > b ? a - b : b - a) * 1_000_000n) / b) / 100;

export class StressedMarket {
  readonly rounds = new OracleRounds();
  private readonly volatility = new RealizedVolatility();
  private readonly outside: DrawdownSellers;
  private readonly wethPools: readonly string[];

  private price = 0n;
  private impact = 1;
  private poolMark: bigint | undefined;
  private lastArbitrage = -Infinity;
  private lastRefresh = -Infinity;
  private lpShare = 1;
  /** What is known of the WETH pools, valid while the clock's `writes` is `knownAt`. */
  private readonly known = new Map<string, PoolState>();
  private knownAt = -1;
  private counters = StressedMarket.zero();

  private constructor(
    private readonly market: Market,
    readonly stress: StressSet,
    private readonly clock: BlockClock,
    private readonly refreshSeconds: number,
    private readonly lp: LiquidityProvider | undefined,
    private readonly seller: HardhatEthersSigner | undefined,
    depthUsd: number,
    /** The feeds' answers, read at each replay's start: in a replay only WETH's changes (the rest are re-published). */
    private answers: Record<AssetSymbol, bigint>,
    readonly arbitrageur: ArbitrageurParams = LIMITED_ARBITRAGEUR,
  ) {
    this.outside = new DrawdownSellers(OUTSIDE_FLOW.depthShare * depthUsd);
    this.wethPools = Object.values(market.uniswap.pools)
      .filter((p) => p.token0 === "WETH" || p.token1 === "WETH")
      .map((p) => p.key);
  }

  private static zero() {
    return {
      oracleRounds: 0,
      arbitrageVolumeBase: 0n,
      arbitrageSwaps: 0,
      poolGapMaxBps: 0,
      depthStartBase: 0n,
      depthWorstBase: 0n,
      lpShareMin: 1,
      liquidatorSoldWei: 0n,
      liquidatorSoldUsdc: 0n,
      outsideSoldWei: 0n,
      outsideSoldUsdc: 0n,
    };
  }

  /**
   * Readies the actors the stresses need (the LP's approvals, the outside sellers' WETH): run it once, before the
   * policies' snapshot. `refreshSeconds`: how often the other feeds are re-published.
   */
  static async prepare(
    hre: HardhatRuntimeEnvironment,
    market: Market,
    stress: StressSet,
    clock: BlockClock,
    refreshSeconds: number,
  ): Promise<StressedMarket> {
    const lp = stress.has("liquidity") ? await LiquidityProvider.prepare(market) : undefined;
    let seller: HardhatEthersSigner | undefined;
    if (stress.has("sellers")) {
      const address = "0x" + "5e11e4".padEnd(40, "0");
      await hre.network.provider.request({ method: "hardhat_impersonateAccount", params: [address] });
      await hre.network.provider.request({ method: "hardhat_setBalance", params: [address, toQuantity(10n ** 21n)] });
      seller = await hre.ethers.getSigner(address);
      await market.world.fund("WETH", address, OUTSIDE_WETH);
      await approveSales(market, seller);
    }
    let depth = 0n;
    for (const info of Object.values(market.uniswap.pools)) {
      if (info.base === "WETH") depth += await market.world.depthDown(info.key, DEPTH_BPS);
    }
    const answers = await market.world.oraclePrices();
    return new StressedMarket(market, stress, clock, refreshSeconds, lp, seller, Number(depth) / E8, answers);
  }

  /** USD (8 decimals) to move the WETH/USDC pools 2% down, summed. */
  async depth(): Promise<bigint> {
    return (await this.pools()).depth;
  }

  /** USD (8 decimals) to move the WETH/USDC pools 2% down, summed; and the route pool's price (8 decimals). */
  private async pools(): Promise<{ depth: bigint; route: bigint }> {
    const { world } = this.market;
    const states = await Promise.all(this.wethPools.map((key) => this.poolState(key)));
    let depth = 0n;
    let route = 0n;
    for (const [i, key] of this.wethPools.entries()) {
      const info = world.pool(key);
      const { sqrtPriceX96, liquidity } = states[i];
      const quote = this.answers[info.quote];
      depth += depthAt(info, sqrtPriceX96, liquidity, DEPTH_BPS, quote);
      if (key === ROUTE_POOL) route = poolPriceAt(info, sqrtPriceX96, quote);
    }
    return { depth, route };
  }

  /** The route pool's price now (8 decimals). */
  private async routePrice(): Promise<bigint> {
    const info = this.market.world.pool(ROUTE_POOL);
    return poolPriceAt(info, (await this.poolState(ROUTE_POOL)).sqrtPriceX96, this.answers[info.quote]);
  }

  /**
   * A WETH pool's price and active liquidity: read from the chain, or known from the last read or arbitrage when
   * nothing was written since (`BlockClock.writes`).
   */
  private async poolState(key: string): Promise<PoolState> {
    if (this.knownAt !== this.clock.writes()) {
      this.known.clear();
      this.knownAt = this.clock.writes();
    }
    let state = this.known.get(key);
    if (state === undefined) {
      const { pool } = this.market.world.pool(key);
      const [{ sqrtPriceX96 }, liquidity] = await Promise.all([pool.slot0(), pool.liquidity()]);
      state = { sqrtPriceX96, liquidity };
      this.known.set(key, state);
    }
    return state;
  }

  /** Runs transactions known to leave the pools alone (feed rounds): what is known of them stays known. */
  private async sparingPools(work: () => Promise<void>): Promise<void> {
    const valid = this.knownAt === this.clock.writes();
    await work();
    if (valid) this.knownAt = this.clock.writes();
  }

  /** Starts a policy's replay from the chain as it is (after the snapshot's revert and the opens): state and counters. */
  async reset(): Promise<void> {
    const [, answer, , updatedAt] = await this.market.feeds.WETH.latestRoundData();
    this.answers = await this.market.world.oraclePrices();
    this.price = answer;
    this.rounds.start({ price: answer, at: Number(updatedAt) });
    this.impact = 1;
    this.poolMark = undefined;
    this.lastArbitrage = -Infinity;
    this.lastRefresh = -Infinity;
    this.lpShare = this.lp === undefined ? 1 : await this.lp.share();
    this.volatility.reset();
    this.outside.reset(Number(answer));
    this.counters = StressedMarket.zero();
    this.counters.depthStartBase = await this.depth();
    this.counters.depthWorstBase = this.counters.depthStartBase;
    this.counters.lpShareMin = this.lpShare;
  }

  /** The market price now (8 decimals): the path's, times the sellers' permanent impact. */
  get marketPrice(): bigint {
    return this.price;
  }

  /** The WETH oracle price now (8 decimals). */
  get oraclePrice(): bigint {
    return this.stress.has("oracle") ? this.rounds.latest.price : this.price;
  }

  /**
   * Moves the chain forward to `time` in 12-second blocks (at least one); nothing when it is there already. With the
   * oracle stress, a heartbeat round falling on the way is published at its time.
   */
  async advanceTo(time: number): Promise<void> {
    if (this.stress.has("oracle")) {
      while (this.rounds.heartbeatDue() <= time) {
        await this.move(this.rounds.heartbeatDue());
        await this.publishRound("heartbeat");
      }
    }
    await this.move(time);
  }

  /** One step of the path: see the module comment. Returns the oracle's WETH price, 8 decimals. */
  async step(time: number, pathPrice: bigint): Promise<bigint> {
    const { world } = this.market;
    await this.advanceTo(time);
    const now = await this.clock.latest();

    if (this.stress.has("sellers") && this.poolMark !== undefined) {
      const move = Number(await this.routePrice()) / Number(this.poolMark) - 1;
      this.impact *= 1 + FLOW_PASS_THROUGH * move;
    }
    this.price = this.impact === 1 ? pathPrice : BigInt(Math.round(Number(pathPrice) * this.impact));

    if (this.lp !== undefined) {
      this.volatility.add(now, Number(this.price));
      const share = keepShare(this.volatility.value());
      if (share !== this.lpShare) {
        await this.lp.setShare(share);
        this.lpShare = share;
        this.counters.lpShareMin = Math.min(this.counters.lpShareMin, share);
      }
    }

    if (!this.stress.has("oracle")) {
      await this.sparingPools(() => world.publish("WETH", this.price));
      this.counters.oracleRounds++;
    }
    await this.arbitrage(now);
    if (this.stress.has("sellers")) {
      this.poolMark = await this.routePrice();
      await this.sellOutside();
    }
    if (this.stress.has("oracle")) {
      const reason = this.rounds.due(this.price, await this.clock.latest());
      if (reason !== undefined) await this.publishRound(reason);
    }
    if ((await this.clock.latest()) - this.lastRefresh >= this.refreshSeconds) {
      const symbols = this.stress.has("oracle") ? ASSET_SYMBOLS.filter((s) => s !== "WETH") : ASSET_SYMBOLS;
      await this.sparingPools(() => world.refreshOracles(symbols));
      this.lastRefresh = await this.clock.latest();
    }

    if (this.stress.has("oracle")) this.rounds.observe(this.price);
    const { depth, route } = await this.pools();
    this.counters.poolGapMaxBps = Math.max(this.counters.poolGapMaxBps, gapBps(route, this.price));
    if (depth < this.counters.depthWorstBase) this.counters.depthWorstBase = depth;
    return this.oraclePrice;
  }

  /** The liquidator's sale of what it seized (sellers stress), for the report. */
  liquidatorSold(wei: bigint, usdc: bigint): void {
    this.counters.liquidatorSoldWei += wei;
    this.counters.liquidatorSoldUsdc += usdc;
  }

  report(pathPrice: bigint): MarketStressReport {
    const c = this.counters;
    const oracle = this.stress.has("oracle");
    return {
      oracleRounds: oracle ? this.rounds.rounds : c.oracleRounds,
      oracleHeartbeatRounds: oracle ? this.rounds.heartbeatRounds : 0,
      oracleGapMaxBps: oracle ? this.rounds.maxGapBps : 0,
      depthStartUsd: usdOf(c.depthStartBase),
      depthWorstUsd: usdOf(c.depthWorstBase),
      lpShareMin: c.lpShareMin,
      arbitrageVolumeUsd: usdOf(c.arbitrageVolumeBase),
      arbitrageSwaps: c.arbitrageSwaps,
      poolGapMaxBps: c.poolGapMaxBps,
      liquidatorSoldWeth: wethOf(c.liquidatorSoldWei),
      liquidatorSoldUsd: usdOf(c.liquidatorSoldUsdc * 100n),
      outsideSoldWeth: wethOf(c.outsideSoldWei),
      outsideSoldUsd: usdOf(c.outsideSoldUsdc * 100n),
      marketImpactPct: pathPrice === 0n ? 0 : round2((Number(this.price) / Number(pathPrice) - 1) * 100),
    };
  }

  private async move(time: number): Promise<void> {
    const now = await this.clock.latest();
    if (time <= now) return;
    const seconds = time - now;
    await this.market.world.advance(seconds, Math.max(1, Math.floor(seconds / BLOCK_SECONDS)), now);
  }

  private async publishRound(reason: "deviation" | "heartbeat"): Promise<void> {
    await this.sparingPools(() => this.market.world.publish("WETH", this.price));
    this.rounds.record({ price: this.price, at: await this.clock.latest() }, reason);
  }

  /** Step 5: every WETH pool towards the market price. */
  private async arbitrage(now: number): Promise<void> {
    const { world } = this.market;
    const limited = this.stress.has("liquidity");
    if (limited && now - this.lastArbitrage < this.arbitrageur.latencySeconds) return;
    const prices: Record<AssetSymbol, bigint> = { ...this.answers, WETH: this.price };
    const capital = BigInt(this.arbitrageur.capitalUsd);
    const maxIn = limited ? { WETH: (capital * BigInt(E8) * WEI) / this.price, USDC: capital * USDC_UNIT } : undefined;
    for (const key of this.wethPools) {
      const before = await this.poolState(key);
      const writes = this.clock.writes();
      const trade = await world.arbitrageTo(key, prices, maxIn, before.sqrtPriceX96);
      // The swap (and the arbitrageur's funding) touched this pool only; its event tells where it left it.
      if (this.knownAt === writes) this.knownAt = this.clock.writes();
      if (trade.liquidity !== undefined) {
        this.known.set(key, { sqrtPriceX96: trade.sqrtPriceX96, liquidity: trade.liquidity });
      }
      if (trade.amountIn === 0n) continue;
      this.counters.arbitrageSwaps++;
      this.counters.arbitrageVolumeBase +=
        trade.tokenIn === "WETH" ? (trade.amountIn * this.price) / WEI : (trade.amountIn * BigInt(E8)) / USDC_UNIT;
    }
    this.lastArbitrage = now;
  }

  /** Step 6: the drawdown rule's sale. */
  private async sellOutside(): Promise<void> {
    if (this.seller === undefined) return;
    const usd = this.outside.next(Number(this.price));
    if (usd <= 0) return;
    const wei = (BigInt(Math.round(usd * 100)) * BigInt(E8) * WEI) / (100n * this.price);
    const usdc = await sellWeth(this.market, this.seller, wei);
    this.counters.outsideSoldWei += wei;
    this.counters.outsideSoldUsdc += usdc;
  }
}
