/// <reference types="chai-as-promised" />
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";

import { ARBITRAGE_TOLERANCE_BPS, ASSET_SYMBOLS, ASSETS, WorldArbitrageError, type Market } from "../../lib/market";
import { deviationBps } from "../../lib/market/math";
import type { MockAggregatorV3 } from "../../typechain-types";
import { marketFixture } from "../shared/fixtures";
import { units, usd } from "./helpers";

/** Timestamp of the block that wrote a feed's round, from its AnswerUpdated event. */
async function roundBlockTimestamp(feed: MockAggregatorV3, roundId: bigint): Promise<bigint> {
  const logs = await feed.queryFilter(feed.filters.AnswerUpdated(undefined, roundId));
  expect(logs).to.have.length(1);
  const block = await logs[0].getBlock();
  return BigInt(block.timestamp);
}

describe("World", function () {
  let market: Market;

  beforeEach(async function () {
    market = await loadFixture(marketFixture);
  });

  it("keeps the oracle and every pool within ARBITRAGE_TOLERANCE_BPS through moves up and down", async function () {
    const { world } = market;
    const pools = Object.values(market.uniswap.pools);
    for (const symbol of ["WETH", "WBTC"] as const) {
      let price = await world.oraclePrice(symbol);
      for (const movePct of [-20n, -35n, 30n, -50n, 100n]) {
        price = (price * (100n + movePct)) / 100n;
        await world.setPrice(symbol, price);
        const step = `${symbol} ${movePct}% to ${price}`;
        expect(await world.oraclePrice(symbol), step).to.equal(price);
        expect(await market.aave.oracle.getAssetPrice(market.tokens.erc20[symbol]), step).to.equal(price);
        for (const info of pools) {
          const poolPrice = await world.poolPrice(info.key);
          const deviation = deviationBps(poolPrice, await world.oraclePrice(info.base));
          expect(deviation, `${step}: ${info.key}`).to.be.lte(ARBITRAGE_TOLERANCE_BPS);
        }
      }
    }
  });

  it("throws WorldArbitrageError when a move is larger than the pools' liquidity", async function () {
    // Pushing WETH/USDC to $1 takes more WETH than the arbitrageur's 2,000,000 reserve.
    await expect(market.world.setPrice("WETH", usd(1n))).to.be.rejectedWith(
      WorldArbitrageError,
      /pool WETH\/USDC\/500 ended \d+ bps from the oracle price/,
    );
  });

  it("setPrice publishes a new round with the answer, updated at the block that wrote it", async function () {
    const feed = market.feeds.WETH;
    const roundBefore = await feed.latestRound();
    const otherRounds = await Promise.all([market.feeds.WBTC.latestRound(), market.feeds.USDC.latestRound()]);
    const before = BigInt(await market.world.now());

    await market.world.setPrice("WETH", usd(1_900n));

    const round = await feed.latestRoundData();
    expect(round[0]).to.equal(roundBefore + 1n);
    expect(round[1]).to.equal(usd(1_900n));
    expect(await feed.latestAnswer()).to.equal(usd(1_900n));
    const updatedAt = round[3];
    expect(updatedAt).to.equal(await roundBlockTimestamp(feed, round[0]));
    expect(updatedAt).to.be.gt(before);
    // The arbitrage swaps come after the feed update, in later blocks.
    expect(updatedAt).to.be.lte(BigInt(await market.world.now()));
    expect(await Promise.all([market.feeds.WBTC.latestRound(), market.feeds.USDC.latestRound()])).to.deep.equal(
      otherRounds,
    );
  });

  it("advance(seconds, blocks) moves time by exactly `seconds` over exactly `blocks` blocks", async function () {
    // Wall-clock time that passes during the suite shifts the first mined block (see the report on
    // World.advance); these spacings are far from the point where that breaks the call.
    for (const [seconds, blocks] of [
      [3_600, 1],
      [86_400, 24],
      [1_000_003, 3],
    ]) {
      const t0 = await market.world.now();
      const n0 = await ethers.provider.getBlockNumber();
      await market.world.advance(seconds, blocks);
      expect(await market.world.now(), `${seconds}s/${blocks}`).to.equal(t0 + seconds);
      expect(await ethers.provider.getBlockNumber(), `${seconds}s/${blocks}`).to.equal(n0 + blocks);
    }
    const t0 = await market.world.now();
    const n0 = await ethers.provider.getBlockNumber();
    await market.world.advance(12);
    expect(await market.world.now()).to.equal(t0 + 12);
    expect(await ethers.provider.getBlockNumber()).to.equal(n0 + 1);
  });

  it("advance rejects fractional, non-positive and too-many-blocks arguments without mining", async function () {
    const n0 = await ethers.provider.getBlockNumber();
    for (const [seconds, blocks] of [
      [0, 1],
      [-60, 1],
      [1.5, 1],
      [60, 1.5],
      [60, 0],
      [5, 10],
    ]) {
      await expect(market.world.advance(seconds, blocks), `${seconds}s/${blocks}`).to.be.rejectedWith(
        RangeError,
        /whole seconds >= blocks >= 1/,
      );
    }
    expect(await ethers.provider.getBlockNumber()).to.equal(n0);
  });

  it("setPrice rejects a non-positive price and leaves the feed alone", async function () {
    const round = await market.feeds.WETH.latestRound();
    for (const price of [0n, -usd(1n)]) {
      await expect(market.world.setPrice("WETH", price)).to.be.rejectedWith(RangeError, /must be positive/);
    }
    expect(await market.feeds.WETH.latestRound()).to.equal(round);
    expect(await market.world.oraclePrice("WETH")).to.equal(ASSETS.WETH.initialPrice);
  });

  it("pool() returns a market pool by key and rejects an unknown key, listing the known ones", async function () {
    const keys = Object.keys(market.uniswap.pools);
    expect(keys).to.have.members(["WETH/USDC/500", "WETH/USDC/3000", "WBTC/USDC/3000"]);
    for (const key of keys) expect(market.world.pool(key)).to.equal(market.uniswap.pools[key]);
    expect(() => market.world.pool("nope")).to.throw(
      RangeError,
      "World: no pool nope; known pools: WETH/USDC/500, WETH/USDC/3000, WBTC/USDC/3000",
    );
  });

  it("refreshOracles re-publishes every answer with a current updatedAt", async function () {
    await market.world.advance(3_600);
    const before = BigInt(await market.world.now());
    // latestRoundData: [roundId, answer, startedAt, updatedAt, answeredInRound].
    const roundsBefore = await Promise.all(ASSET_SYMBOLS.map((symbol) => market.feeds[symbol].latestRoundData()));
    for (const [i, symbol] of ASSET_SYMBOLS.entries()) {
      expect(roundsBefore[i][3], symbol).to.be.lte(before - 3_600n);
    }

    await market.world.refreshOracles();

    for (const [i, symbol] of ASSET_SYMBOLS.entries()) {
      const [roundId, answer, , updatedAt] = await market.feeds[symbol].latestRoundData();
      expect(roundId, symbol).to.equal(roundsBefore[i][0] + 1n);
      expect(answer, symbol).to.equal(roundsBefore[i][1]);
      expect(answer, symbol).to.equal(ASSETS[symbol].initialPrice);
      expect(updatedAt, symbol).to.equal(await roundBlockTimestamp(market.feeds[symbol], roundId));
      expect(updatedAt, symbol).to.be.gt(before);
    }
  });

  it("fund gives exactly the requested amount of each asset, newly minted or wrapped", async function () {
    const [, , , recipient] = await ethers.getSigners();
    for (const symbol of ASSET_SYMBOLS) {
      const token = market.tokens.erc20[symbol];
      const amount = units(symbol, 1_234n) + 5_678n;
      const [balance, supply] = await Promise.all([token.balanceOf(recipient.address), token.totalSupply()]);
      await market.world.fund(symbol, recipient.address, amount);
      expect(await token.balanceOf(recipient.address), symbol).to.equal(balance + amount);
      expect(await token.totalSupply(), symbol).to.equal(supply + amount);
    }
  });
  it("arbitrageTo moves a pool to any prices, not only the oracle's, and says what it sold", async function () {
    const { world } = market;
    const key = "WETH/USDC/500";
    const market1800 = usd(1_800n);
    const prices = { ...(await world.oraclePrices()), WETH: market1800 };
    const trade = await world.arbitrageTo(key, prices);
    expect(trade.tokenIn).to.equal("WETH");
    expect(trade.amountIn > 0n).to.equal(true);
    expect(deviationBps(await world.poolPrice(key), market1800)).to.be.lte(ARBITRAGE_TOLERANCE_BPS);
    // The feed is not touched, nor the other pool.
    expect(await world.oraclePrice("WETH")).to.equal(ASSETS.WETH.initialPrice);
    expect(deviationBps(await world.poolPrice("WETH/USDC/3000"), ASSETS.WETH.initialPrice)).to.be.lte(
      ARBITRAGE_TOLERANCE_BPS,
    );
    // Already there: nothing sold.
    expect((await world.arbitrageTo(key, prices)).amountIn).to.equal(0n);
  });

  it("arbitrageTo with a capital cap sells at most the cap and may end short of the target, without throwing", async function () {
    const { world } = market;
    const key = "WETH/USDC/500";
    const target = usd(1_000n);
    const cap = units("WETH", 100n);
    const trade = await world.arbitrageTo(key, { ...(await world.oraclePrices()), WETH: target }, { WETH: cap });
    expect([trade.tokenIn, trade.amountIn]).to.deep.equal(["WETH", cap]);
    // Where the swap left the pool, from its Swap event.
    const { pool } = world.pool(key);
    expect([trade.sqrtPriceX96, trade.liquidity]).to.deep.equal([
      (await pool.slot0()).sqrtPriceX96,
      await pool.liquidity(),
    ]);
    const price = await world.poolPrice(key);
    expect(price < ASSETS.WETH.initialPrice && price > target).to.equal(true);
  });

  it("publish sets a feed and no pool; refreshOracles(symbols) re-publishes only those feeds", async function () {
    const { world } = market;
    await world.publish("WETH", usd(1_900n));
    expect(await world.oraclePrice("WETH")).to.equal(usd(1_900n));
    expect(deviationBps(await world.poolPrice("WETH/USDC/500"), ASSETS.WETH.initialPrice)).to.be.lte(
      ARBITRAGE_TOLERANCE_BPS,
    );
    await expect(world.publish("WETH", 0n)).to.be.rejectedWith(RangeError);
    const rounds = await Promise.all(ASSET_SYMBOLS.map((symbol) => market.feeds[symbol].latestRound()));
    await world.refreshOracles(["USDC"]);
    const after = await Promise.all(ASSET_SYMBOLS.map((symbol) => market.feeds[symbol].latestRound()));
    expect(after.map((r, i) => r - rounds[i])).to.deep.equal(ASSET_SYMBOLS.map((s) => (s === "USDC" ? 1n : 0n)));
  });

  it("depthDown grows with the move and with the pool's liquidity", async function () {
    const { world } = market;
    const d1 = await world.depthDown("WETH/USDC/500", 100);
    const d2 = await world.depthDown("WETH/USDC/500", 200);
    expect(Number(d2) / Number(d1)).to.be.closeTo(2, 0.03);
    // The 0.05% pool holds more than three times the 0.3% pool's liquidity.
    expect(d2 > 3n * (await world.depthDown("WETH/USDC/3000", 200))).to.equal(true);
  });
});
