/**
 * BigInt reference model of `contracts/libraries/TwapMath.sol`, written from Uniswap's published algorithms
 * (TickMath.getSqrtRatioAtTick, OracleLibrary.consult and getQuoteAtTick). No 256-bit limit: where the library's
 * result would overflow, the model still answers (and the library reverts).
 */

import { MAX_TICK, Q192 } from "../../../lib/market/math";

export const WAD = 10n ** 18n;
const Q64 = 2n ** 64n;
const Q128 = 2n ** 128n;
const MAX_UINT128 = Q128 - 1n;

/** Uniswap V3 TickMath.getSqrtRatioAtTick, in BigInt. */
export function sqrtRatioAtTick(tick: bigint): bigint {
  const absTick = tick < 0n ? -tick : tick;
  if (absTick > BigInt(MAX_TICK)) throw new RangeError(`tick ${tick} out of range`);
  const factors: [bigint, bigint][] = [
    [0x2n, 0xfff97272373d413259a46990580e213an],
    [0x4n, 0xfff2e50f5f656932ef12357cf3c7fdccn],
    [0x8n, 0xffe5caca7e10e4e61c3624eaa0941cd0n],
    [0x10n, 0xffcb9843d60f6159c9db58835c926644n],
    [0x20n, 0xff973b41fa98c081472e6896dfb254c0n],
    [0x40n, 0xff2ea16466c96a3843ec78b326b52861n],
    [0x80n, 0xfe5dee046a99a2a811c461f1969c3053n],
    [0x100n, 0xfcbe86c7900a88aedcffc83b479aa3a4n],
    [0x200n, 0xf987a7253ac413176f2b074cf7815e54n],
    [0x400n, 0xf3392b0822b70005940c7a398e4b70f3n],
    [0x800n, 0xe7159475a2c29b7443b29c7fa6e889d9n],
    [0x1000n, 0xd097f3bdfd2022b8845ad8f792aa5825n],
    [0x2000n, 0xa9f746462d870fdf8a65dc1f90e061e5n],
    [0x4000n, 0x70d869a156d2a1b890bb3df62baf32f7n],
    [0x8000n, 0x31be135f97d08fd981231505542fcfa6n],
    [0x10000n, 0x9aa508b5b7a84e1c677de54f3e99bc9n],
    [0x20000n, 0x5d6af8dedb81196699c329225ee604n],
    [0x40000n, 0x2216e584f5fa1ea926041bedfe98n],
    [0x80000n, 0x48a170391f7dc42444e8fa2n],
  ];
  let ratio = (absTick & 1n) !== 0n ? 0xfffcb933bd6fad37aa2d162d1a594001n : Q128;
  for (const [bit, factor] of factors) {
    if ((absTick & bit) !== 0n) ratio = (ratio * factor) >> 128n;
  }
  if (tick > 0n) ratio = (2n ** 256n - 1n) / ratio;
  return (ratio >> 32n) + (ratio % 2n ** 32n === 0n ? 0n : 1n);
}

/** OracleLibrary.consult's mean tick: BigInt division truncates toward zero, so step down for negative remainders. */
export function meanTick(delta: bigint, window: bigint): bigint {
  const tick = delta / window;
  return delta < 0n && delta % window !== 0n ? tick - 1n : tick;
}

/** Whole quote per whole base, WAD, at a tick; the same roundings as OracleLibrary.getQuoteAtTick. */
export function priceWadAtTick(
  tick: bigint,
  baseIsToken0: boolean,
  baseDecimals: number,
  quoteDecimals: number,
): bigint {
  const sqrtPrice = sqrtRatioAtTick(tick);
  const scale = 10n ** BigInt(baseDecimals) * WAD;
  let raw: bigint;
  if (sqrtPrice <= MAX_UINT128) {
    const ratioX192 = sqrtPrice * sqrtPrice;
    raw = baseIsToken0 ? (ratioX192 * scale) / Q192 : (Q192 * scale) / ratioX192;
  } else {
    const ratioX128 = (sqrtPrice * sqrtPrice) / Q64;
    raw = baseIsToken0 ? (ratioX128 * scale) / Q128 : (Q128 * scale) / ratioX128;
  }
  return raw / 10n ** BigInt(quoteDecimals);
}
