import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { ethers } from "hardhat";

import { ASSETS, type AssetSymbol, type Market } from "../../lib/market";
import { RebalanceMathHarness__factory, type RebalanceMathHarness } from "../../typechain-types";
import { marketFixture } from "../shared/fixtures";
import { fuzzParameters, logBigInt, weighted } from "../shared/fuzz";
import {
  actual,
  describeCase,
  expectDeleverageLands,
  expectLeverageLands,
  expected,
  type SizeCase,
  hf,
  MAX_TARGET,
  MAX_UINT128,
  USD,
} from "../shared/rebalanceMath";
import * as ref from "../shared/reference/rebalanceMath";
import { BPS, MAX_UINT256, WAD } from "../shared/reference/rebalanceMath";

/** CI runs of each pure property (one or two `eth_call`s a run), and of the property that trades on Aave. */
const RUNS = 150;
const AAVE_RUNS = 25;

async function harnessFixture(): Promise<RebalanceMathHarness> {
  const [deployer] = await ethers.getSigners();
  return new RebalanceMathHarness__factory(deployer).deploy();
}

// ---------------------------------------------------------------------------------------------------------------------
// Arbitraries

/** Mostly realistic collateral, some dust. */
const collateralArb = weighted([1, fc.bigInt({ min: 1n, max: 10n ** 6n })], [9, logBigInt(USD, 10n ** 10n * USD)]);
const ltArb = fc.bigInt({ min: 5_000n, max: 9_500n });
const costArb = weighted([1, fc.constant(0n)], [9, fc.bigInt({ min: 1n, max: 300n })]);
/** Mostly T in [1.01, 4]; sometimes below k·lt or lt/k, where the closed forms have no solution. */
const targetArb = weighted([1, fc.bigInt({ min: WAD / 2n, max: WAD })], [13, fc.bigInt({ min: hf(1.01), max: hf(4) })]);

/** A debt that puts Aave's HF near `ratioPpm` millionths of the target. */
function debtFor(collateralBase: bigint, lt: bigint, targetHF: bigint, ratioPpm: bigint): bigint {
  const debt = (collateralBase * lt * WAD * 1_000_000n) / (BPS * targetHF * ratioPpm);
  return debt === 0n ? 1n : debt;
}

/** A realistic position whose HF is `ratio` (ppm) times the target. */
function positionArb(ratio: fc.Arbitrary<bigint>): fc.Arbitrary<SizeCase> {
  return fc
    .record({ collateralBase: collateralArb, lt: ltArb, targetHF: targetArb, costBps: costArb, ratio })
    .map(({ collateralBase, lt, targetHF, costBps, ratio }) => ({
      name: "property",
      collateralBase,
      debtBase: debtFor(collateralBase, lt, targetHF, ratio),
      lt,
      targetHF,
      costBps,
    }));
}

/** HF between 0.3 and 0.999 of the target: some below lt/k, where no sale helps. */
const belowTargetArb = positionArb(fc.bigInt({ min: 300_000n, max: 999_999n }));
/** HF between 1.001 and 3 times the target. */
const aboveTargetArb = positionArb(fc.bigInt({ min: 1_001_000n, max: 3_000_000n }));
/** A case and the same case with 1 wei to 100% more debt: for the monotonicity properties. */
const withMoreDebtArb = (arb: fc.Arbitrary<SizeCase>): fc.Arbitrary<[SizeCase, SizeCase]> =>
  fc
    .tuple(arb, fc.bigInt({ min: 1n, max: 1_000_000n }))
    .map(([c, extraPpm]) => [c, { ...c, debtBase: c.debtBase + 1n + (c.debtBase * extraPpm) / 1_000_000n }]);

/** Anything in the documented domain, and costs a little beyond BPS: mostly zeros and reverts, with every branch. */
const domainArb: fc.Arbitrary<SizeCase> = fc.record({
  name: fc.constant("domain"),
  collateralBase: logBigInt(0n, MAX_UINT128),
  debtBase: logBigInt(0n, MAX_UINT128),
  lt: fc.bigInt({ min: 0n, max: BPS }),
  targetHF: logBigInt(0n, MAX_TARGET),
  costBps: weighted([19, fc.bigInt({ min: 0n, max: BPS })], [1, fc.bigInt({ min: BPS + 1n, max: 2n * BPS })]),
});

const decimalsArb = weighted([3, fc.constantFrom(0n, 6n, 8n, 18n)], [1, fc.bigInt({ min: 0n, max: 24n })]);
const slippageArb = weighted([9, fc.bigInt({ min: 0n, max: 500n })], [1, fc.bigInt({ min: 0n, max: BPS })]);

const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;

// ---------------------------------------------------------------------------------------------------------------------

describe("RebalanceMath properties", function () {
  let harness: RebalanceMathHarness;

  beforeEach(async function () {
    harness = await loadFixture(harnessFixture);
  });

  const delever = (c: SizeCase) =>
    actual(harness, harness.deleverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));
  const lever = (c: SizeCase) =>
    actual(harness, harness.leverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));
  /** The size the harness returns; the property discards a case the library refuses. */
  async function size(outcome: Promise<Awaited<ReturnType<typeof delever>>>): Promise<bigint> {
    const result = await outcome;
    fc.pre("value" in result);
    return "value" in result ? result.value : 0n;
  }

  it("healthFactor equals the reference over C, D < 2^128 and lt <= BPS", async function () {
    await fc.assert(
      fc.asyncProperty(
        logBigInt(0n, MAX_UINT128),
        logBigInt(0n, MAX_UINT128),
        fc.bigInt({ min: 0n, max: BPS }),
        async (c, d, lt) => {
          expect(await actual(harness, harness.healthFactor(c, d, lt))).to.deep.equal(
            expected(() => ref.healthFactor(c, d, lt)),
          );
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  describe("#deleverageSize", function () {
    it("equals the reference, value or custom error, on realistic positions and across the domain", async function () {
      await fc.assert(
        fc.asyncProperty(weighted([3, belowTargetArb], [1, domainArb]), async (c) => {
          const want = expected(() => ref.deleverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));
          expect(await delever(c), describeCase(c)).to.deep.equal(want);
        }),
        fuzzParameters(RUNS),
      );
    });

    it("lands Aave's HF in [T, proved ceiling] (and within 1e-12 of T on $60k+ of debt) when replayed", async function () {
      await fc.assert(
        fc.asyncProperty(belowTargetArb, async (c) => {
          // Rounding the debt down can lift a dust position to its target.
          fc.pre(ref.healthFactor(c.collateralBase, c.debtBase, c.lt) < c.targetHF);
          const w = await size(delever(c));
          expect(w > 0n, `a position below target sells something (${describeCase(c)})`).to.equal(true);
          expectDeleverageLands(c, w);
        }),
        fuzzParameters(RUNS),
      );
    });

    it("is monotone in the debt: more debt sells strictly more once any sale is needed", async function () {
      await fc.assert(
        fc.asyncProperty(withMoreDebtArb(belowTargetArb), async ([c, more]) => {
          const [w, wMore] = [await size(delever(c)), await size(delever(more))];
          const label = `${describeCase(c)} D+=${more.debtBase - c.debtBase}: ${w} -> ${wMore}`;
          expect(w > 0n ? wMore > w : wMore >= w, label).to.equal(true);
        }),
        fuzzParameters(RUNS),
      );
    });
  });

  describe("#leverageSize", function () {
    it("equals the reference, value or custom error, on realistic positions and across the domain", async function () {
      const openArb = aboveTargetArb.map((c) => ({ ...c, debtBase: 0n }));
      await fc.assert(
        fc.asyncProperty(weighted([3, aboveTargetArb], [1, openArb], [1, domainArb]), async (c) => {
          const want = expected(() => ref.leverageSize(c.collateralBase, c.debtBase, c.lt, c.targetHF, c.costBps));
          expect(await lever(c), describeCase(c)).to.deep.equal(want);
        }),
        fuzzParameters(RUNS),
      );
    });

    it("lands Aave's HF in [T, proved ceiling] (and within 1e-12 of T on $60k+ of debt) when replayed", async function () {
      await fc.assert(
        fc.asyncProperty(aboveTargetArb, async (c) => {
          const b = await size(lever(c));
          // A position above target by less than the rounding margin (dust) borrows nothing.
          fc.pre(b > 0n);
          expectLeverageLands(c, b);
        }),
        fuzzParameters(RUNS),
      );
    });

    it("is monotone in the debt: more debt never borrows more", async function () {
      await fc.assert(
        fc.asyncProperty(withMoreDebtArb(aboveTargetArb), async ([c, more]) => {
          const [b, bMore] = [await size(lever(c)), await size(lever(more))];
          expect(bMore <= b, `${describeCase(c)} D+=${more.debtBase - c.debtBase}: ${b} -> ${bMore}`).to.equal(true);
        }),
        fuzzParameters(RUNS),
      );
    });
  });

  it("toAmount and toBase equal the reference, and value -> amount -> value never gains", async function () {
    await fc.assert(
      fc.asyncProperty(logBigInt(0n, 10n ** 40n), logBigInt(1n, 10n ** 15n), decimalsArb, async (x, price, dec) => {
        const label = `x=${x} price=${price} decimals=${dec}`;
        expect(await actual(harness, harness.toAmount(x, price, dec)), label).to.deep.equal(
          expected(() => ref.toAmount(x, price, dec)),
        );
        expect(await actual(harness, harness.toBase(x, price, dec)), label).to.deep.equal(
          expected(() => ref.toBase(x, price, dec)),
        );
        expect(ref.toBase(ref.toAmount(x, price, dec), price, dec) <= x, label).to.equal(true);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("minAmountOut equals the reference, is never above the fair output and falls as the slippage grows", async function () {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          amountIn: logBigInt(0n, 10n ** 36n),
          priceIn: logBigInt(1n, 10n ** 14n),
          decIn: decimalsArb,
          priceOut: logBigInt(1n, 10n ** 14n),
          decOut: decimalsArb,
          slippage: slippageArb,
          more: fc.bigInt({ min: 0n, max: BPS }),
        }),
        async (p) => {
          const label = JSON.stringify(p, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
          const floor = (slippage: bigint) =>
            harness.minAmountOut(p.amountIn, p.priceIn, p.decIn, p.priceOut, p.decOut, slippage);
          const out = await floor(p.slippage);
          expect(out, label).to.equal(
            ref.minAmountOut(p.amountIn, p.priceIn, p.decIn, p.priceOut, p.decOut, p.slippage),
          );
          // The fair output at the oracle prices, rounded up to a whole unit of tokenOut: the floor never asks more.
          const fair = ceilDiv(p.amountIn * p.priceIn * 10n ** p.decOut, p.priceOut * 10n ** p.decIn);
          expect(out <= fair, `${label}: ${out} > fair ${fair}`).to.equal(true);
          const looser = p.slippage + ((BPS - p.slippage) * p.more) / BPS;
          expect((await floor(looser)) <= out, `${label}: slippage ${looser}`).to.equal(true);
        },
      ),
      fuzzParameters(RUNS),
    );
  });

  it("urgency equals the reference, lies in [0, WAD] and grows as the HF falls toward 1.0", async function () {
    const hfArb = weighted([19, fc.bigInt({ min: 0n, max: hf(3.5) })], [1, logBigInt(0n, MAX_UINT256)]);
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: WAD + 1n, max: hf(3) }), hfArb, hfArb, async (minHF, a, b) => {
        const [high, low] = a > b ? [a, b] : [b, a];
        const [uHigh, uLow] = [await harness.urgency(high, minHF), await harness.urgency(low, minHF)];
        expect([uHigh, uLow]).to.deep.equal([ref.urgency(high, minHF), ref.urgency(low, minHF)]);
        expect(
          uLow >= uHigh && uHigh >= 0n && uLow <= WAD,
          `minHF=${minHF} ${high}: ${uHigh}, ${low}: ${uLow}`,
        ).to.equal(true);
      }),
      fuzzParameters(RUNS),
    );
  });

  describe("healthFactor against Aave's getUserAccountData on the local market", function () {
    interface AaveFixture {
      market: Market;
      harness: RebalanceMathHarness;
      borrower: HardhatEthersSigner;
    }

    async function aaveFixture(): Promise<AaveFixture> {
      const market = await marketFixture();
      const [deployer, borrower] = await ethers.getSigners();
      return { market, harness: await new RebalanceMathHarness__factory(deployer).deploy(), borrower };
    }

    const COLLATERALS: AssetSymbol[] = ["WETH", "WBTC"];

    async function supply(f: AaveFixture, symbol: AssetSymbol, amount: bigint): Promise<void> {
      if (amount === 0n) return;
      const { pool } = f.market.aave;
      await f.market.world.fund(symbol, f.borrower.address, amount);
      await (await f.market.tokens.erc20[symbol].connect(f.borrower).approve(pool, amount)).wait();
      await (
        await pool.connect(f.borrower).supply(f.market.tokens.erc20[symbol], amount, f.borrower.address, 0)
      ).wait();
    }

    it("our HF of Aave's own totals equals Aave's HF, and the totals equal the model of the balances", async function () {
      const priceMove = fc.bigInt({ min: 300n, max: 3_000n }); // per mille of the initial price
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            weth: logBigInt(10n ** 15n, 50n * 10n ** 18n),
            wbtc: weighted([1, fc.constant(0n)], [2, logBigInt(10n ** 4n, 2n * 10n ** 8n)]),
            borrowPpm: fc.bigInt({ min: 1n, max: 999_000n }),
            wethMove: priceMove,
            wbtcMove: priceMove,
            usdcMove: fc.bigInt({ min: 950n, max: 1_050n }),
            days: fc.integer({ min: 0, max: 365 }),
          }),
          async (p) => {
            const f = await loadFixture(aaveFixture);
            const { pool, oracle, aTokens, variableDebtTokens } = f.market.aave;
            const usdc = f.market.tokens.erc20.USDC;
            await supply(f, "WETH", p.weth);
            await supply(f, "WBTC", p.wbtc);
            const { availableBorrowsBase } = await pool.getUserAccountData(f.borrower.address);
            const usdcPrice = await oracle.getAssetPrice(usdc);
            const borrow = ref.toAmount((availableBorrowsBase * p.borrowPpm) / 1_000_000n, usdcPrice, 6n);
            fc.pre(borrow > 0n);
            await (await pool.connect(f.borrower).borrow(usdc, borrow, 2n, 0, f.borrower.address)).wait();
            const admin = f.market.accounts.admin;
            for (const [symbol, move] of [
              ["WETH", p.wethMove],
              ["WBTC", p.wbtcMove],
              ["USDC", p.usdcMove],
            ] as const) {
              const price = (ASSETS[symbol].initialPrice * move) / 1_000n;
              await (await f.market.feeds[symbol].connect(admin).setAnswer(price)).wait();
            }
            // Interest makes the balances uneven numbers, so Aave's roundings are exercised.
            if (p.days > 0) await time.increase(p.days * 86_400);

            const data = await pool.getUserAccountData(f.borrower.address);
            let collateralBase = 0n;
            let weightedLt = 0n;
            for (const symbol of COLLATERALS) {
              const balance = await aTokens[symbol].balanceOf(f.borrower.address);
              const price = await oracle.getAssetPrice(f.market.tokens.erc20[symbol]);
              const value = ref.toBase(balance, price, BigInt(ASSETS[symbol].decimals));
              collateralBase += value;
              weightedLt += value * ASSETS[symbol].liquidationThresholdBps;
            }
            const debt = await variableDebtTokens.USDC.balanceOf(f.borrower.address);
            const debtBase = ref.toBase(debt, await oracle.getAssetPrice(usdc), 6n);
            const lt = weightedLt / collateralBase;
            const label = JSON.stringify(p, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
            expect(
              [data.totalCollateralBase, data.totalDebtBase, data.currentLiquidationThreshold],
              label,
            ).to.deep.equal([collateralBase, debtBase, lt]);
            expect(data.healthFactor, label).to.equal(ref.healthFactor(collateralBase, debtBase, lt));
            expect(
              await f.harness.healthFactor(
                data.totalCollateralBase,
                data.totalDebtBase,
                data.currentLiquidationThreshold,
              ),
              label,
            ).to.equal(data.healthFactor);
          },
        ),
        fuzzParameters(AAVE_RUNS),
      );
    });
  });
});
