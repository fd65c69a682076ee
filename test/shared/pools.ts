import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { MaxUint256 } from "ethers";

import type { IERC20, NonfungiblePositionManager } from "../../typechain-types";
import { alignTick, MAX_TICK, MIN_TICK, sqrtPriceX96FromUsd, TICK_SPACINGS } from "../../lib/market/math";

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
