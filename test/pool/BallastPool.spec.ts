import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import { SwapPath__factory } from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import { DEFAULT_POLICY, deployPool, encodePath } from "../../lib/protocol";
import {
  compared,
  expectPoolClean,
  FUNDS,
  leveredPoolFixture,
  poolFixture,
  poolState,
  SHARE_UNIT,
  type PoolFixture,
} from "../shared/pool";
import { drainUsdc, movePrice, NEW_POLICY, NEW_POLICY_VALUES } from "../shared/vault";

const ONE = parseUnits("1", 18);
const price = (usd: bigint): bigint => usd * ORACLE_BASE_CURRENCY_UNIT;

/** Alice's redemption of `shares` is refused with a maximum of 0, and nothing moves. */
async function expectExitRefused(f: PoolFixture, shares: bigint): Promise<void> {
  const before = await poolState(f);
  await expect(f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address))
    .to.be.revertedWithCustomError(f.pool, "ERC4626ExceededMaxRedeem")
    .withArgs(f.alice.address, shares, 0n);
  expect(await poolState(f)).to.deep.equal(before);
}

/** The pool's `Unwound` event of a transaction. */
async function unwound(f: PoolFixture, tx: ContractTransactionResponse | Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  for (const log of receipt?.logs ?? []) {
    const parsed = f.pool.interface.parseLog(log);
    if (parsed?.name === "Unwound") return parsed.args;
  }
  throw new Error("no Unwound event");
}

describe("BallastPool", () => {
  describe("deployment", () => {
    it("owns a factory vault on the pair, which keepers see as any other", async () => {
      const f = await loadFixture(poolFixture);
      expect(await f.factory.isVault(f.vault)).to.equal(true);
      expect(await f.vault.owner()).to.equal(await f.pool.getAddress());
      expect(await f.vault.collateralAsset()).to.equal(await f.tokens.erc20.WETH.getAddress());
      expect(await f.pool.asset()).to.equal(await f.tokens.erc20.WETH.getAddress());
      expect(await f.pool.DEBT_ASSET()).to.equal(await f.tokens.erc20.USDC.getAddress());
      expect(await f.pool.decimals()).to.equal(24n);
      expect(await f.pool.exitPath()).to.equal(f.down);
    });

    it("refuses a zero guardian with PoolZeroAddress", async () => {
      const f = await loadFixture(poolFixture);
      const [governance] = await hre.ethers.getSigners();
      await expect(deployPool(f, f, governance, hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.pool,
        "PoolZeroAddress",
      );
    });
  });

  describe("#deposit and #mint", () => {
    it("mints at NAV and supplies the assets as collateral, unlevered until the next keeper rebalance", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const hfBefore = (await f.vault.position()).healthFactor;
      const assets = await f.pool.totalAssets();
      const supply = await f.pool.totalSupply();
      const deposit = parseUnits("20", 18);
      const preview = await f.pool.previewDeposit(deposit);
      // OpenZeppelin's conversion with the virtual share and asset, rounded down: the pool's favour.
      expect(preview).to.equal((deposit * (supply + 10n ** 6n)) / (assets + 1n));
      const aBefore = await f.aave.aTokens.WETH.scaledBalanceOf(f.vault);
      // Through the probe, the preview of the deposit's own block: a block later, interest has moved NAV.
      const tx = f.probe.connect(f.alice).deposit(f.pool, deposit);
      await expect(tx).to.emit(f.pool, "Deposit");
      const probed = await compared(f.probe, tx);
      expect(probed.actual).to.equal(probed.preview);
      await expect(tx)
        .to.emit(f.pool, "Deposit")
        .withArgs(await f.probe.getAddress(), f.alice.address, deposit, probed.actual);
      // The vault's aWETH grew by the deposit (compared scaled: interest-free), to within Aave's rounding.
      const index = await f.aave.pool.getReserveNormalizedIncome(f.tokens.erc20.WETH);
      const RAY = 10n ** 27n;
      expect(await f.aave.aTokens.WETH.scaledBalanceOf(f.vault)).to.be.closeTo(
        aBefore + (deposit * RAY + index / 2n) / index,
        1n,
      );
      // The consequence of not levering at once: the new collateral lifts the HF, over the band here, and the next
      // keeper rebalance levers everyone's equity back to the target.
      const hfAfter = (await f.vault.position()).healthFactor;
      expect(hfAfter).to.be.gt(hfBefore);
      expect(hfAfter).to.be.gt(DEFAULT_POLICY.maxHF);
      expect((await f.vault.rebalanceNeeded()).needed).to.equal(true);
      await mined(f.vault.rebalance(f.up, MaxUint256));
      expect((await f.vault.position()).healthFactor).to.be.closeTo(DEFAULT_POLICY.targetHF, parseUnits("0.01", 18));
      await expectPoolClean(f);
    });

    it("mints exactly the shares asked for, pulling previewMint's assets (rounded up)", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const shares = 7n * SHARE_UNIT;
      const preview = await f.pool.previewMint(shares);
      expect(await f.pool.convertToShares(preview)).to.be.gte(shares);
      const before = await f.tokens.erc20.WETH.balanceOf(f.bob);
      const sharesBefore = await f.pool.balanceOf(f.bob);
      const probed = await compared(f.probe, f.probe.connect(f.bob).mint(f.pool, shares, preview * 2n));
      expect(probed.actual).to.equal(probed.preview);
      expect(before - (await f.tokens.erc20.WETH.balanceOf(f.bob))).to.equal(probed.actual);
      expect((await f.pool.balanceOf(f.bob)) - sharesBefore).to.equal(shares);
    });

    it("refuses deposits while the guardian pauses them (ERC4626ExceededMaxDeposit), and never exits", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const [, guardian] = await hre.ethers.getSigners();
      await expect(f.pool.connect(guardian).pauseDeposits(true)).to.emit(f.pool, "DepositsPaused").withArgs(true);
      expect(await f.pool.maxDeposit(f.alice)).to.equal(0n);
      expect(await f.pool.maxMint(f.alice)).to.equal(0n);
      const before = await poolState(f);
      await expect(f.pool.connect(f.alice).deposit(ONE, f.alice.address))
        .to.be.revertedWithCustomError(f.pool, "ERC4626ExceededMaxDeposit")
        .withArgs(f.alice.address, ONE, 0n);
      await expect(f.pool.connect(f.alice).mint(SHARE_UNIT, f.alice.address)).to.be.revertedWithCustomError(
        f.pool,
        "ERC4626ExceededMaxMint",
      );
      expect(await poolState(f)).to.deep.equal(before);
      const shares = await f.pool.balanceOf(f.bob);
      expect(await f.pool.maxRedeem(f.bob)).to.equal(shares);
      await mined(f.pool.connect(f.bob).redeem(shares, f.bob.address, f.bob.address));
      expect(await f.pool.balanceOf(f.bob)).to.equal(0n);
    });

    it("lets only the guardian pause (PoolNotGuardian)", async () => {
      const f = await loadFixture(poolFixture);
      await expect(f.pool.connect(f.attacker).pauseDeposits(true))
        .to.be.revertedWithCustomError(f.pool, "PoolNotGuardian")
        .withArgs(f.attacker.address);
      expect(await f.pool.depositsPaused()).to.equal(false);
    });

    it("caps deposits at the supply cap", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const [governance] = await hre.ethers.getSigners();
      const assets = await f.pool.totalAssets();
      const cap = assets + ONE;
      await expect(f.pool.connect(governance).setSupplyCap(cap)).to.emit(f.pool, "SupplyCapSet").withArgs(cap);
      // Read in one block: the equity moves with interest from block to block.
      const room = await f.pool.maxDeposit(f.alice);
      expect(room).to.equal(cap - (await f.pool.totalAssets()));
      const before = await poolState(f);
      await expect(f.pool.connect(f.alice).deposit(room + ONE, f.alice.address))
        .to.be.revertedWithCustomError(f.pool, "ERC4626ExceededMaxDeposit")
        .withArgs(f.alice.address, room + ONE, (max: bigint) => max < room + ONE);
      expect(await poolState(f)).to.deep.equal(before);
      await mined(f.pool.connect(f.alice).deposit(room / 2n, f.alice.address));
      expect(await f.pool.maxDeposit(f.alice)).to.equal(cap - (await f.pool.totalAssets()));
    });

    it("reports no room while Aave's collateral reserve is frozen or paused", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const admin = f.aave.configurator.connect(f.accounts.admin);
      await mined(admin.setReserveFreeze(f.tokens.erc20.WETH, true));
      expect(await f.pool.maxDeposit(f.alice)).to.equal(0n);
      // A frozen reserve still lets holders out.
      expect(await f.pool.maxRedeem(f.alice)).to.equal(await f.pool.balanceOf(f.alice));
      await mined(admin.setReserveFreeze(f.tokens.erc20.WETH, false));
      await mined(admin.setReservePause(f.tokens.erc20.WETH, true));
      expect(await f.pool.maxDeposit(f.alice)).to.equal(0n);
      expect(await f.pool.maxRedeem(f.alice)).to.equal(0n);
      expect(await f.pool.maxWithdraw(f.alice)).to.equal(0n);
    });

    it("reports no room, and refuses deposits with the price guard's error, while the oracle is stale", async () => {
      const f = await loadFixture(leveredPoolFixture);
      await f.world.advance(2 * 24 * 3600);
      expect(await f.pool.maxDeposit(f.alice)).to.equal(0n);
      expect(await f.pool.maxMint(f.alice)).to.equal(0n);
      expect(await f.pool.maxRedeem(f.alice)).to.equal(0n);
      const before = await poolState(f);
      await expect(f.pool.connect(f.alice).deposit(ONE, f.alice.address)).to.be.revertedWithCustomError(
        f.priceGuard,
        "PriceGuardStalePrice",
      );
      await expect(f.pool.connect(f.alice).mint(SHARE_UNIT, f.alice.address)).to.be.revertedWithCustomError(
        f.priceGuard,
        "PriceGuardStalePrice",
      );
      expect(await poolState(f)).to.deep.equal(before);
    });
  });

  describe("#redeem and #withdraw", () => {
    it("unwinds the holder's share atomically: at least previewRedeem, the HF kept, staying holders' price kept", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const shares = (await f.pool.balanceOf(f.alice)) / 2n;
      const preview = await f.pool.previewRedeem(shares);
      const hfBefore = (await f.vault.position()).healthFactor;
      const before = await poolState(f);
      const tx = await f.probe.connect(f.alice).redeem(f.pool, shares);
      const event = await unwound(f, tx);
      const received = (await f.tokens.erc20.WETH.balanceOf(f.alice)) - before.wethOf[0];
      // The preview of the same transaction, and the one read a block before (one block's interest apart).
      const same = await compared(f.probe, Promise.resolve(tx));
      expect(same.actual).to.equal(received).and.to.be.gte(same.preview);
      // The previews price the worst accepted fill; the pool filled better.
      expect(received).to.be.gte(preview);
      expect(received).to.equal(event.collateralReleased - event.collateralSold);
      await expect(tx)
        .to.emit(f.pool, "Withdraw")
        .withArgs(await f.probe.getAddress(), f.alice.address, f.alice.address, received, shares);
      // The holder's fraction of each side, against the supply plus the virtual shares.
      const virtualSupply = before.supply + 10n ** 6n;
      const after = await poolState(f);
      // Scaled, free of interest, times the virtual supply V. The others keep at least their fraction of the
      // collateral, less Aave's half-unit rounding of the burn (the leaver's share is rounded down, so at most 1.5
      // units above it) and owe at most
      // their fraction of the debt: the leaver repays its share rounded up, one unit more, and Aave's rounding of the
      // repayment moves it by at most half a unit, so at most 2.5 units more than its exact fraction.
      const V = virtualSupply;
      const othersCollateral = before.collateral * (V - shares);
      const othersDebt = before.debt * (V - shares);
      expect(after.collateral * V + V / 2n).to.be.gte(othersCollateral);
      expect(after.collateral * V).to.be.lte(othersCollateral + (3n * V) / 2n);
      expect(after.debt * V).to.be.lte(othersDebt);
      expect(othersDebt - after.debt * V).to.be.lte((5n * V) / 2n);
      // The HF held: the proportions are checked exactly above on scaled balances; between the two blocks interest
      // alone moves it, by far less than a millionth.
      expect((await f.vault.position()).healthFactor).to.be.closeTo(hfBefore, hfBefore / 10n ** 6n);
      // Within the transaction: the staying holders' shares are worth no less, beyond a unit of rounding.
      expect(same.priceAfter).to.be.gte(same.priceBefore - 1n);
      expect(after.sharesOf[1]).to.equal(before.sharesOf[1]);
      await expectPoolClean(f);
    });

    it("withdraws exactly the assets asked for, burning previewWithdraw's shares; a better fill stays in the pool", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const assets = parseUnits("2", 18);
      expect(await f.pool.previewRedeem(await f.pool.previewWithdraw(assets))).to.be.gte(assets);
      const before = await poolState(f);
      // Through the probe, within one transaction: the shares burned match the preview, and the better fill that
      // stays in the pool lifts the others' price.
      const tx = f.probe.connect(f.bob).withdraw(f.pool, assets);
      const probed = await compared(f.probe, tx);
      expect(probed.actual).to.equal(probed.preview);
      expect(probed.priceAfter).to.be.gt(probed.priceBefore);
      await expect(tx)
        .to.emit(f.pool, "Withdraw")
        .withArgs(await f.probe.getAddress(), f.bob.address, f.bob.address, assets, probed.actual);
      const after = await poolState(f);
      expect(after.wethOf[1] - before.wethOf[1]).to.equal(assets);
      expect(before.sharesOf[1] - after.sharesOf[1]).to.equal(probed.actual);
      // A direct withdrawal to another receiver.
      await expect(f.pool.connect(f.bob).withdraw(assets, f.attacker.address, f.bob.address))
        .to.emit(f.pool, "Withdraw")
        .withArgs(f.bob.address, f.attacker.address, f.bob.address, assets, anyValue);
      expect((await poolState(f)).wethOf[2] - before.wethOf[2]).to.equal(assets);
      await expectPoolClean(f);
    });

    it("lets the last holders out completely", async () => {
      const f = await loadFixture(leveredPoolFixture);
      for (const holder of [f.alice, f.bob]) {
        const shares = await f.pool.balanceOf(holder);
        await mined(f.pool.connect(holder).redeem(shares, holder.address, holder.address));
      }
      expect(await f.pool.totalSupply()).to.equal(0n);
      const [collateral, debt] = await f.pool.holdings();
      // What the virtual shares own: a millionth of a share unit's worth, at the same HF.
      expect(collateral).to.be.lt(10n ** 6n);
      expect(debt).to.be.lt(10n ** 6n);
      await expectPoolClean(f);
    });

    it("spends an operator's allowance, and refuses one without it (ERC20InsufficientAllowance)", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const shares = SHARE_UNIT;
      const before = await poolState(f);
      await expect(f.pool.connect(f.attacker).redeem(shares, f.attacker.address, f.alice.address))
        .to.be.revertedWithCustomError(f.pool, "ERC20InsufficientAllowance")
        .withArgs(f.attacker.address, 0n, shares);
      expect(await poolState(f)).to.deep.equal(before);
      await mined(f.pool.connect(f.alice).approve(f.bob, shares));
      await mined(f.pool.connect(f.bob).redeem(shares, f.bob.address, f.alice.address));
      expect(await f.pool.allowance(f.alice, f.bob)).to.equal(0n);
    });

    it("refuses more than maxRedeem and maxWithdraw, with nothing moved", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const shares = await f.pool.balanceOf(f.bob);
      const before = await poolState(f);
      await expect(f.pool.connect(f.bob).redeem(shares + 1n, f.bob.address, f.bob.address))
        .to.be.revertedWithCustomError(f.pool, "ERC4626ExceededMaxRedeem")
        .withArgs(f.bob.address, shares + 1n, shares);
      const most = await f.pool.maxWithdraw(f.bob);
      await expect(f.pool.connect(f.bob).withdraw(most + 1n, f.bob.address, f.bob.address))
        .to.be.revertedWithCustomError(f.pool, "ERC4626ExceededMaxWithdraw")
        .withArgs(f.bob.address, most + 1n, most);
      expect(await poolState(f)).to.deep.equal(before);
      expect(await f.pool.previewWithdraw(most)).to.be.lte(shares);
      await mined(f.pool.connect(f.bob).withdraw(most, f.bob.address, f.bob.address));
    });

    it("refuses exits while governance has revoked the exit route, and until it sets an allowed one", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const [governance] = await hre.ethers.getSigners();
      const [weth, usdc] = [f.tokens.erc20.WETH, f.tokens.erc20.USDC];
      await mined(f.priceGuard.connect(governance).setRoute(weth, usdc, 500, false));
      expect(await f.pool.maxRedeem(f.alice)).to.equal(0n);
      const shares = await f.pool.balanceOf(f.alice);
      await expectExitRefused(f, shares);
      await mined(f.priceGuard.connect(governance).setRoute(weth, usdc, 500, true));
      expect(await f.pool.maxRedeem(f.alice)).to.equal(shares);
    });

    it("refuses exits below minHF until a keeper restores the band", async () => {
      const f = await loadFixture(leveredPoolFixture);
      await movePrice(f, "WETH", price(1_600n));
      expect((await f.vault.position()).healthFactor).to.be.lt(DEFAULT_POLICY.minHF);
      expect(await f.pool.maxRedeem(f.alice)).to.equal(0n);
      const shares = await f.pool.balanceOf(f.alice);
      await expectExitRefused(f, shares);
      await mined(f.vault.rebalance(f.down, MaxUint256));
      expect(await f.pool.maxRedeem(f.alice)).to.equal(shares);
      await mined(f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address));
    });

    it("exits in steps, without a flash loan, at 100% utilisation: at least previewRedeem, others' price kept", async () => {
      const f = await loadFixture(leveredPoolFixture);
      await drainUsdc(f);
      const shares = await f.pool.balanceOf(f.alice);
      expect(await f.pool.maxRedeem(f.alice)).to.equal(shares);
      const before = await poolState(f);
      const tx = await f.probe.connect(f.alice).redeem(f.pool, shares);
      const event = await unwound(f, tx);
      const received = (await f.tokens.erc20.WETH.balanceOf(f.alice)) - before.wethOf[0];
      const { preview, actual, priceBefore, priceAfter } = await compared(f.probe, Promise.resolve(tx));
      expect(actual).to.equal(received).and.to.be.gte(preview);
      expect(received).to.equal(event.collateralReleased - event.collateralSold);
      // No flash loan was taken: Aave had nothing to lend.
      const receipt = await tx.wait();
      const flashLoans = (receipt?.logs ?? []).filter(
        (log) => f.aave.pool.interface.parseLog(log)?.name === "FlashLoan",
      );
      expect(flashLoans).to.have.length(0);
      expect((await f.vault.position()).healthFactor).to.be.gte(DEFAULT_POLICY.minHF);
      expect(priceAfter).to.be.gte(priceBefore - 1n);
      await expectPoolClean(f);
    });

    it("refuses a stepped exit that cannot finish with PoolExitStuck, with nothing moved", async () => {
      const f = await loadFixture(leveredPoolFixture);
      // The HF a hair above the steps' floor (minHF plus 0.1%): each step finds almost no headroom.
      const { healthFactor } = await f.vault.position();
      const target = (BigInt(DEFAULT_POLICY.minHF) * 100_105n) / 100_000n;
      await movePrice(f, "WETH", (price(2_000n) * target) / healthFactor);
      await drainUsdc(f);
      const shares = await f.pool.balanceOf(f.alice);
      const before = await poolState(f);
      await expect(
        f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address),
      ).to.be.revertedWithCustomError(f.pool, "PoolExitStuck");
      expect(await poolState(f)).to.deep.equal(before);
    });

    it("burns dust whose rounded-up debt may cost all its collateral for nothing, as previewRedeem says", async () => {
      const f = await loadFixture(leveredPoolFixture);
      await mined(f.pool.connect(f.attacker).deposit(10n ** 6n, f.attacker.address));
      const shares = await f.pool.balanceOf(f.attacker);
      expect(await f.pool.previewRedeem(shares)).to.equal(0n);
      const before = await poolState(f);
      const probed = await compared(f.probe, f.probe.connect(f.attacker).redeem(f.pool, shares));
      expect(probed.actual).to.equal(0n);
      expect(probed.priceAfter).to.be.gte(probed.priceBefore);
      const after = await poolState(f);
      expect(after.sharesOf[2]).to.equal(0n);
      expect(after.wethOf[2]).to.equal(before.wethOf[2]);
      expect(after.debt).to.equal(before.debt);
      await expectPoolClean(f);
    });

    it("redeems without a flash loan while the position has no debt", async () => {
      const f = await loadFixture(poolFixture);
      await mined(f.pool.connect(f.alice).deposit(ONE, f.alice.address));
      const shares = await f.pool.balanceOf(f.alice);
      const preview = await f.pool.previewRedeem(shares);
      const before = await f.tokens.erc20.WETH.balanceOf(f.alice);
      await mined(f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address));
      expect((await f.tokens.erc20.WETH.balanceOf(f.alice)) - before).to.equal(preview);
      expect(preview).to.be.closeTo(ONE, 1n);
    });
  });

  describe("foreign collateral (R1) on the pool's vault", () => {
    it("blocks exits with Aave's 57 until anyone disables it on the vault; nothing moves meanwhile", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const wbtc = f.tokens.erc20.WBTC;
      await f.world.fund("WBTC", f.attacker.address, 1n);
      await mined(wbtc.connect(f.attacker).approve(f.aave.pool, 1n));
      await mined(f.aave.pool.connect(f.attacker).supply(wbtc, 1n, f.vault, 0));
      const { data } = await f.aave.pool.getConfiguration(wbtc);
      await mined(
        f.aave.configurator
          .connect(f.accounts.admin)
          .configureReserveAsCollateral(wbtc, 0, (data >> 16n) & 0xffffn, (data >> 32n) & 0xffffn),
      );
      const shares = (await f.pool.balanceOf(f.alice)) / 2n;
      const before = await poolState(f);
      await expect(f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address)).to.be.revertedWith("57");
      expect(await poolState(f)).to.deep.equal(before);
      await mined(f.vault.connect(f.attacker).disableCollateral(wbtc));
      await mined(f.pool.connect(f.alice).redeem(shares, f.alice.address, f.alice.address));
      expect(await f.pool.balanceOf(f.alice)).to.equal(before.sharesOf[0] - shares);
      await expectPoolClean(f);
    });
  });

  describe("#lever", () => {
    it("opens the first deposits at the target HF, for anyone, along the reversed exit path", async () => {
      const f = await loadFixture(poolFixture);
      await mined(f.pool.connect(f.alice).deposit(parseUnits("10", 18), f.alice.address));
      expect((await f.vault.rebalanceNeeded()).needed).to.equal(false);
      const assetsBefore = await f.pool.totalAssets();
      await expect(f.pool.connect(f.attacker).lever()).to.emit(f.vault, "Rebalanced");
      expect((await f.vault.position()).healthFactor).to.be.closeTo(DEFAULT_POLICY.targetHF, parseUnits("0.01", 18));
      // The open's swap costs come out of the equity, within the policy's slippage bound on what it bought.
      const assetsAfter = await f.pool.totalAssets();
      expect(assetsAfter).to.be.lt(assetsBefore);
      expect(assetsAfter).to.be.gt((assetsBefore * 98n) / 100n);
      await expectPoolClean(f);
    });

    it("refuses an open position or an empty one (PoolNotOpenable)", async () => {
      const f = await loadFixture(poolFixture);
      await expect(f.pool.lever()).to.be.revertedWithCustomError(f.pool, "PoolNotOpenable").withArgs(0n, 0n);
      await mined(f.pool.connect(f.alice).deposit(ONE, f.alice.address));
      await mined(f.pool.lever());
      const [collateral, debt] = await f.pool.holdings();
      const before = await poolState(f);
      await expect(f.pool.lever()).to.be.revertedWithCustomError(f.pool, "PoolNotOpenable").withArgs(collateral, debt);
      expect(await poolState(f)).to.deep.equal(before);
    });
  });

  describe("first-depositor inflation attack", () => {
    it("costs the attacker its donation, and the victim at most rounding", async () => {
      const f = await loadFixture(poolFixture);
      const weth = f.tokens.erc20.WETH;
      const donation = parseUnits("10", 18);
      const attackerBefore = await weth.balanceOf(f.attacker);
      await mined(f.pool.connect(f.attacker).deposit(1n, f.attacker.address));
      // The donation: WETH supplied to Aave on the position's behalf, so that it counts in totalAssets.
      await mined(weth.connect(f.attacker).approve(f.aave.pool, donation));
      await mined(f.aave.pool.connect(f.attacker).supply(weth, donation, f.vault, 0));
      const deposit = parseUnits("10", 18);
      await mined(f.pool.connect(f.alice).deposit(deposit, f.alice.address));
      expect(await f.pool.balanceOf(f.alice)).to.be.gt(0n);
      for (const holder of [f.attacker, f.alice]) {
        const shares = await f.pool.balanceOf(holder);
        await mined(f.pool.connect(holder).redeem(shares, holder.address, holder.address));
      }
      // The virtual shares outweigh the attacker's: it gets back about a quarter of the pool, half its donation.
      const attackerLoss = attackerBefore - (await weth.balanceOf(f.attacker));
      expect(attackerLoss).to.be.gt((donation * 49n) / 100n);
      const aliceBack = (await weth.balanceOf(f.alice)) - (FUNDS - deposit);
      expect(deposit - aliceBack).to.be.lt(deposit / 10n ** 5n);
    });
  });

  describe("flash-loan callback", () => {
    it("refuses a caller other than the Aave pool (PoolCallerNotAavePool)", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const usdc = await f.tokens.erc20.USDC.getAddress();
      await expect(f.pool.connect(f.attacker).executeOperation(usdc, 1n, 0n, f.pool, "0x"))
        .to.be.revertedWithCustomError(f.pool, "PoolCallerNotAavePool")
        .withArgs(f.attacker.address);
    });

    it("refuses a flash loan someone else started with the pool as receiver (PoolInitiatorNotSelf)", async () => {
      const f = await loadFixture(leveredPoolFixture);
      const before = await poolState(f);
      await expect(
        f.aave.pool.connect(f.attacker).flashLoanSimple(f.pool, f.tokens.erc20.USDC, parseUnits("100", 6), "0x", 0),
      )
        .to.be.revertedWithCustomError(f.pool, "PoolInitiatorNotSelf")
        .withArgs(f.attacker.address);
      expect(await poolState(f)).to.deep.equal(before);
    });
  });

  describe("governance", () => {
    it("sets the exit path only along allowed routes, with SwapPath's and the price guard's errors", async () => {
      const f = await loadFixture(poolFixture);
      const [governance] = await hre.ethers.getSigners();
      const [weth, usdc, wbtc] = await Promise.all(
        (["WETH", "USDC", "WBTC"] as const).map((s) => f.tokens.erc20[s].getAddress()),
      );
      const swapPath = { interface: SwapPath__factory.createInterface() };
      await expect(f.pool.connect(governance).setExitPath(encodePath([usdc, weth], [500])))
        .to.be.revertedWithCustomError(swapPath, "SwapPathWrongTokenIn")
        .withArgs(weth, usdc);
      await expect(f.pool.connect(governance).setExitPath(encodePath([weth, usdc], [10_000])))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(weth, usdc, 10_000);
      await expect(f.pool.connect(f.attacker).setExitPath(f.down))
        .to.be.revertedWithCustomError(f.pool, "OwnableUnauthorizedAccount")
        .withArgs(f.attacker.address);
      const twoHops = encodePath([weth, wbtc, usdc], [3_000, 3_000]);
      const allowed = await f.priceGuard.routeAllowed(weth, wbtc, 3_000);
      if (allowed) {
        await expect(f.pool.connect(governance).setExitPath(twoHops)).to.emit(f.pool, "ExitPathSet");
      } else {
        await expect(f.pool.connect(governance).setExitPath(twoHops)).to.be.revertedWithCustomError(
          f.priceGuard,
          "PriceGuardRouteNotAllowed",
        );
      }
      expect(await f.pool.exitPath()).to.equal(allowed ? twoHops : f.down);
    });

    it("sets the position's policy, the guardian and the cap; each only by governance", async () => {
      const f = await loadFixture(poolFixture);
      const [governance] = await hre.ethers.getSigners();
      await mined(f.pool.connect(governance).setPolicy(NEW_POLICY));
      expect(await f.vault.policy()).to.deep.equal(NEW_POLICY_VALUES);
      await expect(f.pool.connect(governance).setGuardian(hre.ethers.ZeroAddress)).to.be.revertedWithCustomError(
        f.pool,
        "PoolZeroAddress",
      );
      await expect(f.pool.connect(governance).setGuardian(f.bob.address))
        .to.emit(f.pool, "GuardianSet")
        .withArgs(f.bob.address);
      const asAttacker = f.pool.connect(f.attacker);
      for (const call of [
        () => asAttacker.setPolicy(DEFAULT_POLICY),
        () => asAttacker.setGuardian(f.attacker.address),
        () => asAttacker.setSupplyCap(1n),
      ]) {
        await expect(call())
          .to.be.revertedWithCustomError(f.pool, "OwnableUnauthorizedAccount")
          .withArgs(f.attacker.address);
      }
      expect(await f.pool.guardian()).to.equal(f.bob.address);
      expect(await f.pool.supplyCap()).to.equal(0n);
    });
  });

  describe("keepers", () => {
    it("rebalance the pool's position through the auction, as any vault", async () => {
      const f = await loadFixture(leveredPoolFixture);
      await movePrice(f, "WETH", price(1_600n));
      await mined(f.auction.connect(f.keeper).kick(f.vault));
      await f.world.advance(60);
      const before = await f.tokens.erc20.USDC.balanceOf(f.keeper);
      await expect(f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.keeper.address)).to.emit(
        f.auction,
        "Executed",
      );
      expect(await f.tokens.erc20.USDC.balanceOf(f.keeper)).to.be.gt(before);
      expect((await f.vault.position()).healthFactor).to.be.closeTo(DEFAULT_POLICY.targetHF, parseUnits("0.01", 18));
    });
  });
});
