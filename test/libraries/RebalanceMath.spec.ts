import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";

import { RebalanceMathHarness__factory, type RebalanceMathHarness } from "../../typechain-types";
import { skipUnderCoverage } from "../shared/coverage";
import {
  actual,
  expectDeleverageLands,
  expectLeverageLands,
  expected,
  type Outcome,
  type SizeCase,
  hf,
  MAX_TARGET,
  MAX_UINT128,
  USD,
} from "../shared/rebalanceMath";
import * as ref from "../shared/reference/rebalanceMath";
import { BPS, MAX_UINT256, RebalanceMathRevert, WAD } from "../shared/reference/rebalanceMath";

async function harnessFixture(): Promise<RebalanceMathHarness> {
  const [deployer] = await ethers.getSigners();
  return new RebalanceMathHarness__factory(deployer).deploy();
}

const sizeCase = (
  name: string,
  collateralBase: bigint,
  debtBase: bigint,
  lt: bigint,
  targetHF: bigint,
  costBps: bigint,
): SizeCase => ({ name, collateralBase, debtBase, lt, targetHF, costBps });

describe("RebalanceMath", function () {
  let harness: RebalanceMathHarness;

  beforeEach(async function () {
    harness = await loadFixture(harnessFixture);
  });

  describe("#healthFactor", function () {
    const points: [string, bigint, bigint, bigint][] = [
      ["no debt is type(uint256).max", 1_000n * USD, 0n, 8_250n],
      ["no debt and no collateral", 0n, 0n, 8_250n],
      ["no collateral", 0n, 1_000n * USD, 8_250n],
      ["WETH at 82.5% LT, 60% LTV", 100_000n * USD, 60_000n * USD, 8_250n],
      ["percentMul rounds a half bp up", 1n, 1n, 5_000n],
      ["percentMul rounds below half down", 1n, 1n, 4_999n],
      ["wadDiv rounds a half wei up", 2n, 4n * 10n ** 17n, 5_000n],
      ["zero liquidation threshold", 1_000n * USD, 1n, 0n],
      ["max collateral and one unit of debt", MAX_UINT128, 1n, BPS],
      ["max collateral and max debt", MAX_UINT128, MAX_UINT128, 8_250n],
    ];
    for (const [name, c, d, lt] of points) {
      it(name, async function () {
        expect(await actual(harness, harness.healthFactor(c, d, lt))).to.deep.equal(
          expected(() => ref.healthFactor(c, d, lt)),
        );
      });
    }

    it("matches known values", async function () {
      expect(await harness.healthFactor(100_000n * USD, 60_000n * USD, 8_250n)).to.equal(1_375_000_000_000_000_000n);
      expect(await harness.healthFactor(2n, 4n * 10n ** 17n, 5_000n)).to.equal(3n);
      expect(await harness.healthFactor(1n, 0n, 8_250n)).to.equal(MAX_UINT256);
    });
  });

  describe("#deleverageSize", function () {
    const call = (c: SizeCase): Promise<bigint> =>
      harness.deleverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps);
    const reference = (c: SizeCase): Outcome =>
      expected(() => ref.deleverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));

    const points: SizeCase[] = [
      sizeCase("no debt: nothing to sell", 10n ** 12n, 0n, 8_250n, hf(1.5), 30n),
      sizeCase("HF exactly at target", 20_000n * USD, 10_000n * USD, 7_500n, hf(1.5), 30n),
      sizeCase("HF one wei below target", 20_000n * USD, 10_000n * USD, 7_500n, hf(1.5) + 1n, 30n),
      sizeCase("costBps 0", 10_000n * USD, 7_000n * USD, 8_000n, hf(1.25), 0n),
      sizeCase("WETH/USDC, 30 bps cost", 1_000_000n * USD, 780_000n * USD, 8_250n, hf(1.3), 30n),
      sizeCase("HF below 1, 300 bps cost", 1_000_000n * USD, 900_000n * USD, 8_600n, hf(1.2), 300n),
      sizeCase("one dollar position", USD, 70n * 10n ** 6n, 8_250n, hf(1.4), 5n),
      sizeCase("max values without overflow", MAX_UINT128, MAX_UINT128 / 2n, BPS, MAX_TARGET, 0n),
      sizeCase("max collateral, realistic target", MAX_UINT128, (MAX_UINT128 / 10n) * 7n, 8_250n, hf(1.5), 100n),
    ];
    for (const point of points) {
      it(`${point.name}: matches the reference and lands on target`, async function () {
        const want = reference(point);
        expect("value" in want, "chosen point is feasible").to.equal(true);
        expect(await actual(harness, call(point))).to.deep.equal(want);
        const size = await call(point);
        if (size > 0n) expectDeleverageLands(point, size);
      });
    }

    it("returns 0 when HF is at or above target, whatever the feasibility", async function () {
      expect(ref.healthFactor(20_000n * USD, 10_000n * USD, 7_500n)).to.equal(hf(1.5));
      expect(await harness.deleverageSize(20_000n * USD, 10_000n * USD, 7_500n, hf(1.5), 30n)).to.equal(0n);
      expect(await harness.deleverageSize(20_000n * USD, 10_000n * USD, 7_500n, hf(1.5), BPS)).to.equal(0n);
      expect(await harness.deleverageSize(1n, 0n, 8_250n, MAX_TARGET, 30n)).to.equal(0n);
    });

    it("is within a few base units of the exact closed form (costBps 0)", async function () {
      // (1.25·7000 - 0.8·10000) / (1.25 - 0.8) = 1666.67 USD; the rounding margins add 3.9 units, then ceil.
      expect(await harness.deleverageSize(10_000n * USD, 7_000n * USD, 8_000n, hf(1.25), 0n)).to.equal(
        166_666_666_671n,
      );
    });

    describe("infeasible targets", function () {
      it("reverts when T·k < lt", async function () {
        const [c, d, t] = [10n ** 12n, 95n * 10n ** 10n, hf(1.01)];
        await expect(harness.deleverageSize(c, d, 9_500n, t, 600n))
          .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
          .withArgs(c, d, t);
      });

      it("reverts when T·k == lt exactly", async function () {
        const [c, d, t] = [10n ** 12n, 96n * 10n ** 10n, WAD];
        await expect(harness.deleverageSize(c, d, 9_500n, t, 500n))
          .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
          .withArgs(c, d, t);
      });

      it("reverts when costBps == BPS (a sale repays nothing)", async function () {
        const [c, d, t] = [10n ** 12n, 9n * 10n ** 11n, hf(1.5)];
        await expect(harness.deleverageSize(c, d, 8_250n, t, BPS))
          .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
          .withArgs(c, d, t);
      });

      it("reverts when the sale would exceed the collateral (HF below lt/k)", async function () {
        // k·C = 99.7 USD < D: even selling everything cannot repay the debt.
        const [c, d, t] = [100n * USD, 9_980_000_000n, hf(1.5)];
        await expect(harness.deleverageSize(c, d, 8_000n, t, 30n))
          .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
          .withArgs(c, d, t);
      });

      it("reverts on dust where the rounding margins would repay the whole debt", async function () {
        expect(() => ref.deleverageSize(5n, 2n, 8_250n, hf(2.5), 0n)).to.throw(RebalanceMathRevert);
        await expect(harness.deleverageSize(5n, 2n, 8_250n, hf(2.5), 0n))
          .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
          .withArgs(5n, 2n, hf(2.5));
      });
    });

    it("reverts when costBps > BPS", async function () {
      await expect(harness.deleverageSize(10n ** 12n, 9n * 10n ** 11n, 8_250n, hf(1.5), BPS + 1n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathBpsOutOfRange")
        .withArgs(BPS + 1n);
    });

    it("reverts with an arithmetic Panic outside its domain, never wraps", async function () {
      await expect(harness.deleverageSize(MAX_UINT256, MAX_UINT256, 8_250n, hf(1.5), 0n)).to.be.revertedWithPanic(0x11);
    });
  });

  describe("#leverageSize", function () {
    const call = (c: SizeCase): Promise<bigint> =>
      harness.leverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps);
    const reference = (c: SizeCase): Outcome =>
      expected(() => ref.leverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));

    const points: SizeCase[] = [
      sizeCase("no debt: opening a position", 30_000n * USD, 0n, 8_250n, hf(1.5), 30n),
      sizeCase("no collateral and no debt", 0n, 0n, 8_250n, hf(1.5), 30n),
      sizeCase("HF exactly at target", 20_000n * USD, 10_000n * USD, 7_500n, hf(1.5), 30n),
      sizeCase("HF one wei above target", 20_000n * USD, 10_000n * USD, 7_500n, hf(1.5) - 1n, 30n),
      sizeCase("costBps 0", 10_000n * USD, 5_000n * USD, 8_000n, hf(1.25), 0n),
      sizeCase("costBps == BPS (a borrow buys nothing)", 10_000n * USD, 5_000n * USD, 8_000n, hf(1.25), BPS),
      sizeCase("WETH/USDC, 30 bps cost", 1_000_000n * USD, 400_000n * USD, 8_250n, hf(1.3), 30n),
      sizeCase("one dollar position", USD, 10n ** 7n, 8_250n, hf(1.4), 5n),
      sizeCase("max values without overflow", MAX_UINT128, MAX_UINT128 / 4n, BPS, hf(1.5), 0n),
      sizeCase(
        "max collateral, target at the domain limit",
        MAX_UINT128,
        MAX_UINT128 / 10n ** 11n,
        BPS,
        MAX_TARGET,
        0n,
      ),
    ];
    for (const point of points) {
      it(`${point.name}: matches the reference and lands on target`, async function () {
        const want = reference(point);
        expect("value" in want, "chosen point is feasible").to.equal(true);
        expect(await actual(harness, call(point))).to.deep.equal(want);
        const size = await call(point);
        const hf0 = ref.healthFactor(point.collateralBase, point.debtBase, point.lt);
        if (hf0 > point.targetHF && point.debtBase + size > 0n) expectLeverageLands(point, size);
      });
    }

    it("returns 0 when HF is at or below target, whatever the feasibility", async function () {
      expect(await harness.leverageSize(20_000n * USD, 10_000n * USD, 7_500n, hf(1.5), 30n)).to.equal(0n);
      expect(await harness.leverageSize(20_000n * USD, 10_000n * USD, 7_500n, hf(2), 30n)).to.equal(0n);
      // HF 0.375 <= T = 0.5 <= k·lt = 0.75: no borrow could reach T, but none is asked for.
      expect(await harness.leverageSize(5_000n * USD, 10_000n * USD, 7_500n, hf(0.5), 0n)).to.equal(0n);
    });

    it("is within a few base units of the exact closed form (costBps 0)", async function () {
      // (0.8·10000 - 1.25·5000) / (1.25 - 0.8) = 3888.89 USD; the rounding margins take 2.9 units, then floor.
      expect(await harness.leverageSize(10_000n * USD, 5_000n * USD, 8_000n, hf(1.25), 0n)).to.equal(388_888_888_886n);
    });

    it("reverts when T < k·lt", async function () {
      const [c, d, t] = [10n ** 12n, 5n * 10n ** 11n, hf(0.94)];
      await expect(harness.leverageSize(c, d, 9_500n, t, 100n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
        .withArgs(c, d, t);
    });

    it("reverts when T == k·lt exactly", async function () {
      const [c, d, t] = [10n ** 12n, 5n * 10n ** 11n, hf(0.95)];
      await expect(harness.leverageSize(c, d, 9_500n, t, 0n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathInfeasible")
        .withArgs(c, d, t);
    });

    it("reverts when costBps > BPS", async function () {
      await expect(harness.leverageSize(10n ** 12n, 0n, 8_250n, hf(1.5), BPS + 1n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathBpsOutOfRange")
        .withArgs(BPS + 1n);
    });
  });

  describe("#toAmount and #toBase", function () {
    const points: [string, bigint, bigint, bigint][] = [
      ["WETH, 18 decimals", 3_000n * USD, 3_000n * USD, 18n],
      ["USDC, 6 decimals, rounds down", 12_345_678_901n, 99_990_000n, 6n],
      ["WBTC, 8 decimals", 65_000n * USD, 65_000n * USD, 8n],
      ["0 decimals", 7n, 3n, 0n],
      ["zero value", 0n, 3_000n * USD, 18n],
      ["max value needs the 512-bit product", MAX_UINT256, 10n ** 18n, 18n],
    ];
    for (const [name, x, price, decimals] of points) {
      it(`${name}: toAmount and toBase match the reference`, async function () {
        const d = Number(decimals);
        expect(await actual(harness, harness.toAmount(x, price, d))).to.deep.equal(
          expected(() => ref.toAmount(x, price, decimals)),
        );
        expect(await actual(harness, harness.toBase(x, price, d))).to.deep.equal(
          expected(() => ref.toBase(x, price, decimals)),
        );
      });
    }

    it("converts known values", async function () {
      expect(await harness.toAmount(4_500n * USD, 3_000n * USD, 18)).to.equal(15n * 10n ** 17n);
      expect(await harness.toBase(15n * 10n ** 17n, 3_000n * USD, 18)).to.equal(4_500n * USD);
      expect(await harness.toAmount(1n, 3n, 0)).to.equal(0n);
      expect(await harness.toBase(MAX_UINT256, 10n ** 18n, 18)).to.equal(MAX_UINT256);
    });

    it("toAmount reverts on a zero price", async function () {
      await expect(harness.toAmount(1n, 0n, 18)).to.be.revertedWithCustomError(harness, "RebalanceMathZeroPrice");
    });
  });

  describe("#minAmountOut", function () {
    type Point = [string, bigint, bigint, bigint, bigint, bigint, bigint];
    const points: Point[] = [
      ["1 WETH to USDC, 50 bps", 10n ** 18n, 3_000n * USD, 18n, USD, 6n, 50n],
      ["USDC to WETH, 50 bps", 2_985n * 10n ** 6n, USD, 6n, 3_000n * USD, 18n, 50n],
      ["WBTC (8) to WETH (18)", 10n ** 8n, 65_000n * USD, 8n, 3_000n * USD, 18n, 30n],
      ["one wei rounds up to one unit", 1n, 3_000n * USD, 18n, USD, 6n, 50n],
      ["no slippage", 123_456_789n, 99_980_000n, 6n, 100_010_000n, 6n, 0n],
      ["full slippage accepts 0", 10n ** 18n, 3_000n * USD, 18n, USD, 6n, BPS],
      ["max amount needs the 512-bit product", MAX_UINT256, 1n, 8n, 1n, 8n, 0n],
      ["max amount, halved", MAX_UINT256, 1n, 18n, 2n, 18n, 0n],
    ];
    for (const [name, amountIn, priceIn, decIn, priceOut, decOut, slippage] of points) {
      it(`${name}: matches the reference`, async function () {
        expect(
          await actual(
            harness,
            harness.minAmountOut(amountIn, priceIn, Number(decIn), priceOut, Number(decOut), slippage),
          ),
        ).to.deep.equal(expected(() => ref.minAmountOut(amountIn, priceIn, decIn, priceOut, decOut, slippage)));
      });
    }

    it("computes known values", async function () {
      expect(await harness.minAmountOut(10n ** 18n, 3_000n * USD, 18, USD, 6, 50n)).to.equal(2_985n * 10n ** 6n);
      expect(await harness.minAmountOut(2_985n * 10n ** 6n, USD, 6, 3_000n * USD, 18, 50n)).to.equal(
        990_025_000_000_000_000n,
      );
      expect(await harness.minAmountOut(1n, 3_000n * USD, 18, USD, 6, 50n)).to.equal(1n);
      expect(await harness.minAmountOut(MAX_UINT256, 1n, 18, 2n, 18, 0n)).to.equal(MAX_UINT256 / 2n + 1n);
    });

    it("reverts when slippageBps > BPS", async function () {
      await expect(harness.minAmountOut(1n, 1n, 18, 1n, 18, BPS + 1n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathBpsOutOfRange")
        .withArgs(BPS + 1n);
    });

    it("reverts on a zero output price", async function () {
      await expect(harness.minAmountOut(1n, 1n, 18, 0n, 18, 0n)).to.be.revertedWithCustomError(
        harness,
        "RebalanceMathZeroPrice",
      );
    });
  });

  /** A band 1.3 / 1.5 / 1.8 with 1% slippage widening to 3%; the reward fields play no part here. */
  const POLICY = {
    minHF: hf(1.3),
    targetHF: hf(1.5),
    maxHF: hf(1.8),
    maxSlippageBps: 100,
    maxKeeperRewardBps: 100,
    maxGasPrice: 0n,
    maxRewardBase: 1n,
    urgentSlippageBps: 300,
  };

  describe("#band", function () {
    const policy = POLICY;
    const at = (healthFactor: bigint, debtBase = 1n) => ({
      collateralBase: 0n,
      debtBase,
      liquidationThresholdBps: 8_250n,
      healthFactor,
    });
    const cases: [string, ReturnType<typeof at>, bigint][] = [
      ["one wei below minHF: Deleverage", at(hf(1.3) - 1n), 1n],
      ["at minHF: in band", at(hf(1.3)), 0n],
      ["at maxHF: in band", at(hf(1.8)), 0n],
      ["one wei above maxHF: Leverage", at(hf(1.8) + 1n), 2n],
      ["below 1.0: Deleverage", at(hf(0.9)), 1n],
      ["no debt: nothing to keep in band", at(MAX_UINT256, 0n), 0n],
      ["no debt whatever the HF", at(hf(1.1), 0n), 0n],
    ];
    for (const [name, pos, direction] of cases) {
      it(name, async function () {
        expect(await harness.band(pos, policy)).to.equal(direction);
      });
    }
  });

  describe("#saleSlippageBps", function () {
    const policy = (urgentSlippageBps: number) => ({ ...POLICY, urgentSlippageBps });
    const points: [string, bigint, number, bigint][] = [
      ["in the band", hf(1.4), 300, 100n],
      ["at minHF", hf(1.3), 300, 100n],
      ["a third of the way to 1.0", hf(1.2), 300, 166n],
      ["two thirds of the way", hf(1.1), 300, 233n],
      ["at 1.0", WAD, 300, 300n],
      ["below 1.0", hf(0.9), 300, 300n],
      ["urgent equal to max: never widens", hf(1.05), 100, 100n],
    ];
    for (const [name, h, urgent, bps] of points) {
      it(`${name}: ${bps} bps, as the reference`, async function () {
        const p = policy(urgent);
        expect(await harness.saleSlippageBps(h, p)).to.equal(bps);
        expect(
          ref.saleSlippageBps(h, {
            minHF: p.minHF,
            maxSlippageBps: BigInt(p.maxSlippageBps),
            urgentSlippageBps: BigInt(urgent),
          }),
        ).to.equal(bps);
      });
    }
  });

  describe("#urgency", function () {
    const points: [string, bigint, bigint][] = [
      ["at minHF", hf(1.2), hf(1.2)],
      ["above minHF", hf(1.5), hf(1.2)],
      ["no debt (max HF)", MAX_UINT256, hf(1.2)],
      ["one wei below minHF", hf(1.2) - 1n, hf(1.2)],
      ["halfway", hf(1.1), hf(1.2)],
      ["one wei above 1.0", WAD + 1n, hf(1.2)],
      ["at 1.0", WAD, hf(1.2)],
      ["below 1.0", hf(0.5), hf(1.2)],
      ["zero HF", 0n, hf(1.2)],
      ["max minHF needs the 512-bit product", WAD + 1n, MAX_UINT256],
      ["minHF one wei above 1.0", WAD, WAD + 1n],
    ];
    for (const [name, h, minHF] of points) {
      it(`${name}: matches the reference`, async function () {
        expect(await actual(harness, harness.urgency(h, minHF))).to.deep.equal(expected(() => ref.urgency(h, minHF)));
      });
    }

    it("computes known values", async function () {
      expect(await harness.urgency(hf(1.1), hf(1.2))).to.equal(WAD / 2n);
      expect(await harness.urgency(hf(1.2), hf(1.2))).to.equal(0n);
      expect(await harness.urgency(WAD, hf(1.2))).to.equal(WAD);
    });

    it("reverts when minHF <= 1.0", async function () {
      await expect(harness.urgency(WAD, WAD))
        .to.be.revertedWithCustomError(harness, "RebalanceMathMinHFTooLow")
        .withArgs(WAD);
      await expect(harness.urgency(0n, 0n))
        .to.be.revertedWithCustomError(harness, "RebalanceMathMinHFTooLow")
        .withArgs(0n);
    });
  });

  describe("gas", function () {
    // Measured with gasleft() around the library call (solc 0.8.28, 10k optimizer runs): delever 1968, lever 2344,
    // minAmountOut 1238. The budgets leave ~10% so that a regression shows up in review.
    it("deleverageSize, leverageSize and minAmountOut stay within their budgets", async function () {
      skipUnderCoverage(this);
      const [w, delever] = await harness.deleverageSizeGas(1_000_000n * USD, 780_000n * USD, 8_250n, hf(1.3), 30n);
      const [b, lever] = await harness.leverageSizeGas(1_000_000n * USD, 400_000n * USD, 8_250n, hf(1.3), 30n);
      const [out, floor] = await harness.minAmountOutGas(10n ** 18n, 3_000n * USD, 18, USD, 6, 50n);
      expect([w, b, out]).to.deep.equal([
        ref.deleverageSize(1_000_000n * USD, 780_000n * USD, 8_250n, hf(1.3), 30n),
        ref.leverageSize(1_000_000n * USD, 400_000n * USD, 8_250n, hf(1.3), 30n),
        2_985n * 10n ** 6n,
      ]);
      expect(delever).to.be.lessThanOrEqual(2_200n);
      expect(lever).to.be.lessThanOrEqual(2_600n);
      expect(floor).to.be.lessThanOrEqual(1_400n);
    });
  });
});
