import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AddressLike } from "ethers";
import { MaxUint256, toQuantity } from "ethers";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import type { MockAggregatorV3 } from "../../typechain-types";
import { mined } from "./aave";
import { ARBITRAGE_TOLERANCE_BPS, ASSET_SYMBOLS, ASSETS, type AssetSymbol } from "./config";
import { deviationBps, Q192 } from "./math";
import { fund, type MarketTokens } from "./tokens";
import { poolSqrtPrice, type PoolInfo, type UniswapMarket } from "./uniswap";

/** What the arbitrageur keeps on hand, in whole tokens; it is topped up when it runs below half. */
const ARBITRAGE_RESERVE: Record<AssetSymbol, bigint> = { WETH: 2_000_000n, WBTC: 100_000n, USDC: 10_000_000_000n };

export class WorldArbitrageError extends Error {}

/**
 * Drives the local market: sets oracle prices and arbitrages every Uniswap pool to them, and moves
 * time and blocks. After `setPrice`, each pool's price is within `ARBITRAGE_TOLERANCE_BPS` of the
 * oracle's, or the call throws.
 */
export class World {
  constructor(
    private readonly hre: HardhatRuntimeEnvironment,
    private readonly admin: HardhatEthersSigner,
    private readonly arbitrageur: HardhatEthersSigner,
    readonly tokens: MarketTokens,
    readonly feeds: Record<AssetSymbol, MockAggregatorV3>,
    private readonly uniswap: UniswapMarket,
  ) {}

  /** The arbitrageur trades through the real SwapRouter, so it approves it once. */
  async init(): Promise<void> {
    for (const symbol of ASSET_SYMBOLS) {
      await mined(this.tokens.erc20[symbol].connect(this.arbitrageur).approve(this.uniswap.router, MaxUint256));
    }
  }

  /** The feed's USD price of an asset, 8 decimals. */
  async oraclePrice(symbol: AssetSymbol): Promise<bigint> {
    return this.feeds[symbol].latestAnswer();
  }

  async oraclePrices(): Promise<Record<AssetSymbol, bigint>> {
    const entries = await Promise.all(ASSET_SYMBOLS.map(async (s) => [s, await this.oraclePrice(s)] as const));
    return Object.fromEntries(entries) as Record<AssetSymbol, bigint>;
  }

  /** The USD price of a pool's base asset implied by its spot price and the quote's oracle price, 8 decimals. */
  async poolPrice(key: string): Promise<bigint> {
    const info = this.pool(key);
    const { sqrtPriceX96 } = await info.pool.slot0();
    const quotePrice = await this.oraclePrice(info.quote);
    const d0 = 10n ** BigInt(ASSETS[info.token0].decimals);
    const d1 = 10n ** BigInt(ASSETS[info.token1].decimals);
    const square = sqrtPriceX96 * sqrtPriceX96;
    // token1 per token0 = square / 2^192 in raw units; convert to whole units, then to USD.
    return info.base === info.token0
      ? (square * d0 * quotePrice) / (Q192 * d1)
      : (Q192 * d1 * quotePrice) / (square * d0);
  }

  /** Sets an asset's oracle price (8 decimals) and arbitrages every pool that holds it. */
  async setPrice(symbol: AssetSymbol, price: bigint): Promise<void> {
    if (price <= 0n) throw new RangeError(`World: price of ${symbol} must be positive, got ${price}`);
    await mined(this.feeds[symbol].connect(this.admin).setAnswer(price));
    for (const info of Object.values(this.uniswap.pools)) {
      if (info.token0 === symbol || info.token1 === symbol) await this.arbitrage(info.key);
    }
  }

  /** Re-publishes every feed's current answer, so that `updatedAt` is the latest block's time. */
  async refreshOracles(): Promise<void> {
    for (const symbol of ASSET_SYMBOLS) {
      await mined(this.feeds[symbol].connect(this.admin).setAnswer(await this.oraclePrice(symbol)));
    }
  }

  /** Swaps a pool to the oracle price through the SwapRouter, with the target as the price limit. */
  async arbitrage(key: string): Promise<void> {
    const info = this.pool(key);
    const target = poolSqrtPrice(info.token0, info.token1, await this.oraclePrices());
    const { sqrtPriceX96 } = await info.pool.slot0();
    if (sqrtPriceX96 !== target) {
      // Selling token0 lowers the price of token0 in token1, i.e. lowers sqrtPriceX96.
      const [tokenIn, tokenOut] = sqrtPriceX96 > target ? [info.token0, info.token1] : [info.token1, info.token0];
      const amountIn = await this.ensureReserve(tokenIn);
      await mined(
        this.uniswap.router.connect(this.arbitrageur).exactInputSingle({
          tokenIn: this.tokens.erc20[tokenIn],
          tokenOut: this.tokens.erc20[tokenOut],
          fee: info.fee,
          recipient: this.arbitrageur.address,
          deadline: MaxUint256,
          amountIn,
          amountOutMinimum: 0n,
          sqrtPriceLimitX96: target,
        }),
      );
    }
    const { sqrtPriceX96: after } = await info.pool.slot0();
    const deviation = deviationBps(after * after, target * target);
    if (deviation > ARBITRAGE_TOLERANCE_BPS) {
      throw new WorldArbitrageError(
        `World: pool ${key} ended ${deviation} bps from the oracle price (tolerance ${ARBITRAGE_TOLERANCE_BPS} bps). ` +
          `The move is larger than the pool's liquidity: add liquidity in lib/market/config.ts or move the price in smaller steps.`,
      );
    }
  }

  /** Moves time forward by `seconds` over `blocks` new blocks; the last block lands exactly `seconds` later. */
  async advance(seconds: number, blocks = 1): Promise<void> {
    if (!Number.isInteger(seconds) || !Number.isInteger(blocks) || blocks < 1 || seconds < blocks) {
      throw new RangeError(`World: advance needs whole seconds >= blocks >= 1, got ${seconds}s over ${blocks} blocks`);
    }
    const provider = this.hre.network.provider;
    const latest = await this.hre.ethers.provider.getBlock("latest");
    if (latest === null) throw new Error("World: the node returned no latest block");
    if (blocks > 1) {
      // hardhat_mine stamps its first block with the node's wall clock; pin it so the spacing is exact.
      const interval = Math.floor(seconds / blocks);
      await provider.request({
        method: "evm_setNextBlockTimestamp",
        params: [toQuantity(latest.timestamp + interval)],
      });
      await provider.request({ method: "hardhat_mine", params: [toQuantity(blocks - 1), toQuantity(interval)] });
    }
    await provider.request({ method: "evm_setNextBlockTimestamp", params: [toQuantity(latest.timestamp + seconds)] });
    await provider.request({ method: "evm_mine", params: [] });
  }

  /** Latest block timestamp. */
  async now(): Promise<number> {
    const latest = await this.hre.ethers.provider.getBlock("latest");
    if (latest === null) throw new Error("World: the node returned no latest block");
    return latest.timestamp;
  }

  /** Gives `to` an amount (raw units) of a market asset. */
  async fund(symbol: AssetSymbol, to: AddressLike, amount: bigint): Promise<void> {
    await fund(this.tokens, this.admin, symbol, to, amount);
  }

  pool(key: string): PoolInfo {
    const info = this.uniswap.pools[key];
    if (info === undefined) {
      throw new RangeError(`World: no pool ${key}; known pools: ${Object.keys(this.uniswap.pools).join(", ")}`);
    }
    return info;
  }

  private async ensureReserve(symbol: AssetSymbol): Promise<bigint> {
    const reserve = ARBITRAGE_RESERVE[symbol] * 10n ** BigInt(ASSETS[symbol].decimals);
    const balance = await this.tokens.erc20[symbol].balanceOf(this.arbitrageur);
    if (balance >= reserve / 2n) return balance;
    await this.fund(symbol, this.arbitrageur, reserve - balance);
    return reserve;
  }
}
