/**
 * ERC-4626 properties of BallastPool, in the spirit of a16z's public ERC-4626 property suite and written here in our
 * own code, against the real Aave V3 and Uniswap V3 market: previews agree with actions in the same transaction,
 * conversions and round trips never favour the caller, and no holder gains at the others' expense around a keeper
 * rebalance. Each run starts from the same levered pool and draws the amounts, the price move and the flash liquidity.
 */
import { loadFixture, takeSnapshot, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fc from "fast-check";
import { MaxUint256, parseUnits } from "ethers";

import { DIRECTION } from "../../lib/intents";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import { fuzzParameters, logBigInt } from "../shared/fuzz";
import { compared, leveredPoolFixture, SHARE_UNIT, type PoolFixture } from "../shared/pool";
import { drainUsdc, movePrice } from "../shared/vault";

/** CI runs of each property: every run is a handful of transactions on the full market. */
const RUNS = 12;
const WETH = (n: string) => parseUnits(n, 18);

/** A price move that keeps the pool's position out of liquidation: -18% to +25% from 2,000. */
const priceArb = fc.integer({ min: 1_640, max: 2_500 }).map((usd) => BigInt(usd) * ORACLE_BASE_CURRENCY_UNIT);
/** Up to 40 WETH: bob and alice each hold 85 or more, and a mint of the same shares may cost twice that. */
const assetsArb = logBigInt(10n ** 6n, WETH("40"));
/** A fraction of a holder's shares, in parts per million. */
const fractionArb = fc.integer({ min: 1, max: 1_000_000 }).map(BigInt);

describe("BallastPool ERC-4626 properties", function () {
  let f: PoolFixture;
  let start: SnapshotRestorer;

  before(async function () {
    f = await loadFixture(leveredPoolFixture);
    start = await takeSnapshot();
  });

  afterEach(async function () {
    await start.restore();
  });

  /** The drawn market: a price move (the keeper restores the band if it left it), and maybe no flash liquidity. */
  async function market(price: bigint, drained: boolean): Promise<void> {
    await start.restore();
    await movePrice(f, "WETH", price);
    await keeperRebalance();
    if (drained) await drainUsdc(f);
  }

  /** A keeper's rebalance of the pool's position, on the side it needs, if it needs one. */
  async function keeperRebalance(): Promise<void> {
    const { needed, direction } = await f.vault.rebalanceNeeded();
    if (needed) await mined(f.vault.rebalance(direction === DIRECTION.Deleverage ? f.down : f.up, MaxUint256));
  }

  it("previewDeposit and previewMint match deposit and mint; convertToShares rounds down", async function () {
    await fc.assert(
      fc.asyncProperty(priceArb, assetsArb, async (price, assets) => {
        await market(price, false);
        const converted = await f.pool.convertToShares(assets);
        expect(await f.pool.convertToAssets(converted), "convertToAssets(convertToShares(a)) <= a").to.be.lte(assets);
        const deposited = await compared(f.probe, f.probe.connect(f.bob).deposit(f.pool, assets));
        expect(deposited.actual, "deposit mints previewDeposit").to.equal(deposited.preview);
        expect(deposited.actual, "previewDeposit rounds down").to.be.lte(converted);
        // No depositor lowers the others' share price: the join is at NAV, rounded in the pool's favour.
        expect(deposited.priceAfter).to.be.gte(deposited.priceBefore);
        const shares = deposited.actual;
        const minted = await compared(f.probe, f.probe.connect(f.alice).mint(f.pool, shares, assets * 2n + 1n));
        expect(minted.actual, "mint pulls previewMint").to.equal(minted.preview);
        expect(minted.actual, "minting the same shares costs at least the deposit").to.be.gte(assets);
        expect(minted.priceAfter).to.be.gte(minted.priceBefore);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("redeem gives at least previewRedeem, withdraw burns at most previewWithdraw, others' price kept", async function () {
    await fc.assert(
      fc.asyncProperty(priceArb, fc.boolean(), fractionArb, async (price, drained, ppm) => {
        await market(price, drained);
        const holding = await f.pool.balanceOf(f.alice);
        const most = await f.pool.maxRedeem(f.alice);
        const shares = (most * ppm) / 1_000_000n;
        fc.pre(shares > 0n);
        const redeemed = await compared(f.probe, f.probe.connect(f.alice).redeem(f.pool, shares));
        expect(redeemed.actual, "redeem >= previewRedeem").to.be.gte(redeemed.preview);
        expect(redeemed.priceAfter, "others' price").to.be.gte(redeemed.priceBefore - 1n);
        expect(await f.pool.balanceOf(f.alice)).to.equal(holding - shares);

        const assets = ((await f.pool.maxWithdraw(f.bob)) * ppm) / 1_000_000n;
        fc.pre(assets > 0n);
        const before = await f.pool.balanceOf(f.bob);
        const withdrawn = await compared(f.probe, f.probe.connect(f.bob).withdraw(f.pool, assets));
        expect(withdrawn.actual, "withdraw burns previewWithdraw").to.equal(withdrawn.preview);
        expect(before - (await f.pool.balanceOf(f.bob))).to.equal(withdrawn.actual);
        expect(withdrawn.priceAfter, "others' price").to.be.gte(withdrawn.priceBefore - 1n);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("round trips never profit: deposit then redeem, mint then withdraw", async function () {
    await fc.assert(
      fc.asyncProperty(priceArb, fc.boolean(), assetsArb, async (price, drained, assets) => {
        await market(price, drained);
        const weth = f.tokens.erc20.WETH;
        const start = await weth.balanceOf(f.bob);
        const { actual: shares } = await compared(f.probe, f.probe.connect(f.bob).deposit(f.pool, assets));
        fc.pre(shares <= (await f.pool.maxRedeem(f.bob)));
        await mined(f.probe.connect(f.bob).redeem(f.pool, shares));
        expect(await weth.balanceOf(f.bob), "deposit then redeem").to.be.lte(start);

        const afterFirst = await weth.balanceOf(f.bob);
        const minted = SHARE_UNIT;
        await mined(f.probe.connect(f.bob).mint(f.pool, minted, WETH("5")));
        const paid = afterFirst - (await weth.balanceOf(f.bob));
        const most = await f.pool.maxWithdraw(f.bob);
        const back = paid < most ? paid : most;
        fc.pre(back > 0n);
        const { actual: burned } = await compared(f.probe, f.probe.connect(f.bob).withdraw(f.pool, back));
        // Taking out what was paid, or all that may leave, burns at least every share minted, or gives back less.
        if (back === paid) expect(burned, "mint then withdraw").to.be.gte(minted);
        else expect(back).to.be.lte(paid);
      }),
      fuzzParameters(RUNS),
    );
  });

  it("no one profits by depositing just before a keeper rebalance and redeeming just after", async function () {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), assetsArb, async (down, assets) => {
        await start.restore();
        // A move out of the band, the attacker's deposit, the keeper's rebalance, the attacker's redemption.
        await movePrice(f, "WETH", (down ? 1_600n : 2_600n) * ORACLE_BASE_CURRENCY_UNIT);
        const weth = f.tokens.erc20.WETH;
        const spent = await weth.balanceOf(f.attacker);
        const { actual: shares } = await compared(f.probe, f.probe.connect(f.attacker).deposit(f.pool, assets));
        // The deposit alone may have brought the position back into the band, or past it, before a deleverage.
        await keeperRebalance();
        fc.pre(shares <= (await f.pool.maxRedeem(f.attacker)));
        await mined(f.probe.connect(f.attacker).redeem(f.pool, shares));
        expect(await weth.balanceOf(f.attacker), "the attacker's round trip").to.be.lte(spent);
      }),
      fuzzParameters(RUNS),
    );
  });
});
