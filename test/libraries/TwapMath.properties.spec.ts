import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { MAX_TICK, MIN_TICK } from "../../lib/market/math";
import { TwapMathHarness__factory, type TwapMathHarness } from "../../typechain-types";
import { fuzzParameters, logBigInt, weighted } from "../shared/fuzz";
import { meanTick, priceWadAtTick, sqrtRatioAtTick } from "../shared/reference/twapMath";

/** CI runs of each property. */
const RUNS = 150;
const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_UINT32 = (1n << 32n) - 1n;
/** Around tick ±443,636 the sqrt price crosses 2^128 and the library switches from the Q192 to the Q128 branch. */
const BRANCH_TICK = 443_636;

async function harnessFixture(): Promise<TwapMathHarness> {
  const [deployer] = await ethers.getSigners();
  return new TwapMathHarness__factory(deployer).deploy();
}

/** Any usable tick, with extra weight at the extremes and at the branch. */
const tickArb = weighted(
  [6, fc.integer({ min: MIN_TICK, max: MAX_TICK })],
  [1, fc.integer({ min: BRANCH_TICK - 3, max: BRANCH_TICK + 3 }).map((t) => (t % 2 === 0 ? t : -t))],
  [1, fc.constantFrom(MIN_TICK, MIN_TICK + 1, -1, 0, 1, MAX_TICK - 1, MAX_TICK)],
);
const decimalsArb = weighted([1, fc.constantFrom(6, 8, 18)], [1, fc.integer({ min: 0, max: 24 })]);

describe("TwapMath properties", function () {
  let harness: TwapMathHarness;

  beforeEach(async function () {
    harness = await loadFixture(harnessFixture);
  });

  it("meanTick equals the reference: the floor of the cumulative delta over the window", async function () {
    await fc.assert(
      fc.asyncProperty(
        logBigInt(1n, MAX_UINT32),
        fc.integer({ min: MIN_TICK, max: MAX_TICK - 1 }),
        fc.bigInt({ min: 0n, max: MAX_UINT32 }),
        async (window, mean, rest) => {
          // A delta whose exact mean lies in [mean, mean + 1): what observe() returns over `window` seconds.
          const delta = BigInt(mean) * window + (rest % window);
          const tick = await harness.meanTick(delta, window);
          expect([tick, meanTick(delta, window)], `${delta} / ${window}`).to.deep.equal([BigInt(mean), BigInt(mean)]);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it("priceWadAtTick equals the reference in both directions, and reverts exactly where its mulDiv exceeds 2^256", async function () {
    await fc.assert(
      fc.asyncProperty(tickArb, fc.boolean(), decimalsArb, decimalsArb, async (tick, baseIsToken0, bd, qd) => {
        const call = harness.priceWadAtTick(tick, baseIsToken0, bd, qd);
        const label = `tick ${tick} base ${baseIsToken0 ? "token0" : "token1"} ${bd}/${qd}`;
        // The library divides by the quote unit after its mulDiv, so the overflow bound is on the quotient before
        // that division (the price for 0 quote decimals), not on the result.
        if (priceWadAtTick(BigInt(tick), baseIsToken0, bd, 0) <= MAX_UINT256) {
          expect(await call, label).to.equal(priceWadAtTick(BigInt(tick), baseIsToken0, bd, qd));
        } else {
          await expect(call, label).to.be.revertedWithoutReason();
        }
      }),
      fuzzParameters(RUNS),
    );
  });

  it("priceWadAtTick is 1.0001^tick (inverted for a token1 base) scaled by the decimals, to 1e-12 and one wei", async function () {
    // Ticks within ±200,000 keep every price in a double's range; the float maths is good to about 1e-15.
    const step = Math.log1p(1e-4);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: -200_000, max: 200_000 }),
        fc.boolean(),
        fc.constantFrom(6, 8, 18),
        fc.constantFrom(6, 8, 18),
        async (tick, baseIsToken0, bd, qd) => {
          const price = Number(await harness.priceWadAtTick(tick, baseIsToken0, bd, qd));
          const exact = Math.exp((baseIsToken0 ? tick : -tick) * step) * 10 ** (bd - qd) * 1e18;
          const label = `tick ${tick} base ${baseIsToken0 ? "token0" : "token1"} ${bd}/${qd}: ${price} vs ${exact}`;
          expect(Math.abs(price - exact) <= exact * 1e-12 + 1, label).to.equal(true);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it("priceWadAtTick is monotone in the tick: rising for a token0 base, falling for a token1 base", async function () {
    await fc.assert(
      fc.asyncProperty(
        tickArb,
        tickArb,
        fc.integer({ min: 0, max: 18 }),
        fc.integer({ min: 0, max: 18 }),
        async (a, b, bd, qd) => {
          const [low, high] = a < b ? [a, b] : [b, a];
          const at = (tick: number, baseIsToken0: boolean) => harness.priceWadAtTick(tick, baseIsToken0, bd, qd);
          const label = `ticks ${low} <= ${high}, ${bd}/${qd}`;
          expect((await at(low, true)) <= (await at(high, true)), label).to.equal(true);
          expect((await at(low, false)) >= (await at(high, false)), label).to.equal(true);
          // The reference's sqrt price, which both prices come from, rises strictly with the tick.
          if (low < high) expect(sqrtRatioAtTick(BigInt(low)) < sqrtRatioAtTick(BigInt(high)), label).to.equal(true);
        },
      ),
      fuzzParameters(RUNS),
    );
  });
});
