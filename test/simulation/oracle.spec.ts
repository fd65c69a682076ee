import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";

import type { Market } from "../../lib/market";
import { deviationBps } from "../../lib/market/math";
import { installBlockClock, type BlockClock } from "../../lib/simulation/clock";
import {
  ETH_USD_DEVIATION_BPS,
  ETH_USD_HEARTBEAT_SECONDS,
  OracleRounds,
  ROUTE_POOL,
  StressedMarket,
} from "../../lib/simulation/market";
import type { StressKind } from "../../lib/simulation/stress";
import { marketFixture } from "../shared/fixtures";

const E8 = 10n ** 8n;
const ETH = 2_000n * E8;
/** `bps` of a price, exactly. */
const moved = (price: bigint, bps: bigint): bigint => (price * (10_000n + bps)) / 10_000n;

async function stressedOn(market: Market, kinds: StressKind[], clock: BlockClock): Promise<StressedMarket> {
  const stressed = await StressedMarket.prepare(hre, market, new Set(kinds), clock, 1_800);
  await stressed.reset();
  return stressed;
}

/** Block number of the WETH feed's latest round, from its AnswerUpdated event. */
async function latestRoundBlock(market: Market): Promise<number> {
  const feed = market.feeds.WETH;
  const logs = await feed.queryFilter(feed.filters.AnswerUpdated(undefined, await feed.latestRound()));
  return logs[0].blockNumber;
}

describe("simulation: oracle stress", () => {
  describe("OracleRounds", () => {
    it("is Chainlink ETH/USD's rule: 0.5% deviation or a 3,600 s heartbeat", () => {
      expect(ETH_USD_DEVIATION_BPS).to.equal(50n);
      expect(ETH_USD_HEARTBEAT_SECONDS).to.equal(3_600);
      const rounds = new OracleRounds();
      rounds.start({ price: ETH, at: 1_000 });
      expect(rounds.due(moved(ETH, 30n), 1_060)).to.equal(undefined);
      expect(rounds.due(moved(ETH, -30n), 1_060)).to.equal(undefined);
      expect(rounds.due(moved(ETH, 49n), 1_060)).to.equal(undefined);
      expect(rounds.due(moved(ETH, 50n), 1_060)).to.equal("deviation");
      expect(rounds.due(moved(ETH, -60n), 1_060)).to.equal("deviation");
      expect(rounds.due(ETH, 1_000 + 3_599)).to.equal(undefined);
      expect(rounds.due(ETH, 1_000 + 3_600)).to.equal("heartbeat");
      rounds.record({ price: moved(ETH, 60n), at: 1_100 }, "deviation");
      expect(rounds.latest).to.deep.equal({ price: moved(ETH, 60n), at: 1_100 });
      expect(rounds.heartbeatDue()).to.equal(4_700);
      // Deviation is measured from the last round, not from the start.
      expect(rounds.due(moved(ETH, 90n), 1_200)).to.equal(undefined);
      expect(rounds.rounds).to.equal(1);
    });

    it("keeps the largest oracle-vs-market gap", () => {
      const rounds = new OracleRounds();
      rounds.start({ price: ETH, at: 0 });
      rounds.observe(moved(ETH, -40n));
      rounds.observe(moved(ETH, 20n));
      expect(rounds.maxGapBps).to.be.closeTo(40.16, 0.01);
    });
  });

  describe("StressedMarket with the oracle stress", () => {
    let market: Market;
    let clock: BlockClock;

    beforeEach(async () => {
      market = await loadFixture(marketFixture);
      clock = installBlockClock(hre.network.provider);
    });

    afterEach(() => clock.restore());

    it("a 0.3% move makes no round while the pools follow the market; a 0.6% move makes one, a block later", async () => {
      const stressed = await stressedOn(market, ["oracle"], clock);
      const feed = market.feeds.WETH;
      const round0 = await feed.latestRound();
      let t = (await clock.latest()) + 12;

      const small = moved(ETH, -30n);
      expect(await stressed.step(t, small)).to.equal(ETH);
      expect(await feed.latestRound()).to.equal(round0);
      expect(await feed.latestAnswer()).to.equal(ETH);
      expect(deviationBps(await market.world.poolPrice(ROUTE_POOL), small)).to.be.lte(1n);

      t += 60;
      const large = moved(ETH, -60n);
      expect(await stressed.step(t, large)).to.equal(large);
      expect(await feed.latestRound()).to.equal(round0 + 1n);
      expect(await feed.latestAnswer()).to.equal(large);
      // The round lands in the block right after the last swap that moved a WETH pool to the market.
      let lastSwap = 0;
      for (const info of Object.values(market.uniswap.pools).filter((p) => p.base === "WETH")) {
        for (const s of await info.pool.queryFilter(info.pool.filters.Swap()))
          lastSwap = Math.max(lastSwap, s.blockNumber);
      }
      expect(await latestRoundBlock(market)).to.equal(lastSwap + 1);
      const report = stressed.report(large);
      expect(report.oracleRounds).to.equal(1);
      expect(report.oracleHeartbeatRounds).to.equal(0);
    });

    it("the heartbeat forces a round at its time, even when the price has not moved", async () => {
      const stressed = await stressedOn(market, ["oracle"], clock);
      const feed = market.feeds.WETH;
      const round0 = await feed.latestRound();
      const due = stressed.rounds.heartbeatDue();
      const price = moved(ETH, 20n);
      await stressed.step((await clock.latest()) + 12, price);
      expect(await feed.latestRound()).to.equal(round0);
      await stressed.advanceTo(due + 600);
      expect(await feed.latestRound()).to.equal(round0 + 1n);
      const [, answer, , updatedAt] = await feed.latestRoundData();
      expect(answer).to.equal(price);
      expect(Number(updatedAt)).to.be.within(due, due + 1);
      expect(stressed.report(price).oracleHeartbeatRounds).to.equal(1);
    });

    it("the gap between oracle and market is reported; without the stress the feed is the market at every step", async () => {
      const withStress = await stressedOn(market, ["oracle"], clock);
      const t = (await clock.latest()) + 12;
      await withStress.step(t, moved(ETH, -45n));
      expect(withStress.report(ETH).oracleGapMaxBps).to.be.closeTo(45.2, 0.1);

      const without = await stressedOn(market, [], clock);
      const price = moved(ETH, -45n);
      expect(await without.step(t + 12, price)).to.equal(price);
      expect(await market.feeds.WETH.latestAnswer()).to.equal(price);
      expect(without.report(price).oracleRounds).to.equal(1);
    });
  });
});
