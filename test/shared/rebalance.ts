import { expect } from "chai";

import type { IBallastVault } from "../../typechain-types";

const BPS = 10_000n;
/** `RebalanceExecutor.Direction`: what `RebalanceReport.direction` holds. */
export const Direction = { None: 0n, Deleverage: 1n, Leverage: 2n, Close: 3n } as const;

export interface RebalanceBounds {
  /** Where the rebalance had to land: the policy's target, or a signed intent's or emergencyDelever's target. */
  targetHF: bigint;
  /** The factory's `hfTolerance`. */
  tolerance: bigint;
  /** The policy band the HF must end in, for keeper rebalances and `open` (signed and emergency targets skip it). */
  band?: { minHF: bigint; maxHF: bigint };
  /** The slippage bound the rebalance ran with: the policy's, or a signed intent's. */
  slippageBps: bigint;
  /** Rewards paid out of the position (keeper reward, a signed intent's reward), valued in base. */
  paidBase: bigint;
  /** Oracle prices (base units) and decimals of the collateral and debt assets. */
  collateralPrice: bigint;
  debtPrice: bigint;
  collateralDecimals: bigint;
  debtDecimals: bigint;
}

/**
 * Invariant 3: a successful rebalance landed within the tolerance of its target (and inside the band when one
 * applies; a keeper's deleverage may stop below both if it raised the HF, never above), and the owner's equity loss, at the oracle price, is at most the slippage bound on the value sold plus the
 * flash premium plus what was paid out, plus the vault's documented rounding allowance (a wei of each asset and 4
 * base units).
 */
export function expectRebalanceBounded(report: IBallastVault.RebalanceReportStructOutput, b: RebalanceBounds): void {
  const hf = report.hfAfter;
  expect(hf, `HF ${hf} vs target ${b.targetHF}`).to.be.lte(b.targetHF + b.tolerance);
  if (b.band !== undefined && report.direction === Direction.Deleverage) {
    // A keeper's sale may stop short of the target and the band (a hint, or impact beyond the fee priced), if it
    // raised the HF.
    expect(hf, "a keeper's sale raised the HF").to.be.gt(report.hfBefore);
    expect(hf, "HF at most the band's top").to.be.lte(b.band.maxHF);
  } else {
    expect(hf + b.tolerance, `HF ${hf} vs target ${b.targetHF}`).to.be.gte(b.targetHF);
    if (b.band !== undefined) expect(hf, "HF inside the band").to.be.gte(b.band.minHF).and.lte(b.band.maxHF);
  }
  const leverage = report.direction === Direction.Leverage;
  const [price, decimals] = leverage ? [b.debtPrice, b.debtDecimals] : [b.collateralPrice, b.collateralDecimals];
  const valueIn = (report.amountIn * price) / 10n ** decimals;
  const rounding =
    4n + ceilDiv(b.collateralPrice, 10n ** b.collateralDecimals) + ceilDiv(b.debtPrice, 10n ** b.debtDecimals);
  const allowed = (valueIn * b.slippageBps) / BPS + report.flashPremiumBase + b.paidBase + rounding;
  expect(report.equityLossBase, "equity loss within slippage + premium + rewards").to.be.lte(allowed);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
