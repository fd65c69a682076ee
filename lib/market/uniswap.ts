import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MaxUint256, ZeroAddress } from "ethers";

import {
  NonfungiblePositionManager__factory,
  QuoterV2__factory,
  SwapRouter__factory,
  UniswapV3Factory__factory,
  UniswapV3Pool__factory,
  type NonfungiblePositionManager,
  type QuoterV2,
  type SwapRouter,
  type UniswapV3Factory,
  type UniswapV3Pool,
} from "../../typechain-types";
import { mined } from "./aave";
import { ASSETS, OBSERVATION_CARDINALITY, POOLS, poolKey, type AssetSymbol, type PoolParams } from "./config";
import { alignTick, MAX_TICK, MIN_TICK, sqrtPriceX96FromUsd, TICK_SPACINGS, tickAtSqrtPrice } from "./math";
import { fund, type MarketTokens } from "./tokens";

export interface PoolInfo extends PoolParams {
  key: string;
  pool: UniswapV3Pool;
  token0: AssetSymbol;
  token1: AssetSymbol;
}

export interface UniswapMarket {
  factory: UniswapV3Factory;
  router: SwapRouter;
  quoter: QuoterV2;
  positionManager: NonfungiblePositionManager;
  pools: Record<string, PoolInfo>;
}

/** Orders two market assets the way Uniswap does: by address. */
export async function sortAssets(
  tokens: MarketTokens,
  a: AssetSymbol,
  b: AssetSymbol,
): Promise<[AssetSymbol, AssetSymbol]> {
  const [addrA, addrB] = await Promise.all([tokens.erc20[a].getAddress(), tokens.erc20[b].getAddress()]);
  return BigInt(addrA) < BigInt(addrB) ? [a, b] : [b, a];
}

/** sqrtPriceX96 for a pool of two market assets at the given USD prices (8 decimals). */
export function poolSqrtPrice(token0: AssetSymbol, token1: AssetSymbol, prices: Record<AssetSymbol, bigint>): bigint {
  return sqrtPriceX96FromUsd(prices[token0], ASSETS[token0].decimals, prices[token1], ASSETS[token1].decimals);
}

/**
 * Deploys Uniswap V3 from the v3-core and v3-periphery npm artifacts, creates the configured pools at
 * the oracle's initial prices, raises their observation cardinality and adds the LP's liquidity.
 */
export async function deployUniswap(
  admin: HardhatEthersSigner,
  lp: HardhatEthersSigner,
  tokens: MarketTokens,
  poolParams: readonly PoolParams[] = POOLS,
): Promise<UniswapMarket> {
  const factory = await new UniswapV3Factory__factory(admin).deploy();
  const weth = await tokens.weth.getAddress();
  const router = await new SwapRouter__factory(admin).deploy(factory, weth);
  const quoter = await new QuoterV2__factory(admin).deploy(factory, weth);
  // The token descriptor only renders NFT metadata, which the market never reads.
  const positionManager = await new NonfungiblePositionManager__factory(admin).deploy(factory, weth, ZeroAddress);

  const initialPrices = Object.fromEntries(Object.values(ASSETS).map((a) => [a.symbol, a.initialPrice])) as Record<
    AssetSymbol,
    bigint
  >;
  const pools: Record<string, PoolInfo> = {};
  for (const params of poolParams) {
    const [token0, token1] = await sortAssets(tokens, params.base, params.quote);
    const [address0, address1] = [await tokens.erc20[token0].getAddress(), await tokens.erc20[token1].getAddress()];
    const sqrtPriceX96 = poolSqrtPrice(token0, token1, initialPrices);
    await mined(positionManager.createAndInitializePoolIfNecessary(address0, address1, params.fee, sqrtPriceX96));
    const pool = UniswapV3Pool__factory.connect(await factory.getPool(address0, address1, params.fee), admin);
    await mined(pool.increaseObservationCardinalityNext(OBSERVATION_CARDINALITY));

    const spacing = TICK_SPACINGS[params.fee];
    const centre = tickAtSqrtPrice(sqrtPriceX96);
    for (const position of params.positions) {
      const half = position.rangeFactor && Math.round(Math.log(position.rangeFactor) / Math.log(1.0001));
      const tickLower = alignTick(half ? centre - half : MIN_TICK, spacing);
      const tickUpper = alignTick(half ? centre + half : MAX_TICK, spacing);
      // Both sides carry equal value: exactly so for a full range and for a band centred in log space.
      const baseAmount = position.baseAmount * 10n ** BigInt(ASSETS[params.base].decimals);
      const quoteAmount =
        (position.baseAmount * initialPrices[params.base] * 10n ** BigInt(ASSETS[params.quote].decimals)) /
        initialPrices[params.quote];
      const amounts: Record<string, bigint> = { [params.base]: baseAmount, [params.quote]: quoteAmount };
      for (const symbol of [token0, token1]) {
        await fund(tokens, admin, symbol, lp, amounts[symbol]);
        await mined(tokens.erc20[symbol].connect(lp).approve(positionManager, amounts[symbol]));
      }
      await mined(
        positionManager.connect(lp).mint({
          token0: address0,
          token1: address1,
          fee: params.fee,
          tickLower,
          tickUpper,
          amount0Desired: amounts[token0],
          amount1Desired: amounts[token1],
          amount0Min: 0n,
          amount1Min: 0n,
          recipient: lp.address,
          deadline: MaxUint256,
        }),
      );
      // Leftovers of the desired amounts stay with the LP; no allowance is left standing.
      for (const symbol of [token0, token1]) {
        await mined(tokens.erc20[symbol].connect(lp).approve(positionManager, 0n));
      }
    }
    const key = poolKey(params);
    pools[key] = { ...params, key, pool, token0, token1 };
  }
  return { factory, router, quoter, positionManager, pools };
}
