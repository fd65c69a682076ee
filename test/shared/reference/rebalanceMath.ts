/**
 * BigInt reference model of `contracts/libraries/RebalanceMath.sol`.
 *
 * Every function returns exactly what the library returns, or throws a {@link RebalanceMathRevert} naming the custom
 * error the library reverts with and its arguments. The model has no 256-bit limit: inside the library's documented
 * domain (C, D < 2^128, T < 2^96, bps <= 10000) the two agree; outside it the library may Panic where the model
 * still answers.
 *
 * `applyDeleverage`, `applyLeverage` and the `*HFCeiling` bounds state the economic property of the sizes: after
 * applying a size with the least favourable rounding, Aave's HF lies in [target, ceiling].
 */

export const WAD = 10n ** 18n;
export const BPS = 10_000n;
export const HALF_BPS = 5_000n;
export const MAX_UINT256 = (1n << 256n) - 1n;
/** Worst case by which Aave's half-up percentMul falls below the exact product, in bp units. */
export const PERCENT_MUL_LOSS = 4_999n;

export type RebalanceMathErrorName =
  "RebalanceMathInfeasible" | "RebalanceMathBpsOutOfRange" | "RebalanceMathZeroPrice" | "RebalanceMathMinHFTooLow";

/** The custom error the library reverts with, and its arguments in declaration order. */
export class RebalanceMathRevert extends Error {
  constructor(
    readonly errorName: RebalanceMathErrorName,
    readonly args: readonly bigint[],
  ) {
    super(`${errorName}(${args.join(", ")})`);
    this.name = "RebalanceMathRevert";
  }
}

/** A position in Aave base units (USD, 8 decimals). */
export interface Position {
  collateralBase: bigint;
  debtBase: bigint;
}

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

/** Aave's PercentageMath.percentMul: half up. */
export function percentMul(value: bigint, bps: bigint): bigint {
  return (value * bps + HALF_BPS) / BPS;
}

/** Aave's WadRayMath.wadDiv: half up. */
export function wadDiv(a: bigint, b: bigint): bigint {
  return (a * WAD + b / 2n) / b;
}

/** Aave's health factor: wadDiv(percentMul(C, lt), D), or MAX_UINT256 without debt. */
export function healthFactor(collateralBase: bigint, debtBase: bigint, liquidationThresholdBps: bigint): bigint {
  if (debtBase === 0n) return MAX_UINT256;
  return wadDiv(percentMul(collateralBase, liquidationThresholdBps), debtBase);
}

function checkBps(bps: bigint): void {
  if (bps > BPS) throw new RebalanceMathRevert("RebalanceMathBpsOutOfRange", [bps]);
}

/** Collateral value to sell so that Aave's HF lands at or just above `targetHF`; see the library's NatSpec. */
export function deleverageSize(
  collateralBase: bigint,
  debtBase: bigint,
  liquidationThresholdBps: bigint,
  targetHF: bigint,
  costBps: bigint,
): bigint {
  checkBps(costBps);
  if (healthFactor(collateralBase, debtBase, liquidationThresholdBps) >= targetHF) return 0n;
  const infeasible = new RebalanceMathRevert("RebalanceMathInfeasible", [collateralBase, debtBase, targetHF]);
  const denominator = targetHF * (BPS - costBps) - liquidationThresholdBps * WAD;
  if (denominator <= 0n) throw infeasible;
  const numerator =
    targetHF * debtBase * BPS +
    targetHF * (BPS - 1n) +
    PERCENT_MUL_LOSS * WAD -
    collateralBase * liquidationThresholdBps * WAD;
  const size = ceilDiv(numerator, denominator);
  if (size > collateralBase || size * (BPS - costBps) >= debtBase * BPS) throw infeasible;
  return size;
}

/** Debt value to add so that Aave's HF lands at or just above `targetHF`; see the library's NatSpec. */
export function leverageSize(
  collateralBase: bigint,
  debtBase: bigint,
  liquidationThresholdBps: bigint,
  targetHF: bigint,
  costBps: bigint,
): bigint {
  checkBps(costBps);
  if (healthFactor(collateralBase, debtBase, liquidationThresholdBps) <= targetHF) return 0n;
  const denominator = targetHF * BPS * BPS - (BPS - costBps) * liquidationThresholdBps * WAD;
  if (denominator <= 0n) {
    throw new RebalanceMathRevert("RebalanceMathInfeasible", [collateralBase, debtBase, targetHF]);
  }
  const numerator =
    collateralBase * liquidationThresholdBps * BPS * WAD -
    targetHF * debtBase * BPS * BPS -
    ((BPS - 1n) * liquidationThresholdBps + PERCENT_MUL_LOSS * BPS) * WAD;
  return numerator <= 0n ? 0n : numerator / denominator;
}

/** valueBase * 10^decimals / price, rounded down. */
export function toAmount(valueBase: bigint, price: bigint, decimals: bigint): bigint {
  if (price === 0n) throw new RebalanceMathRevert("RebalanceMathZeroPrice", []);
  return (valueBase * 10n ** decimals) / price;
}

/** amount * price / 10^decimals, rounded down. */
export function toBase(amount: bigint, price: bigint, decimals: bigint): bigint {
  return (amount * price) / 10n ** decimals;
}

/** amountIn * priceIn * 10^decimalsOut * (BPS - slippageBps) / (priceOut * 10^decimalsIn * BPS), rounded up. */
export function minAmountOut(
  amountIn: bigint,
  priceIn: bigint,
  decimalsIn: bigint,
  priceOut: bigint,
  decimalsOut: bigint,
  slippageBps: bigint,
): bigint {
  checkBps(slippageBps);
  if (priceOut === 0n) throw new RebalanceMathRevert("RebalanceMathZeroPrice", []);
  return ceilDiv(amountIn * priceIn * 10n ** decimalsOut * (BPS - slippageBps), priceOut * 10n ** decimalsIn * BPS);
}

/** (minHF - hf) * WAD / (minHF - WAD), clamped to [0, WAD], rounded down. */
export function urgency(hf: bigint, minHF: bigint): bigint {
  if (minHF <= WAD) throw new RebalanceMathRevert("RebalanceMathMinHFTooLow", [minHF]);
  if (hf >= minHF) return 0n;
  if (hf <= WAD) return WAD;
  return ((minHF - hf) * WAD) / (minHF - WAD);
}

/** A keeper deleverage's slippage bound: `maxSlippageBps` at `minHF`, rising with the urgency to `urgentSlippageBps`. */
export function saleSlippageBps(
  hf: bigint,
  p: { minHF: bigint; maxSlippageBps: bigint; urgentSlippageBps: bigint },
): bigint {
  return p.maxSlippageBps + ((p.urgentSlippageBps - p.maxSlippageBps) * urgency(hf, p.minHF)) / WAD;
}

/**
 * The position after selling `collateralToSellBase` of collateral, when the swap repays its value less `costBps`,
 * rounded down: the least favourable repayment the size must still cover.
 */
export function applyDeleverage(position: Position, collateralToSellBase: bigint, costBps: bigint): Position {
  const repaid = (collateralToSellBase * (BPS - costBps)) / BPS;
  return {
    collateralBase: position.collateralBase - collateralToSellBase,
    debtBase: position.debtBase - repaid,
  };
}

/**
 * The position after borrowing `debtToAddBase` and buying collateral with it, less `costBps`, rounded down: the least
 * favourable purchase the size must still cover.
 */
export function applyLeverage(position: Position, debtToAddBase: bigint, costBps: bigint): Position {
  return {
    collateralBase: position.collateralBase + (debtToAddBase * (BPS - costBps)) / BPS,
    debtBase: position.debtBase + debtToAddBase,
  };
}

/**
 * The highest Aave HF a successful `deleverageSize` can land on, proved from the rounding:
 * HF' - T < (T·(BPS - 1) + 9999·WAD + den) / Dp + 1/2, where den = T·(BPS - c) - lt·WAD and
 * Dp = D·BPS - w·(BPS - c) > 0 is the exact debt left, times BPS. Relative to T this is about (2 + WAD/T) / D'.
 */
export function deleverageHFCeiling(
  position: Position,
  liquidationThresholdBps: bigint,
  targetHF: bigint,
  costBps: bigint,
  collateralToSellBase: bigint,
): bigint {
  const denominator = targetHF * (BPS - costBps) - liquidationThresholdBps * WAD;
  // 9999 = the worst percentMul loss under the size's margin plus the most it can round up.
  const slack = targetHF * (BPS - 1n) + (PERCENT_MUL_LOSS + HALF_BPS) * WAD + denominator;
  const debtLeft = position.debtBase * BPS - collateralToSellBase * (BPS - costBps);
  // Largest integer h with h < slack / debtLeft + 1/2.
  return targetHF + (2n * slack + debtLeft - 1n) / (2n * debtLeft);
}

/**
 * The highest Aave HF a positive `leverageSize` can land on, proved from the rounding:
 * HF' - T < (((BPS - 1)·lt + 9999·BPS)·WAD + den) / (D'·BPS²) + 1/2, where den = T·BPS² - (BPS - c)·lt·WAD and
 * D' = D + b. Relative to T this is about (1 + 2·WAD/T) / D'.
 */
export function leverageHFCeiling(
  position: Position,
  liquidationThresholdBps: bigint,
  targetHF: bigint,
  costBps: bigint,
  debtToAddBase: bigint,
): bigint {
  const denominator = targetHF * BPS * BPS - (BPS - costBps) * liquidationThresholdBps * WAD;
  const slack = ((BPS - 1n) * liquidationThresholdBps + (PERCENT_MUL_LOSS + HALF_BPS) * BPS) * WAD + denominator;
  const debtAfter = (position.debtBase + debtToAddBase) * BPS * BPS;
  return targetHF + (2n * slack + debtAfter - 1n) / (2n * debtAfter);
}
