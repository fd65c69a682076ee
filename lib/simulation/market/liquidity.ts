/**
 * The `liquidity` stress, besides the mainnet-calibrated pools (`MAINNET_POOLS`, lib/market/config.ts) and the
 * realistic vault sizes (`MAINNET_DEPOSIT_WETH`, population.ts):
 *
 * - **LPs withdraw as volatility rises.** The realized volatility of the market price over the last hour (annualized,
 *   from the step-to-step log returns: sqrt(sum r^2 / elapsed seconds * seconds per year)) sets the share of the
 *   concentrated (non-full-range) WETH/USDC positions the LP keeps: 100% below 80%/yr, 70% from 80%, 45% from 150%,
 *   25% from 300%. The LP removes liquidity (`decreaseLiquidity` + `collect`) when the share falls and adds it back
 *   (`increaseLiquidity`) when it rises. A stylized rule, not a fit: concentrated LPs are known to pull liquidity in
 *   volatile markets (their loss-versus-rebalancing grows with σ²), and the thresholds put the cut in the hours of a
 *   crash, not in ordinary days (ETH's long-run volatility is 60-80%/yr). The full-range positions never move.
 * - **A finite, late arbitrageur.** It acts at a step only if `latencySeconds` have passed since its last action, and
 *   sells at most `capitalUsd` per pool per action (its inventory is refilled between actions), so a pool can lag the
 *   market, or stay below it after a sell flow. Assumed values, not calibrated: $5M, 60 s. Like the unlimited one it
 *   replaces, it acts at the path's steps only: between two steps the pools keep what keepers and sellers did to them.
 */
import { MaxUint256 } from "ethers";

import type { NonfungiblePositionManager } from "../../../typechain-types";
import { mined } from "../../market/aave";
import { MAX_TICK, MIN_TICK } from "../../market/math";
import type { Market, PoolInfo } from "../../market";

const SECONDS_PER_YEAR = 365 * 24 * 3_600;
const MAX_UINT128 = 2n ** 128n - 1n;

/** Realized volatility window, seconds. */
export const VOL_WINDOW_SECONDS = 3_600;

/** Share of the concentrated liquidity kept, by annualized realized volatility (highest threshold first). */
export const LP_WITHDRAWAL: readonly { minVol: number; keep: number }[] = [
  { minVol: 3.0, keep: 0.25 },
  { minVol: 1.5, keep: 0.45 },
  { minVol: 0.8, keep: 0.7 },
];

export interface ArbitrageurParams {
  latencySeconds: number;
  capitalUsd: number;
}

export const LIMITED_ARBITRAGEUR: ArbitrageurParams = { latencySeconds: 60, capitalUsd: 5_000_000 };

/** The share of concentrated liquidity the LP keeps at an annualized volatility. */
export function keepShare(vol: number): number {
  for (const level of LP_WITHDRAWAL) if (vol >= level.minVol) return level.keep;
  return 1;
}

/** Annualized realized volatility of the last `window` seconds of (time, price) samples. */
export class RealizedVolatility {
  private samples: { t: number; price: number }[] = [];

  constructor(readonly window: number = VOL_WINDOW_SECONDS) {}

  reset(): void {
    this.samples = [];
  }

  add(t: number, price: number): void {
    this.samples.push({ t, price });
    // Keep one sample at or before the window's start, so the window's first return is counted.
    while (this.samples.length > 2 && this.samples[1].t <= t - this.window) this.samples.shift();
  }

  /** 0 with fewer than two samples. */
  value(): number {
    if (this.samples.length < 2) return 0;
    let sum = 0;
    for (let i = 1; i < this.samples.length; i++)
      sum += Math.log(this.samples[i].price / this.samples[i - 1].price) ** 2;
    const elapsed = this.samples[this.samples.length - 1].t - this.samples[0].t;
    return elapsed <= 0 ? 0 : Math.sqrt((sum / elapsed) * SECONDS_PER_YEAR);
  }
}

interface Position {
  tokenId: bigint;
  pool: PoolInfo;
  tickLower: number;
  tickUpper: number;
  /** Liquidity at deployment: the 100% share. */
  initial: bigint;
}

const sqrtAtTick = (tick: number): number => Math.pow(1.0001, tick / 2);

/** The market's LP, moving its concentrated WETH/USDC positions to a share of their initial liquidity. */
export class LiquidityProvider {
  private constructor(
    private readonly market: Market,
    private readonly manager: NonfungiblePositionManager,
    private readonly positions: readonly Position[],
  ) {}

  /** Finds the LP's concentrated positions in the pools that hold WETH; approves the position manager. */
  static async prepare(market: Market): Promise<LiquidityProvider> {
    const { lp } = market.accounts;
    const manager = market.uniswap.positionManager.connect(lp);
    const byAddress = new Map<string, PoolInfo>();
    for (const info of Object.values(market.uniswap.pools)) {
      if (info.base === "WETH") byAddress.set((await info.pool.getAddress()).toLowerCase(), info);
    }
    const positions: Position[] = [];
    const count = await manager.balanceOf(lp.address);
    for (let i = 0n; i < count; i++) {
      const tokenId = await manager.tokenOfOwnerByIndex(lp.address, i);
      const p = await manager.positions(tokenId);
      const address = await market.uniswap.factory.getPool(p.token0, p.token1, p.fee);
      const pool = byAddress.get(address.toLowerCase());
      const [tickLower, tickUpper] = [Number(p.tickLower), Number(p.tickUpper)];
      // Full-range positions sit within one spacing of the extreme ticks.
      const fullRange = tickLower < MIN_TICK + 200 && tickUpper > MAX_TICK - 200;
      if (pool === undefined || fullRange) continue;
      positions.push({ tokenId, pool, tickLower, tickUpper, initial: p.liquidity });
    }
    for (const symbol of ["WETH", "USDC"] as const) {
      await mined(market.tokens.erc20[symbol].connect(lp).approve(manager, MaxUint256));
    }
    return new LiquidityProvider(market, manager, positions);
  }

  get positionCount(): number {
    return this.positions.length;
  }

  /** Current liquidity of every concentrated position over its initial liquidity, summed (1 = all in). */
  async share(): Promise<number> {
    let now = 0n;
    let initial = 0n;
    for (const p of this.positions) {
      now += (await this.manager.positions(p.tokenId)).liquidity;
      initial += p.initial;
    }
    return initial === 0n ? 1 : Number((now * 1_000_000n) / initial) / 1_000_000;
  }

  /** Brings every concentrated position to `share` of its initial liquidity. */
  async setShare(share: number): Promise<void> {
    const { lp } = this.market.accounts;
    const ppm = BigInt(Math.round(share * 1_000_000));
    for (const p of this.positions) {
      const target = (p.initial * ppm) / 1_000_000n;
      const current = (await this.manager.positions(p.tokenId)).liquidity;
      if (current > target) {
        await mined(
          this.manager.decreaseLiquidity({
            tokenId: p.tokenId,
            liquidity: current - target,
            amount0Min: 0n,
            amount1Min: 0n,
            deadline: MaxUint256,
          }),
        );
        await mined(
          this.manager.collect({
            tokenId: p.tokenId,
            recipient: lp.address,
            amount0Max: MAX_UINT128,
            amount1Max: MAX_UINT128,
          }),
        );
      } else if (current < target) {
        const [amount0, amount1] = await this.amountsFor(p, target - current);
        const token0 = this.market.tokens.erc20[p.pool.token0];
        const token1 = this.market.tokens.erc20[p.pool.token1];
        // The LP brings the tokens back (what it collected went elsewhere in its books): funded to the exact amounts.
        for (const [symbol, token, amount] of [
          [p.pool.token0, token0, amount0],
          [p.pool.token1, token1, amount1],
        ] as const) {
          const balance = await token.balanceOf(lp.address);
          if (balance < amount) await this.market.world.fund(symbol, lp.address, amount - balance);
        }
        await mined(
          this.manager.increaseLiquidity({
            tokenId: p.tokenId,
            amount0Desired: amount0,
            amount1Desired: amount1,
            amount0Min: 0n,
            amount1Min: 0n,
            deadline: MaxUint256,
          }),
        );
      }
    }
  }

  /** Token amounts (raw) that add `liquidity` to a position at the pool's current price (float maths, 0.1% over). */
  private async amountsFor(p: Position, liquidity: bigint): Promise<[bigint, bigint]> {
    const { sqrtPriceX96 } = await p.pool.pool.slot0();
    const sp = Number(sqrtPriceX96) / 2 ** 96;
    const sa = sqrtAtTick(p.tickLower);
    const sb = sqrtAtTick(p.tickUpper);
    const l = Number(liquidity) * 1.001;
    let a0 = 0;
    let a1 = 0;
    if (sp <= sa) a0 = (l * (sb - sa)) / (sa * sb);
    else if (sp >= sb) a1 = l * (sb - sa);
    else {
      a0 = (l * (sb - sp)) / (sp * sb);
      a1 = l * (sp - sa);
    }
    return [BigInt(Math.ceil(a0)) + 1n, BigInt(Math.ceil(a1)) + 1n];
  }
}
