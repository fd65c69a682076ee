/**
 * The `sellers` stress:
 *
 * - **Liquidators sell what they seize** (lib/simulation/liquidator.ts, `sellSeized`): right after a vault's
 *   liquidation, the WETH it received goes into the WETH/USDC 0.05% pool through the real SwapRouter, with no price
 *   limit: a liquidation bot holds no ETH risk.
 * - **An outside sell flow tied to the drawdown.** Holders outside the simulation sell as the market falls from its
 *   running high: each time the drawdown reaches a new depth beyond `OUTSIDE_FLOW.thresholdPct`, they sell
 *   `OUTSIDE_FLOW.depthShare` of the WETH/USDC pools' initial 2% depth for each percentage point of the new depth
 *   (e.g. with $10M of depth, $1M per point: a fall from -5% to -15% sells $10M). A new high resets the depth. It is
 *   sold into the 0.05% pool right after the step's arbitrage, so keepers trade against it until the next arbitrage.
 *   A stylized rule (an assumption, not a fit): it scales with the pools, so it stresses the local and the mainnet
 *   liquidity alike.
 * - **The on-chain flow moves the market.** The pools are a part of ETH's spot market, not all of it: at every step,
 *   `FLOW_PASS_THROUGH` (a quarter, an assumption of the order of DEXs' share of ETH spot volume) of the route pool's
 *   move since the last step's arbitrage (keepers' swaps, liquidators' and outside sales) carries into the market
 *   price, permanently. That is what makes liquidations cascade: their sales lower the market, the oracle follows
 *   (at its next round), more vaults fall below HF 1.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MaxUint256 } from "ethers";

import { mined } from "../../market/aave";
import type { Market } from "../../market";

export const OUTSIDE_FLOW = { thresholdPct: 5, depthShare: 0.1 } as const;
export const FLOW_PASS_THROUGH = 0.25;
/** The pool the liquidator and the outside sellers sell into. */
export const SELL_FEE = 500;

/** The outside flow rule alone: how much to sell (USD) at a market price. */
export class DrawdownSellers {
  private high = 0;
  /** Deepest drawdown (percentage points) since the last high. */
  private deepest = 0;

  constructor(
    /** USD sold per percentage point of new drawdown. */
    readonly usdPerPoint: number,
    readonly thresholdPct: number = OUTSIDE_FLOW.thresholdPct,
  ) {}

  reset(price: number): void {
    this.high = price;
    this.deepest = 0;
  }

  /** USD the outside holders sell at this market price (0 unless the drawdown is at a new depth past the threshold). */
  next(price: number): number {
    if (price >= this.high) {
      this.high = price;
      this.deepest = 0;
      return 0;
    }
    const drawdown = (1 - price / this.high) * 100;
    const sold = Math.max(0, Math.max(drawdown, this.thresholdPct) - Math.max(this.deepest, this.thresholdPct));
    this.deepest = Math.max(this.deepest, drawdown);
    return sold * this.usdPerPoint;
  }
}

/** Sells `amount` WETH (wei) from `seller` into the WETH/USDC pool of `fee`; returns the USDC received (raw). */
export async function sellWeth(
  market: Market,
  seller: HardhatEthersSigner,
  amount: bigint,
  fee = SELL_FEE,
): Promise<bigint> {
  if (amount === 0n) return 0n;
  const { WETH, USDC } = market.tokens.erc20;
  const before = await USDC.balanceOf(seller.address);
  await mined(
    market.uniswap.router.connect(seller).exactInputSingle({
      tokenIn: WETH,
      tokenOut: USDC,
      fee,
      recipient: seller.address,
      deadline: MaxUint256,
      amountIn: amount,
      amountOutMinimum: 0n,
      sqrtPriceLimitX96: 0n,
    }),
  );
  return (await USDC.balanceOf(seller.address)) - before;
}

/** Approves the SwapRouter for a seller's WETH. */
export async function approveSales(market: Market, seller: HardhatEthersSigner): Promise<void> {
  await mined(market.tokens.erc20.WETH.connect(seller).approve(market.uniswap.router, MaxUint256));
}
