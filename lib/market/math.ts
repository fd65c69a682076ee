/** Uniswap V3 price maths in BigInt, for pricing pools from oracle answers. */

export const Q96 = 2n ** 96n;
export const Q192 = Q96 * Q96;
export const MIN_TICK = -887_272;
export const MAX_TICK = 887_272;
/** TickMath.MIN_SQRT_RATIO and MAX_SQRT_RATIO. */
export const MIN_SQRT_RATIO = 4_295_128_739n;
export const MAX_SQRT_RATIO = 1_461_446_703_485_210_103_287_273_052_203_988_822_378_723_970_342n;

export const TICK_SPACINGS: Record<number, number> = { 100: 1, 500: 10, 3_000: 60, 10_000: 200 };

/** Floor of the square root of a non-negative BigInt (Newton's method from above). */
export function sqrtBigInt(value: bigint): bigint {
  if (value < 0n) throw new RangeError("sqrtBigInt: negative input");
  if (value < 2n) return value;
  let x = 1n << BigInt(Math.ceil(value.toString(2).length / 2));
  for (;;) {
    const next = (x + value / x) >> 1n;
    if (next >= x) return x;
    x = next;
  }
}

/**
 * sqrtPriceX96 of a pool whose token0 and token1 have USD prices `price0` and `price1` (same units)
 * and the given decimals: sqrt(token1 raw units per token0 raw unit) * 2^96.
 */
export function sqrtPriceX96FromUsd(price0: bigint, decimals0: number, price1: bigint, decimals1: number): bigint {
  const numerator = price0 * 10n ** BigInt(decimals1) * Q192;
  const denominator = price1 * 10n ** BigInt(decimals0);
  return sqrtBigInt(numerator / denominator);
}

/** Price of token0 in token1 raw units, scaled by 1e18, from sqrtPriceX96. */
export function rawPriceE18(sqrtPriceX96: bigint): bigint {
  return (sqrtPriceX96 * sqrtPriceX96 * 10n ** 18n) / Q192;
}

/** The tick at or below a sqrtPriceX96; float maths is exact enough to place range bounds. */
export function tickAtSqrtPrice(sqrtPriceX96: bigint): number {
  const price = Number(sqrtPriceX96) ** 2 / Number(Q192);
  return Math.floor(Math.log(price) / Math.log(1.0001));
}

/** Rounds a tick down to a multiple of the spacing, clamped to the usable range. */
export function alignTick(tick: number, spacing: number): number {
  const min = Math.ceil(MIN_TICK / spacing) * spacing;
  const max = Math.floor(MAX_TICK / spacing) * spacing;
  return Math.min(max, Math.max(min, Math.floor(tick / spacing) * spacing));
}

/** |a / b - 1| in bps, rounded up. */
export function deviationBps(a: bigint, b: bigint): bigint {
  const diff = a > b ? a - b : b - a;
  return (diff * 10_000n + b - 1n) / b;
}
