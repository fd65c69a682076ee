import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { AddressLike, BaseContract } from "ethers";
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

/** What an arbitrage sold: the asset and its raw amount; and the pool's price after it. */
export interface WorldTrade {
  tokenIn: AssetSymbol;
  amountIn: bigint;
  sqrtPriceX96: bigint;
  /** The pool's active liquidity after the swap; undefined when there was none. */
  liquidity: bigint | undefined;
}

/** The USD price of a pool's base asset at `sqrtPriceX96`, given the quote's oracle price; 8 decimals. */
export function poolPriceAt(info: PoolInfo, sqrtPriceX96: bigint, quotePrice: bigint): bigint {
  const d0 = 10n ** BigInt(ASSETS[info.token0].decimals);
  const d1 = 10n ** BigInt(ASSETS[info.token1].decimals);
  const square = sqrtPriceX96 * sqrtPriceX96;
  // token1 per token0 = square / 2^192 in raw units; convert to whole units, then to USD.
  return info.base === info.token0
    ? (square * d0 * quotePrice) / (Q192 * d1)
    : (Q192 * d1 * quotePrice) / (square * d0);
}

/**
 * USD (8 decimals) it takes to move a pool's base-asset price down by `bps`, at active liquidity `liquidity`:
 * base sold = L * (1/sqrt(1 - bps) - 1) / sqrt(P) with P the price of the base in the quote. Exact while the move
 * crosses no initialized tick; an estimate otherwise (the market's positions span wide ranges).
 */
export function depthAt(
  info: PoolInfo,
  sqrtPriceX96: bigint,
  liquidity: bigint,
  bps: number,
  quotePrice: bigint,
): bigint {
  const factor = 1 / Math.sqrt(1 - bps / 10_000) - 1;
  // sqrt of the base's price in quote raw units, times 2^96.
  const sqrtBase = info.base === info.token0 ? Number(sqrtPriceX96) : Number(Q192) / Number(sqrtPriceX96);
  const baseRaw = (Number(liquidity) * factor * Number(2n ** 96n)) / sqrtBase;
  const basePrice = Number(poolPriceAt(info, sqrtPriceX96, quotePrice));
  return BigInt(Math.floor((baseRaw / 10 ** ASSETS[info.base].decimals) * basePrice));
}

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
    // Only the router and the pools: a task rebuilds a World from an address book without the position manager.
    private readonly uniswap: Pick<UniswapMarket, "router" | "pools">,
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
    return poolPriceAt(info, sqrtPriceX96, await this.oraclePrice(info.quote));
  }

  /** Sets an asset's oracle price (8 decimals) and arbitrages every pool that holds it. */
  async setPrice(symbol: AssetSymbol, price: bigint): Promise<void> {
    if (price <= 0n) throw new RangeError(`World: price of ${symbol} must be positive, got ${price}`);
    await this.setAnswer(symbol, price);
    for (const info of Object.values(this.uniswap.pools)) {
      if (info.token0 === symbol || info.token1 === symbol) await this.arbitrage(info.key);
    }
  }

  /** Re-publishes the feeds' current answers (every feed by default), so that `updatedAt` is the latest block's time. */
  async refreshOracles(symbols: readonly AssetSymbol[] = ASSET_SYMBOLS): Promise<void> {
    for (const symbol of symbols) {
      await this.setAnswer(symbol, await this.oraclePrice(symbol));
    }
  }

  /** Swaps a pool to the oracle price through the SwapRouter, with the target as the price limit. */
  async arbitrage(key: string): Promise<void> {
    await this.arbitrageTo(key, await this.oraclePrices());
  }

  /**
   * Swaps a pool towards the given USD prices (8 decimals) through the SwapRouter, with the target as the price limit.
   * Without `maxIn` the arbitrageur's capital is unlimited and the pool must end within `ARBITRAGE_TOLERANCE_BPS` of the
   * target, or this throws `WorldArbitrageError`. With `maxIn` (raw units of each asset it may sell) the swap stops at
   * that amount and the pool may end short of the target. Returns what was sold, raw units (zero if nothing).
   * `sqrtPriceX96`: the pool's price now, when the caller knows it (saves reading it).
   */
  async arbitrageTo(
    key: string,
    prices: Record<AssetSymbol, bigint>,
    maxIn?: Partial<Record<AssetSymbol, bigint>>,
    sqrtPriceX96?: bigint,
  ): Promise<WorldTrade> {
    const info = this.pool(key);
    const target = poolSqrtPrice(info.token0, info.token1, prices);
    const start = sqrtPriceX96 ?? (await info.pool.slot0()).sqrtPriceX96;
    let trade: WorldTrade = { tokenIn: info.token0, amountIn: 0n, sqrtPriceX96: start, liquidity: undefined };
    if (start !== target) {
      // Selling token0 lowers the price of token0 in token1, i.e. lowers sqrtPriceX96.
      const [tokenIn, tokenOut] = start > target ? [info.token0, info.token1] : [info.token1, info.token0];
      const reserve = await this.ensureReserve(tokenIn);
      const cap = maxIn?.[tokenIn];
      const amountIn = cap === undefined ? reserve : cap < reserve ? cap : reserve;
      trade = { ...trade, tokenIn };
      if (amountIn > 0n) {
        const hash = await this.send(
          this.arbitrageur,
          this.uniswap.router,
          this.uniswap.router.interface.encodeFunctionData("exactInputSingle", [
            {
              tokenIn: this.tokens.erc20[tokenIn].target as string,
              tokenOut: this.tokens.erc20[tokenOut].target as string,
              fee: info.fee,
              recipient: this.arbitrageur.address,
              deadline: MaxUint256,
              amountIn,
              amountOutMinimum: 0n,
              sqrtPriceLimitX96: target,
            },
          ]),
        );
        trade = { ...(await this.swapOf(info, hash)), tokenIn };
      }
    }
    if (maxIn !== undefined) return trade;
    const deviation = deviationBps(trade.sqrtPriceX96 * trade.sqrtPriceX96, target * target);
    if (deviation > ARBITRAGE_TOLERANCE_BPS) {
      throw new WorldArbitrageError(
        `World: pool ${key} ended ${deviation} bps from the oracle price (tolerance ${ARBITRAGE_TOLERANCE_BPS} bps). ` +
          `The move is larger than the pool's liquidity: add liquidity in lib/market/config.ts or move the price in smaller steps.`,
      );
    }
    return trade;
  }

  /** USD (8 decimals) it takes to move a pool's base-asset price down by `bps`, at its active liquidity (`depthAt`). */
  async depthDown(key: string, bps: number): Promise<bigint> {
    const info = this.pool(key);
    const [{ sqrtPriceX96 }, liquidity, quotePrice] = await Promise.all([
      info.pool.slot0(),
      info.pool.liquidity(),
      this.oraclePrice(info.quote),
    ]);
    return depthAt(info, sqrtPriceX96, liquidity, bps, quotePrice);
  }

  /** Publishes a feed answer (8 decimals) without touching any pool: a new round at the latest block's time. */
  async publish(symbol: AssetSymbol, price: bigint): Promise<void> {
    if (price <= 0n) throw new RangeError(`World: price of ${symbol} must be positive, got ${price}`);
    await this.setAnswer(symbol, price);
  }

  /**
   * Moves time forward by `seconds` over `blocks` new blocks; the last block lands exactly `seconds` later. `from`:
   * the latest block's timestamp, when the caller knows it (saves reading the block).
   */
  async advance(seconds: number, blocks = 1, from?: number): Promise<void> {
    if (!Number.isInteger(seconds) || !Number.isInteger(blocks) || blocks < 1 || seconds < blocks) {
      throw new RangeError(`World: advance needs whole seconds >= blocks >= 1, got ${seconds}s over ${blocks} blocks`);
    }
    const provider = this.hre.network.provider;
    const start = from ?? (await this.now());
    if (blocks > 1) {
      // hardhat_mine stamps its first block with the node's wall clock; pin it so the spacing is exact.
      const interval = Math.floor(seconds / blocks);
      await provider.request({
        method: "evm_setNextBlockTimestamp",
        params: [toQuantity(start + interval)],
      });
      await provider.request({ method: "hardhat_mine", params: [toQuantity(blocks - 1), toQuantity(interval)] });
    }
    await provider.request({ method: "evm_setNextBlockTimestamp", params: [toQuantity(start + seconds)] });
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

  /** The keys of the pools this world trades in. */
  poolKeys(): string[] {
    return Object.keys(this.uniswap.pools);
  }

  pool(key: string): PoolInfo {
    const info = this.uniswap.pools[key];
    if (info === undefined) {
      throw new RangeError(`World: no pool ${key}; known pools: ${Object.keys(this.uniswap.pools).join(", ")}`);
    }
    return info;
  }

  /** Sends a transaction straight to the node (automine: mined, or thrown if it reverts); returns its hash. */
  private async send(from: HardhatEthersSigner, to: BaseContract, data: string): Promise<string> {
    // The gas limit ethers' Hardhat signer would use: the network's configured one.
    const gas = this.hre.network.config.gas;
    const tx = {
      from: from.address,
      to: await to.getAddress(),
      data,
      ...(gas === "auto" ? {} : { gas: toQuantity(gas) }),
    };
    return (await this.hre.network.provider.request({ method: "eth_sendTransaction", params: [tx] })) as string;
  }

  private async setAnswer(symbol: AssetSymbol, price: bigint): Promise<void> {
    const feed = this.feeds[symbol];
    await this.send(this.admin, feed, feed.interface.encodeFunctionData("setAnswer", [price]));
  }

  /** What a swap through a pool sold (the pool's positive delta) and where it left the pool, from its `Swap` event. */
  private async swapOf(
    info: PoolInfo,
    hash: string,
  ): Promise<{ amountIn: bigint; sqrtPriceX96: bigint; liquidity: bigint }> {
    const receipt = (await this.hre.network.provider.request({
      method: "eth_getTransactionReceipt",
      params: [hash],
    })) as { logs: { address: string; topics: string[]; data: string }[] } | null;
    const address = (await info.pool.getAddress()).toLowerCase();
    for (const log of receipt?.logs ?? []) {
      if (log.address.toLowerCase() !== address) continue;
      const parsed = info.pool.interface.parseLog(log);
      if (parsed?.name !== "Swap") continue;
      const { amount0, amount1, sqrtPriceX96, liquidity } = parsed.args as unknown as Record<string, bigint>;
      return { amountIn: amount0 > 0n ? amount0 : amount1, sqrtPriceX96, liquidity };
    }
    throw new Error(`World: no Swap event of pool ${info.key} in transaction ${hash}`);
  }

  private async ensureReserve(symbol: AssetSymbol): Promise<bigint> {
    const reserve = ARBITRAGE_RESERVE[symbol] * 10n ** BigInt(ASSETS[symbol].decimals);
    const balance = await this.tokens.erc20[symbol].balanceOf(this.arbitrageur);
    if (balance >= reserve / 2n) return balance;
    await this.fund(symbol, this.arbitrageur, reserve - balance);
    return reserve;
  }
}
