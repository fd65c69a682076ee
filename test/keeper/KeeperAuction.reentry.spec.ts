/**
 * Outside review R4: a token in the middle of a keeper's swap path re-enters `KeeperAuction.kick` while the vault is
 * mid-rebalance. Before the fix, `kick` had no guard and checked only the band: during an auction-paid leverage the
 * executed auction is already deleted and the vault still reads out of band (Aave opens the flash debt after the
 * swap), so the kick recorded a new auction mid-rebalance. It outlived the rebalance (the vault back in band at its
 * target), accrued time, later paid the owner's full cap at once, and blocked fresh kicks (`AuctionActive`).
 * Now `kick` and `cancel` are `nonReentrant` (refused during `execute`) and refuse a vault whose `rebalancing()` is
 * true (`AuctionVaultBusy`: signed or owner rebalances the auction did not start).
 */
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits } from "ethers";
import hre from "hardhat";

import { KickingMintableERC20__factory, type KickingMintableERC20 } from "../../typechain-types";
import { DIRECTION, signIntent } from "../../lib/intents";
import { ASSETS } from "../../lib/market";
import { DEFAULT_POLICY, encodePath } from "../../lib/protocol";
import { addFullRangePool } from "../shared/pools";
import { raisedVaultFixture, RAISED_PRICE, type KeeperFixture } from "../shared/keeper";
import { expectExecutorClean, TARGET_HF } from "../shared/vault";

const FEE = 500;
/** The hook token is worth 1 USD; each pool holds 50M USD a side, so the hops cost little more than their fees. */
const HOOK_PRICE = 10n ** 8n;
const SIDE_USD = 50_000_000n;

interface HookFixture extends KeeperFixture {
  hook: KickingMintableERC20;
  /** USDC -> HOOK -> WETH, both hops at 0.05%. */
  hookUp: string;
}

/** Adds a full-range pool of `hook` and a market asset, 50M USD a side, at the asset's current price. */
async function hookPool(
  f: KeeperFixture,
  hook: KickingMintableERC20,
  symbol: "USDC" | "WETH",
  usdPrice: bigint,
): Promise<void> {
  const [lp] = await hre.ethers.getSigners();
  const decimals = ASSETS[symbol].decimals;
  const hookAmount = SIDE_USD * 10n ** 18n;
  const tokenAmount = (SIDE_USD * 10n ** 8n * 10n ** BigInt(decimals)) / usdPrice;
  await (await hook.connect(lp)["mint(address,uint256)"](lp.address, hookAmount)).wait();
  await f.world.fund(symbol, lp.address, tokenAmount);
  await addFullRangePool(
    f.uniswap.positionManager,
    lp,
    FEE,
    { token: hook, decimals: 18, usdPrice: HOOK_PRICE, amount: hookAmount },
    { token: f.tokens.erc20[symbol], decimals, usdPrice, amount: tokenAmount },
  );
}

/** Alice's vault after WETH rose to 2,600 (HF about 1.95, needs a Leverage), plus the hook token's two pools. */
async function hookFixture(): Promise<HookFixture> {
  const f = await raisedVaultFixture();
  const [lp] = await hre.ethers.getSigners();
  const hook = await new KickingMintableERC20__factory(lp).deploy("Hook", "HOOK", 18);
  await hookPool(f, hook, "USDC", 10n ** 8n);
  await hookPool(f, hook, "WETH", RAISED_PRICE);
  // Governance would never allow such a token's pools (R2); allowed here, the test exercises the guard in depth.
  for (const symbol of ["USDC", "WETH"] as const) {
    await (await f.priceGuard.connect(f.governance).setRoute(hook, f.tokens.erc20[symbol], FEE, true)).wait();
  }
  const hookUp = encodePath(
    [await f.tokens.erc20.USDC.getAddress(), await hook.getAddress(), await f.tokens.erc20.WETH.getAddress()],
    [FEE, FEE],
  );
  return { ...f, hook, hookUp };
}

const reentrantCall = (f: HookFixture): string =>
  f.auction.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []);

describe("KeeperAuction re-entry from a swap path (R4)", () => {
  it("refuses a kick from the path's token during an auction-paid leverage; no auction is left behind", async () => {
    const f = await loadFixture(hookFixture);
    await (await f.auction.connect(f.keeper).kick(f.vault)).wait();
    expect((await f.auction.auctionOf(f.vault)).direction).to.equal(DIRECTION.Leverage);
    await (await f.hook.arm(f.auction, f.vault)).wait();
    const tx = await f.auction.connect(f.keeper).execute(f.vault, f.hookUp, MaxUint256, f.recipient.address);
    await expect(tx).to.emit(f.auction, "Executed");
    // The token did try, mid-rebalance: Aave opens the flash loan's debt only once the swap is done, so the vault
    // still read as above maxHF. The old `kick` (band and dust checks only, the executing auction already deleted)
    // accepted it and recorded a fresh Leverage auction there, which outlived the rebalance: it blocked fresh kicks
    // (`AuctionActive`) and, once the vault next left the band upwards, paid the premium accrued since this moment.
    const hfSeen = await f.hook.hfSeen();
    expect(hfSeen).to.be.gt(BigInt(DEFAULT_POLICY.maxHF));
    expect(await f.hook.kicked()).to.equal(false);
    expect(await f.hook.kickError()).to.equal(reentrantCall(f));
    await expect(tx).to.emit(f.hook, "KickAttempted").withArgs(false, reentrantCall(f), hfSeen);
    // No auction outlived the rebalance: the vault is back at its target, so a fresh kick finds nothing to do.
    expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(0n);
    const hf = (await f.vault.position()).healthFactor;
    expect(hf).to.be.closeTo(TARGET_HF, parseUnits("0.01", 18));
    await expect(f.auction.connect(f.keeper).kick(f.vault))
      .to.be.revertedWithCustomError(f.auction, "AuctionNotNeeded")
      .withArgs(await f.vault.getAddress());
    await expectExecutorClean(f);
  });

  it("refuses a kick from the path's token during a signed leverage (no auction running) with AuctionVaultBusy", async () => {
    const f = await loadFixture(hookFixture);
    const vault = await f.vault.getAddress();
    const { chainId } = await hre.ethers.provider.getNetwork();
    const intent = {
      direction: DIRECTION.Leverage,
      targetHF: TARGET_HF,
      maxSlippageBps: DEFAULT_POLICY.maxSlippageBps,
      rewardToken: await f.tokens.erc20.USDC.getAddress(),
      maxReward: 0n,
      nonce: 1n,
      deadline: MaxUint256,
    };
    const signature = await signIntent(f.alice, "Rebalance", vault, chainId, intent);
    expect(await f.vault.rebalancing()).to.equal(false);
    await (await f.hook.arm(f.auction, f.vault)).wait();
    const tx = await f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.hookUp, 0n);
    await expect(tx).to.emit(f.vault, "IntentExecuted");
    // Out of band (above maxHF) as the old `kick` saw it: it would have started an auction mid-rebalance.
    expect(await f.hook.hfSeen()).to.be.gt(BigInt(DEFAULT_POLICY.maxHF));
    const busy = f.auction.interface.encodeErrorResult("AuctionVaultBusy", [vault]);
    expect(await f.hook.kicked()).to.equal(false);
    expect(await f.hook.kickError()).to.equal(busy);
    expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(0n);
    expect(await f.vault.rebalancing()).to.equal(false);
    await expectExecutorClean(f);
  });
});
