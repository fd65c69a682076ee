import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { MaxUint256 } from "ethers";
import { ethers } from "hardhat";

import {
  ASSET_SYMBOLS,
  ASSETS,
  FLASHLOAN_PREMIUM_TOTAL_BPS,
  ORACLE_BASE_CURRENCY_UNIT,
  type Market,
} from "../../lib/market";
import { FlashLoanReceiverProbe__factory } from "../../typechain-types";
import { marketFixture } from "../shared/fixtures";
import { fundAndApprove, openWethCollateralUsdcDebt, units, usd } from "./helpers";

const WAD = 10n ** 18n;
const BPS = 10_000n;

// Aave's own rounding (PercentageMath, WadRayMath): half up.
const percentMul = (value: bigint, bps: bigint): bigint => (value * bps + BPS / 2n) / BPS;
const wadDiv = (a: bigint, b: bigint): bigint => (a * WAD + b / 2n) / b;

interface ExpectedAccount {
  collateralBase: bigint;
  debtBase: bigint;
  /** HF with Aave's rounding: wadDiv(percentMul(collateral, LT), debt). */
  healthFactor: bigint;
  /** HF with floor divisions throughout: collateral * LT / 10000 * 1e18 / debt. */
  healthFactorFloor: bigint;
}

/**
 * Recomputes, from token balances and the feeds, what Aave's GenericLogic should report for a user
 * with WETH collateral and USDC debt. Views run at the latest block's timestamp, so the aToken and
 * debt-token balances here carry exactly the interest that `getUserAccountData` sees.
 */
async function expectedAccount(market: Market, user: string): Promise<ExpectedAccount> {
  const wethPrice = await market.world.oraclePrice("WETH");
  const usdcPrice = await market.world.oraclePrice("USDC");
  const collateral = await market.aave.aTokens.WETH.balanceOf(user);
  const debt = await market.aave.variableDebtTokens.USDC.balanceOf(user);
  const collateralBase = (collateral * wethPrice) / units("WETH", 1n);
  const debtBase = (debt * usdcPrice) / units("USDC", 1n);
  const lt = ASSETS.WETH.liquidationThresholdBps;
  return {
    collateralBase,
    debtBase,
    healthFactor: wadDiv(percentMul(collateralBase, lt), debtBase),
    healthFactorFloor: (((collateralBase * lt) / BPS) * WAD) / debtBase,
  };
}

/** Aave's LiquidationLogic: collateral = (debtPrice * debt * collUnit / (collPrice * debtUnit)).percentMul(bonus). */
async function expectedCollateralForDebt(market: Market, usdcCovered: bigint): Promise<bigint> {
  const wethPrice = await market.aave.oracle.getAssetPrice(market.tokens.erc20.WETH);
  const usdcPrice = await market.aave.oracle.getAssetPrice(market.tokens.erc20.USDC);
  const base = (usdcPrice * usdcCovered * units("WETH", 1n)) / (wethPrice * units("USDC", 1n));
  return percentMul(base, ASSETS.WETH.liquidationBonusBps);
}

describe("Aave V3 local market", function () {
  let market: Market;
  let borrower: HardhatEthersSigner;
  let liquidator: HardhatEthersSigner;

  beforeEach(async function () {
    market = await loadFixture(marketFixture);
    [borrower, liquidator] = await ethers.getSigners();
  });

  it("reports the health factor GenericLogic computes from the oracle price and WETH's liquidation threshold", async function () {
    // 10 WETH at $2,000 against 15,000 USDC: HF = 20,000 * 0.825 / 15,000 = 1.1 at the time of borrowing.
    await openWethCollateralUsdcDebt(market, borrower, 10n, 15_000n);
    // A month of interest makes the debt an uneven number, so the rounding below is exercised.
    await market.world.advance(30 * 86_400);

    const data = await market.aave.pool.getUserAccountData(borrower.address);
    const expected = await expectedAccount(market, borrower.address);
    expect(await market.aave.variableDebtTokens.USDC.balanceOf(borrower.address)).to.be.gt(units("USDC", 15_000n));
    expect(data.totalCollateralBase).to.equal(usd(20_000n));
    expect(data.totalCollateralBase).to.equal(expected.collateralBase);
    expect(data.totalDebtBase).to.equal(expected.debtBase);
    expect(data.currentLiquidationThreshold).to.equal(ASSETS.WETH.liquidationThresholdBps);
    expect(data.ltv).to.equal(ASSETS.WETH.ltvBps);
    expect(data.healthFactor).to.equal(expected.healthFactor);
    // The all-floor formula can be 1 wei lower: Aave's wadDiv rounds half up. (Its percentMul rounds
    // half up too, but 20,000e8 * 8,250 is a multiple of 10,000, so that step is exact here.)
    expect(data.healthFactor - expected.healthFactorFloor).to.be.within(0n, 1n);
    expect(data.healthFactor).to.be.lt((11n * WAD) / 10n);
    expect(data.healthFactor).to.be.gt((1099n * WAD) / 1000n);
  });

  it("lowers the health factor when the oracle price falls", async function () {
    await openWethCollateralUsdcDebt(market, borrower, 10n, 15_000n);
    const before = await market.aave.pool.getUserAccountData(borrower.address);

    await market.world.setPrice("WETH", usd(1_800n));

    expect(await market.aave.oracle.getAssetPrice(market.tokens.erc20.WETH)).to.equal(usd(1_800n));
    const after = await market.aave.pool.getUserAccountData(borrower.address);
    const expected = await expectedAccount(market, borrower.address);
    expect(after.healthFactor).to.be.lt(before.healthFactor);
    expect(after.totalCollateralBase).to.equal(usd(18_000n));
    expect(after.healthFactor).to.equal(expected.healthFactor);
    expect(after.healthFactor - expected.healthFactorFloor).to.be.within(0n, 1n);
  });

  it("liquidates an account below HF 1 and pays the liquidator the 5% collateral bonus", async function () {
    await openWethCollateralUsdcDebt(market, borrower, 10n, 15_000n);
    // HF = 17,500 * 0.825 / 15,000 = 0.9625: liquidatable, and above the 0.95 full-close threshold.
    await market.world.setPrice("WETH", usd(1_750n));
    const { healthFactor: hfBefore } = await market.aave.pool.getUserAccountData(borrower.address);
    expect(hfBefore).to.be.lt(WAD);
    expect(hfBefore).to.be.gt((95n * WAD) / 100n);
    // The whole bonus goes to the liquidator only if the protocol takes no cut of it.
    expect(await market.aave.dataProvider.getLiquidationProtocolFee(market.tokens.erc20.WETH)).to.equal(0n);

    const debtToCover = units("USDC", 5_000n);
    const collateralOut = await expectedCollateralForDebt(market, debtToCover);
    // $5,000 * 1.05 / $1,750 = 3 WETH, less 1 wei: 5,000 / 1,750 WETH is floored before the bonus is applied.
    expect(collateralOut).to.equal(units("WETH", 3n) - 1n);
    await fundAndApprove(market, "USDC", liquidator, market.aave.pool, debtToCover);

    const liquidation = market.aave.pool
      .connect(liquidator)
      .liquidationCall(market.tokens.erc20.WETH, market.tokens.erc20.USDC, borrower.address, debtToCover, false);
    await expect(liquidation).to.changeTokenBalances(
      market.tokens.erc20.WETH,
      [liquidator, market.aave.aTokens.WETH],
      [collateralOut, -collateralOut],
    );
    await expect(liquidation).to.changeTokenBalances(
      market.tokens.erc20.USDC,
      [liquidator, market.aave.aTokens.USDC],
      [-debtToCover, debtToCover],
    );
    await expect(liquidation)
      .to.emit(market.aave.pool, "LiquidationCall")
      .withArgs(
        await market.tokens.erc20.WETH.getAddress(),
        await market.tokens.erc20.USDC.getAddress(),
        borrower.address,
        debtToCover,
        collateralOut,
        liquidator.address,
        false,
      );
    // WETH has no borrowers, so its liquidity index is still 1 and the aToken balance is exact.
    expect(await market.aave.aTokens.WETH.balanceOf(borrower.address)).to.equal(units("WETH", 10n) - collateralOut);
    const { healthFactor: hfAfter } = await market.aave.pool.getUserAccountData(borrower.address);
    expect(hfAfter).to.be.gt(hfBefore);
  });

  it("applies Aave's close factor: half the debt above HF 0.95, all of it below", async function () {
    const liquidateMax = async (): Promise<{ covered: bigint; seized: bigint; remaining: bigint }> => {
      await fundAndApprove(market, "USDC", liquidator, market.aave.pool, units("USDC", 20_000n));
      const receipt = await (
        await market.aave.pool
          .connect(liquidator)
          .liquidationCall(market.tokens.erc20.WETH, market.tokens.erc20.USDC, borrower.address, MaxUint256, false)
      ).wait();
      if (receipt === null) throw new Error("liquidationCall was not mined");
      const pool = market.aave.pool;
      const [event] = await pool.queryFilter(pool.filters.LiquidationCall(), receipt.blockNumber, receipt.blockNumber);
      const covered = event.args.debtToCover;
      const seized = event.args.liquidatedCollateralAmount;
      expect(seized).to.equal(await expectedCollateralForDebt(market, covered));
      const remaining = await market.aave.variableDebtTokens.USDC.balanceOf(borrower.address);
      return { covered, seized, remaining };
    };

    await openWethCollateralUsdcDebt(market, borrower, 10n, 15_000n);
    await market.world.setPrice("WETH", usd(1_750n)); // HF 0.9625
    const half = await liquidateMax();
    // The debt just before was covered + remaining, up to 1 wei of ray rounding in the debt-token burn.
    expect(half.covered - percentMul(half.covered + half.remaining, 5_000n)).to.be.within(-1n, 1n);
    expect(half.remaining).to.be.gt(units("USDC", 7_499n));

    market = await loadFixture(marketFixture);
    await openWethCollateralUsdcDebt(market, borrower, 10n, 15_000n);
    await market.world.setPrice("WETH", usd(1_700n)); // HF 17,000 * 0.825 / 15,000 = 0.935
    expect((await market.aave.pool.getUserAccountData(borrower.address)).healthFactor).to.be.lt((95n * WAD) / 100n);
    const full = await liquidateMax();
    expect(full.remaining).to.equal(0n);
    expect(full.covered).to.be.gte(units("USDC", 15_000n));
    const after = await market.aave.pool.getUserAccountData(borrower.address);
    expect(after.totalDebtBase).to.equal(0n);
    expect(after.healthFactor).to.equal(MaxUint256);
    expect(await market.aave.aTokens.WETH.balanceOf(borrower.address)).to.equal(units("WETH", 10n) - full.seized);
  });

  it("charges flashLoanSimple the pool's premium, rounded half up, and pays it to the reserve", async function () {
    const premiumBps = await market.aave.pool.FLASHLOAN_PREMIUM_TOTAL();
    expect(premiumBps).to.equal(FLASHLOAN_PREMIUM_TOTAL_BPS);
    expect(await market.aave.pool.FLASHLOAN_PREMIUM_TO_PROTOCOL()).to.equal(0n);
    const probe = await new FlashLoanReceiverProbe__factory(borrower).deploy(market.aave.addressesProvider);

    for (const symbol of ASSET_SYMBOLS) {
      const token = market.tokens.erc20[symbol];
      const aToken = market.aave.aTokens[symbol];
      // amount * 5 ends in ...7,500 (mod 10,000): half-up rounding charges 1 raw unit more than floor.
      const amount = units(symbol, 1_000n) + 1_500n;
      const premium = percentMul(amount, premiumBps);
      expect(premium).to.equal((amount * premiumBps) / BPS + 1n);
      await market.world.fund(symbol, probe, premium);
      const lpDeposit = await aToken.balanceOf(market.accounts.lp.address);

      const loan = market.aave.pool.connect(borrower).flashLoanSimple(probe, token, amount, "0x", 0);
      await expect(loan).to.changeTokenBalances(token, [probe, aToken], [-premium, premium]);
      await expect(loan)
        .to.emit(probe, "FlashLoanObserved")
        .withArgs(await token.getAddress(), amount, premium, borrower.address, amount + premium);
      expect(await probe.lastPremium()).to.equal(premium);
      expect(await token.balanceOf(probe)).to.equal(0n);
      // The LP is the reserve's only supplier and the premium goes to LPs: its deposit grows by it,
      // up to 1 raw unit of ray rounding in the liquidity index.
      const lpGain = (await aToken.balanceOf(market.accounts.lp.address)) - lpDeposit;
      expect(lpGain - premium).to.be.within(-1n, 0n);
    }
  });

  it("reverts a flash loan whose receiver cannot pay the premium", async function () {
    const probe = await new FlashLoanReceiverProbe__factory(borrower).deploy(market.aave.addressesProvider);
    const amount = units("USDC", 1_000n);
    await market.world.fund("USDC", probe, percentMul(amount, FLASHLOAN_PREMIUM_TOTAL_BPS) - 1n);
    await expect(
      market.aave.pool.connect(borrower).flashLoanSimple(probe, market.tokens.erc20.USDC, amount, "0x", 0),
    ).to.be.revertedWith("ERC20: transfer amount exceeds balance");
  });

  it("configures every reserve as config.ts says", async function () {
    const { dataProvider, oracle } = market.aave;
    for (const symbol of ASSET_SYMBOLS) {
      const p = ASSETS[symbol];
      const asset = market.tokens.erc20[symbol];
      const config = await dataProvider.getReserveConfigurationData(asset);
      expect(config.decimals, symbol).to.equal(BigInt(p.decimals));
      expect(config.ltv, symbol).to.equal(p.ltvBps);
      expect(config.liquidationThreshold, symbol).to.equal(p.liquidationThresholdBps);
      expect(config.liquidationBonus, symbol).to.equal(p.liquidationBonusBps);
      expect(config.reserveFactor, symbol).to.equal(p.reserveFactorBps);
      expect(config.usageAsCollateralEnabled, symbol).to.equal(p.liquidationThresholdBps > 0n);
      expect(config.borrowingEnabled, symbol).to.equal(p.borrowingEnabled);
      expect(config.stableBorrowRateEnabled, symbol).to.equal(false);
      expect(config.isActive, symbol).to.equal(true);
      expect(config.isFrozen, symbol).to.equal(false);
      const caps = await dataProvider.getReserveCaps(asset);
      expect(caps.supplyCap, symbol).to.equal(p.supplyCap);
      expect(caps.borrowCap, symbol).to.equal(p.borrowCap);
      expect(await dataProvider.getFlashLoanEnabled(asset), symbol).to.equal(true);
      expect(await dataProvider.getPaused(asset), symbol).to.equal(false);
      expect(await oracle.getAssetPrice(asset), symbol).to.equal(p.initialPrice);
      const tokens = await dataProvider.getReserveTokensAddresses(asset);
      expect(tokens.aTokenAddress, symbol).to.equal(await market.aave.aTokens[symbol].getAddress());
      expect(tokens.variableDebtTokenAddress, symbol).to.equal(
        await market.aave.variableDebtTokens[symbol].getAddress(),
      );
    }
    expect(ASSETS.WETH.ltvBps).to.equal(8_000n);
    expect(ASSETS.WETH.liquidationThresholdBps).to.equal(8_250n);
    expect(ASSETS.WETH.liquidationBonusBps).to.equal(10_500n);
    expect(await oracle.BASE_CURRENCY_UNIT()).to.equal(ORACLE_BASE_CURRENCY_UNIT);
  });
});
