import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits, type ContractTransactionResponse } from "ethers";
import hre from "hardhat";

import { ExecutorCaller__factory, type ExecutorCaller, type IRebalanceExecutor } from "../../typechain-types";
import { mined } from "../../lib/market/aave";
import { marketPath, singleHopPath } from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";
import { percentMul } from "../shared/reference/rebalanceMath";
import { Captured, expectExecutorClean, latestBlock, rayDiv } from "../shared/vault";

const COLLATERAL = parseUnits("10", 18);
const BORROW = parseUnits("10000", 6);
const NONE = 0n;
const DELEVERAGE = 1n;
const LEVERAGE = 2n;
const CLOSE = 3n;
const SWITCH = 4n;

interface CallerFixture extends ProtocolFixture {
  user: HardhatEthersSigner;
  /** Stands in for a vault: supplies 10 WETH and borrows 10,000 USDC on Aave (HF 1.65). */
  caller: ExecutorCaller;
  /** WETH -> USDC through the 0.05% pool. */
  down: string;
}

/** The protocol plus an ExecutorCaller with its own Aave position, wired to the protocol's executor. */
async function executorCallerFixture(): Promise<CallerFixture> {
  const f = await protocolFixture();
  const [, , user] = await hre.ethers.getSigners();
  const weth = f.tokens.erc20.WETH;
  const caller = await new ExecutorCaller__factory(user).deploy(f.executor, f.aave.pool, weth, f.tokens.erc20.USDC);
  await f.world.fund("WETH", user.address, COLLATERAL);
  await mined(weth.connect(user).approve(caller, COLLATERAL));
  await mined(caller.setUp(COLLATERAL, BORROW));
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  return { ...f, user, caller, down };
}

/** A Deleverage plan for the caller's position; overrides change any field. */
async function plan(
  f: CallerFixture,
  overrides: Partial<IRebalanceExecutor.PlanStruct> = {},
): Promise<IRebalanceExecutor.PlanStruct> {
  return {
    direction: DELEVERAGE,
    collateralAsset: await f.tokens.erc20.WETH.getAddress(),
    debtAsset: await f.tokens.erc20.USDC.getAddress(),
    amountIn: parseUnits("1", 18),
    minAmountOut: 0n,
    flashAmount: parseUnits("1500", 6),
    keep: 0n,
    path: f.down,
    ...overrides,
  };
}

/** What the swap of `amountIn` WETH along `down` returns now: QuoterV2 runs the same pool code. */
async function quote(f: CallerFixture, amountIn: bigint): Promise<bigint> {
  const [amountOut] = await f.uniswap.quoter.quoteExactInput.staticCall(f.down, amountIn);
  return amountOut;
}

/** The caller's Aave position (scaled aWETH and variable-debt USDC) and the caller's and executor's token balances. */
async function callerState(f: CallerFixture): Promise<bigint[]> {
  const state = [
    await f.aave.aTokens.WETH.scaledBalanceOf(f.caller),
    await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller),
  ];
  for (const holder of [f.caller, f.executor]) {
    for (const symbol of ["WETH", "USDC"] as const) state.push(await f.tokens.erc20[symbol].balanceOf(holder));
  }
  return state;
}

/** The executor's invariant 1, with the caller in the vault's place. */
const expectClean = (f: CallerFixture): Promise<void> => expectExecutorClean({ ...f, vault: f.caller });

/** Every `Executed` event of the caller in `tx`, in order. */
async function executions(
  f: CallerFixture,
  tx: ContractTransactionResponse,
): Promise<IRebalanceExecutor.ExecutionStructOutput[]> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const caller = await f.caller.getAddress();
  const found: IRebalanceExecutor.ExecutionStructOutput[] = [];
  for (const log of receipt.logs) {
    if (log.address !== caller) continue;
    const parsed = f.caller.interface.parseLog(log);
    if (parsed?.name === "Executed") found.push(parsed.args.execution as IRebalanceExecutor.ExecutionStructOutput);
  }
  return found;
}

interface Logs {
  execution: IRebalanceExecutor.ExecutionStructOutput;
  flashLoans: { target: string; initiator: string; asset: string; amount: bigint; mode: bigint; premium: bigint }[];
  /** Amounts of Aave `Repay` events on the caller's debt. */
  repays: bigint[];
}

async function parseLogs(f: CallerFixture, tx: ContractTransactionResponse): Promise<Logs> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const caller = await f.caller.getAddress();
  const pool = await f.aave.pool.getAddress();
  let execution: IRebalanceExecutor.ExecutionStructOutput | undefined;
  const flashLoans: Logs["flashLoans"] = [];
  const repays: bigint[] = [];
  for (const log of receipt.logs) {
    if (log.address === caller) {
      const parsed = f.caller.interface.parseLog(log);
      if (parsed?.name === "Executed") execution = parsed.args.execution as IRebalanceExecutor.ExecutionStructOutput;
    } else if (log.address === pool) {
      const parsed = f.aave.pool.interface.parseLog(log);
      if (parsed?.name === "FlashLoan") {
        const [target, initiator, asset, amount, mode, premium] = parsed.args;
        flashLoans.push({ target, initiator, asset, amount, mode, premium });
      } else if (parsed?.name === "Repay" && parsed.args.user === caller) {
        repays.push(parsed.args.amount as bigint);
      }
    }
  }
  if (execution === undefined) throw new Error("no Executed event");
  return { execution, flashLoans, repays };
}

describe("RebalanceExecutor", () => {
  describe("#execute", () => {
    it("rejects a plan with no direction, no amountIn or no flashAmount with ExecutorEmptyPlan", async () => {
      const f = await loadFixture(executorCallerFixture);
      const before = await callerState(f);
      for (const overrides of [{ direction: NONE }, { amountIn: 0n }, { flashAmount: 0n }]) {
        await expect(f.caller.execute(await plan(f, overrides))).to.be.revertedWithCustomError(
          f.executor,
          "ExecutorEmptyPlan",
        );
      }
      expect(await callerState(f)).to.deep.equal(before);
      await expectClean(f);
    });

    it("rejects a second execute from inside the vault callback with ExecutorReentered", async () => {
      const f = await loadFixture(executorCallerFixture);
      await mined(f.caller.setReenter(true));
      const before = await callerState(f);
      await expect(f.caller.execute(await plan(f))).to.be.revertedWithCustomError(f.executor, "ExecutorReentered");
      expect(await callerState(f)).to.deep.equal(before);
      await expectClean(f);
    });

    it("reverts with ExecutorFlashUnpaid when the swap returns less than the loan and its premium", async () => {
      const f = await loadFixture(executorCallerFixture);
      const amountIn = parseUnits("0.01", 18);
      const flashAmount = parseUnits("1000", 6);
      // Repaying, releasing and supplying touch only Aave, so the swap returns exactly the quote.
      const amountOut = await quote(f, amountIn);
      const owed = flashAmount + percentMul(flashAmount, await f.aave.pool.FLASHLOAN_PREMIUM_TOTAL());
      // Measured: 19.98 USDC out against 1,000.5 USDC owed.
      expect(amountOut).to.be.lt(owed);
      const before = await callerState(f);
      await expect(f.caller.execute(await plan(f, { amountIn, flashAmount, minAmountOut: 0n })))
        .to.be.revertedWithCustomError(f.executor, "ExecutorFlashUnpaid")
        .withArgs(amountOut, owed);
      expect(await callerState(f)).to.deep.equal(before);
      await expectClean(f);
    });

    it("rejects a loan larger than the caller's debt with ExecutorFlashExceedsDebt instead of stranding it", async () => {
      const f = await loadFixture(executorCallerFixture);
      // 12,000 USDC against about 10,000 of debt: Aave would repay only the debt and leave the rest here.
      const flashAmount = parseUnits("12000", 6);
      const before = await callerState(f);
      const repaid = new Captured();
      await expect(f.caller.execute(await plan(f, { direction: CLOSE, flashAmount })))
        .to.be.revertedWithCustomError(f.executor, "ExecutorFlashExceedsDebt")
        .withArgs(flashAmount, repaid.match);
      const blockTag = await latestBlock();
      expect(repaid.value).to.equal(await f.aave.variableDebtTokens.USDC.balanceOf(f.caller, { blockTag }));
      expect(repaid.value).to.be.lt(flashAmount);
      expect(await callerState(f)).to.deep.equal(before);
      await expectClean(f);
    });

    it("deleverages the caller's position, reports it as Aave saw it and ends clean", async () => {
      const f = await loadFixture(executorCallerFixture);
      const weth = f.tokens.erc20.WETH;
      const usdc = f.tokens.erc20.USDC;
      const amountIn = parseUnits("1", 18);
      const flashAmount = parseUnits("1500", 6);
      const expectedOut = await quote(f, amountIn);
      const p = await plan(f, { amountIn, flashAmount, minAmountOut: (expectedOut * 99n) / 100n });
      const [collateralBefore, debtBefore, ...balancesBefore] = await callerState(f);

      const tx = await f.caller.execute(p);
      const { execution, flashLoans, repays } = await parseLogs(f, tx);

      // One simple flash loan of the plan's amount, started by the executor for itself.
      const executor = await f.executor.getAddress();
      expect(flashLoans).to.have.length(1);
      const [loan] = flashLoans;
      expect([loan.target, loan.initiator, loan.asset, loan.amount, loan.mode]).to.deep.equal([
        executor,
        executor,
        await usdc.getAddress(),
        flashAmount,
        0n,
      ]);
      expect(loan.premium).to.equal(percentMul(flashAmount, await f.aave.pool.FLASHLOAN_PREMIUM_TOTAL()));
      expect(execution.flashPremium).to.equal(loan.premium);
      expect(execution.amountOut).to.equal(expectedOut);
      // The loan repays debt first, then the surplus over the loan and premium goes against the debt too.
      const surplus = expectedOut - flashAmount - loan.premium;
      expect(repays).to.deep.equal([flashAmount, surplus]);
      expect(execution.debtRepaid).to.equal(flashAmount + surplus);
      expect(execution.leftover).to.equal(0n);

      // Aave burned exactly those repayments from the caller's scaled debt and the sale from its scaled collateral.
      const reserves = {
        usdc: await f.aave.pool.getReserveData(usdc),
        weth: await f.aave.pool.getReserveData(weth),
      };
      const [collateralAfter, debtAfter, ...balancesAfter] = await callerState(f);
      const index = reserves.usdc.variableBorrowIndex;
      expect(debtBefore - debtAfter).to.equal(rayDiv(flashAmount, index) + rayDiv(surplus, index));
      expect(collateralBefore - collateralAfter).to.equal(rayDiv(amountIn, reserves.weth.liquidityIndex));
      // The caller's wallet is untouched (collateral moved straight from Aave to the executor) and the executor's
      // balances stay at zero.
      expect(balancesAfter).to.deep.equal(balancesBefore);
      await expectClean(f);
    });
  });

  describe("#execute a Switch", () => {
    /** WETH -> USDC (0.05%) -> WBTC (0.3%). */
    const toWbtc = (f: CallerFixture) => marketPath(f, ["WETH", "USDC", "WBTC"], [500, 3_000]);

    it("supplies the loan of new collateral, sells all the old for it, supplies the rest and ends clean", async () => {
      const f = await loadFixture(executorCallerFixture);
      const path = await toWbtc(f);
      const amountIn = await f.aave.aTokens.WETH.balanceOf(f.caller);
      const [expectedOut] = await f.uniswap.quoter.quoteExactInput.staticCall(path, amountIn);
      const premiumBps = await f.aave.pool.FLASHLOAN_PREMIUM_TOTAL();
      const flashAmount = (((expectedOut * 99n) / 100n) * 10_000n) / (10_000n + premiumBps);
      const debtBefore = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller);
      const tx = await f.caller.execute(
        await plan(f, {
          direction: SWITCH,
          debtAsset: await f.tokens.erc20.WBTC.getAddress(),
          amountIn,
          flashAmount,
          minAmountOut: (expectedOut * 99n) / 100n,
          path,
        }),
      );
      const { execution, flashLoans } = await parseLogs(f, tx);
      expect(flashLoans).to.have.length(1);
      expect([flashLoans[0].asset, flashLoans[0].amount]).to.deep.equal([
        await f.tokens.erc20.WBTC.getAddress(),
        flashAmount,
      ]);
      expect(execution.amountOut).to.equal(expectedOut);
      expect(execution.flashPremium).to.equal(percentMul(flashAmount, premiumBps));
      expect([execution.debtRepaid, execution.leftover]).to.deep.equal([0n, 0n]);
      const blockTag = await latestBlock();
      expect(await f.aave.aTokens.WETH.balanceOf(f.caller, { blockTag })).to.equal(0n);
      // All the output but the premium is the caller's collateral; Aave hands suppliers the premium's LP share.
      const held = expectedOut - execution.flashPremium;
      expect(await f.aave.aTokens.WBTC.balanceOf(f.caller, { blockTag })).to.be.within(
        held,
        held + execution.flashPremium / 1_000n,
      );
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller)).to.equal(debtBefore);
      await expectClean(f);
    });

    it("reverts with ExecutorFlashUnpaid when the sale returns less than the loan and its premium", async () => {
      const f = await loadFixture(executorCallerFixture);
      const path = await toWbtc(f);
      const amountIn = parseUnits("0.01", 18);
      const flashAmount = parseUnits("1", 8);
      const [amountOut] = await f.uniswap.quoter.quoteExactInput.staticCall(path, amountIn);
      const owed = flashAmount + percentMul(flashAmount, await f.aave.pool.FLASHLOAN_PREMIUM_TOTAL());
      expect(amountOut).to.be.lt(owed);
      const before = await callerState(f);
      const wbtcBefore = await f.aave.aTokens.WBTC.scaledBalanceOf(f.caller);
      await expect(
        f.caller.execute(
          await plan(f, {
            direction: SWITCH,
            debtAsset: await f.tokens.erc20.WBTC.getAddress(),
            amountIn,
            flashAmount,
            path,
          }),
        ),
      )
        .to.be.revertedWithCustomError(f.executor, "ExecutorFlashUnpaid")
        .withArgs(amountOut, owed);
      expect(await callerState(f)).to.deep.equal(before);
      expect(await f.aave.aTokens.WBTC.scaledBalanceOf(f.caller)).to.equal(wbtcBefore);
      await expectClean(f);
    });
  });

  describe("#execute with a surplus larger than the debt left", () => {
    it("repays the whole debt, hands the rest to the caller and leaves no allowance behind", async () => {
      const f = await loadFixture(executorCallerFixture);
      const usdc = f.tokens.erc20.USDC;
      // A loan of half the debt and a sale worth more than all of it: the surplus over the loan clears the rest.
      const amountIn = parseUnits("6", 18);
      const flashAmount = BORROW / 2n;
      const expectedOut = await quote(f, amountIn);
      const usdcBefore = await usdc.balanceOf(f.caller);

      const tx = await f.caller.execute(await plan(f, { amountIn, flashAmount }));
      const { execution, flashLoans, repays } = await parseLogs(f, tx);

      const [loan] = flashLoans;
      const owed = flashAmount + loan.premium;
      expect(repays).to.have.length(2);
      expect(repays[0]).to.equal(flashAmount);
      // The second repayment is the debt left (with any interest accrued), less than the surplus offered.
      expect(repays[1])
        .to.be.gte(BORROW - flashAmount)
        .and.lt(expectedOut - owed);
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller)).to.equal(0n);
      expect(execution.debtRepaid).to.equal(flashAmount + repays[1]);
      expect(execution.leftover).to.equal(expectedOut - owed - repays[1]);
      expect((await usdc.balanceOf(f.caller)) - usdcBefore).to.equal(execution.leftover);
      // The one allowance offered the pool the whole surplus plus the loan: reset to the loan's, which Aave took.
      await expectClean(f);
    });
  });

  describe("#execute twice in one transaction", () => {
    // BAL-01: transient storage lives until the transaction ends, so each execution must start from zero.
    it("reports a Leverage after a Deleverage with no premium and no repaid debt of its own", async () => {
      const f = await loadFixture(executorCallerFixture);
      const usdc = await f.tokens.erc20.USDC.getAddress();
      const deleverage = await plan(f);
      const up = await singleHopPath(f, "USDC", "WETH", 500);
      const leverage = await plan(f, {
        direction: LEVERAGE,
        amountIn: parseUnits("500", 6),
        flashAmount: parseUnits("500", 6),
        path: up,
      });
      const debtBefore = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller);

      const tx = await f.caller.executeBoth(deleverage, leverage);
      const [first, second] = await executions(f, tx);
      const { flashLoans } = await parseLogs(f, tx);

      expect(flashLoans.map((l) => [l.asset, l.mode])).to.deep.equal([
        [usdc, 0n],
        [usdc, 2n],
      ]);
      expect(first.flashPremium).to.equal(flashLoans[0].premium).and.to.be.gt(0n);
      expect(first.debtRepaid).to.be.gt(0n);
      // Mode 2 charges no premium and repays nothing: the leverage reports exactly that.
      expect(flashLoans[1].premium).to.equal(0n);
      expect([second.flashPremium, second.debtRepaid, second.leftover]).to.deep.equal([0n, 0n, 0n]);
      expect(second.amountOut).to.be.gt(0n);
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.caller)).to.not.equal(debtBefore);
      await expectClean(f);
    });

    it("reports a Deleverage after a Deleverage with only its own repayment", async () => {
      const f = await loadFixture(executorCallerFixture);
      const small = await plan(f, { amountIn: parseUnits("0.5", 18), flashAmount: parseUnits("500", 6) });
      const tx = await f.caller.executeBoth(await plan(f), small);
      const [first, second] = await executions(f, tx);
      const { flashLoans, repays } = await parseLogs(f, tx);
      expect(repays).to.have.length(4);
      expect(first.debtRepaid).to.equal(repays[0] + repays[1]);
      expect(second.debtRepaid).to.equal(repays[2] + repays[3]);
      expect([first.flashPremium, second.flashPremium]).to.deep.equal(flashLoans.map((l) => l.premium));
      await expectClean(f);
    });
  });

  describe("immutables", () => {
    it("returns the Aave pool, the addresses provider and the router it was built with", async () => {
      const f = await loadFixture(executorCallerFixture);
      expect(await f.executor.POOL()).to.equal(await f.aave.pool.getAddress());
      expect(await f.executor.ADDRESSES_PROVIDER()).to.equal(await hre.ethers.resolveAddress(f.aave.addressesProvider));
      expect(await f.executor.ROUTER()).to.equal(await f.uniswap.router.getAddress());
      expect(await f.aave.addressesProvider.getPool()).to.equal(await f.executor.POOL());
    });
  });
});
