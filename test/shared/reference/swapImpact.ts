/**
 * BigInt reference model of `contracts/libraries/SwapImpact.sol` and `PriceGuard.checkPath`'s pricing: each hop a
 * constant product at the pool's in-range liquidity, x = L / sqrtP and y = L * sqrtP, the fee taken from the input.
 */
const WAD = 10n ** 18n;
const Q96 = 2n ** 96n;

export interface HopState {
  sqrtPriceX96: bigint;
  liquidity: bigint;
  fee: bigint;
  zeroForOne: boolean;
}

/** The impact, bps rounded up, of selling `amountIn` through `hops`; 0 for a zero amount. */
export function pathImpactBps(hops: readonly HopState[], amountIn: bigint): bigint {
  if (amountIn === 0n) return 0n;
  let retained = WAD;
  let amount = amountIn;
  for (const h of hops) {
    const sold = (amount * (1_000_000n - h.fee)) / 1_000_000n;
    if (sold === 0n) {
      amount = 0n;
      continue;
    }
    if (h.sqrtPriceX96 === 0n || h.liquidity === 0n) {
      retained = 0n;
      amount = 0n;
      continue;
    }
    const reserve0 = (h.liquidity * Q96) / h.sqrtPriceX96;
    const reserve1 = (h.liquidity * h.sqrtPriceX96) / Q96;
    const [reserveIn, reserveOut] = h.zeroForOne ? [reserve0, reserve1] : [reserve1, reserve0];
    retained = (retained * reserveIn) / (reserveIn + sold);
    amount = (reserveOut * sold) / (reserveIn + sold);
  }
  return ((WAD - retained) * 10_000n + WAD - 1n) / WAD;
}
