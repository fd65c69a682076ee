/**
 * How much a keeper asks a deleverage to sell. The vault sizes the whole move itself; a keeper's hint (`maxAmountIn`)
 * can only shrink it, and a deleverage takes a part of at least a quarter of its own size, stopping short of the target
 * (`VaultHintTooSmall` below that). A part is what a pool too thin for the whole sale within the owner's slippage bound
 * still allows: the price impact of a swap grows with its size. A leverage must land on target, so it is tried whole.
 */
import { MaxUint256 } from "ethers";

import type { Direction } from "./decide";

/** The parts of the status's `amountIn` a keeper tries after the whole, largest first, as [numerator, denominator]. */
export const SALE_PARTS: readonly (readonly [bigint, bigint])[] = [
  [1n, 2n],
  // Above the vault's quarter, with room for the status's size being a little under the execution's (no pool fee).
  [3n, 10n],
];

/** The hints to try, in order: the whole move (`MaxUint256`), then, for a deleverage, the `SALE_PARTS`. */
export function saleHints(direction: Direction, amountIn: bigint): bigint[] {
  if (direction !== "deleverage") return [MaxUint256];
  return [MaxUint256, ...SALE_PARTS.map(([n, d]) => (amountIn * n) / d)];
}

/**
 * The first hint `attempt` accepts (a static call or a gas estimate of the execution), with what it returned. When none
 * is accepted it throws the whole move's error, which says why the whole sale failed.
 */
export async function firstAcceptedHint<T>(
  hints: readonly bigint[],
  attempt: (hint: bigint) => Promise<T>,
): Promise<{ hint: bigint; result: T }> {
  let first: unknown;
  for (const hint of hints) {
    try {
      return { hint, result: await attempt(hint) };
    } catch (e) {
      if (hint === hints[0]) first = e;
    }
  }
  throw first;
}
