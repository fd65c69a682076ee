import { solidityPacked } from "ethers";

/** Encodes `tokens[0] | fees[0] | tokens[1] | … | tokens[n]` as Uniswap V3's `exactInput` expects. */
export function encodePath(tokens: readonly string[], fees: readonly number[]): string {
  if (tokens.length !== fees.length + 1) {
    throw new RangeError(`encodePath: ${tokens.length} tokens need ${tokens.length - 1} fees, got ${fees.length}`);
  }
  const types = ["address", ...fees.flatMap(() => ["uint24", "address"])];
  const values = [tokens[0], ...fees.flatMap((fee, i) => [fee, tokens[i + 1]])];
  return solidityPacked(types, values);
}
