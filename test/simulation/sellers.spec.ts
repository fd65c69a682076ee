import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import hre from "hardhat";

import type { Market } from "../../lib/market";
import { installBlockClock, type BlockClock } from "../../lib/simulation/clock";
import { Liquidator } from "../../lib/simulation/liquidator";
import { DEPTH_BPS, DrawdownSellers, OUTSIDE_FLOW, ROUTE_POOL, StressedMarket } from "../../lib/simulation/market";
import { STATIC_POLICY } from "../../lib/simulation/policies";
import type { StressKind } from "../../lib/simulation/stress";
import { observe, trackVault, type TrackedVault } from "../../lib/simulation/tracking";
import { openWethCollateralUsdcDebt } from "../market/helpers";
import { marketFixture } from "../shared/fixtures";

const E8 = 10n ** 8n;
const FALL = 1_900n * E8;
const dollars = (base: bigint): number => Number(base) / 1e8;

/** A 1,000 WETH Aave position at 80% LTV, and a market with it: below HF 1 once WETH is at $1,900. */
async function borrowerFixture(): Promise<{ market: Market; borrower: HardhatEthersSigner }> {
  const market = await marketFixture();
  const [, , , borrower] = await hre.ethers.getSigners();
  await openWethCollateralUsdcDebt(market, borrower, 1_000n, 1_600_000n);
  return { market, borrower };
}

function tracked(address: string): TrackedVault {
  const spec = { index: 0, owner: address, deposit: 0n, hf0: 0n };
  return trackVault(spec, address, STATIC_POLICY, false);
}

describe("simulation: sellers stress", () => {
  describe("DrawdownSellers", () => {
    it("sells only at a new drawdown depth past 5%, per point; a new high starts over", () => {
      const sellers = new DrawdownSellers(1_000_000);
      sellers.reset(2_000);
      expect(sellers.next(1_920)).to.equal(0); // -4%
      expect(sellers.next(1_800)).to.be.closeTo(5_000_000, 1e-6); // -10%: points 5 to 10
      expect(sellers.next(1_900)).to.equal(0); // a bounce sells nothing
      expect(sellers.next(1_800)).to.equal(0); // nor a return to the same depth
      expect(sellers.next(1_700)).to.be.closeTo(5_000_000, 1e-6); // -15%
      expect(sellers.next(2_100)).to.equal(0); // a new high
      expect(sellers.next(1_890)).to.be.closeTo(5_000_000, 1e-6); // -10% from it
      expect(OUTSIDE_FLOW).to.deep.equal({ thresholdPct: 5, depthShare: 0.1 });
    });
  });

  describe("on chain", () => {
    let market: Market;
    let borrower: HardhatEthersSigner;
    let clock: BlockClock;

    beforeEach(async () => {
      ({ market, borrower } = await loadFixture(borrowerFixture));
      clock = installBlockClock(hre.network.provider);
    });

    afterEach(() => clock.restore());

    async function stressedOn(kinds: StressKind[]): Promise<StressedMarket> {
      const stressed = await StressedMarket.prepare(hre, market, new Set(kinds), clock, 1_800);
      await stressed.reset();
      return stressed;
    }

    /** Moves WETH to $1,900, liquidates the borrower, and returns the liquidation and the next step's oracle price. */
    async function liquidateAt1900(sell: boolean) {
      const stressed = await stressedOn(["sellers"]);
      const liquidator = await Liquidator.prepare(market, { sell });
      const t = (await clock.latest()) + 12;
      expect(await stressed.step(t, FALL)).to.equal(FALL);
      const poolBefore = await market.world.poolPrice(ROUTE_POOL);
      const vault = tracked(borrower.address);
      observe(vault, (await market.aave.pool.getUserAccountData(borrower.address)).healthFactor, FALL);
      const [liquidation] = await liquidator.run([vault], FALL);
      for (const l of [liquidation]) stressed.liquidatorSold(l.soldWeth, l.proceedsUsdc);
      const poolAfter = await market.world.poolPrice(ROUTE_POOL);
      const liquidatorWeth = await market.tokens.erc20.WETH.balanceOf(market.accounts.liquidator.address);
      const next = await stressed.step(t + 60, FALL);
      return { liquidation, poolBefore, poolAfter, liquidatorWeth, next, report: stressed.report(FALL) };
    }

    it("the liquidator sells what it seizes into the pool, so the pool and then the market fall more than without", async () => {
      const kept = await liquidateAt1900(false);
      expect(kept.liquidation.seizedWeth > 0n).to.equal(true);
      expect(kept.liquidation.soldWeth).to.equal(0n);
      expect(kept.liquidatorWeth).to.equal(kept.liquidation.seizedWeth);
      expect(kept.poolAfter).to.equal(kept.poolBefore);
      expect(kept.next).to.equal(FALL);

      const sold = await (async () => {
        ({ market, borrower } = await loadFixture(borrowerFixture));
        return liquidateAt1900(true);
      })();
      // The same liquidation, up to a block's interest.
      expect(Number(sold.liquidation.seizedWeth) / Number(kept.liquidation.seizedWeth)).to.be.closeTo(1, 1e-6);
      expect(sold.liquidation.soldWeth).to.equal(sold.liquidation.seizedWeth);
      expect(sold.liquidatorWeth).to.equal(0n);
      // About 500 WETH sold at about $1,900 less the pool's impact and fee.
      const usdc = Number(sold.liquidation.proceedsUsdc) / 1e6;
      const weth = Number(sold.liquidation.soldWeth) / 1e18;
      expect(usdc / weth).to.be.within(1_850, 1_900);
      expect(sold.poolAfter < sold.poolBefore).to.equal(true);
      // A quarter of the pool's fall carries into the market price: the cascade's channel.
      expect(sold.next < FALL).to.equal(true);
      const poolFall = 1 - Number(sold.poolAfter) / Number(sold.poolBefore);
      expect(1 - Number(sold.next) / Number(FALL)).to.be.closeTo(poolFall / 4, 1e-6);
      expect(sold.report.liquidatorSoldWeth).to.be.closeTo(weth, 1e-3);
      expect(sold.report.liquidatorSoldUsd).to.be.closeTo(usdc, 0.01);
      expect(sold.report.marketImpactPct).to.be.lessThan(0);
    });

    it("outside holders sell into the pool as the drawdown deepens; the pool ends below the market", async () => {
      const stressed = await stressedOn(["sellers"]);
      const depth = await stressed.depth();
      const t = (await clock.latest()) + 12;
      const price = 1_800n * E8;
      expect(await stressed.step(t, price)).to.equal(price);
      const report = stressed.report(price);
      const expected = 5 * OUTSIDE_FLOW.depthShare * dollars(depth);
      expect(report.outsideSoldWeth * 1_800).to.be.closeTo(expected, 1);
      expect(report.outsideSoldUsd).to.be.within(expected * 0.98, expected);
      expect(report.poolGapMaxBps).to.be.greaterThan(0);
      expect((await market.world.poolPrice(ROUTE_POOL)) < price).to.equal(true);
      // Without the stress nobody sells: the pool is at the market.
      const plain = await stressedOn([]);
      await plain.step(t + 60, price);
      expect(plain.report(price).outsideSoldWeth).to.equal(0);
      expect(plain.report(price).poolGapMaxBps).to.be.lte(0.01);
      expect(DEPTH_BPS).to.equal(200);
    });
  });
});
