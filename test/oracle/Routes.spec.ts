/**
 * Outside review R2: the price guard's allow-list of swap routes. Governance names the pools (pair and fee tier) a
 * rebalance may swap through; `checkPath` refuses a path with any other hop, and prices the expected impact of a sale
 * along the allowed ones, which the vault's sizing adds to the pools' fees.
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits, ZeroAddress } from "ethers";
import hre from "hardhat";

import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { sqrtPriceX96FromUsd } from "../../lib/market/math";
import { encodePath } from "../../lib/protocol";
import { MintableERC20__factory, UniswapV3Pool__factory } from "../../typechain-types";
import { protocolFixture } from "../shared/fixtures";
import { addAllowedThinPool } from "../shared/pools";
import { pathImpactBps, type HopState } from "../shared/reference/swapImpact";

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

type RoutesFixture = Awaited<ReturnType<typeof routesFixture>>;

/** Each hop's pool state, read as the guard reads it, for the reference model. */
async function hopStates(f: RoutesFixture, tokens: string[], fees: number[]): Promise<HopState[]> {
  return Promise.all(
    fees.map(async (fee, i) => {
      const pool = UniswapV3Pool__factory.connect(
        await f.uniswap.factory.getPool(tokens[i], tokens[i + 1], fee),
        hre.ethers.provider,
      );
      return {
        sqrtPriceX96: (await pool.slot0()).sqrtPriceX96,
        liquidity: await pool.liquidity(),
        fee: BigInt(fee),
        zeroForOne: BigInt(tokens[i]) < BigInt(tokens[i + 1]),
      };
    }),
  );
}

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
      await f.priceGuard.checkPath(encodePath([f.weth, f.usdc], [500]), 0);
      await f.priceGuard.checkPath(encodePath([f.usdc, f.weth], [3_000]), 0);
      await f.priceGuard.checkPath(encodePath([f.usdc, f.wbtc], [3_000]), 0);
    });

    it("refuses a single hop through a pool not allowed with PriceGuardRouteNotAllowed(tokenIn, tokenOut, fee)", async () => {
      const f = await loadFixture(routesFixture);
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.usdc], [10_000]), 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.usdc, 10_000);
      await expect(f.priceGuard.checkPath(encodePath([f.usdc, f.wbtc], [500]), 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.usdc, f.wbtc, 500);
    });

    it("walks every hop of a multi-hop path and names the first refused one", async () => {
      const f = await loadFixture(routesFixture);
      // WBTC -> USDC -> WETH over allowed pools.
      await f.priceGuard.checkPath(encodePath([f.wbtc, f.usdc, f.weth], [3_000, 500]), 0);
      // Second hop refused: the first was fine.
      await expect(f.priceGuard.checkPath(encodePath([f.wbtc, f.usdc, f.weth], [3_000, 10_000]), 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.usdc, f.weth, 10_000);
      // Through a foreign token: its first hop is refused, whatever the rest.
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.foreign, f.usdc], [500, 500]), 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.foreign, 500);
      // Three hops, the last refused.
      await expect(f.priceGuard.checkPath(encodePath([f.weth, f.usdc, f.wbtc, f.foreign], [500, 3_000, 500]), 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.wbtc, f.foreign, 500);
    });

    it("does not read past a malformed path: no whole hop, no check; trailing bytes are ignored", async () => {
      const f = await loadFixture(routesFixture);
      // SwapPath.validate refuses these before the vault asks the guard; the guard itself only must not misread them.
      await f.priceGuard.checkPath("0x", 0);
      await f.priceGuard.checkPath(f.weth, 0);
      await f.priceGuard.checkPath(`${encodePath([f.weth, f.usdc], [500])}${f.foreign.slice(2, 20)}`, 0);
      await expect(f.priceGuard.checkPath(`${encodePath([f.weth, f.usdc], [10_000])}00`, 0))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.weth, f.usdc, 10_000);
    });
  });

  describe("#checkPath expected impact", () => {
    it("prices each hop as a constant product at the pool's in-range liquidity, one hop or several", async () => {
      const f = await loadFixture(routesFixture);
      const cases: [string[], number[], bigint[]][] = [
        [[f.weth, f.usdc], [500], [1n, parseUnits("1", 18), parseUnits("50", 18), parseUnits("5000", 18)]],
        [[f.usdc, f.weth], [3_000], [parseUnits("100", 6), parseUnits("1000000", 6)]],
        [
          [f.wbtc, f.usdc, f.weth],
          [3_000, 500],
          [parseUnits("0.5", 8), parseUnits("20", 8)],
        ],
      ];
      for (const [tokens, fees, amounts] of cases) {
        const hops = await hopStates(f, tokens, fees);
        let previous = -1n;
        for (const amount of amounts) {
          const impact = await f.priceGuard.checkPath(encodePath(tokens, fees), amount);
          expect(impact, `${tokens.length - 1} hops, ${amount}`).to.equal(pathImpactBps(hops, amount));
          // A larger sale moves the pools further.
          expect(impact).to.be.gte(previous);
          previous = impact;
        }
        expect(previous, "the largest sale's impact").to.be.gt(0n);
      }
    });

    it("matches the real swap where the liquidity is the same at every price: a full-range pool", async () => {
      const f = await loadFixture(routesFixture);
      const path = await addAllowedThinPool(f, parseUnits("1000", 18), 2_000n * ORACLE_BASE_CURRENCY_UNIT);
      for (const amountIn of [parseUnits("1", 18), parseUnits("10", 18), parseUnits("100", 18)]) {
        const quote = await f.uniswap.quoter.quoteExactInputSingle.staticCall({
          tokenIn: f.weth,
          tokenOut: f.usdc,
          amountIn,
          fee: 10_000,
          sqrtPriceLimitX96: 0n,
        });
        // What the fee-less spot price would pay for the sale after the 1% fee, and what the pool really pays.
        const spot = (((amountIn * 99n) / 100n) * 2_000n) / 10n ** 12n;
        const realBps = ((spot - quote.amountOut) * 10_000n) / spot;
        const impact = await f.priceGuard.checkPath(path, amountIn);
        expect(impact - realBps, `${amountIn}: estimate ${impact} bps, swap ${realBps} bps`).to.be.within(0n, 1n);
      }
    });

    it("returns 0 for a zero amount, and all of it (10,000 bps) through a pool with nothing to trade", async () => {
      const f = await loadFixture(routesFixture);
      expect(await f.priceGuard.checkPath(encodePath([f.weth, f.usdc], [500]), 0)).to.equal(0n);
      // An outside token's 0.05% pool initialised at one USDC with no position, and its 0.3% pool never initialised.
      const [token0, token1] = sorted(f.foreign, f.usdc);
      const sqrtPrice = sqrtPriceX96FromUsd(1n, token0 === f.foreign ? 18 : 6, 1n, token0 === f.foreign ? 6 : 18);
      await (await f.uniswap.positionManager.createAndInitializePoolIfNecessary(token0, token1, 500, sqrtPrice)).wait();
      await (await f.uniswap.factory.createPool(f.foreign, f.usdc, 3_000)).wait();
      for (const fee of [500, 3_000]) {
        await (await f.priceGuard.connect(f.governance).setRoute(f.foreign, f.usdc, fee, true)).wait();
        const path = encodePath([f.foreign, f.usdc], [fee]);
        expect(await f.priceGuard.checkPath(path, parseUnits("1", 18)), `fee ${fee}`).to.equal(10_000n);
      }
      // Still checked before it is priced: a refused hop reverts whatever the amount.
      await expect(f.priceGuard.checkPath(encodePath([f.wbtc, f.usdc], [500]), parseUnits("1", 8)))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.wbtc, f.usdc, 500);
    });
  });
});
