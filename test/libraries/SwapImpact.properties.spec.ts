import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { MAX_SQRT_RATIO, MIN_SQRT_RATIO } from "../../lib/market/math";
import { SwapImpactHarness__factory, type SwapImpactHarness } from "../../typechain-types";
import { fuzzParameters, logBigInt, weighted } from "../shared/fuzz";
import { hop, lostBps, WAD, type HopState } from "../shared/reference/swapImpact";

/** CI runs of each property. */
const RUNS = 150;
const MAX_UINT128 = (1n << 128n) - 1n;
/** Far past any token supply; beyond about 2^255 the sum of a reserve and the amount would overflow. */
const MAX_AMOUNT = 1n << 200n;

async function harnessFixture(): Promise<SwapImpactHarness> {
  const [deployer] = await ethers.getSigners();
  return new SwapImpactHarness__factory(deployer).deploy();
}

/** Any pool state Uniswap can hold, its price and liquidity drawn over every order of magnitude, zeros included. */
const hopArb: fc.Arbitrary<HopState> = fc.record({
  sqrtPriceX96: weighted([8, logBigInt(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1n)], [1, fc.constant(0n)]),
  liquidity: weighted([8, logBigInt(1n, MAX_UINT128)], [1, fc.constant(0n)]),
  fee: fc.constantFrom(100n, 500n, 3_000n, 10_000n),
  zeroForOne: fc.boolean(),
});
const retainedArb = weighted([1, fc.constant(WAD)], [2, fc.bigInt({ min: 0n, max: WAD })]);

describe("SwapImpact properties", function () {
  let harness: SwapImpactHarness;

  beforeEach(async function () {
    harness = await loadFixture(harnessFixture);
  });

  it("hop equals the reference, keeps at most what it was given, and keeps less the more it sells", async function () {
    await fc.assert(
      fc.asyncProperty(
        hopArb,
        logBigInt(0n, MAX_AMOUNT),
        logBigInt(0n, MAX_AMOUNT),
        retainedArb,
        async (h, a, b, retainedWad) => {
          const [small, large] = a < b ? [a, b] : [b, a];
          const label = `sqrtP ${h.sqrtPriceX96} L ${h.liquidity} fee ${h.fee} ${h.zeroForOne ? "0→1" : "1→0"}`;
          const call = (amount: bigint, withOutput: boolean) =>
            harness.hop(h.sqrtPriceX96, h.liquidity, h.fee, h.zeroForOne, amount, retainedWad, withOutput);
          const [kept, out] = await call(small, true);
          const expected = hop(h, small, retainedWad);
          expect([kept, out], `${label}, ${small}`).to.deep.equal([expected.retained, expected.amountOut]);
          // Without the output only the share kept is computed.
          expect([...(await call(small, false))], label).to.deep.equal([expected.retained, 0n]);
          expect(kept).to.be.lte(retainedWad);
          const [keptLarge] = await call(large, false);
          expect(keptLarge, `${label}, ${small} then ${large}`).to.be.lte(kept);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it("lostBps rounds the share lost up to a whole bp: 0 only for nothing lost, 10,000 for everything", async function () {
    await fc.assert(
      fc.asyncProperty(retainedArb, async (retainedWad) => {
        const bps = await harness.lostBps(retainedWad);
        expect(bps).to.equal(lostBps(retainedWad));
        // Within one bp above the exact share lost, never below it.
        expect(bps * WAD).to.be.gte((WAD - retainedWad) * 10_000n);
        expect((bps - 1n) * WAD).to.be.lt((WAD - retainedWad) * 10_000n + (retainedWad === WAD ? WAD : 0n));
      }),
      fuzzParameters(RUNS),
    );
    expect([await harness.lostBps(WAD), await harness.lostBps(WAD - 1n), await harness.lostBps(0n)]).to.deep.equal([
      0n,
      1n,
      10_000n,
    ]);
  });
});
