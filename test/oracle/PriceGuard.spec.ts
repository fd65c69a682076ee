import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, ZeroAddress, getBytes } from "ethers";
import { ethers } from "hardhat";

import { ASSETS, type AssetSymbol, type Market, type PoolInfo } from "../../lib/market";
import { MAX_TICK, MIN_TICK } from "../../lib/market/math";
import { DEFAULT_POLICY, LOCAL_PARAMS } from "../../lib/protocol";
import {
  AaveOracle__factory,
  MintableERC20__factory,
  MockPriceCapAdapter__factory,
  PriceGuard__factory,
  TwapMathHarness__factory,
  type MockAggregatorV3,
  type PriceGuard,
  type TwapMathHarness,
} from "../../typechain-types";
import { skipUnderCoverage } from "../shared/coverage";
import { marketFixture } from "../shared/fixtures";
import { DROPPED_PRICE } from "../shared/keeper";
import { DEPOSIT, emptyVaultFixture, expectUnchanged, movePrice, snapshotState, TARGET_HF } from "../shared/vault";
import { meanTick, priceWadAtTick, sqrtRatioAtTick } from "../shared/reference/twapMath";

const WINDOW = 1800;
const MAX_DEVIATION_BPS = 200;
const HEARTBEAT = 3600n;
const WAD = 10n ** 18n;
const TWO_DAYS = 2n * 24n * 3600n;

/** |a / b - 1| in bps, exact, as a rational compared by cross-multiplication. */
function withinBps(a: bigint, b: bigint, bps: bigint): boolean {
  const diff = a > b ? a - b : b - a;
  return diff * 10_000n <= b * bps;
}

// ---------------------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------------------

async function priceGuardFixture() {
  const market: Market = await marketFixture();
  const [owner, stranger, newOwner] = await ethers.getSigners();
  const guard = await new PriceGuard__factory(owner).deploy(
    market.aave.oracle,
    market.uniswap.factory,
    owner.address,
    WINDOW,
    MAX_DEVIATION_BPS,
  );
  await guard.waitForDeployment();
  const addr = {} as Record<AssetSymbol, string>;
  for (const symbol of ["WETH", "WBTC", "USDC"] as const) {
    addr[symbol] = await market.tokens.erc20[symbol].getAddress();
    await (await guard.setHeartbeat(addr[symbol], HEARTBEAT)).wait();
  }
  await (await guard.setReferencePool(addr.WETH, addr.USDC, 500)).wait();
  await (await guard.setReferencePool(addr.WBTC, addr.USDC, 3000)).wait();
  const harness = await new TwapMathHarness__factory(owner).deploy();
  return { market, guard, harness, owner, stranger, newOwner, addr };
}

type Fixture = Awaited<ReturnType<typeof priceGuardFixture>>;

/** USDC at 1.00 under Aave's price cap, as a CAPO `PriceCapAdapterStable` caps it (4% above the peg). */
const USDC_CAP = 104_000_000n;

/** The guard's market with Aave's USDC source replaced by a CAPO-like adapter (no rounds) around the USDC feed. */
async function adapterFixture() {
  const f = await priceGuardFixture();
  const adapter = await new MockPriceCapAdapter__factory(f.owner).deploy(f.market.feeds.USDC, USDC_CAP);
  await (await f.market.aave.oracle.setAssetSources([f.addr.USDC], [adapter])).wait();
  return { ...f, adapter };
}

/** Alice's empty WETH/USDC vault on a market whose USDC source is the CAPO-like adapter, no freshness feed yet. */
async function adapterVaultFixture() {
  const f = await emptyVaultFixture();
  const adapter = await new MockPriceCapAdapter__factory(f.alice).deploy(f.feeds.USDC, USDC_CAP);
  await (await f.aave.oracle.setAssetSources([f.tokens.erc20.USDC], [adapter])).wait();
  return { ...f, adapter };
}

/** The guard's TWAP price recomputed in BigInt from the pool's own observations, at a pinned block. */
async function referenceTwapWad(
  info: PoolInfo,
  base: AssetSymbol,
  quote: AssetSymbol,
  blockTag: number,
  window = WINDOW,
): Promise<bigint> {
  const [tickCumulatives] = await info.pool.observe([window, 0], { blockTag });
  const tick = meanTick(tickCumulatives[1] - tickCumulatives[0], BigInt(window));
  return priceWadAtTick(tick, info.token0 === base, ASSETS[base].decimals, ASSETS[quote].decimals);
}

async function latestBlock(): Promise<{ number: number; timestamp: number }> {
  const block = await ethers.provider.getBlock("latest");
  if (block === null) throw new Error("no latest block");
  return { number: block.number, timestamp: block.timestamp };
}

/** Gas the EVM spends executing `data` on `to`, without the intrinsic 21,000 and calldata costs. */
/**
 * A round exactly one heartbeat old is accepted and one a second older is refused; returns the block time of the
 * refused read. Each write is mined at a chosen time; calls then run against that latest block's timestamp.
 */
async function expectHeartbeatBoundary(
  guard: PriceGuard,
  feed: MockAggregatorV3,
  asset: string,
  answer: bigint,
): Promise<bigint> {
  const first = BigInt((await latestBlock()).timestamp) + 10n;
  await time.setNextBlockTimestamp(first);
  await feed.setRound(answer, first - HEARTBEAT);
  expect(await guard.price(asset)).to.equal(answer);
  const second = first + 10n;
  await time.setNextBlockTimestamp(second);
  await feed.setRound(answer, second - HEARTBEAT - 1n);
  await expect(guard.price(asset))
    .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
    .withArgs(asset, second - HEARTBEAT - 1n, HEARTBEAT);
  return second;
}

async function executionGas(f: Fixture, to: string, data: string): Promise<bigint> {
  const tx = await f.stranger.sendTransaction({ to, data });
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const calldataGas = getBytes(data).reduce((sum, byte) => sum + (byte === 0 ? 4n : 16n), 0n);
  return receipt.gasUsed - 21_000n - calldataGas;
}

describe("PriceGuard", () => {
  describe("#constructor", () => {
    it("stores the oracle, factory, owner and TWAP parameters and emits TwapParametersSet", async () => {
      const { market, guard, owner } = await loadFixture(priceGuardFixture);
      expect(await guard.ORACLE()).to.equal(await market.aave.oracle.getAddress());
      expect(await guard.UNISWAP_FACTORY()).to.equal(await market.uniswap.factory.getAddress());
      expect(await guard.owner()).to.equal(owner.address);
      expect(await guard.twapWindow()).to.equal(WINDOW);
      expect(await guard.maxDeviationBps()).to.equal(MAX_DEVIATION_BPS);
      await expect(guard.deploymentTransaction())
        .to.emit(guard, "TwapParametersSet")
        .withArgs(WINDOW, MAX_DEVIATION_BPS);
    });

    it("rejects a zero oracle, factory or owner", async () => {
      const { market, owner } = await loadFixture(priceGuardFixture);
      const factory = new PriceGuard__factory(owner);
      const oracle = await market.aave.oracle.getAddress();
      const uni = await market.uniswap.factory.getAddress();
      await expect(
        factory.deploy(ZeroAddress, uni, owner.address, WINDOW, MAX_DEVIATION_BPS),
      ).to.be.revertedWithCustomError(factory, "PriceGuardZeroAddress");
      await expect(
        factory.deploy(oracle, ZeroAddress, owner.address, WINDOW, MAX_DEVIATION_BPS),
      ).to.be.revertedWithCustomError(factory, "PriceGuardZeroAddress");
      await expect(factory.deploy(oracle, uni, ZeroAddress, WINDOW, MAX_DEVIATION_BPS)).to.be.revertedWithCustomError(
        factory,
        "PriceGuardZeroAddress",
      );
    });

    it("enforces the window and deviation bounds, inclusive at both ends", async () => {
      const { market, owner } = await loadFixture(priceGuardFixture);
      const factory = new PriceGuard__factory(owner);
      const oracle = await market.aave.oracle.getAddress();
      const uni = await market.uniswap.factory.getAddress();
      for (const window of [299, 7201]) {
        await expect(factory.deploy(oracle, uni, owner.address, window, MAX_DEVIATION_BPS))
          .to.be.revertedWithCustomError(factory, "PriceGuardParameterOutOfBounds")
          .withArgs(window, 300, 7200);
      }
      for (const bps of [9, 2001]) {
        await expect(factory.deploy(oracle, uni, owner.address, WINDOW, bps))
          .to.be.revertedWithCustomError(factory, "PriceGuardParameterOutOfBounds")
          .withArgs(bps, 10, 2000);
      }
      const low = await factory.deploy(oracle, uni, owner.address, 300, 10);
      expect([await low.twapWindow(), await low.maxDeviationBps()]).to.deep.equal([300n, 10n]);
      const high = await factory.deploy(oracle, uni, owner.address, 7200, 2000);
      expect([await high.twapWindow(), await high.maxDeviationBps()]).to.deep.equal([7200n, 2000n]);
    });
  });

  describe("#setHeartbeat", () => {
    it("sets the heartbeat and emits HeartbeatSet", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.setHeartbeat(addr.WETH, 86_400)).to.emit(guard, "HeartbeatSet").withArgs(addr.WETH, 86_400);
      expect(await guard.heartbeat(addr.WETH)).to.equal(86_400n);
      expect(await guard.heartbeat(addr.USDC)).to.equal(HEARTBEAT);
    });

    it("accepts both bounds and rejects values outside them, leaving the heartbeat unchanged", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      for (const value of [59n, TWO_DAYS + 1n, 0n]) {
        await expect(guard.setHeartbeat(addr.WETH, value))
          .to.be.revertedWithCustomError(guard, "PriceGuardParameterOutOfBounds")
          .withArgs(value, 60, TWO_DAYS);
        expect(await guard.heartbeat(addr.WETH)).to.equal(HEARTBEAT);
      }
      await guard.setHeartbeat(addr.WETH, 60);
      expect(await guard.heartbeat(addr.WETH)).to.equal(60n);
      await guard.setHeartbeat(addr.WETH, TWO_DAYS);
      expect(await guard.heartbeat(addr.WETH)).to.equal(TWO_DAYS);
    });

    it("rejects the zero address", async () => {
      const { guard } = await loadFixture(priceGuardFixture);
      await expect(guard.setHeartbeat(ZeroAddress, HEARTBEAT)).to.be.revertedWithCustomError(
        guard,
        "PriceGuardZeroAddress",
      );
      expect(await guard.heartbeat(ZeroAddress)).to.equal(0n);
    });

    it("rejects a caller other than the owner", async () => {
      const { guard, stranger, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.connect(stranger).setHeartbeat(addr.WETH, 60))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(stranger.address);
      expect(await guard.heartbeat(addr.WETH)).to.equal(HEARTBEAT);
    });
  });

  describe("#setFreshnessFeed", () => {
    it("sets and clears the feed, emits FreshnessFeedSet, and leaves the heartbeat alone (and vice versa)", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      expect(await guard.freshnessFeed(addr.USDC)).to.equal(ZeroAddress);
      await expect(guard.setFreshnessFeed(addr.USDC, market.feeds.USDC))
        .to.emit(guard, "FreshnessFeedSet")
        .withArgs(addr.USDC, await market.feeds.USDC.getAddress());
      expect(await guard.freshnessFeed(addr.USDC)).to.equal(await market.feeds.USDC.getAddress());
      expect(await guard.heartbeat(addr.USDC)).to.equal(HEARTBEAT);
      expect(await guard.freshnessFeed(addr.WETH)).to.equal(ZeroAddress);
      await guard.setHeartbeat(addr.USDC, TWO_DAYS);
      expect(await guard.freshnessFeed(addr.USDC)).to.equal(await market.feeds.USDC.getAddress());
      expect(await guard.heartbeat(addr.USDC)).to.equal(TWO_DAYS);
      await expect(guard.setFreshnessFeed(addr.USDC, ZeroAddress))
        .to.emit(guard, "FreshnessFeedSet")
        .withArgs(addr.USDC, ZeroAddress);
      expect(await guard.freshnessFeed(addr.USDC)).to.equal(ZeroAddress);
      expect(await guard.heartbeat(addr.USDC)).to.equal(TWO_DAYS);
    });

    it("rejects the zero asset", async () => {
      const { market, guard } = await loadFixture(priceGuardFixture);
      await expect(guard.setFreshnessFeed(ZeroAddress, market.feeds.USDC)).to.be.revertedWithCustomError(
        guard,
        "PriceGuardZeroAddress",
      );
      expect(await guard.freshnessFeed(ZeroAddress)).to.equal(ZeroAddress);
    });

    it("rejects a caller other than the owner", async () => {
      const { market, guard, stranger, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.connect(stranger).setFreshnessFeed(addr.USDC, market.feeds.USDC))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(stranger.address);
      expect(await guard.freshnessFeed(addr.USDC)).to.equal(ZeroAddress);
    });
  });

  describe("#setReferencePool", () => {
    it("stores the factory's pool for both orders and emits ReferencePoolSet", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const pool500 = await market.uniswap.pools["WETH/USDC/500"].pool.getAddress();
      const pool3000 = await market.uniswap.pools["WETH/USDC/3000"].pool.getAddress();
      expect(await guard.referencePool(addr.WETH, addr.USDC)).to.equal(pool500);
      expect(await guard.referencePool(addr.USDC, addr.WETH)).to.equal(pool500);

      // Given in the reverse order, the pair still resolves to one pool for both orders.
      await expect(guard.setReferencePool(addr.USDC, addr.WETH, 3000))
        .to.emit(guard, "ReferencePoolSet")
        .withArgs(addr.USDC, addr.WETH, 3000, pool3000);
      expect(await guard.referencePool(addr.WETH, addr.USDC)).to.equal(pool3000);
      expect(await guard.referencePool(addr.USDC, addr.WETH)).to.equal(pool3000);
      expect(await guard.referencePool(addr.WETH, addr.WBTC)).to.equal(ZeroAddress);
    });

    it("rejects a pair or fee tier the factory has no pool for, leaving the pair unchanged", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const pool500 = await market.uniswap.pools["WETH/USDC/500"].pool.getAddress();
      await expect(guard.setReferencePool(addr.WETH, addr.USDC, 10_000))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, addr.USDC);
      await expect(guard.setReferencePool(addr.WETH, addr.WBTC, 3000))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, addr.WBTC);
      await expect(guard.setReferencePool(addr.WETH, ZeroAddress, 500))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, ZeroAddress);
      expect(await guard.referencePool(addr.WETH, addr.USDC)).to.equal(pool500);
      expect(await guard.referencePool(addr.WETH, addr.WBTC)).to.equal(ZeroAddress);
    });

    it("rejects a token with more decimals than the WAD scaling supports", async () => {
      const { market, guard, owner, addr } = await loadFixture(priceGuardFixture);
      const odd = await new MintableERC20__factory(owner).deploy("Odd", "ODD", 37);
      await (await market.uniswap.factory.createPool(odd, addr.USDC, 3000)).wait();
      await expect(guard.setReferencePool(odd, addr.USDC, 3000))
        .to.be.revertedWithCustomError(guard, "PriceGuardParameterOutOfBounds")
        .withArgs(37, 0, 36);
      expect(await guard.referencePool(odd, addr.USDC)).to.equal(ZeroAddress);
    });

    it("rejects a caller other than the owner", async () => {
      const { guard, stranger, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.connect(stranger).setReferencePool(addr.WETH, addr.USDC, 3000))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(stranger.address);
    });
  });

  describe("#setTwapParameters", () => {
    it("sets both parameters and emits TwapParametersSet", async () => {
      const { guard } = await loadFixture(priceGuardFixture);
      await expect(guard.setTwapParameters(900, 50)).to.emit(guard, "TwapParametersSet").withArgs(900, 50);
      expect(await guard.twapWindow()).to.equal(900n);
      expect(await guard.maxDeviationBps()).to.equal(50n);
      await guard.setTwapParameters(300, 10);
      await guard.setTwapParameters(7200, 2000);
      expect([await guard.twapWindow(), await guard.maxDeviationBps()]).to.deep.equal([7200n, 2000n]);
    });

    it("rejects values outside the bounds, leaving both parameters unchanged", async () => {
      const { guard } = await loadFixture(priceGuardFixture);
      for (const window of [0, 299, 7201]) {
        await expect(guard.setTwapParameters(window, 100))
          .to.be.revertedWithCustomError(guard, "PriceGuardParameterOutOfBounds")
          .withArgs(window, 300, 7200);
      }
      for (const bps of [0, 9, 2001]) {
        await expect(guard.setTwapParameters(600, bps))
          .to.be.revertedWithCustomError(guard, "PriceGuardParameterOutOfBounds")
          .withArgs(bps, 10, 2000);
      }
      expect(await guard.twapWindow()).to.equal(WINDOW);
      expect(await guard.maxDeviationBps()).to.equal(MAX_DEVIATION_BPS);
    });

    it("rejects a caller other than the owner", async () => {
      const { guard, stranger } = await loadFixture(priceGuardFixture);
      await expect(guard.connect(stranger).setTwapParameters(900, 50))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(stranger.address);
      expect(await guard.twapWindow()).to.equal(WINDOW);
    });
  });

  describe("#transferOwnership", () => {
    it("hands governance over in two steps", async () => {
      const { guard, owner, newOwner, addr } = await loadFixture(priceGuardFixture);
      await guard.transferOwnership(newOwner.address);
      expect(await guard.owner()).to.equal(owner.address);
      await expect(guard.connect(newOwner).setHeartbeat(addr.WETH, 60))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(newOwner.address);
      await guard.connect(newOwner).acceptOwnership();
      expect(await guard.owner()).to.equal(newOwner.address);
      await expect(guard.connect(newOwner).setHeartbeat(addr.WETH, 60)).to.emit(guard, "HeartbeatSet");
      await expect(guard.setHeartbeat(addr.WETH, 120))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(owner.address);
    });
  });

  describe("#price", () => {
    it("returns the Aave oracle price of each asset", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      for (const symbol of ["WETH", "WBTC", "USDC"] as const) {
        const expected = await market.aave.oracle.getAssetPrice(addr[symbol]);
        expect(expected).to.equal(ASSETS[symbol].initialPrice);
        expect(await guard.price(addr[symbol])).to.equal(expected);
      }
    });

    it("accepts an answer exactly one heartbeat old and rejects one a second older", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await expectHeartbeatBoundary(guard, market.feeds.WETH, addr.WETH, ASSETS.WETH.initialPrice);
    });

    it("rejects every feed once the heartbeat has passed without an update", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await market.world.advance(Number(HEARTBEAT) + 1);
      for (const symbol of ["WETH", "WBTC", "USDC"] as const) {
        const [, , , updatedAt] = await market.feeds[symbol].latestRoundData();
        await expect(guard.price(addr[symbol]))
          .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
          .withArgs(addr[symbol], updatedAt, HEARTBEAT);
      }
      await market.world.refreshOracles();
      expect(await guard.price(addr.WETH)).to.equal(ASSETS.WETH.initialPrice);
    });

    it("rejects an answer dated in the future", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const future = BigInt((await latestBlock()).timestamp) + 3600n;
      await market.feeds.WBTC.setRound(ASSETS.WBTC.initialPrice, future);
      await expect(guard.price(addr.WBTC))
        .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
        .withArgs(addr.WBTC, future, HEARTBEAT);
    });

    it("rejects a zero or negative answer", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      for (const answer of [0n, -1n, -ASSETS.WETH.initialPrice]) {
        await market.feeds.WETH.setAnswer(answer);
        await expect(guard.price(addr.WETH))
          .to.be.revertedWithCustomError(guard, "PriceGuardInvalidAnswer")
          .withArgs(addr.WETH, answer);
      }
    });

    it("rejects an asset without a heartbeat, then one the Aave oracle has no source for", async () => {
      const { guard, owner } = await loadFixture(priceGuardFixture);
      const unlisted = await (await new MintableERC20__factory(owner).deploy("Unlisted", "UNL", 18)).getAddress();
      await expect(guard.price(unlisted))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoHeartbeat")
        .withArgs(unlisted);
      await guard.setHeartbeat(unlisted, HEARTBEAT);
      await expect(guard.price(unlisted)).to.be.revertedWithCustomError(guard, "PriceGuardNoFeed").withArgs(unlisted);
    });
  });

  describe("an Aave source without rounds (CAPO adapter, BAL-04)", () => {
    it("without a freshness feed, refuses every priced read with PriceGuardNoRoundData", async () => {
      const { market, guard, adapter, addr } = await loadFixture(adapterFixture);
      // Aave itself still prices USDC through the adapter's latestAnswer.
      expect(await market.aave.oracle.getAssetPrice(addr.USDC)).to.equal(ASSETS.USDC.initialPrice);
      // Each call starts only when awaited: a rejection created earlier would be unhandled until its turn.
      const reads = [
        () => guard.price(addr.USDC),
        () => guard.checkedPrices(addr.WETH, addr.USDC),
        () => guard.freshPrices(addr.USDC, addr.WETH),
        () => guard.oraclePriceWad(addr.WBTC, addr.USDC),
      ];
      for (const read of reads) {
        await expect(read())
          .to.be.revertedWithCustomError(guard, "PriceGuardNoRoundData")
          .withArgs(addr.USDC, await adapter.getAddress());
      }
      expect(await guard.price(addr.WETH)).to.equal(ASSETS.WETH.initialPrice);
    });

    it("with the wrapped aggregator as freshness feed, serves Aave's price, capped when the cap bites", async () => {
      const { market, guard, adapter, addr } = await loadFixture(adapterFixture);
      await guard.setFreshnessFeed(addr.USDC, await adapter.ASSET_TO_USD_AGGREGATOR());
      expect(await guard.price(addr.USDC)).to.equal(ASSETS.USDC.initialPrice);
      expect(await guard.checkedPrices(addr.WETH, addr.USDC)).to.deep.equal([
        ASSETS.WETH.initialPrice,
        ASSETS.USDC.initialPrice,
      ]);
      // USDC/USD at 1.10 is capped at 1.04 by the adapter: the guard serves what Aave values positions at.
      await market.feeds.USDC.setAnswer(110_000_000n);
      expect(await market.aave.oracle.getAssetPrice(addr.USDC)).to.equal(USDC_CAP);
      expect(await guard.price(addr.USDC)).to.equal(USDC_CAP);
      expect(await guard.freshPrices(addr.WETH, addr.USDC)).to.deep.equal([ASSETS.WETH.initialPrice, USDC_CAP]);
      await adapter.setPriceCap(102_000_000n);
      expect(await guard.price(addr.USDC)).to.equal(102_000_000n);
      // Clearing the feed checks the adapter's own rounds again.
      await guard.setFreshnessFeed(addr.USDC, ZeroAddress);
      await expect(guard.price(addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoRoundData")
        .withArgs(addr.USDC, await adapter.getAddress());
    });

    it("accepts a feed round exactly one heartbeat old, rejects one a second older and one dated in the future", async () => {
      const { market, guard, addr } = await loadFixture(adapterFixture);
      await guard.setFreshnessFeed(addr.USDC, market.feeds.USDC);
      const answer = ASSETS.USDC.initialPrice;
      const second = await expectHeartbeatBoundary(guard, market.feeds.USDC, addr.USDC, answer);
      const future = second + 3600n;
      await market.feeds.USDC.setRound(answer, future);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
        .withArgs(addr.USDC, future, HEARTBEAT);
    });

    it("rejects a zero or negative feed answer, and a zero price from Aave", async () => {
      const { market, guard, adapter, addr } = await loadFixture(adapterFixture);
      await guard.setFreshnessFeed(addr.USDC, market.feeds.USDC);
      for (const answer of [0n, -1n]) {
        await market.feeds.USDC.setAnswer(answer);
        await expect(guard.price(addr.USDC))
          .to.be.revertedWithCustomError(guard, "PriceGuardInvalidAnswer")
          .withArgs(addr.USDC, answer);
      }
      await market.feeds.USDC.setAnswer(ASSETS.USDC.initialPrice);
      // A fresh feed but an adapter answering below zero: Aave asks its fallback oracle, here one (real
      // AaveOracle bytecode) that quotes USDC as its base currency with a unit of zero, so Aave's price is 0.
      await adapter.setPriceCap(-1n);
      const fallback = await new AaveOracle__factory(market.accounts.admin).deploy(
        market.aave.addressesProvider,
        [],
        [],
        ZeroAddress,
        addr.USDC,
        0n,
      );
      await (await market.aave.oracle.setFallbackOracle(fallback)).wait();
      expect(await market.aave.oracle.getAssetPrice(addr.USDC)).to.equal(0n);
      await expect(guard.price(addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardInvalidAnswer")
        .withArgs(addr.USDC, 0n);
    });

    it("names a freshness feed without rounds (an account without code) in PriceGuardNoRoundData", async () => {
      const { guard, stranger, addr } = await loadFixture(adapterFixture);
      await guard.setFreshnessFeed(addr.USDC, stranger.address);
      await expect(guard.price(addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoRoundData")
        .withArgs(addr.USDC, stranger.address);
    });

    it("opens a USDC-debt vault and lets a keeper deleverage it once the feed is set", async () => {
      const f = await loadFixture(adapterVaultFixture);
      const before = await snapshotState(f);
      await expect(f.vault.open(DEPOSIT, TARGET_HF, f.up))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoRoundData")
        .withArgs(await f.tokens.erc20.USDC.getAddress(), await f.adapter.getAddress());
      await expectUnchanged(f, before);
      await (await f.priceGuard.setFreshnessFeed(f.tokens.erc20.USDC, f.feeds.USDC)).wait();
      await expect(f.vault.open(DEPOSIT, TARGET_HF, f.up)).to.emit(f.vault, "Rebalanced");
      expect((await f.vault.position()).healthFactor).to.be.closeTo(TARGET_HF, LOCAL_PARAMS.bounds.hfTolerance);
      await movePrice(f, "WETH", DROPPED_PRICE);
      const dropped = await f.vault.position();
      expect(dropped.healthFactor).to.be.lt(DEFAULT_POLICY.minHF);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.emit(f.vault, "Rebalanced");
      const after = await f.vault.position();
      expect(after.healthFactor).to.be.gte(DEFAULT_POLICY.minHF);
      expect(after.healthFactor).to.be.lte(DEFAULT_POLICY.maxHF);
      expect(after.debtBase).to.be.lt(dropped.debtBase);
    });
  });

  describe("#twapPriceWad", () => {
    const pairs: [AssetSymbol, AssetSymbol, string][] = [
      ["WETH", "USDC", "WETH/USDC/500"],
      ["USDC", "WETH", "WETH/USDC/500"],
      ["WBTC", "USDC", "WBTC/USDC/3000"],
      ["USDC", "WBTC", "WBTC/USDC/3000"],
    ];

    for (const [base, quote, key] of pairs) {
      it(`${base}/${quote}: equals the BigInt reference exactly and the oracle price within 1 bp`, async () => {
        const { market, guard, addr } = await loadFixture(priceGuardFixture);
        const { number } = await latestBlock();
        const twap = await guard.twapPriceWad(addr[base], addr[quote], { blockTag: number });
        expect(twap).to.equal(await referenceTwapWad(market.uniswap.pools[key], base, quote, number));
        const oracle = (ASSETS[base].initialPrice * WAD) / ASSETS[quote].initialPrice;
        expect(await guard.oraclePriceWad(addr[base], addr[quote])).to.equal(oracle);
        expect(withinBps(twap, oracle, 1n), `twap ${twap} vs oracle ${oracle}`).to.equal(true);
      });
    }

    it("follows the mean tick over the window while the spot price has moved", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await market.world.setPrice("WETH", 1_500n * 10n ** 8n);
      await market.world.advance(600);
      const { number } = await latestBlock();
      const info = market.uniswap.pools["WETH/USDC/500"];
      const twap = await guard.twapPriceWad(addr.WETH, addr.USDC, { blockTag: number });
      expect(twap).to.equal(await referenceTwapWad(info, "WETH", "USDC", number));
      // A third of the window at 1,500 and two thirds at 2,000, averaged in log space: about 1,817.
      expect(twap > 1_800n * WAD && twap < 1_835n * WAD, `twap ${twap}`).to.equal(true);
      await guard.setTwapParameters(300, MAX_DEVIATION_BPS);
      const short = await guard.twapPriceWad(addr.WETH, addr.USDC, { blockTag: (await latestBlock()).number });
      expect(withinBps(short, 1_500n * WAD, 2n), `short twap ${short}`).to.equal(true);
    });

    it("rejects a pair without a reference pool", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.twapPriceWad(addr.WETH, addr.WBTC))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, addr.WBTC);
    });
  });

  describe("#oraclePriceWad", () => {
    it("divides the oracle prices in WAD and applies the staleness checks", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      expect(await guard.oraclePriceWad(addr.WETH, addr.USDC)).to.equal(2_000n * WAD);
      expect(await guard.oraclePriceWad(addr.USDC, addr.WETH)).to.equal(WAD / 2_000n);
      expect(await guard.oraclePriceWad(addr.WBTC, addr.WETH)).to.equal(30n * WAD);
      await market.feeds.USDC.setRound(ASSETS.USDC.initialPrice, 1);
      await expect(guard.oraclePriceWad(addr.WETH, addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
        .withArgs(addr.USDC, 1, HEARTBEAT);
    });
  });

  describe("#freshPrices", () => {
    it("returns both oracle prices while the TWAP lags a sudden 30% move, where checkedPrices reverts", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const crashed = (ASSETS.WETH.initialPrice * 7n) / 10n;
      await market.world.setPrice("WETH", crashed);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC)).to.be.revertedWithCustomError(
        guard,
        "PriceGuardTwapDeviation",
      );
      expect(await guard.freshPrices(addr.WETH, addr.USDC)).to.deep.equal([crashed, ASSETS.USDC.initialPrice]);
      expect(await guard.freshPrices(addr.USDC, addr.WETH)).to.deep.equal([ASSETS.USDC.initialPrice, crashed]);
    });

    it("applies the staleness check to either asset with PriceGuardStalePrice", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await market.feeds.USDC.setRound(ASSETS.USDC.initialPrice, 1);
      for (const [base, quote] of [
        [addr.WETH, addr.USDC],
        [addr.USDC, addr.WETH],
      ]) {
        await expect(guard.freshPrices(base, quote))
          .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
          .withArgs(addr.USDC, 1, HEARTBEAT);
      }
    });
  });

  describe("#setDeleverageWindow", () => {
    it("starts at 60 s, sets the window and emits DeleverageWindowSet", async () => {
      const { guard } = await loadFixture(priceGuardFixture);
      expect(await guard.deleverageWindow()).to.equal(60);
      await expect(guard.setDeleverageWindow(120)).to.emit(guard, "DeleverageWindowSet").withArgs(120);
      expect(await guard.deleverageWindow()).to.equal(120);
      // The long window and the bound are another setting, left alone.
      expect(await guard.twapWindow()).to.equal(WINDOW);
      expect(await guard.maxDeviationBps()).to.equal(MAX_DEVIATION_BPS);
      await expect(guard.setTwapParameters(900, 50)).to.emit(guard, "TwapParametersSet");
      expect(await guard.deleverageWindow()).to.equal(120);
    });

    it("accepts 24 and 300 s and rejects values outside them, leaving the window unchanged", async () => {
      const { guard } = await loadFixture(priceGuardFixture);
      for (const ok of [24, 300]) await expect(guard.setDeleverageWindow(ok)).to.emit(guard, "DeleverageWindowSet");
      for (const bad of [23, 301, 0]) {
        await expect(guard.setDeleverageWindow(bad))
          .to.be.revertedWithCustomError(guard, "PriceGuardParameterOutOfBounds")
          .withArgs(bad, 24, 300);
        expect(await guard.deleverageWindow()).to.equal(300);
      }
    });

    it("rejects a caller other than the owner", async () => {
      const { guard, stranger } = await loadFixture(priceGuardFixture);
      await expect(guard.connect(stranger).setDeleverageWindow(120))
        .to.be.revertedWithCustomError(guard, "OwnableUnauthorizedAccount")
        .withArgs(stranger.address);
      expect(await guard.deleverageWindow()).to.equal(60);
    });
  });

  describe("#deleveragePrices", () => {
    const crashed = (ASSETS.WETH.initialPrice * 7n) / 10n;

    it("follows a real 30% crash within one short window, while checkedPrices stays blocked for the long one", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const info = market.uniswap.pools["WETH/USDC/500"];
      await market.world.setPrice("WETH", crashed);
      // The same block: the short TWAP has not seen the new price for a second yet.
      const { number } = await latestBlock();
      const oracleWad = (crashed * WAD) / ASSETS.USDC.initialPrice;
      await expect(guard.deleveragePrices(addr.WETH, addr.USDC, { blockTag: number }))
        .to.be.revertedWithCustomError(guard, "PriceGuardTwapDeviation")
        .withArgs(addr.WETH, addr.USDC, oracleWad, await referenceTwapWad(info, "WETH", "USDC", number, 60), 200);
      // One minute on (the market and the oracle agree all along): the sale of collateral goes through.
      await market.world.advance(60);
      await market.world.refreshOracles();
      expect(await guard.deleveragePrices(addr.WETH, addr.USDC)).to.deep.equal([crashed, ASSETS.USDC.initialPrice]);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC)).to.be.revertedWithCustomError(
        guard,
        "PriceGuardTwapDeviation",
      );
    });

    it("passes an oracle above the market at once (the swap's minimum output guards that side)", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const risen = (ASSETS.WETH.initialPrice * 13n) / 10n;
      await market.world.publish("WETH", risen);
      expect(await guard.deleveragePrices(addr.WETH, addr.USDC)).to.deep.equal([risen, ASSETS.USDC.initialPrice]);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC)).to.be.revertedWithCustomError(
        guard,
        "PriceGuardTwapDeviation",
      );
    });

    it("keeps refusing a faulty-low oracle the market does not follow, however long it stays", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await market.world.publish("WETH", crashed);
      for (let minute = 0; minute < 5; minute++) {
        await market.world.advance(60);
        await market.world.publish("WETH", crashed);
        const { number } = await latestBlock();
        const twap = await referenceTwapWad(market.uniswap.pools["WETH/USDC/500"], "WETH", "USDC", number, 60);
        await expect(guard.deleveragePrices(addr.WETH, addr.USDC, { blockTag: number }))
          .to.be.revertedWithCustomError(guard, "PriceGuardTwapDeviation")
          .withArgs(addr.WETH, addr.USDC, (crashed * WAD) / ASSETS.USDC.initialPrice, twap, MAX_DEVIATION_BPS);
      }
    });

    it("refuses a faulty-low oracle backed by a pool pushed down to it for one 12-second block", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const info = market.uniswap.pools["WETH/USDC/500"];
      const low = (ASSETS.WETH.initialPrice * 80n) / 100n;
      await market.world.advance(60);
      await market.world.publish("WETH", low);
      // The attacker holds the pool at the faulty price for a block, then sells into it with the deleverage.
      const prices = await market.world.oraclePrices();
      await market.world.arbitrageTo(info.key, prices);
      await market.world.advance(12);
      await market.world.publish("WETH", low);
      const { number } = await latestBlock();
      const twap = await referenceTwapWad(info, "WETH", "USDC", number, 60);
      // Twelve of sixty seconds at -20%: the short TWAP sits about 4% above the oracle, twice the bound.
      expect(withinBps(twap, (low * WAD) / ASSETS.USDC.initialPrice, 400n)).to.equal(false);
      await expect(guard.deleveragePrices(addr.WETH, addr.USDC, { blockTag: number }))
        .to.be.revertedWithCustomError(guard, "PriceGuardTwapDeviation")
        .withArgs(addr.WETH, addr.USDC, (low * WAD) / ASSETS.USDC.initialPrice, twap, MAX_DEVIATION_BPS);
    });

    it("applies the staleness check to both assets and needs a reference pool", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.deleveragePrices(addr.WETH, addr.WBTC))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, addr.WBTC);
      await market.feeds.USDC.setRound(ASSETS.USDC.initialPrice, 1);
      await expect(guard.deleveragePrices(addr.WETH, addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
        .withArgs(addr.USDC, 1, HEARTBEAT);
    });
  });

  describe("#checkedPrices", () => {
    it("returns the oracle prices of both assets in normal conditions, in either order", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      expect(await guard.checkedPrices(addr.WETH, addr.USDC)).to.deep.equal([
        ASSETS.WETH.initialPrice,
        ASSETS.USDC.initialPrice,
      ]);
      expect(await guard.checkedPrices(addr.USDC, addr.WETH)).to.deep.equal([
        ASSETS.USDC.initialPrice,
        ASSETS.WETH.initialPrice,
      ]);
      expect(await guard.checkedPrices(addr.WBTC, addr.USDC)).to.deep.equal([
        ASSETS.WBTC.initialPrice,
        ASSETS.USDC.initialPrice,
      ]);
    });

    it("gives reciprocal WAD prices for the two orders of a pair, within rounding", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      for (const other of [addr.WETH, addr.WBTC]) {
        const { number } = await latestBlock();
        const a = await guard.twapPriceWad(other, addr.USDC, { blockTag: number });
        const b = await guard.twapPriceWad(addr.USDC, other, { blockTag: number });
        // a = floor(x) and b = floor(1e36 / x) for the same pool ratio x, so 1e36 - a - b - 1 < a * b <= 1e36.
        expect(a * b <= WAD * WAD, `${a} * ${b}`).to.equal(true);
        expect(a * b > WAD * WAD - a - b - 1n, `${a} * ${b}`).to.equal(true);
      }
    });

    it("reverts on a sudden 30% move while the TWAP lags, and passes once the TWAP has caught up", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      const crashed = (ASSETS.WETH.initialPrice * 7n) / 10n;
      await market.world.setPrice("WETH", crashed);
      expect(await market.aave.oracle.getAssetPrice(addr.WETH)).to.equal(crashed);

      const { number } = await latestBlock();
      const info = market.uniswap.pools["WETH/USDC/500"];
      const oracleWad = (crashed * WAD) / ASSETS.USDC.initialPrice;
      for (const [base, quote] of [
        ["WETH", "USDC"],
        ["USDC", "WETH"],
      ] as const) {
        const expectedOracle = base === "WETH" ? oracleWad : (ASSETS.USDC.initialPrice * WAD) / crashed;
        const twap = await referenceTwapWad(info, base, quote, number);
        await expect(guard.checkedPrices(addr[base], addr[quote], { blockTag: number }))
          .to.be.revertedWithCustomError(guard, "PriceGuardTwapDeviation")
          .withArgs(addr[base], addr[quote], expectedOracle, twap, MAX_DEVIATION_BPS);
      }

      await market.world.advance(WINDOW);
      expect(await guard.checkedPrices(addr.WETH, addr.USDC)).to.deep.equal([crashed, ASSETS.USDC.initialPrice]);
      expect(await guard.checkedPrices(addr.USDC, addr.WETH)).to.deep.equal([ASSETS.USDC.initialPrice, crashed]);
      // The unrelated pair was never affected.
      expect(await guard.checkedPrices(addr.WBTC, addr.USDC)).to.deep.equal([
        ASSETS.WBTC.initialPrice,
        ASSETS.USDC.initialPrice,
      ]);
    });

    it("lets through a move inside the bound and stops the same move under a tighter bound", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      // A 1.5% drop: the lagging TWAP sits about 150 bps above the new oracle price.
      const dropped = (ASSETS.WETH.initialPrice * 985n) / 1000n;
      await market.world.setPrice("WETH", dropped);
      const { number } = await latestBlock();
      expect(await guard.checkedPrices(addr.WETH, addr.USDC, { blockTag: number })).to.deep.equal([
        dropped,
        ASSETS.USDC.initialPrice,
      ]);
      await guard.setTwapParameters(WINDOW, 140);
      const after = await latestBlock();
      const twap = await referenceTwapWad(market.uniswap.pools["WETH/USDC/500"], "WETH", "USDC", after.number);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC, { blockTag: after.number }))
        .to.be.revertedWithCustomError(guard, "PriceGuardTwapDeviation")
        .withArgs(addr.WETH, addr.USDC, (dropped * WAD) / ASSETS.USDC.initialPrice, twap, 140);
    });

    it("applies the staleness check to both assets", async () => {
      const { market, guard, addr } = await loadFixture(priceGuardFixture);
      await market.feeds.USDC.setRound(ASSETS.USDC.initialPrice, 1);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardStalePrice")
        .withArgs(addr.USDC, 1, HEARTBEAT);
      await market.feeds.WETH.setAnswer(0);
      await expect(guard.checkedPrices(addr.WETH, addr.USDC))
        .to.be.revertedWithCustomError(guard, "PriceGuardInvalidAnswer")
        .withArgs(addr.WETH, 0);
    });

    it("rejects a pair without a reference pool", async () => {
      const { guard, addr } = await loadFixture(priceGuardFixture);
      await expect(guard.checkedPrices(addr.WETH, addr.WBTC))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WETH, addr.WBTC);
      await expect(guard.checkedPrices(addr.WBTC, addr.WETH))
        .to.be.revertedWithCustomError(guard, "PriceGuardNoReferencePool")
        .withArgs(addr.WBTC, addr.WETH);
    });

    it("costs a bounded amount of gas", async function () {
      skipUnderCoverage(this);
      const f = await loadFixture(priceGuardFixture);
      const data = f.guard.interface.encodeFunctionData("checkedPrices", [f.addr.WETH, f.addr.USDC]);
      const gas = await executionGas(f, await f.guard.getAddress(), data);
      console.log(`      checkedPrices(WETH, USDC) execution gas, all cold: ${gas}`);
      // About 44k of it is cold account and storage access (4 accounts, 16 slots), part of which a rebalance
      // has already paid when Aave priced the position; the rest is calls, ABI decoding and the tick maths.
      expect(gas <= 62_000n, `gas ${gas}`).to.equal(true);
    });
  });

  describe("TwapMath", () => {
    let harness: TwapMathHarness;
    beforeEach(async () => {
      ({ harness } = await loadFixture(priceGuardFixture));
    });

    describe("#meanTick", () => {
      it("rounds toward negative infinity as OracleLibrary.consult does", async () => {
        const cases: [bigint, number][] = [
          [0n, 1800],
          [1799n, 1800],
          [1800n, 1800],
          [-1n, 1800],
          [-1800n, 1800],
          [-1801n, 1800],
          [-3600n, 1800],
          [BigInt(MAX_TICK) * 7200n, 7200],
          [BigInt(MIN_TICK) * 7200n, 7200],
          [BigInt(MIN_TICK) * 7200n + 1n, 7200],
          [-276_325n * 1800n - 17n, 1800],
        ];
        for (const [delta, window] of cases) {
          expect(await harness.meanTick(delta, window), `${delta} / ${window}`).to.equal(
            meanTick(delta, BigInt(window)),
          );
        }
        expect(await harness.meanTick(-1n, 1800)).to.equal(-1n);
      });
    });

    describe("#priceWadAtTick", () => {
      // Ticks on both sides of 0 and of the 2^128 sqrt-price branch (near tick 443,636), and the extremes.
      const ticks = [0n, 1n, -1n, 200_000n, -200_000n, 443_635n, 443_636n, 443_637n, -443_636n, 600_000n, -600_000n];
      const decimals: [number, number][] = [
        [18, 6],
        [6, 18],
        [8, 6],
        [18, 18],
      ];

      it("matches the BigInt reference in both directions and for several decimals", async () => {
        for (const tick of [...ticks, BigInt(MAX_TICK), BigInt(MIN_TICK)]) {
          for (const [bd, qd] of decimals) {
            for (const baseIsToken0 of [true, false]) {
              const expected = priceWadAtTick(tick, baseIsToken0, bd, qd);
              expect(
                await harness.priceWadAtTick(tick, baseIsToken0, bd, qd),
                `${tick} ${baseIsToken0} ${bd}/${qd}`,
              ).to.equal(expected);
            }
          }
        }
      });

      it("uses the same sqrt price as Uniswap's TickMath at the extremes", async () => {
        expect(sqrtRatioAtTick(BigInt(MIN_TICK))).to.equal(4_295_128_739n);
        expect(sqrtRatioAtTick(BigInt(MAX_TICK))).to.equal(
          1_461_446_703_485_210_103_287_273_052_203_988_822_378_723_970_342n,
        );
        // At tick 0 one raw unit buys one raw unit: 1e18 WAD between tokens of equal decimals.
        expect(await harness.priceWadAtTick(0, true, 18, 18)).to.equal(WAD);
        expect(await harness.priceWadAtTick(0, false, 6, 6)).to.equal(WAD);
      });

      it("reverts instead of wrapping when the scaled price overflows", async () => {
        await expect(harness.priceWadAtTick(MAX_TICK, true, 36, 0)).to.be.reverted;
      });
    });
  });
});
