import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, parseUnits, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import { FlashLoanReceiverProbe__factory, type IBallastVault } from "../../typechain-types";
import { signIntent } from "../../lib/intents";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import { poolSqrtPrice } from "../../lib/market/uniswap";
import { DEFAULT_POLICY, LOCAL_PARAMS, policyValues } from "../../lib/protocol";
import { Direction, expectRebalanceBounded } from "../shared/rebalance";
import { saleSlippageBps } from "../shared/reference/rebalanceMath";
import {
  Captured,
  drainUsdc,
  expectExecutorClean,
  expectUnchanged,
  latestBlock,
  movePrice,
  openVaultFixture,
  rebalancedReports,
  snapshotState,
  TARGET_HF,
  type VaultFixture,
} from "../shared/vault";

const BPS = 10_000n;
const MIN_HF = BigInt(DEFAULT_POLICY.minHF);
const MAX_HF = BigInt(DEFAULT_POLICY.maxHF);
const TOLERANCE = LOCAL_PARAMS.bounds.hfTolerance;
/** The executor's step cap (`_MAX_STEPS`). */
const MAX_STEPS = 16n;
const price = (usd: bigint): bigint => usd * ORACLE_BASE_CURRENCY_UNIT;

/** What a stepped execution left in the logs: the executor's event and Aave's per-step withdrawals and repayments. */
interface Steps {
  /** `SteppedWithoutFlashLoan.steps`, or undefined if the event is absent. */
  steps: bigint | undefined;
  flashLoans: number;
  /** Amounts of Aave `Withdraw` events of the vault's collateral to the executor. */
  withdrawals: bigint[];
  /** Amounts of Aave `Repay` events on the vault's debt. */
  repays: bigint[];
}

async function stepsOf(f: VaultFixture, tx: ContractTransactionResponse): Promise<Steps> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const [executor, pool, vault] = [
    await f.executor.getAddress(),
    await f.aave.pool.getAddress(),
    await f.vault.getAddress(),
  ];
  const found: Steps = { steps: undefined, flashLoans: 0, withdrawals: [], repays: [] };
  for (const log of receipt.logs) {
    if (log.address === executor) {
      const parsed = f.executor.interface.parseLog(log);
      if (parsed?.name === "SteppedWithoutFlashLoan") {
        expect(parsed.args.vault).to.equal(vault);
        found.steps = parsed.args.steps as bigint;
      }
    } else if (log.address === pool) {
      const parsed = f.aave.pool.interface.parseLog(log);
      if (parsed?.name === "FlashLoan") found.flashLoans += 1;
      else if (parsed?.name === "Withdraw" && parsed.args.user === vault && parsed.args.to === executor) {
        found.withdrawals.push(parsed.args.amount as bigint);
      } else if (parsed?.name === "Repay" && parsed.args.user === vault) {
        found.repays.push(parsed.args.amount as bigint);
      }
    }
  }
  return found;
}

/** Alice's vault after a 20% WETH drop (HF about 1.2, below minHF 1.3). */
async function droppedFixture(): Promise<VaultFixture> {
  const f = await openVaultFixture();
  await movePrice(f, "WETH", price(1_600n));
  return f;
}

/** The same, with the USDC reserve then fully borrowed. */
async function drainedFixture(): Promise<VaultFixture> {
  const f = await droppedFixture();
  await drainUsdc(f);
  return f;
}

/** Sells WETH into the WETH/USDC 0.05% pool until its spot is `bps` below the oracle, from the attacker. */
async function sellPoolBelowOracle(f: VaultFixture, bps: bigint): Promise<void> {
  const weth = f.tokens.erc20.WETH;
  const info = f.world.pool("WETH/USDC/500");
  const prices = await f.world.oraclePrices();
  const target = poolSqrtPrice(info.token0, info.token1, { ...prices, WETH: (prices.WETH * (BPS - bps)) / BPS });
  const amount = parseUnits("100000", 18);
  await f.world.fund("WETH", f.attacker.address, amount);
  await mined(weth.connect(f.attacker).approve(f.uniswap.router, amount));
  await mined(
    f.uniswap.router.connect(f.attacker).exactInputSingle({
      tokenIn: weth,
      tokenOut: f.tokens.erc20.USDC,
      fee: 500,
      recipient: f.attacker.address,
      deadline: MaxUint256,
      amountIn: amount,
      amountOutMinimum: 0n,
      sqrtPriceLimitX96: target,
    }),
  );
}

async function bounds(
  f: VaultFixture,
  report: IBallastVault.RebalanceReportStructOutput,
  slippageBps: bigint,
  band = true,
): Promise<Parameters<typeof expectRebalanceBounded>[1]> {
  const prices = await f.world.oraclePrices();
  return {
    targetHF: TARGET_HF,
    tolerance: TOLERANCE,
    band: band ? { minHF: MIN_HF, maxHF: MAX_HF } : undefined,
    slippageBps,
    paidBase: (report.keeperReward * prices.USDC) / 10n ** 6n,
    collateralPrice: prices.WETH,
    debtPrice: prices.USDC,
    collateralDecimals: 18n,
    debtDecimals: 6n,
  };
}

/** A keeper's sale bound: the policy's, widened with the urgency at the HF before. */
const keeperSlippage = (report: IBallastVault.RebalanceReportStructOutput): bigint =>
  saleSlippageBps(report.hfBefore, policyValues(DEFAULT_POLICY));

/** The stepped execution's logs agree with the report: one withdrawal per step, adding up to the amount sold. */
function expectStepped(s: Steps, report: IBallastVault.RebalanceReportStructOutput): void {
  expect(s.flashLoans, "no flash loan").to.equal(0);
  if (s.steps === undefined) throw new Error("no SteppedWithoutFlashLoan event");
  expect(s.steps).to.be.gte(2n).and.lte(MAX_STEPS);
  expect(BigInt(s.withdrawals.length)).to.equal(s.steps);
  expect(BigInt(s.repays.length)).to.equal(s.steps);
  expect(s.withdrawals.reduce((a, b) => a + b, 0n)).to.equal(report.amountIn);
  expect(report.flashPremiumBase).to.equal(0n);
}

describe("RebalanceExecutor without flash liquidity (R5)", () => {
  describe("the debt reserve at 100% utilisation", () => {
    it("has no USDC left in the aToken, so a bare flashLoanSimple of USDC reverts", async () => {
      const f = await loadFixture(drainedFixture);
      expect(await f.tokens.erc20.USDC.balanceOf(f.aave.aTokens.USDC)).to.equal(0n);
      const probe = await new FlashLoanReceiverProbe__factory(f.keeper).deploy(f.aave.addressesProvider);
      await f.world.fund("USDC", probe, parseUnits("1", 6));
      await expect(
        f.aave.pool.connect(f.keeper).flashLoanSimple(probe, f.tokens.erc20.USDC, parseUnits("100", 6), "0x", 0),
      ).to.be.revertedWith("ERC20: transfer amount exceeds balance");
    });
  });

  describe("#rebalance (keeper)", () => {
    it("delevers in steps to the target, with no premium, and leaves the executor clean", async () => {
      const f = await loadFixture(drainedFixture);
      const before = await f.vault.position();
      expect(before.healthFactor).to.be.lt(MIN_HF);
      const tx = await f.vault.connect(f.keeper).rebalance(f.down, MaxUint256);
      const [report] = await rebalancedReports(f.vault, tx);
      const s = await stepsOf(f, tx);
      await expect(tx)
        .to.emit(f.executor, "SteppedWithoutFlashLoan")
        .withArgs(await f.vault.getAddress(), s.steps);
      expectStepped(s, report);
      expect(report.direction).to.equal(Direction.Deleverage);
      // A block later at 100% utilisation's borrow rate: a little lower.
      expect(report.hfBefore)
        .to.be.lte(before.healthFactor)
        .and.gt(before.healthFactor - 10n ** 12n);
      const after = await f.vault.position();
      expect(after.healthFactor).to.equal(report.hfAfter);
      // On target within the factory's tolerance; without the premium, marginally above where the flash path lands.
      expect(after.healthFactor)
        .to.be.gte(TARGET_HF)
        .and.lte(TARGET_HF + TOLERANCE);
      expectRebalanceBounded(report, await bounds(f, report, keeperSlippage(report)));
      await expectExecutorClean(f);
    });

    it("lands where the flash path lands, less the premium it saves", async () => {
      // One state, two runs, both sales in a block at the same time: in the second run the whale repays what it
      // borrowed just before (two pinned blocks), so the flash loan is funded. The debts then differ by two seconds of
      // interest at most, whatever the wall clock did while the fixture was built (coverage is slow).
      const stepped = await loadFixture(drainedFixture);
      const at = (await time.latest()) + 12;
      await time.setNextBlockTimestamp(at);
      const [steppedReport] = await rebalancedReports(
        stepped.vault,
        await stepped.vault.connect(stepped.keeper).rebalance(stepped.down, MaxUint256),
      );
      const flash = await loadFixture(drainedFixture);
      const whale = (await hre.ethers.getSigners())[6];
      const usdc = flash.tokens.erc20.USDC;
      const borrowed = await usdc.balanceOf(whale.address);
      await time.setNextBlockTimestamp(at - 2);
      await mined(usdc.connect(whale).approve(flash.aave.pool, borrowed));
      await time.setNextBlockTimestamp(at - 1);
      await mined(flash.aave.pool.connect(whale).repay(usdc, borrowed, 2, whale.address));
      await time.setNextBlockTimestamp(at);
      const [flashReport] = await rebalancedReports(
        flash.vault,
        await flash.vault.connect(flash.keeper).rebalance(flash.down, MaxUint256),
      );
      // The same sale, to a millionth; the stepped path pays no premium, so its HF lands a little higher and its loss
      // is smaller.
      const gap = steppedReport.amountIn - flashReport.amountIn;
      expect(gap < 0n ? -gap : gap).to.be.lte(flashReport.amountIn / 1_000_000n);
      expect(flashReport.flashPremiumBase).to.be.gt(0n);
      expect(steppedReport.hfAfter).to.be.gt(flashReport.hfAfter);
      expect(steppedReport.hfAfter - flashReport.hfAfter).to.be.lt(parseUnits("0.001", 18));
      expect(steppedReport.equityLossBase).to.be.lt(flashReport.equityLossBase);
    });
  });

  describe("KeeperAuction#execute", () => {
    it("pays the keeper out of a stepped deleverage", async () => {
      const f = await loadFixture(drainedFixture);
      await mined(f.auction.connect(f.keeper).kick(f.vault));
      await time.increase(300);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.keeper.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const s = await stepsOf(f, tx);
      expectStepped(s, report);
      expect(report.keeperReward).to.be.gt(0n);
      await expect(tx).to.changeTokenBalance(f.tokens.erc20.USDC, f.keeper, report.keeperReward);
      expect(report.hfAfter)
        .to.be.gte(TARGET_HF)
        .and.lte(TARGET_HF + TOLERANCE);
      expectRebalanceBounded(report, await bounds(f, report, keeperSlippage(report)));
      await expectExecutorClean(f);
    });
  });

  describe("owner exits", () => {
    it("emergencyDelever lands on the target in steps", async () => {
      const f = await loadFixture(drainedFixture);
      const tx = await f.vault.emergencyDelever(TARGET_HF, f.down);
      const [report] = await rebalancedReports(f.vault, tx);
      expectStepped(await stepsOf(f, tx), report);
      expect(report.hfAfter)
        .to.be.gte(TARGET_HF)
        .and.lte(TARGET_HF + TOLERANCE);
      expectRebalanceBounded(report, await bounds(f, report, BigInt(DEFAULT_POLICY.maxSlippageBps), false));
      await expectExecutorClean(f);
    });

    it("close repays all debt in steps and sends the owner the collateral left", async () => {
      const f = await loadFixture(drainedFixture);
      const weth = f.tokens.erc20.WETH;
      const wethBefore = await weth.balanceOf(f.alice.address);
      const usdcBefore = await f.tokens.erc20.USDC.balanceOf(f.alice.address);
      const tx = await f.vault.close(f.down);
      const [report] = await rebalancedReports(f.vault, tx);
      const s = await stepsOf(f, tx);
      expectStepped(s, report);
      expect(report.direction).to.equal(Direction.Close);
      const receipt = await tx.wait();
      const vault = await f.vault.getAddress();
      const closed = (receipt?.logs ?? [])
        .filter((log) => log.address === vault)
        .map((log) => f.vault.interface.parseLog(log))
        .find((parsed) => parsed?.name === "Closed");
      if (closed === undefined || closed === null) throw new Error("no Closed event");
      const [to, collateralReturned, debtAssetReturned] = [
        closed.args[0] as string,
        closed.args[1] as bigint,
        closed.args[2] as bigint,
      ];
      expect(to).to.equal(f.alice.address);
      expect(collateralReturned).to.be.gt(0n);
      expect(await weth.balanceOf(f.alice.address)).to.equal(wethBefore + collateralReturned);
      expect(await f.tokens.erc20.USDC.balanceOf(f.alice.address)).to.equal(usdcBefore + debtAssetReturned);
      const pos = await f.vault.position();
      expect([pos.collateralBase, pos.debtBase]).to.deep.equal([0n, 0n]);
      expect(await f.aave.variableDebtTokens.USDC.balanceOf(f.vault)).to.equal(0n);
      await expectExecutorClean(f);
    });
  });

  describe("#closeBySig", () => {
    it("closes in steps for a relayer, paying its fee out of what is returned", async () => {
      const f = await loadFixture(drainedFixture);
      const fee = parseUnits("1", 6);
      const intent = {
        maxSlippageBps: BigInt(DEFAULT_POLICY.maxSlippageBps),
        feeToken: await f.tokens.erc20.USDC.getAddress(),
        maxFee: fee,
        nonce: 7n,
        deadline: BigInt((await time.latest()) + 3_600),
      };
      const { chainId } = await hre.ethers.provider.getNetwork();
      const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), chainId, intent);
      const wethBefore = await f.tokens.erc20.WETH.balanceOf(f.alice.address);
      const tx = await f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, fee);
      const [report] = await rebalancedReports(f.vault, tx);
      expectStepped(await stepsOf(f, tx), report);
      await expect(tx).to.changeTokenBalance(f.tokens.erc20.USDC, f.keeper, fee);
      expect(await f.tokens.erc20.WETH.balanceOf(f.alice.address)).to.be.gt(wethBefore);
      const pos = await f.vault.position();
      expect([pos.collateralBase, pos.debtBase]).to.deep.equal([0n, 0n]);
      await expectExecutorClean(f);
    });
  });

  describe("refusals", () => {
    it("re-throws any other failure of the flash loan unchanged: the router's minimum with liquidity present", async () => {
      const f = await loadFixture(droppedFixture);
      await sellPoolBelowOracle(f, 300n);
      const before = await snapshotState(f);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.be.revertedWith("Too little received");
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });

    it("keeps each step's share of the oracle-derived minimum: a pool below it fails the first slice", async () => {
      const f = await loadFixture(drainedFixture);
      await sellPoolBelowOracle(f, 300n);
      const before = await snapshotState(f);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.be.revertedWith("Too little received");
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });

    it("cannot serve a vault below HF 1.0 without a loan: ExecutorNoWithdrawHeadroom", async () => {
      const f = await loadFixture(openVaultFixture);
      // A 35% drop: HF about 0.975, liquidatable, so Aave refuses any withdrawal of its collateral.
      await movePrice(f, "WETH", price(1_300n));
      await drainUsdc(f);
      expect((await f.vault.position()).healthFactor).to.be.lt(10n ** 18n);
      const before = await snapshotState(f);
      const hf = new Captured();
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256))
        .to.be.revertedWithCustomError(f.executor, "ExecutorNoWithdrawHeadroom")
        .withArgs(hf.match);
      expect(hf.value).to.equal((await f.vault.position({ blockTag: await latestBlock() })).healthFactor);
      expect(hf.value).to.be.lt(10n ** 18n);
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });

    it("stops at the step cap with ExecutorStepsExhausted: a close from just above the step floor", async () => {
      const f = await loadFixture(openVaultFixture);
      // HF is proportional to the WETH price: put it at about 1.012, 0.2% over the executor's 1.01 step floor.
      const hf0 = (await f.vault.position()).healthFactor;
      await movePrice(f, "WETH", (price(2_000n) * 1_012n * 10n ** 15n) / hf0);
      await drainUsdc(f);
      const before = await snapshotState(f);
      const sold = new Captured();
      const amountIn = new Captured();
      await expect(f.vault.close(f.down))
        .to.be.revertedWithCustomError(f.executor, "ExecutorStepsExhausted")
        .withArgs(sold.match, amountIn.match);
      expect(sold.value).to.be.gt(0n).and.lt(amountIn.value);
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });
  });

  describe("with liquidity present", () => {
    it("still uses the flash loan: no SteppedWithoutFlashLoan, a premium paid", async () => {
      const f = await loadFixture(droppedFixture);
      const tx = await f.vault.connect(f.keeper).rebalance(f.down, MaxUint256);
      await expect(tx).to.not.emit(f.executor, "SteppedWithoutFlashLoan");
      await expect(tx).to.emit(f.aave.pool, "FlashLoan");
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.flashPremiumBase).to.be.gt(0n);
      await expectExecutorClean(f);
    });
  });
});
