/**
 * Outside review R2: the price guard's allow-list of swap routes. Governance names the pools (pair and fee tier) a
 * rebalance may swap through; `checkPath` refuses a path with any other hop.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ZeroAddress } from "ethers";
import hre from "hardhat";

import { encodePath } from "../../lib/protocol";
import { MintableERC20__factory } from "../../typechain-types";
import { protocolFixture } from "../shared/fixtures";

async function routesFixture() {
  const f = await protocolFixture();
  const [, , stranger] = await hre.ethers.getSigners();
  const [weth, usdc, wbtc] = await Promise.all(
    (["WETH", "USDC", "WBTC"] as const).map((s) => f.tokens.erc20[s].getAddress()),
  );
  const foreign = await new MintableERC20__factory(stranger).deploy("Foreign", "FOR", 18);
  return { ...f, stranger, weth, usdc, wbtc, foreign: await foreign.getAddress() };
}

const sorted = (a: string, b: string): [string, string] => (BigInt(a) < BigInt(b) ? [a, b] : [b, a]);

describe("PriceGuard routes (R2)", () => {
  describe("#setRoute", () => {
    it("the local deployment allows exactly the market's pools, in both orders", async () => {
      const f = await loadFixture(routesFixture);
      for (const [a, b, fee] of [
        [f.weth, f.usdc, 500],
        [f.weth, f.usdc, 3_000],
        [f.wbtc, f.usdc, 3_000],
      ] as const) {
        expect(await f.priceGuard.routeAllowed(a, b, fee)).to.equal(true);
        expect(await f.priceGuard.routeAllowed(b, a, fee)).to.equal(true);
      }
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 10_000)).to.equal(false);
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 100)).to.equal(false);
      expect(await f.priceGuard.routeAllowed(f.wbtc, f.usdc, 500)).to.equal(false);
    });

    it("governance allows an existing pool: RouteSet carries the sorted pair, both orders read allowed", async () => {
      const f = await loadFixture(routesFixture);
      await (await f.uniswap.factory.createPool(f.weth, f.usdc, 10_000)).wait();
      const [token0, token1] = sorted(f.weth, f.usdc);
      // Given in descending order on purpose: the event names the pair sorted.
      const [high, low] = [token1, token0];
      await expect(f.priceGuard.connect(f.governance).setRoute(high, low, 10_000, true))
        .to.emit(f.priceGuard, "RouteSet")
        .withArgs(token0, token1, 10_000, true);
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 10_000)).to.equal(true);
      expect(await f.priceGuard.routeAllowed(f.usdc, f.weth, 10_000)).to.equal(true);
      // Another tier of the pair is unaffected.
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 100)).to.equal(false);
    });

    it("governance disallows a pool; disallowing needs no pool and is idempotent", async () => {
      const f = await loadFixture(routesFixture);
      const [token0, token1] = sorted(f.weth, f.usdc);
      await expect(f.priceGuard.connect(f.governance).setRoute(f.weth, f.usdc, 3_000, false))
        .to.emit(f.priceGuard, "RouteSet")
        .withArgs(token0, token1, 3_000, false);
      expect(await f.priceGuard.routeAllowed(f.usdc, f.weth, 3_000)).to.equal(false);
      expect(await f.priceGuard.routeAllowed(f.usdc, f.weth, 500)).to.equal(true);
      // No WETH/USDC 1% pool exists; clearing it is still accepted (and changes nothing).
      await expect(f.priceGuard.connect(f.governance).setRoute(f.weth, f.usdc, 10_000, false))
        .to.emit(f.priceGuard, "RouteSet")
        .withArgs(token0, token1, 10_000, false);
    });

    it("refuses a non-owner with OwnableUnauthorizedAccount; nothing changes", async () => {
      const f = await loadFixture(routesFixture);
      await (await f.uniswap.factory.createPool(f.weth, f.usdc, 10_000)).wait();
      await expect(f.priceGuard.connect(f.stranger).setRoute(f.weth, f.usdc, 10_000, true))
        .to.be.revertedWithCustomError(f.priceGuard, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      await expect(f.priceGuard.connect(f.stranger).setRoute(f.weth, f.usdc, 500, false))
        .to.be.revertedWithCustomError(f.priceGuard, "OwnableUnauthorizedAccount")
        .withArgs(f.stranger.address);
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 10_000)).to.equal(false);
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 500)).to.equal(true);
    });

    it("refuses to allow a pool the Uniswap factory does not hold with PriceGuardNoPool; nothing changes", async () => {
      const f = await loadFixture(routesFixture);
      await expect(f.priceGuard.connect(f.governance).setRoute(f.weth, f.usdc, 10_000, true))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoPool")
        .withArgs(f.weth, f.usdc, 10_000);
      await expect(f.priceGuard.connect(f.governance).setRoute(f.weth, f.foreign, 500, true))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoPool")
        .withArgs(f.weth, f.foreign, 500);
      // A token paired with itself has no pool either.
      await expect(f.priceGuard.connect(f.governance).setRoute(f.weth, f.weth, 500, true))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoPool")
        .withArgs(f.weth, f.weth, 500);
      expect(await f.priceGuard.routeAllowed(f.weth, f.usdc, 10_000)).to.equal(false);
      expect(await f.priceGuard.routeAllowed(f.weth, f.foreign, 500)).to.equal(false);
    });

    it("refuses a zero token with PriceGuardZeroAddress, allowing or not", async () => {
      const f = await loadFixture(routesFixture);
      for (const allowed of [true, false]) {
        await expect(
          f.priceGuard.connect(f.governance).setRoute(ZeroAddress, f.usdc, 500, allowed),
        ).to.be.revertedWithCustomError(f.priceGuard, "PriceGuardZeroAddress");
        await expect(
          f.priceGuard.connect(f.governance).setRoute(f.weth, ZeroAddress, 500, allowed),
        ).to.be.revertedWithCustomError(f.priceGuard, "PriceGuardZeroAddress");
      }
      expect(await f.priceGuard.routeAllowed(ZeroAddress, f.usdc, 500)).to.equal(false);
    });
  });

  describe("#checkPath", () => {
    it("accepts single-hop paths through allowed pools, in either direction", async () => {
      const f = await loadFixture(routesFixture);
      await f.priceGuard.checkPath(encodePath([f.weth, f.usdc], [500]));
      await f.priceGuard.checkPath(encodePath([f.usdc, f.weth], [3_000]));
      await f.priceGuard.checkPath(encodePath([f.usdc, f.wbtc], [3_000]));
    });

    it("refuses a single hop through a pool not allowed with PriceGuardRouteNotAllowed(tokenIn, tokenOut, fee)", async () => {
      const f = await loadFixture(routesFixture);
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.usdc], [10_000])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.usdc, 10_000);
      await expect(f.priceGuard.checkPath(encodePath([f.usdc, f.wbtc], [500])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.usdc, f.wbtc, 500);
    });

    it("walks every hop of a multi-hop path and names the first refused one", async () => {
      const f = await loadFixture(routesFixture);
      // WBTC -> USDC -> WETH over allowed pools.
      await f.priceGuard.checkPath(encodePath([f.wbtc, f.usdc, f.weth], [3_000, 500]));
      // Second hop refused: the first was fine.
      await expect(f.priceGuard.checkPath(encodePath([f.wbtc, f.usdc, f.weth], [3_000, 10_000])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.usdc, f.weth, 10_000);
      // Through a foreign token: its first hop is refused, whatever the rest.
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.foreign, f.usdc], [500, 500])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.foreign, 500);
      // Three hops, the last refused.
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.usdc, f.wbtc, f.foreign], [500, 3_000, 500])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.wbtc, f.foreign, 500);
    });

    it("does not read past a malformed path: no whole hop, no check; trailing bytes are ignored", async () => {
      const f = await loadFixture(routesFixture);
      // SwapPath.validate refuses these before the vault asks the guard; the guard itself only must not misread them.
      await f.priceGuard.checkPath("0x");
      await f.priceGuard.checkPath(f.weth);
      await f.priceGuard.checkPath(`${encodePath([f.weth, f.usdc], [500])}${f.foreign.slice(2, 20)}`);
      await expect(f.priceGuard.checkPath(`${encodePath([f.weth, f.usdc], [10_000])}00`))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.usdc, 10_000);
    });
  });
});
