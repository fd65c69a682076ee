import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { Interface, MaxUint256, parseUnits } from "ethers";
import hre from "hardhat";

import { SwapPath__factory, type IBallastVault } from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DIRECTION, signIntent } from "../../lib/intents";
import { minAmountOut } from "../shared/reference/rebalanceMath";
import { DEFAULT_POLICY, encodePath, LOCAL_PARAMS, marketPath, singleHopPath } from "../../lib/protocol";
import {
  DEPOSIT,
  expectExecutorClean,
  expectUnchanged,
  movePrice,
  openVaultFixture,
  snapshotState,
  type VaultFixture,
} from "../shared/vault";

const WAD = 10n ** 18n;
const BPS = 10_000n;
const SLIPPAGE_BPS = BigInt(DEFAULT_POLICY.maxSlippageBps);
const price = (usd: bigint): bigint => usd * ORACLE_BASE_CURRENCY_UNIT;
/** The vault's planner library validates the path: its errors are SwapPath's. */
const swapPath = { interface: SwapPath__factory.createInterface() };

interface SwitchFixture extends VaultFixture {
  /** WETH -> USDC (0.05%) -> WBTC (0.3%): through governance's routes only. */
  toWbtc: string;
  weth: string;
  wbtc: string;
  usdc: string;
}

/** Alice's vault opened with 10 WETH at HF 1.5 against USDC, and the path that switches it into WBTC. */
async function switchFixture(): Promise<SwitchFixture> {
  const f = await openVaultFixture();
  const [weth, wbtc, usdc] = await Promise.all(
    (["WETH", "WBTC", "USDC"] as const).map((s) => f.tokens.erc20[s].getAddress()),
  );
  return { ...f, toWbtc: await marketPath(f, ["WETH", "USDC", "WBTC"], [500, 3_000]), weth, wbtc, usdc };
}

interface Switched {
  report: IBallastVault.RebalanceReportStructOutput;
  /** Aave's flash premium, in the new collateral. */
  premium: bigint;
  /** The switch's block: balances read there carry no later interest. */
  blockTag: number;
}

async function switched(f: SwitchFixture, tx: ReturnType<typeof f.vault.switchCollateral>): Promise<Switched> {
  const receipt = await (await tx).wait();
  let report: IBallastVault.RebalanceReportStructOutput | undefined;
  let premium: bigint | undefined;
  const pool = await f.aave.pool.getAddress();
  for (const log of receipt?.logs ?? []) {
    if (log.address === pool) {
      const parsed = f.aave.pool.interface.parseLog(log);
      if (parsed?.name === "FlashLoan") premium = parsed.args.premium as bigint;
    } else {
      const parsed = f.vault.interface.parseLog(log);
      if (parsed?.name === "CollateralSwitched")
        report = parsed.args.report as IBallastVault.RebalanceReportStructOutput;
    }
  }
  if (report === undefined || premium === undefined) throw new Error("no switch in the transaction");
  return { report, premium, blockTag: receipt?.blockNumber ?? 0 };
}

describe("BallastVault collateral switch", () => {
  describe("#switchCollateral", () => {
    it("moves all of the WETH collateral into WBTC in one transaction, keeping the debt", async () => {
      const f = await loadFixture(switchFixture);
      const wethBefore = await f.aave.aTokens.WETH.balanceOf(f.vault);
      const debtBefore = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault);
      const posBefore = await f.vault.position();
      const prices = await f.world.oraclePrices();
      const minimum = minAmountOut(wethBefore, prices.WETH, 18n, prices.WBTC, 8n, SLIPPAGE_BPS);

      const { report, premium, blockTag } = await switched(f, f.vault.switchCollateral(f.wbtc, f.toWbtc));

      expect(await f.vault.collateralAsset()).to.equal(f.wbtc);
      expect(await f.aave.aTokens.WETH.balanceOf(f.vault)).to.equal(0n);
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault)).to.equal(debtBefore);
      expect(report.direction).to.equal(DIRECTION.Switch);
      expect(report.amountIn).to.equal(wethBefore);
      // The swap met the oracle's minimum, and all it bought, less Aave's premium, is the vault's collateral now. Aave
      // adds the premium to the reserve's liquidity index once the loan is repaid, so the vault, by then a WBTC
      // supplier of about 0.015% of the reserve, gets that share of it back (5 sats of 36,616 here).
      expect(report.amountOut).to.be.gte(minimum);
      expect(premium).to.be.gt(0n);
      const held = report.amountOut - premium;
      expect(await f.aave.aTokens.WBTC.balanceOf(f.vault, { blockTag })).to.be.within(held, held + premium / 1_000n);
      // WBTC's liquidation threshold (78%) is below WETH's (82.5%): the HF falls with it, and by the costs.
      const byThreshold = (posBefore.healthFactor * 7_800n) / 8_250n;
      expect(report.hfAfter)
        .to.be.lt(byThreshold)
        .and.gt((byThreshold * 99n) / 100n);
      expect(report.hfAfter).to.equal((await f.vault.position()).healthFactor);
      // The owner's loss: at most the slippage bound on the value sold and the premium.
      const valueIn = (wethBefore * prices.WETH) / WAD;
      expect(report.equityLossBase).to.be.lte((valueIn * SLIPPAGE_BPS) / BPS + report.flashPremiumBase + 4n);
      expect(report.flashPremiumBase).to.be.gt(0n);
      await expectExecutorClean(f);
    });

    it("emits CollateralSwitched; the lens, a keeper and the auction then act on the new pair", async () => {
      const f = await loadFixture(switchFixture);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc))
        .to.emit(f.vault, "CollateralSwitched")
        .withArgs(f.weth, f.wbtc, (r: IBallastVault.RebalanceReportStructOutput) => r.direction === DIRECTION.Switch);
      const [state] = await f.lens.statuses([f.vault]);
      expect(state.collateralAsset).to.equal(f.wbtc);
      // A WBTC drop takes the vault out of its band: a keeper sells WBTC, and the old WETH path is refused.
      await movePrice(f, "WBTC", price(45_000n));
      const [needed, direction] = await f.vault.rebalanceNeeded();
      expect([needed, direction]).to.deep.equal([true, DIRECTION.Deleverage]);
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256))
        .to.be.revertedWithCustomError(swapPath, "SwapPathWrongTokenIn")
        .withArgs(f.wbtc, f.weth);
      const wbtcDown = await singleHopPath(f, "WBTC", "USDC", 3_000);
      // Through the auction: kicked on the new pair's HF, executed along a WBTC path, the keeper paid in USDC.
      await (await f.auction.connect(f.keeper).kick(f.vault)).wait();
      await time.increase(60);
      const usdcBefore = await f.tokens.erc20.USDC.balanceOf(f.keeper.address);
      await expect(f.auction.connect(f.keeper).execute(f.vault, wbtcDown, MaxUint256, f.keeper.address))
        .to.emit(f.auction, "Executed")
        .and.to.emit(f.vault, "Rebalanced");
      expect(await f.tokens.erc20.USDC.balanceOf(f.keeper.address)).to.be.gt(usdcBefore);
      const hf = (await f.vault.position()).healthFactor;
      expect(hf).to.be.gte(BigInt(DEFAULT_POLICY.minHF)).and.lte(BigInt(DEFAULT_POLICY.maxHF));
      await expectExecutorClean(f);
    });

    it("re-enables new collateral that someone supplied to the vault and disabled", async () => {
      const f = await loadFixture(switchFixture);
      const dust = 1_000n;
      await f.world.fund("WBTC", f.attacker.address, dust);
      await (await f.tokens.erc20.WBTC.connect(f.attacker).approve(f.aave.pool, dust)).wait();
      await (await f.aave.pool.connect(f.attacker).supply(f.wbtc, dust, f.vault, 0)).wait();
      await (await f.vault.connect(f.attacker).disableCollateral(f.wbtc)).wait();
      const { report, premium, blockTag } = await switched(f, f.vault.switchCollateral(f.wbtc, f.toWbtc));
      const held = report.amountOut - premium + dust;
      expect(await f.aave.aTokens.WBTC.balanceOf(f.vault, { blockTag })).to.be.within(held, held + premium / 1_000n);
      const data = await f.aave.pool.getUserAccountData(f.vault, { blockTag });
      expect(data.healthFactor).to.equal(report.hfAfter);
    });
  });

  describe("#switchCollateral reverts", () => {
    it("rejects a stranger with VaultNotOwner", async () => {
      const f = await loadFixture(switchFixture);
      const before = await snapshotState(f);
      await expect(f.vault.connect(f.attacker).switchCollateral(f.wbtc, f.toWbtc))
        .to.be.revertedWithCustomError(f.vault, "VaultNotOwner")
        .withArgs(f.attacker.address);
      await expectUnchanged(f, before);
    });

    it("refuses a direct call of the CollateralLogic library: only a vault's DELEGATECALL runs it", async () => {
      const f = await loadFixture(switchFixture);
      const iface = new Interface([
        "function switchCollateral(address,bytes,uint256,uint256,address)",
        "function disableCollateral(address,address)",
      ]);
      const before = await snapshotState(f);
      // Solidity's call protection reverts a direct call of a state-changing library function; were it gone, the
      // library's reads of "the vault" would hit the library itself and revert as well. Either way nothing moves.
      for (const data of [
        iface.encodeFunctionData("switchCollateral", [f.wbtc, f.toWbtc, 100, 0, f.attacker.address]),
        iface.encodeFunctionData("disableCollateral", [f.wbtc, f.attacker.address]),
      ]) {
        await expect(f.attacker.sendTransaction({ to: f.libraries.collateralLogic, data })).to.be.reverted;
      }
      await expectUnchanged(f, before);
    });

    it("rejects the same collateral and a pair governance does not allow with VaultSwitchNotAllowed", async () => {
      const f = await loadFixture(switchFixture);
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.weth, f.down))
        .to.be.revertedWithCustomError(f.vault, "VaultSwitchNotAllowed")
        .withArgs(f.weth, f.weth);
      // The debt asset itself: USDC/USDC is no pair.
      await expect(f.vault.switchCollateral(f.usdc, f.down))
        .to.be.revertedWithCustomError(f.vault, "VaultSwitchNotAllowed")
        .withArgs(f.weth, f.usdc);
      await (await f.factory.connect(f.governance).setPair(f.wbtc, f.usdc, false)).wait();
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc))
        .to.be.revertedWithCustomError(f.vault, "VaultSwitchNotAllowed")
        .withArgs(f.weth, f.wbtc);
      await expectUnchanged(f, before);
      expect(await f.vault.collateralAsset()).to.equal(f.weth);
    });

    it("rejects a switch of a vault with no collateral with VaultZeroAmount", async () => {
      const f = await loadFixture(switchFixture);
      await (await f.vault.close(f.down)).wait();
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc)).to.be.revertedWithCustomError(
        f.vault,
        "VaultZeroAmount",
      );
      await expectUnchanged(f, before);
      expect(await f.vault.collateralAsset()).to.equal(f.weth);
    });

    it("rejects a path that does not run from the old collateral to the new, or leaves governance's routes", async () => {
      const f = await loadFixture(switchFixture);
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.down))
        .to.be.revertedWithCustomError(swapPath, "SwapPathWrongTokenOut")
        .withArgs(f.wbtc, f.usdc);
      const foreignPool = encodePath([f.weth, f.usdc, f.wbtc], [500, 10_000]);
      await expect(f.vault.switchCollateral(f.wbtc, foreignPool))
        .to.be.revertedWithCustomError(f.priceGuard, "PriceGuardRouteNotAllowed")
        .withArgs(f.usdc, f.wbtc, 10_000);
      await expectUnchanged(f, before);
    });

    it("refuses a switch that would leave the HF below minHF with VaultHealthBelowMin", async () => {
      const f = await loadFixture(switchFixture);
      // At HF 1.35, WBTC's lower threshold takes the vault to about 1.27, under minHF 1.3.
      await (await f.vault.close(f.down)).wait();
      await (await f.tokens.erc20.WETH.connect(f.alice).approve(f.vault, DEPOSIT)).wait();
      await (await f.vault.open(DEPOSIT / 2n, parseUnits("1.35", 18), f.up)).wait();
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc))
        .to.be.revertedWithCustomError(f.vault, "VaultHealthBelowMin")
        .withArgs(
          (hf: bigint) => hf < BigInt(DEFAULT_POLICY.minHF) && hf > parseUnits("1.25", 18),
          DEFAULT_POLICY.minHF,
        );
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });

    it("applies the factory's current bounds (R6): a raised minHF floor, a lowered slippage cap", async () => {
      const f = await loadFixture(switchFixture);
      const bounds = { ...LOCAL_PARAMS.bounds };
      const setBounds = async (changes: Partial<typeof bounds>) =>
        (await f.factory.connect(f.governance).setPolicyBounds({ ...bounds, ...changes })).wait();
      const before = await snapshotState(f);
      // The switch lands near 1.41: under a floor of 1.45, though above the vault's own minHF of 1.3.
      const floor = parseUnits("1.45", 18);
      await setBounds({ minHFFloor: floor });
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc))
        .to.be.revertedWithCustomError(f.vault, "VaultHealthBelowMin")
        .withArgs((hf: bigint) => hf > parseUnits("1.4", 18) && hf < floor, floor);
      // A cap of 0.3% is below the two pools' fees alone (0.35%): the policy's 1% no longer applies.
      await setBounds({ maxSlippageBpsCap: 30 });
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc)).to.be.revertedWith("Too little received");
      await expectUnchanged(f, before);
      await setBounds({});
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc)).to.emit(f.vault, "CollateralSwitched");
    });

    it("refuses while either collateral's oracle disagrees with its TWAP (PriceGuardTwapDeviation)", async () => {
      const f = await loadFixture(switchFixture);
      await f.world.setPrice("WBTC", price(50_000n));
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc)).to.be.revertedWithCustomError(
        f.priceGuard,
        "PriceGuardTwapDeviation",
      );
      await expectUnchanged(f, before);
    });

    it("refuses a sale below the oracle-derived minimum: the router's check, on a pool pushed 2% down", async () => {
      const f = await loadFixture(switchFixture);
      // Buy WBTC until its pool is 2% above the oracle: the WETH sold buys 2% less WBTC than the oracle says.
      const info = f.world.pool("WBTC/USDC/3000");
      const amount = parseUnits("20000000", 6);
      await f.world.fund("USDC", f.attacker.address, amount);
      await (await f.tokens.erc20.USDC.connect(f.attacker).approve(f.uniswap.router, amount)).wait();
      const prices = await f.world.oraclePrices();
      const { poolSqrtPrice } = await import("../../lib/market/uniswap");
      const limit = poolSqrtPrice(info.token0, info.token1, { ...prices, WBTC: (prices.WBTC * 10_200n) / BPS });
      await (
        await f.uniswap.router.connect(f.attacker).exactInputSingle({
          tokenIn: f.usdc,
          tokenOut: f.wbtc,
          fee: 3_000,
          recipient: f.attacker.address,
          deadline: MaxUint256,
          amountIn: amount,
          amountOutMinimum: 0n,
          sqrtPriceLimitX96: limit,
        })
      ).wait();
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc)).to.be.revertedWith("Too little received");
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });

    it("refuses with ExecutorFlashUnavailable when Aave cannot lend the new collateral", async () => {
      const f = await loadFixture(switchFixture);
      // A whale borrows every WBTC the reserve holds against WETH.
      const wbtcHeld = await f.tokens.erc20.WBTC.balanceOf(f.aave.aTokens.WBTC);
      const collateral = parseUnits("300000", 18);
      await f.world.fund("WETH", f.attacker.address, collateral);
      await (await f.tokens.erc20.WETH.connect(f.attacker).approve(f.aave.pool, collateral)).wait();
      await (await f.aave.pool.connect(f.attacker).supply(f.weth, collateral, f.attacker.address, 0)).wait();
      await (await f.aave.pool.connect(f.attacker).borrow(f.wbtc, wbtcHeld, 2, 0, f.attacker.address)).wait();
      expect(await f.tokens.erc20.WBTC.balanceOf(f.aave.aTokens.WBTC)).to.equal(0n);
      const before = await snapshotState(f);
      await expect(f.vault.switchCollateral(f.wbtc, f.toWbtc))
        .to.be.revertedWithCustomError(f.executor, "ExecutorFlashUnavailable")
        .withArgs(f.wbtc, 0n, (amount: bigint) => amount > 0n);
      await expectUnchanged(f, before);
      await expectExecutorClean(f);
    });
  });

  describe("#switchCollateralBySig", () => {
    const FEE = 10_000n; // 0.0001 WBTC, about $6

    async function signed(
      f: SwitchFixture,
      overrides: Partial<IBallastVault.SwitchIntentStruct> = {},
      signer = f.alice,
    ): Promise<{ intent: IBallastVault.SwitchIntentStruct; signature: string }> {
      const intent: IBallastVault.SwitchIntentStruct = {
        newCollateral: f.wbtc,
        maxSlippageBps: 100,
        maxFee: FEE,
        nonce: 7n,
        deadline: MaxUint256,
        ...overrides,
      };
      const { chainId } = await hre.ethers.provider.getNetwork();
      return { intent, signature: await signIntent(signer, "Switch", await f.vault.getAddress(), chainId, intent) };
    }

    it("lets any relayer carry out the owner's signed switch and take its fee in the new collateral", async () => {
      const f = await loadFixture(switchFixture);
      const { intent, signature } = await signed(f);
      const tx = f.vault.connect(f.keeper).switchCollateralBySig(intent, signature, f.toWbtc, FEE);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 7n, f.wbtc, FEE);
      await expect(tx).to.emit(f.vault, "CollateralSwitched");
      expect(await f.tokens.erc20.WBTC.balanceOf(f.keeper)).to.equal(FEE);
      expect(await f.vault.collateralAsset()).to.equal(f.wbtc);
      expect(await f.vault.nonceUsed(f.alice.address, 7n)).to.equal(true);
      await expectExecutorClean(f);
    });

    it("rejects a replay, a forged or expired intent, a fee above the signed cap and a bound above the factory's", async () => {
      const f = await loadFixture(switchFixture);
      const before = await snapshotState(f);
      const relay = (i: IBallastVault.SwitchIntentStruct, s: string, fee = FEE) =>
        f.vault.connect(f.keeper).switchCollateralBySig(i, s, f.toWbtc, fee);

      const forged = await signed(f, {}, f.attacker);
      await expect(relay(forged.intent, forged.signature))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidSignature")
        .withArgs(f.alice.address);
      const good = await signed(f);
      await expect(relay(good.intent, good.signature, FEE + 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeAboveMax")
        .withArgs(FEE + 1n, FEE);
      // Signed for another asset than the one relayed: the signature no longer matches.
      await expect(relay({ ...good.intent, newCollateral: f.usdc }, good.signature))
        .to.be.revertedWithCustomError(f.vault, "VaultInvalidSignature")
        .withArgs(f.alice.address);
      const block = await hre.ethers.provider.getBlock("latest");
      const expired = await signed(f, { deadline: BigInt(block?.timestamp ?? 0) });
      await expect(relay(expired.intent, expired.signature)).to.be.revertedWithCustomError(
        f.vault,
        "VaultIntentExpired",
      );
      const cap = (await f.factory.policyBounds()).maxSlippageBpsCap;
      const loose = await signed(f, { maxSlippageBps: cap + 1n, nonce: 8n });
      await expect(relay(loose.intent, loose.signature))
        .to.be.revertedWithCustomError(f.vault, "VaultPolicySlippageAboveCap")
        .withArgs(cap + 1n, cap);
      await expectUnchanged(f, before);

      await (await relay(good.intent, good.signature)).wait();
      const after = await snapshotState(f);
      await expect(relay(good.intent, good.signature))
        .to.be.revertedWithCustomError(f.vault, "VaultNonceUsed")
        .withArgs(7n);
      await expectUnchanged(f, after);
    });
  });
});
