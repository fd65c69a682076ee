/**
 * BigInt reference model of `contracts/libraries/SwapImpact.sol` and `PriceGuard.checkPath`'s pricing: each hop a
 * constant product at the pool's in-range liquidity, x = L / sqrtP and y = L * sqrtP, the fee taken from the input.
 */
export const WAD = 10n ** 18n;
const Q96 = 2n ** 96n;

export interface HopState {
  sqrtPriceX96: bigint;
  liquidity: bigint;
  fee: bigint;
  zeroForOne: boolean;
}

/** `SwapImpact.hop`: the share kept so far times this hop's, and the hop's output (with no 256-bit limit). */
export function hop(h: HopState, amountIn: bigint, retainedWad: bigint): { retained: bigint; amountOut: bigint } {
  const sold = (amountIn * (1_000_000n - h.fee)) / 1_000_000n;
  if (sold === 0n) return { retained: retainedWad, amountOut: 0n };
  if (h.sqrtPriceX96 === 0n || h.liquidity === 0n) return { retained: 0n, amountOut: 0n };
  const reserve0 = (h.liquidity * Q96) / h.sqrtPriceX96;
  const reserve1 = (h.liquidity * h.sqrtPriceX96) / Q96;
  const [reserveIn, reserveOut] = h.zeroForOne ? [reserve0, reserve1] : [reserve1, reserve0];
  return {
    retained: (retainedWad * reserveIn) / (reserveIn + sold),
    amountOut: (reserveOut * sold) / (reserveIn + sold),
  };
}

/** `SwapImpact.lostBps`: the share lost, bps, rounded up. */
export function lostBps(retainedWad: bigint): bigint {
  return ((WAD - retainedWad) * 10_000n + WAD - 1n) / WAD;
}

/** `PriceGuard.checkPath`'s impact, bps, of selling `amountIn` through `hops`; 0 for a zero amount. */
export function pathImpactBps(hops: readonly HopState[], amountIn: bigint): bigint {
  if (amountIn === 0n) return 0n;
  let retained = WAD;
  let amount = amountIn;
  for (const h of hops) {
    if (amount === 0n) continue;
    ({ retained, amountOut: amount } = hop(h, amount, retained));
  }
  return lostBps(retained);
}
