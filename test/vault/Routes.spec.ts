/**
 * Outside review R2: a keeper (or a relayer of a signed intent) routed a vault's swap through a Uniswap pool it owns,
 * priced a few bps above the vault's oracle-derived minimum output, and kept nearly the whole slippage bound on every
 * rebalance. Now every hop of a rebalance path must be a pool governance allows (`PriceGuard.setRoute`).
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits } from "ethers";
import hre from "hardhat";

import { DIRECTION, signIntent } from "../../lib/intents";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY, encodePath } from "../../lib/protocol";
import { MintableERC20__factory } from "../../typechain-types";
import { droppedVaultFixture, type KeeperFixture } from "../shared/keeper";
import { addFullRangePool } from "../shared/pools";
import {
  DEPOSIT,
  emptyVaultFixture,
  expectExecutorClean,
  expectUnchanged,
  snapshotState,
  TARGET_HF,
} from "../shared/vault";

/** The keeper's own pool: the 1% tier, which governance does not allow. */
const OWN_FEE = 10_000;
/** WETH at 1,616 in the keeper's pool against the oracle's 1,600: after its 1% fee a sale fills a few bps under
 * the oracle, just above the vault's 1% floor, and the keeper as LP keeps the rest of the bound. */
const OWN_WETH_PRICE = 1_616n * ORACLE_BASE_CURRENCY_UNIT;
const OWN_DEPTH_WETH = parseUnits("20000", 18);

interface RoutesFixture extends KeeperFixture {
  weth: string;
  usdc: string;
  /** WETH -> USDC through the keeper's 1% pool. */
  ownDown: string;
}

/** The dropped vault (HF about 1.2, WETH 1,600) and a deep WETH/USDC 1% pool the keeper created and filled. */
async function ownPoolFixture(): Promise<RoutesFixture> {
  const f = await droppedVaultFixture();
  const [weth, usdc] = [await f.tokens.erc20.WETH.getAddress(), await f.tokens.erc20.USDC.getAddress()];
  const usdcAmount = (OWN_DEPTH_WETH * OWN_WETH_PRICE) / ORACLE_BASE_CURRENCY_UNIT / 10n ** 12n;
  await f.world.fund("WETH", f.keeper.address, OWN_DEPTH_WETH);
  await f.world.fund("USDC", f.keeper.address, usdcAmount);
  await addFullRangePool(
    f.uniswap.positionManager,
    f.keeper,
    OWN_FEE,
    { token: f.tokens.erc20.WETH, decimals: 18, usdPrice: OWN_WETH_PRICE, amount: OWN_DEPTH_WETH },
    { token: f.tokens.erc20.USDC, decimals: 6, usdPrice: ORACLE_BASE_CURRENCY_UNIT, amount: usdcAmount },
  );
  return { ...f, weth, usdc, ownDown: encodePath([weth, usdc], [OWN_FEE]) };
}

describe("BallastVault swap routes (R2)", () => {
  it("refuses a keeper rebalance through the keeper's own 1% pool with PriceGuardRouteNotAllowed; nothing moves", async () => {
    const f = await loadFixture(ownPoolFixture);
    const before = await snapshotState(f);
    await expect(f.vault.connect(f.keeper).rebalance(f.ownDown, MaxUint256))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, f.usdc, OWN_FEE);
    await expectUnchanged(f, before);
    await expectExecutorClean(f);
    // The attack itself: had governance allowed the pool, the same call would fill there, within the bound.
    await (await f.priceGuard.connect(f.governance).setRoute(f.weth, f.usdc, OWN_FEE, true)).wait();
    await expect(f.vault.connect(f.keeper).rebalance(f.ownDown, MaxUint256)).to.emit(f.vault, "Rebalanced");
    await expectExecutorClean(f);
  });

  it("refuses the same route in an auction-paid execution; the auction stays open", async () => {
    const f = await loadFixture(ownPoolFixture);
    await (await f.auction.connect(f.keeper).kick(f.vault)).wait();
    const kickedAt = (await f.auction.auctionOf(f.vault)).kickedAt;
    const before = await snapshotState(f);
    await expect(f.auction.connect(f.keeper).execute(f.vault, f.ownDown, MaxUint256, f.recipient.address))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, f.usdc, OWN_FEE);
    await expectUnchanged(f, before);
    expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(kickedAt);
    await expectExecutorClean(f);
  });

  it("refuses a relayer's rebalanceBySig through its own pool; the nonce stays unused", async () => {
    const f = await loadFixture(ownPoolFixture);
    const vault = await f.vault.getAddress();
    const { chainId } = await hre.ethers.provider.getNetwork();
    const intent = {
      direction: DIRECTION.Deleverage,
      targetHF: TARGET_HF,
      maxSlippageBps: DEFAULT_POLICY.maxSlippageBps,
      rewardToken: f.weth,
      maxReward: 0n,
      nonce: 7n,
      deadline: MaxUint256,
    };
    const signature = await signIntent(f.alice, "Rebalance", vault, chainId, intent);
    const before = await snapshotState(f);
    await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.ownDown, 0n))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, f.usdc, OWN_FEE);
    await expectUnchanged(f, before);
    expect(await f.vault.nonceUsed(f.alice.address, 7n)).to.equal(false);
    // The public pool carries the same intent.
    await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, 0n)).to.emit(
      f.vault,
      "IntentExecuted",
    );
    await expectExecutorClean(f);
  });

  it("refuses a relayer's closeBySig through its own pool; the position stays open", async () => {
    const f = await loadFixture(ownPoolFixture);
    const vault = await f.vault.getAddress();
    const { chainId } = await hre.ethers.provider.getNetwork();
    const intent = {
      maxSlippageBps: DEFAULT_POLICY.maxSlippageBps,
      feeToken: f.usdc,
      maxFee: 0n,
      nonce: 8n,
      deadline: MaxUint256,
    };
    const signature = await signIntent(f.alice, "Close", vault, chainId, intent);
    const before = await snapshotState(f);
    await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.ownDown, 0n))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, f.usdc, OWN_FEE);
    await expectUnchanged(f, before);
    expect(await f.vault.nonceUsed(f.alice.address, 8n)).to.equal(false);
    await expectExecutorClean(f);
  });

  it("holds the owner to the same routes: close through a pool not allowed is refused", async () => {
    const f = await loadFixture(ownPoolFixture);
    const before = await snapshotState(f);
    await expect(f.vault.connect(f.alice).close(f.ownDown))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, f.usdc, OWN_FEE);
    await expectUnchanged(f, before);
    await expectExecutorClean(f);
  });

  it("holds open to the same routes: a leverage through the 1% tier is refused", async () => {
    const f = await loadFixture(emptyVaultFixture);
    const [weth, usdc] = [await f.tokens.erc20.WETH.getAddress(), await f.tokens.erc20.USDC.getAddress()];
    const before = await snapshotState(f);
    await expect(f.vault.open(DEPOSIT, TARGET_HF, encodePath([usdc, weth], [OWN_FEE])))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(usdc, weth, OWN_FEE);
    await expectUnchanged(f, before);
    await expectExecutorClean(f);
  });

  it("refuses a multi-hop path through a foreign token, though each hop's fee tier is a public one", async () => {
    const f = await loadFixture(ownPoolFixture);
    const foreign = await new MintableERC20__factory(f.keeper).deploy("Foreign", "FOR", 18);
    const path = encodePath([f.weth, await foreign.getAddress(), f.usdc], [500, 500]);
    const before = await snapshotState(f);
    await expect(f.vault.connect(f.keeper).rebalance(path, MaxUint256))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, await foreign.getAddress(), 500);
    await expectUnchanged(f, before);
    // Nor through a market token over a pool not allowed (WETH/WBTC has no allowed pool).
    const wbtc = await f.tokens.erc20.WBTC.getAddress();
    await expect(f.vault.connect(f.keeper).rebalance(encodePath([f.weth, wbtc, f.usdc], [500, 3_000]), MaxUint256))
      .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
      .withArgs(f.weth, wbtc, 500);
    await expectUnchanged(f, before);
    await expectExecutorClean(f);
  });
});
