/**
 * Helpers shared by the example and property tests of `RebalanceMath`: outcomes that compare a harness call with the
 * reference model in one deep equality, and the economic property of the sizes (the HF lands in [target, ceiling]).
 */
import { expect } from "chai";
import { isCallException, type Interface } from "ethers";

import * as ref from "./reference/rebalanceMath";
import { RebalanceMathRevert, type Position } from "./reference/rebalanceMath";

/** One USD in Aave base units. */
export const USD = 10n ** 8n;
export const MAX_UINT128 = (1n << 128n) - 1n;
/** The largest target HF inside the library's documented overflow-free domain. */
export const MAX_TARGET = (1n << 96n) - 1n;
/** A WAD health factor from a decimal, to six places. */
export const hf = (x: number): bigint => (BigInt(Math.round(x * 1e6)) * ref.WAD) / 1_000_000n;

/**
 * The proved ceilings give HF' - T < (2 + WAD/T)/(D' - 1) relative for a delever and (1 + 2·WAD/T)/D' for a lever, at
 * most 5/(D' - 1) for T >= 0.5: below 1e-12 once D' >= 6e12 base units ($60k of debt left).
 */
export const RELATIVE_BOUND_DEBT = 6n * 10n ** 12n;
export const RELATIVE_BOUND = 10n ** 12n;

/** A value or a decoded custom error. */
export type Outcome = { value: bigint } | { error: string; args: bigint[] };

/** What the reference model says: its value, or the custom error it throws. */
export function expected(fn: () => bigint): Outcome {
  try {
    return { value: fn() };
  } catch (error) {
    if (error instanceof RebalanceMathRevert) return { error: error.errorName, args: [...error.args] };
    throw error;
  }
}

/** The revert data of a failed call: ethers' CallExceptionError or Hardhat's ProviderError both carry it in `data`. */
function revertData(error: unknown): string | undefined {
  if (isCallException(error)) return error.data ?? undefined;
  const data = (error as { data?: unknown }).data;
  return typeof data === "string" ? data : undefined;
}

/** What a harness call returns, or the custom error it reverts with; any other failure is rethrown. */
export async function actual(harness: { interface: Interface }, call: Promise<bigint>): Promise<Outcome> {
  try {
    return { value: await call };
  } catch (error) {
    const data = revertData(error);
    const parsed = data === undefined ? null : harness.interface.parseError(data);
    if (parsed === null) throw error;
    return { error: parsed.name, args: parsed.args.toArray().map((arg: unknown) => BigInt(arg as bigint)) };
  }
}

/** The inputs of a size. */
export interface SizeCase {
  name: string;
  collateralBase: bigint;
  debtBase: bigint;
  lt: bigint;
  targetHF: bigint;
  costBps: bigint;
}

export const describeCase = (c: SizeCase): string =>
  `${c.name}: C=${c.collateralBase} D=${c.debtBase} lt=${c.lt} T=${c.targetHF} cost=${c.costBps}`;

const positionOf = (c: SizeCase): Position => ({ collateralBase: c.collateralBase, debtBase: c.debtBase });

function expectLandsOnTarget(c: SizeCase, after: Position, ceiling: bigint): void {
  const label = describeCase(c);
  const landed = ref.healthFactor(after.collateralBase, after.debtBase, c.lt);
  expect(landed >= c.targetHF, `below target: HF'=${landed} (${label})`).to.equal(true);
  expect(landed <= ceiling, `above proved ceiling ${ceiling}: HF'=${landed} (${label})`).to.equal(true);
  if (after.debtBase >= RELATIVE_BOUND_DEBT) {
    expect((landed - c.targetHF) * RELATIVE_BOUND <= c.targetHF, `overshoot > 1e-12 (${label})`).to.equal(true);
  }
}

/** Selling `size` with the least favourable rounding leaves debt, and Aave's HF in [T, proved ceiling]. */
export function expectDeleverageLands(c: SizeCase, size: bigint): void {
  const after = ref.applyDeleverage(positionOf(c), size, c.costBps);
  expect(after.collateralBase >= 0n && after.debtBase > 0n, describeCase(c)).to.equal(true);
  expectLandsOnTarget(c, after, ref.deleverageHFCeiling(positionOf(c), c.lt, c.targetHF, c.costBps, size));
}

/** Borrowing `size` with the least favourable rounding puts Aave's HF in [T, proved ceiling]. */
export function expectLeverageLands(c: SizeCase, size: bigint): void {
  const after = ref.applyLeverage(positionOf(c), size, c.costBps);
  expectLandsOnTarget(c, after, ref.leverageHFCeiling(positionOf(c), c.lt, c.targetHF, c.costBps, size));
}
