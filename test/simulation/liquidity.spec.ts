import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256 } from "ethers";
import hre from "hardhat";

import { deployMarket, MAINNET_POOLS, type Market } from "../../lib/market";
import { installBlockClock, type BlockClock } from "../../lib/simulation/clock";
import {
  keepShare,
  LIMITED_ARBITRAGEUR,
  RealizedVolatility,
  ROUTE_POOL,
  StressedMarket,
} from "../../lib/simulation/market";
import { buildPopulation, MAINNET_DEPOSIT_WETH } from "../../lib/simulation/population";
import { marketFixture } from "../shared/fixtures";

const E8 = 10n ** 8n;
const ETH = 2_000n * E8;
const POOL_300 = "WETH/USDC/3000";
const moved = (price: bigint, bps: bigint): bigint => (price * (10_000n + bps)) / 10_000n;
const dollars = (base: bigint): number => Number(base) / 1e8;

async function mainnetFixture(): Promise<Market> {
  return deployMarket(hre, undefined, { liquidity: "mainnet" });
}

describe("simulation: liquidity stress", () => {
  describe("rules", () => {
    it("LPs keep 100% of their concentrated liquidity below 80%/yr, 70%, 45%, then 25% from 300%/yr", () => {
      expect([0, 0.79, 0.8, 1.49, 1.5, 2.99, 3, 10].map(keepShare)).to.deep.equal([
        1, 1, 0.7, 0.7, 0.45, 0.45, 0.25, 0.25,
      ]);
    });

    it("realized volatility is annualized from the last hour's log returns", () => {
      const vol = new RealizedVolatility(3_600);
      expect(vol.value()).to.equal(0);
      // ±1% every minute: sqrt(ln(1.01)^2 / 60 s * a year), about 720%/yr.
      let price = 2_000;
      for (let i = 0; i <= 60; i++) {
        vol.add(i * 60, price);
        price = i % 2 === 0 ? price * 1.01 : price / 1.01;
      }
      expect(vol.value()).to.be.closeTo(Math.sqrt((Math.log(1.01) ** 2 / 60) * 365 * 24 * 3_600), 1e-9);
      // An hour of calm later, the window holds no move.
      for (let i = 1; i <= 61; i++) vol.add(3_600 + i * 60, 2_000);
      expect(vol.value()).to.equal(0);
    });

    it("mainnet deposits are log-normal around 40 WETH within 5-250, the same for a seed; local ones unchanged", () => {
      const specs = buildPopulation(1_000, 3, "mainnet");
      const weth = specs.map((s) => Number(s.deposit) / 1e18).sort((a, b) => a - b);
      expect(weth[0]).to.be.gte(MAINNET_DEPOSIT_WETH.min);
      expect(weth[weth.length - 1]).to.be.lte(MAINNET_DEPOSIT_WETH.max);
      expect(weth[500]).to.be.within(33, 48);
      expect(buildPopulation(1_000, 3, "mainnet")).to.deep.equal(specs);
      expect(buildPopulation(20, 3)).to.deep.equal(buildPopulation(20, 3, "local"));
      expect(specs.every((s) => s.deposit % 10n ** 16n === 0n)).to.equal(true);
    });
  });

  describe("mainnet-calibrated pools", () => {
    let market: Market;

    beforeEach(async () => {
      market = await loadFixture(mainnetFixture);
    });

    it("hold about $8M (0.05%) and $2M (0.3%) within 2%, twice the local pools' depth", async () => {
      expect(MAINNET_POOLS.map((p) => p.fee)).to.deep.equal([500, 3_000, 3_000]);
      expect(dollars(await market.world.depthDown(ROUTE_POOL, 200))).to.be.within(7.5e6, 8.5e6);
      expect(dollars(await market.world.depthDown(POOL_300, 200))).to.be.within(1.8e6, 2.2e6);
      const local = await loadFixture(marketFixture);
      const localDepth = dollars(await local.world.depthDown(ROUTE_POOL, 200));
      expect(localDepth).to.be.within(3e6, 4.5e6);
    });

    it("depthDown is what a real sale takes to move the pool 2%", async () => {
      const [seller] = await hre.ethers.getSigners();
      const depth = await market.world.depthDown(ROUTE_POOL, 200);
      const wei = (depth * 10n ** 18n) / ETH;
      await market.world.fund("WETH", seller.address, wei);
      const { WETH, USDC } = market.tokens.erc20;
      await (await WETH.connect(seller).approve(market.uniswap.router, wei)).wait();
      await (
        await market.uniswap.router.connect(seller).exactInputSingle({
          tokenIn: WETH,
          tokenOut: USDC,
          fee: 500,
          recipient: seller.address,
          deadline: MaxUint256,
          amountIn: wei,
          amountOutMinimum: 0n,
          sqrtPriceLimitX96: 0n,
        })
      ).wait();
      const drop = 1 - Number(await market.world.poolPrice(ROUTE_POOL)) / Number(ETH);
      // The pool's 0.05% fee stays out of the price move.
      expect(drop).to.be.closeTo(0.02, 0.0005);
    });
  });

  describe("StressedMarket with the liquidity stress", () => {
    let market: Market;
    let clock: BlockClock;
    let stressed: StressedMarket;

    beforeEach(async () => {
      market = await loadFixture(mainnetFixture);
      clock = installBlockClock(hre.network.provider);
      stressed = await StressedMarket.prepare(hre, market, new Set(["liquidity"]), clock, 1_800);
      await stressed.reset();
    });

    afterEach(() => clock.restore());

    it("depth falls as volatility rises and comes back when the market calms", async () => {
      const start = await stressed.depth();
      let t = await clock.latest();
      let price = ETH;
      // Calm: ±0.05% a minute (about 36%/yr) leaves the LP in.
      for (let i = 0; i < 10; i++) {
        price = moved(ETH, i % 2 === 0 ? -5n : 5n);
        await stressed.step((t += 60), price);
      }
      expect(dollars(await stressed.depth())).to.be.closeTo(dollars(start), dollars(start) * 0.02);
      // Violent: ±3% a minute (over 4,000%/yr): the LP keeps a quarter of its concentrated liquidity.
      for (let i = 0; i < 6; i++) {
        price = moved(ETH, i % 2 === 0 ? -300n : 0n);
        await stressed.step((t += 60), price);
      }
      const thin = await stressed.depth();
      expect(dollars(thin)).to.be.lessThan(dollars(start) * 0.35);
      const report = stressed.report(price);
      expect(report.lpShareMin).to.equal(0.25);
      expect(report.depthWorstUsd).to.be.lessThan(report.depthStartUsd * 0.35);
      // An hour and more of calm: the LP comes back.
      for (let i = 0; i < 14; i++) await stressed.step((t += 300), price);
      expect(dollars(await stressed.depth())).to.be.closeTo(dollars(start), dollars(start) * 0.03);
    });

    it("the arbitrageur has finite capital and a latency, so the pool lags the market", async () => {
      let t = (await clock.latest()) + 12;
      const crash = moved(ETH, -1_000n);
      await stressed.step(t, crash);
      // $5M per pool cannot move the 0.05% pool 10%: it ends well above the market.
      const after1 = await market.world.poolPrice(ROUTE_POOL);
      expect(Number(after1) / Number(crash) - 1).to.be.greaterThan(0.01);
      const report = stressed.report(crash);
      expect(report.arbitrageVolumeUsd).to.be.closeTo(2 * LIMITED_ARBITRAGEUR.capitalUsd, 1);
      expect(report.poolGapMaxBps).to.be.greaterThan(100);
      // Within its latency it does nothing.
      await stressed.step((t += LIMITED_ARBITRAGEUR.latencySeconds / 2), crash);
      expect(await market.world.poolPrice(ROUTE_POOL)).to.equal(after1);
      // After it, it closes more of the gap.
      await stressed.step((t += LIMITED_ARBITRAGEUR.latencySeconds), crash);
      const after3 = await market.world.poolPrice(ROUTE_POOL);
      expect(after3 < after1).to.equal(true);
      expect(after3 > crash).to.equal(true);
    });
  });
});
