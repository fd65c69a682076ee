import { expect } from "chai";
import fc from "fast-check";

import {
  alignTick,
  deviationBps,
  MAX_SQRT_RATIO,
  MAX_TICK,
  MIN_SQRT_RATIO,
  MIN_TICK,
  Q192,
  Q96,
  rawPriceE18,
  sqrtBigInt,
  sqrtPriceX96FromUsd,
  TICK_SPACINGS,
  tickAtSqrtPrice,
} from "../../lib/market/math";
import { fuzzParameters, logBigInt } from "../shared/fuzz";

const E8 = 10n ** 8n;

function expectFloorSqrt(value: bigint): void {
  const root = sqrtBigInt(value);
  expect(root * root <= value, `sqrt(${value}) = ${root} is too large`).to.equal(true);
  expect((root + 1n) * (root + 1n) > value, `sqrt(${value}) = ${root} is too small`).to.equal(true);
}

describe("market math", function () {
  describe("sqrtBigInt", function () {
    it("returns the floor square root at the edges", function () {
      const cases: [bigint, bigint][] = [
        [0n, 0n],
        [1n, 1n],
        [2n, 1n],
        [3n, 1n],
        [4n, 2n],
        [8n, 2n],
        [9n, 3n],
        [2n ** 64n - 1n, 2n ** 32n - 1n],
        [2n ** 64n, 2n ** 32n],
        [2n ** 256n - 1n, 2n ** 128n - 1n],
        [Q192, Q96],
      ];
      for (const [value, root] of cases) expect(sqrtBigInt(value), `sqrt(${value})`).to.equal(root);
    });

    it("returns n on n^2 .. (n+1)^2 - 1 and n - 1 just below n^2", function () {
      for (const n of [2n, 3n, 10n ** 9n + 7n, 2n ** 100n + 1n, MAX_SQRT_RATIO]) {
        expect(sqrtBigInt(n * n)).to.equal(n);
        expect(sqrtBigInt(n * n - 1n)).to.equal(n - 1n);
        expect(sqrtBigInt(n * n + 2n * n)).to.equal(n);
      }
    });

    it("satisfies r^2 <= v < (r+1)^2 on random values of up to 512 bits", function () {
      fc.assert(
        fc.property(logBigInt(0n, 2n ** 512n - 1n), (value) => expectFloorSqrt(value)),
        fuzzParameters(256),
      );
    });

    it("rejects a negative input", function () {
      expect(() => sqrtBigInt(-1n)).to.throw(RangeError, "negative");
    });
  });

  describe("sqrtPriceX96FromUsd", function () {
    it("prices WETH ($2,000, 18 dec) in USDC ($1, 6 dec) at the known sqrtPriceX96 and tick", function () {
      const sqrtPrice = sqrtPriceX96FromUsd(2_000n * E8, 18, E8, 6);
      expect(sqrtPrice).to.equal(3_543_191_142_285_914_205_922_034n);
      expect(tickAtSqrtPrice(sqrtPrice)).to.equal(-200_312);
      // 2,000e6 USDC units per 1e18 WETH units = 2e-9, floored at 1e-18 resolution.
      expect(rawPriceE18(sqrtPrice)).to.equal(2_000_000_000n - 1n);
    });

    it("is the floored reciprocal when the tokens are swapped", function () {
      const wethFirst = sqrtPriceX96FromUsd(2_000n * E8, 18, E8, 6);
      const usdcFirst = sqrtPriceX96FromUsd(E8, 6, 2_000n * E8, 18);
      expect(tickAtSqrtPrice(usdcFirst)).to.equal(200_311);
      // Both are floors of exact square roots whose product is 2^192.
      expect(wethFirst * usdcFirst <= Q192).to.equal(true);
      expect((wethFirst + 1n) * (usdcFirst + 1n) > Q192).to.equal(true);
    });

    it("depends only on the price ratio and is Q96 at parity", function () {
      expect(sqrtPriceX96FromUsd(60_000n * E8, 8, E8, 6)).to.equal(sqrtPriceX96FromUsd(60_000n, 8, 1n, 6));
      expect(sqrtPriceX96FromUsd(E8, 18, E8, 18)).to.equal(Q96);
      expect(sqrtPriceX96FromUsd(4n * E8, 6, E8, 6)).to.equal(2n * Q96);
    });
  });

  describe("tickAtSqrtPrice", function () {
    it("maps TickMath's bounds and parity to their ticks", function () {
      expect(tickAtSqrtPrice(MIN_SQRT_RATIO)).to.equal(MIN_TICK);
      expect(tickAtSqrtPrice(Q96)).to.equal(0);
    });

    it("returns the tick of a price strictly inside it", function () {
      for (const tick of [-887_000, -200_312, -60, -1, 0, 1, 59, 200_311, 887_000]) {
        // Half a tick (0.5 bp) above the tick's own price is far beyond the float error of ~1e-16.
        const sqrtPrice = BigInt(Math.round(Math.sqrt(1.0001 ** (tick + 0.5)) * 2 ** 96));
        expect(tickAtSqrtPrice(sqrtPrice), `tick ${tick}`).to.equal(tick);
      }
    });
  });

  describe("alignTick", function () {
    it("rounds down to a multiple of the spacing, negative ticks included", function () {
      expect(alignTick(205, 10)).to.equal(200);
      expect(alignTick(200, 10)).to.equal(200);
      expect(alignTick(-200, 10)).to.equal(-200);
      expect(alignTick(-205, 10)).to.equal(-210);
      expect(alignTick(-1, 60)).to.equal(-60);
      expect(alignTick(0, 60)).to.equal(0);
      expect(alignTick(-200_312, TICK_SPACINGS[500])).to.equal(-200_320);
    });

    it("clamps to the usable tick range of each spacing", function () {
      expect(alignTick(MIN_TICK, 10)).to.equal(-887_270);
      expect(alignTick(MAX_TICK, 10)).to.equal(887_270);
      expect(alignTick(MIN_TICK, 60)).to.equal(-887_220);
      expect(alignTick(MAX_TICK, 60)).to.equal(887_220);
      expect(alignTick(-1_000_000, 200)).to.equal(-887_200);
      expect(alignTick(1_000_000, 200)).to.equal(887_200);
      expect(alignTick(MIN_TICK, 1)).to.equal(MIN_TICK);
      expect(alignTick(MAX_TICK, 1)).to.equal(MAX_TICK);
    });
  });

  describe("deviationBps", function () {
    it("is |a / b - 1| in bps, relative to b and rounded up", function () {
      expect(deviationBps(10_000n, 10_000n)).to.equal(0n);
      expect(deviationBps(10_001n, 10_000n)).to.equal(1n);
      expect(deviationBps(9_999n, 10_000n)).to.equal(1n);
      expect(deviationBps(11_000n, 10_000n)).to.equal(1_000n);
      expect(deviationBps(5_000n, 10_000n)).to.equal(5_000n);
      expect(deviationBps(20_000n, 10_000n)).to.equal(10_000n);
      expect(deviationBps(0n, 10_000n)).to.equal(10_000n);
      // 1,000 / 9,000 = 1,111.1 bps, rounded up.
      expect(deviationBps(10_000n, 9_000n)).to.equal(1_112n);
      // A deviation of a millionth of a bp still counts as 1 bp.
      expect(deviationBps(2_000n * E8 * 10n ** 6n + 1n, 2_000n * E8 * 10n ** 6n)).to.equal(1n);
    });
  });
});
