import type { Context } from "mocha";
import hre from "hardhat";

/** solidity-coverage instruments the bytecode, so gas budgets measured under it mean nothing: skip them there. */
export function skipUnderCoverage(ctx: Context): void {
  if ((hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true) ctx.skip();
}
