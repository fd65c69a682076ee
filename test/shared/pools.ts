import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MaxUint256 } from "ethers";
import hre from "hardhat";

import type { IERC20, NonfungiblePositionManager } from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { alignTick, MAX_TICK, MIN_TICK, sqrtPriceX96FromUsd, TICK_SPACINGS } from "../../lib/market/math";
import { encodePath } from "../../lib/protocol";
import type { ProtocolFixture } from "./fixtures";

export interface PoolSide {
  token: IERC20;
  decimals: number;
  /** USD price, oracle base units. */
  usdPrice: bigint;
  /** What the LP adds (the LP must hold it). */
  amount: bigint;
}

/**
 * Creates a Uniswap V3 pool of two tokens at `fee`, priced at their USD prices, and adds one full-range position from
 * `lp`; no allowance is left standing. A pool a test needs beside the market's own: an outside token's, or a thin one.
 */
export async function addFullRangePool(
  positionManager: NonfungiblePositionManager,
  lp: HardhatEthersSigner,
  fee: number,
  a: PoolSide,
  b: PoolSide,
): Promise<void> {
  const [addressA, addressB] = [await a.token.getAddress(), await b.token.getAddress()];
  const [first, second] = BigInt(addressA) < BigInt(addressB) ? [a, b] : [b, a];
  const [token0, token1] = [await first.token.getAddress(), await second.token.getAddress()];
  const sqrtPriceX96 = sqrtPriceX96FromUsd(first.usdPrice, first.decimals, second.usdPrice, second.decimals);
  await (await positionManager.createAndInitializePoolIfNecessary(token0, token1, fee, sqrtPriceX96)).wait();
  for (const side of [first, second]) await (await side.token.connect(lp).approve(positionManager, side.amount)).wait();
  const spacing = TICK_SPACINGS[fee];
  await (
    await positionManager.connect(lp).mint({
      token0,
      token1,
      fee,
      tickLower: alignTick(MIN_TICK, spacing),
      tickUpper: alignTick(MAX_TICK, spacing),
      amount0Desired: first.amount,
      amount1Desired: second.amount,
      amount0Min: 0n,
      amount1Min: 0n,
      recipient: lp.address,
      deadline: MaxUint256,
    })
  ).wait();
  for (const side of [first, second]) await (await side.token.connect(lp).approve(positionManager, 0n)).wait();
}

/**
 * A full-range 1% WETH/USDC pool of `weth` a side at `wethUsd` (oracle base units), added by the first signer and
 * allowed by governance as a route (R2): a thin pool a rebalance may use. Returns the WETH -> USDC path through it.
 */
export async function addAllowedThinPool(f: ProtocolFixture, weth: bigint, wethUsd: bigint): Promise<string> {
  const [lp] = await hre.ethers.getSigners();
  const usdc = (weth * wethUsd) / ORACLE_BASE_CURRENCY_UNIT / 10n ** 12n;
  await f.world.fund("WETH", lp.address, weth);
  await f.world.fund("USDC", lp.address, usdc);
  await addFullRangePool(
    f.uniswap.positionManager,
    lp,
    10_000,
    { token: f.tokens.erc20.WETH, decimals: 18, usdPrice: wethUsd, amount: weth },
    { token: f.tokens.erc20.USDC, decimals: 6, usdPrice: ORACLE_BASE_CURRENCY_UNIT, amount: usdc },
  );
  await (
    await f.priceGuard.connect(f.governance).setRoute(f.tokens.erc20.WETH, f.tokens.erc20.USDC, 10_000, true)
  ).wait();
  return encodePath([await f.tokens.erc20.WETH.getAddress(), await f.tokens.erc20.USDC.getAddress()], [10_000]);
}
