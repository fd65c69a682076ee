import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import { MaxUint256, parseUnits, toQuantity, ZeroAddress } from "ethers";
import hre from "hardhat";

import {
  BlocklistMintableERC20__factory,
  GriefingKeeper__factory,
  SwapPath__factory,
  type BallastVault,
  type BlocklistMintableERC20,
  type IBallastVault,
  type IKeeperAuction,
} from "../../typechain-types";
import { DEFAULT_POLICY, LOCAL_PARAMS, CurveKind } from "../../lib/protocol";
import { protocolFixture } from "../shared/fixtures";
import {
  droppedVaultFixture,
  executedEvents,
  expectAuctionClean,
  keeperFixture,
  kickedBatchFixture,
  kickedLeverageFixture,
  kickedVaultFixture,
  kickRefunds,
  raisedVaultFixture,
  withConfig,
  type BatchFixture,
  type KeeperFixture,
  type KickedFixture,
} from "../shared/keeper";
import { skipUnderCoverage } from "../shared/coverage";
import { toAmount, toBase, urgency } from "../shared/reference/rebalanceMath";
import { rewardBps as referenceRewardBps, type CurveConfig } from "../shared/reference/rewardCurve";
import {
  auctionRead,
  Captured,
  expectExecutorClean,
  expectUnchanged,
  latestBlock,
  movePrice,
  rebalancedReports,
  snapshotState,
  TARGET_HF,
  type StateSnapshot,
} from "../shared/vault";

const WAD = 10n ** 18n;
const BPS = 10_000n;
const NONE = 0n;
const DELEVERAGE = 1n;
const LEVERAGE = 2n;
const CONFIG = LOCAL_PARAMS.auction;
const MIN_HF = BigInt(DEFAULT_POLICY.minHF);
const MAX_HF = BigInt(DEFAULT_POLICY.maxHF);
const OWNER_CAP = BigInt(DEFAULT_POLICY.maxKeeperRewardBps);
const SLIPPAGE_BPS = BigInt(DEFAULT_POLICY.maxSlippageBps);
const TOLERANCE = LOCAL_PARAMS.bounds.hfTolerance;
/** How close the tests require a rebalance to land, as in `BallastVault.spec.ts`: 20x tighter than the tolerance. */
const LANDING = parseUnits("0.001", 18);
/** An execute that finds no auction reverts before any external call: a bound with room over the measured 26,880. */
const LOST_RACE_GAS = 60_000n;
/** A dust line above the fixtures' vault debt (10 WETH opened at HF 1.5 owes about 24,400 USD). */
const DUST_LINE = 30_000n * 10n ** 8n;
/** A price back in the band: the vaults opened at HF 1.5 at this price. */
const OPEN_PRICE = 2_000n * 10n ** 8n;

const distance = (a: bigint, b: bigint): bigint => (a > b ? a - b : b - a);
const min = (a: bigint, b: bigint): bigint => (a < b ? a : b);

/** A config struct as the reference model takes it. */
function curveOf(c: IKeeperAuction.ConfigStruct): CurveConfig {
  return {
    kind: Number(c.kind) as CurveKind,
    startBps: BigInt(c.startBps),
    maxBps: BigInt(c.maxBps),
    urgencyBoostBps: BigInt(c.urgencyBoostBps),
    duration: BigInt(c.duration),
    step: BigInt(c.step),
  };
}

/** A config struct as `auction.config()` returns it. */
function configValues(c: IKeeperAuction.ConfigStruct): bigint[] {
  return [c.kind, c.startBps, c.maxBps, c.urgencyBoostBps, c.duration, c.step, c.minHFMove, c.minDebtBase].map((v) =>
    BigInt(v),
  );
}

/** The auction state of each vault, as `auctionOf` returns it. */
async function auctionsOf(f: KeeperFixture, vaults: BallastVault[]): Promise<(bigint | string)[][]> {
  return Promise.all(vaults.map(async (v) => [...(await f.auction.auctionOf(v))]));
}

interface Snapshot {
  state: StateSnapshot;
  auctions: (bigint | string)[][];
  usdc: bigint[];
}

/** Position and balances (`snapshotState`), the auctions of `vaults`, and the USDC of the auction and recipients. */
async function snapshot(f: KeeperFixture, vaults: BallastVault[] = [f.vault]): Promise<Snapshot> {
  const usdc = f.tokens.erc20.USDC;
  return {
    state: await snapshotState(f),
    auctions: await auctionsOf(f, vaults),
    usdc: await Promise.all([f.auction, f.recipient, f.keeper2].map(async (a) => usdc.balanceOf(a))),
  };
}

async function expectSnapshotUnchanged(f: KeeperFixture, before: Snapshot, vaults: BallastVault[] = [f.vault]) {
  await expectUnchanged(f, before.state);
  expect(await auctionsOf(f, vaults), "auctions").to.deep.equal(before.auctions);
  const usdc = f.tokens.erc20.USDC;
  const now = await Promise.all([f.auction, f.recipient, f.keeper2].map(async (a) => usdc.balanceOf(a)));
  expect(now, "auction and recipients USDC").to.deep.equal(before.usdc);
}

async function prices(f: KeeperFixture): Promise<{ weth: bigint; usdc: bigint }> {
  return {
    weth: await f.aave.oracle.getAssetPrice(f.tokens.erc20.WETH),
    usdc: await f.aave.oracle.getAssetPrice(f.tokens.erc20.USDC),
  };
}

/** The value a rebalance sold, in base: WETH when deleveraging, USDC when leveraging, at the oracle price. */
async function valueSold(f: KeeperFixture, report: IBallastVault.RebalanceReportStructOutput): Promise<bigint> {
  const p = await prices(f);
  return report.direction === DELEVERAGE ? toBase(report.amountIn, p.weth, 18n) : toBase(report.amountIn, p.usdc, 6n);
}

/**
 * The reward the vault keeps for `bps`, worked out from the report: on Deleverage `bps` of the WETH sold at the
 * oracle, in USDC; on Leverage `bps` of the USDC swapped (the reward is borrowed on top of it).
 */
async function expectedReward(
  f: KeeperFixture,
  report: IBallastVault.RebalanceReportStructOutput,
  bps: bigint,
  gasBase = 0n,
  vault: BallastVault = f.vault,
): Promise<bigint> {
  const p = await prices(f);
  const cap = (await vault.policy()).maxRewardBase;
  if (report.direction === LEVERAGE) {
    return min((report.amountIn * bps) / BPS + toAmount(gasBase, p.usdc, 6n), toAmount(cap, p.usdc, 6n));
  }
  return toAmount(min((toBase(report.amountIn, p.weth, 18n) * bps) / BPS + gasBase, cap), p.usdc, 6n);
}

/**
 * The gas part `tx` should have asked for, worked out independently: the gas units (a single execution, or a later
 * call of a batch) times the block's base fee plus the tip bounded by `maxTip`, at most the owner's `maxGasPrice`,
 * valued at the WETH oracle price, at most the owner's `maxRewardBase`.
 */
async function modelGasBase(
  f: KeeperFixture,
  tx: ContractTransactionResponse,
  kickGasPrice: bigint,
  batched = false,
  vault: BallastVault = f.vault,
): Promise<bigint> {
  const receipt = await tx.wait();
  const block = receipt === null ? null : await receipt.getBlock();
  if (block === null || block.baseFeePerGas === null) throw new Error("no block");
  const g = await f.auction.gasConfig();
  const policy = await vault.policy();
  const units = batched ? g.batchCallGas : g.executeGas;
  const tip = tx.gasPrice - block.baseFeePerGas;
  const price = min(block.baseFeePerGas + min(tip, g.maxTip), policy.maxGasPrice);
  const { weth } = await prices(f);
  const kick = await modelKickBase(f, kickGasPrice, vault);
  return kick + min((units * price * weth) / WAD, policy.maxRewardBase - kick);
}

/**
 * The kicker's refund the auction asks of the vault with the gas part: `kickGas` at the kick's gas price, at most the
 * owner's `maxGasPrice`, valued at the WETH oracle price, at most the owner's `maxRewardBase`.
 */
async function modelKickBase(f: KeeperFixture, kickGasPrice: bigint, vault: BallastVault = f.vault): Promise<bigint> {
  const { kickGas } = await f.auction.gasConfig();
  const policy = await vault.policy();
  const { weth } = await prices(f);
  return min((kickGas * min(kickGasPrice, policy.maxGasPrice) * weth) / WAD, policy.maxRewardBase);
}

/** What a transaction's `KickRefunded` paid the kicker, 0 without one. */
async function kickRefunded(f: KeeperFixture, tx: ContractTransactionResponse): Promise<bigint> {
  return (await kickRefunds(f.auction, tx)).reduce((sum, r) => sum + r.amount, 0n);
}

/** The vault's HF lies within LANDING of the target and inside the band, and is what the report says. */
async function expectLanded(vault: BallastVault, report: IBallastVault.RebalanceReportStructOutput) {
  const hf = (await vault.position()).healthFactor;
  expect(hf).to.equal(report.hfAfter);
  expect(distance(hf, TARGET_HF)).to.be.lte(TOLERANCE).and.lt(LANDING);
  expect(hf).to.be.gte(MIN_HF).and.lte(MAX_HF);
}

/**
 * Pins the next block to `seconds` after the latest and returns what `currentRewardBps` says for it, read on the
 * pending block (which has that timestamp), together with the reference model's figure for the same block.
 */
async function pendingRewardBps(
  f: KickedFixture,
  seconds: number,
  vault: BallastVault = f.vault,
): Promise<{ timestamp: number; bps: bigint; model: bigint }> {
  const timestamp = (await time.latest()) + seconds;
  await time.setNextBlockTimestamp(timestamp);
  const pending = { blockTag: "pending" };
  const bps = await f.auction.currentRewardBps(vault, pending);
  const hf = (await vault.position(pending)).healthFactor;
  const { kickedAt } = await f.auction.auctionOf(vault);
  const u = hf < MIN_HF ? urgency(hf, MIN_HF) : 0n;
  const curve = referenceRewardBps(curveOf(await f.auction.config()), BigInt(timestamp) - kickedAt, u);
  const protocolCap = (await f.factory.policyBounds()).maxKeeperRewardBpsCap;
  const model = min(min(curve, (await vault.policy()).maxKeeperRewardBps), protocolCap);
  return { timestamp, bps, model };
}

async function blockTimestamp(tx: ContractTransactionResponse): Promise<number> {
  const receipt = await tx.wait();
  const block = receipt === null ? null : await receipt.getBlock();
  if (block === null) throw new Error("no block");
  return block.timestamp;
}

/** Turns the gas part of the reward off (the state of an auction governance never priced gas for). */
async function gasPartOff(f: KeeperFixture): Promise<void> {
  const off = { executeGas: 0, batchCallGas: 0, kickGas: 0, maxTip: 0, nativeAsset: ZeroAddress };
  await (await f.auction.connect(f.governance).setGasConfig(off)).wait();
}

async function setConfig(f: KeeperFixture, change: Partial<IKeeperAuction.ConfigStruct>): Promise<void> {
  await (await f.auction.connect(f.governance).setConfig(withConfig(CONFIG, change))).wait();
}

/** Replaces the market USDC's code with BlocklistMintableERC20's, keeping its storage (balances, allowances). */
async function blocklistUsdc(f: KeeperFixture): Promise<BlocklistMintableERC20> {
  const usdc = await f.tokens.erc20.USDC.getAddress();
  const template = await new BlocklistMintableERC20__factory(f.governance).deploy("template", "TPL", 6);
  const code = await hre.ethers.provider.getCode(template);
  await hre.network.provider.request({ method: "hardhat_setCode", params: [usdc, code] });
  return BlocklistMintableERC20__factory.connect(usdc, f.governance);
}

describe("KeeperAuction", () => {
  describe("#kick", () => {
    it("starts a Deleverage auction, emits Kicked and records the start and the HF", async () => {
      const f = await loadFixture(droppedVaultFixture);
      const hf = new Captured();
      const tx = await f.auction.connect(f.attacker).kick(f.vault);
      await expect(tx)
        .to.emit(f.auction, "Kicked")
        .withArgs(await f.vault.getAddress(), f.attacker.address, DELEVERAGE, hf.match);
      // The kick's block is the latest: the position read now is the one the kick saw.
      const position = await f.vault.position();
      expect(hf.value).to.equal(position.healthFactor);
      expect(hf.value).to.be.lt(MIN_HF);
      // The kicker and its gas price, as the gas part prices an execution: base fee plus the tip bounded by maxTip.
      const receipt = await tx.wait();
      const block = receipt === null ? null : await receipt.getBlock();
      if (block === null || block.baseFeePerGas === null) throw new Error("no block");
      const { maxTip } = await f.auction.gasConfig();
      expect([...(await f.auction.auctionOf(f.vault))]).to.deep.equal([
        BigInt(await blockTimestamp(tx)),
        hf.value,
        DELEVERAGE,
        f.attacker.address,
        block.baseFeePerGas + min(tx.gasPrice - block.baseFeePerGas, maxTip),
      ]);
      // At the kick the reward is the start of the curve, raised by the urgency.
      const u = urgency(hf.value, MIN_HF);
      expect(u).to.be.gt(0n).and.lt(WAD);
      const atKick = referenceRewardBps(curveOf(CONFIG), 0n, u);
      expect(atKick).to.be.gt(BigInt(CONFIG.startBps));
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(atKick);
      await expectAuctionClean(f);
    });

    it("starts a Leverage auction with no urgency after a rise", async () => {
      const f = await loadFixture(raisedVaultFixture);
      const hf = new Captured();
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.emit(f.auction, "Kicked")
        .withArgs(await f.vault.getAddress(), f.keeper.address, LEVERAGE, hf.match);
      expect(hf.value).to.be.gt(MAX_HF);
      expect((await f.auction.auctionOf(f.vault)).direction).to.equal(LEVERAGE);
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(BigInt(CONFIG.startBps));
    });

    it("rejects an address that is not a vault of the factory with AuctionUnknownVault", async () => {
      const f = await loadFixture(droppedVaultFixture);
      const implementation = await f.factory.VAULT_IMPLEMENTATION();
      const before = await snapshot(f);
      for (const address of [f.attacker.address, implementation, await f.tokens.erc20.USDC.getAddress()]) {
        await expect(f.auction.connect(f.keeper).kick(address))
          .to.be.revertedWithCustomError(f.auction, "AuctionUnknownVault")
          .withArgs(address);
        expect((await f.auction.auctionOf(address)).kickedAt).to.equal(0n);
      }
      await expectSnapshotUnchanged(f, before);
    });

    it("rejects a vault in band, and one whose owner paused automation, with AuctionNotNeeded", async () => {
      const f = await loadFixture(keeperFixture);
      const vault = await f.vault.getAddress();
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotNeeded")
        .withArgs(vault);
      await expectSnapshotUnchanged(f, before);

      const dropped = await loadFixture(droppedVaultFixture);
      await (await dropped.vault.pauseAutomation(true)).wait();
      const beforePaused = await snapshot(dropped);
      await expect(dropped.auction.connect(dropped.keeper).kick(dropped.vault))
        .to.be.revertedWithCustomError(dropped.auction, "AuctionNotNeeded")
        .withArgs(await dropped.vault.getAddress());
      await expectSnapshotUnchanged(dropped, beforePaused);
      // Unpaused, the same vault can be kicked: the pause was the reason.
      await (await dropped.vault.pauseAutomation(false)).wait();
      await expect(dropped.auction.connect(dropped.keeper).kick(dropped.vault)).to.emit(dropped.auction, "Kicked");
    });

    it("rejects a vault without debt with AuctionNotNeeded", async () => {
      const f = await loadFixture(keeperFixture);
      await (await f.vault.close(f.down)).wait();
      expect((await f.vault.position()).debtBase).to.equal(0n);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotNeeded")
        .withArgs(await f.vault.getAddress());
      await expectSnapshotUnchanged(f, before);
    });

    it("rejects a position below minDebtBase with AuctionDustPosition", async () => {
      const f = await loadFixture(droppedVaultFixture);
      // The vault owes about 24,400 USD; governance raises the dust line above that.
      const minDebtBase = DUST_LINE;
      await setConfig(f, { minDebtBase });
      const before = await snapshot(f);
      const debt = new Captured();
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionDustPosition")
        .withArgs(await f.vault.getAddress(), debt.match, minDebtBase);
      expect(debt.value).to.equal((await f.vault.position({ blockTag: await latestBlock() })).debtBase);
      expect(debt.value)
        .to.be.gt(20_000n * 10n ** 8n)
        .and.lt(minDebtBase);
      await expectSnapshotUnchanged(f, before);
      // At the debt itself the position is no longer dust.
      await setConfig(f, { minDebtBase: debt.value });
      await expect(f.auction.connect(f.keeper).kick(f.vault)).to.emit(f.auction, "Kicked");
    });

    it("rejects a second kick while the auction runs with AuctionActive", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await time.increase(120);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper2).kick(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionActive")
        .withArgs(await f.vault.getAddress(), f.kickedAt);
      await expectSnapshotUnchanged(f, before);
      // The running auction kept its start: its reward is the curve at the time since the first kick.
      const elapsed = BigInt(await time.latest()) - f.kickedAt;
      expect(elapsed).to.be.gte(120n);
      const u = urgency((await f.vault.position()).healthFactor, MIN_HF);
      const bps = await f.auction.currentRewardBps(f.vault);
      expect(bps).to.equal(referenceRewardBps(curveOf(CONFIG), elapsed, u));
      expect(bps).to.be.gt(referenceRewardBps(curveOf(CONFIG), 0n, u));
    });
  });

  describe("#execute: the kicker's refund", () => {
    it("pays another keeper's kick its gas out of the reward first, at least what the kick cost, and the rest to the executor", async function () {
      // The refund is priced from the kick's base fee, which solidity-coverage's network does not model.
      skipUnderCoverage(this);
      const f = await loadFixture(droppedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      const kickTx = await f.auction.connect(f.keeper).kick(f.vault);
      const kickReceipt = await kickTx.wait();
      if (kickReceipt === null) throw new Error("no receipt");
      const { kickGasPrice } = await f.auction.auctionOf(f.vault);
      await time.increase(300);
      const [keeperBefore, recipientBefore] = [await usdc.balanceOf(f.keeper), await usdc.balanceOf(f.recipient)];
      const tx = await f.auction.connect(f.keeper2).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const g = await f.auction.gasConfig();
      const policy = await f.vault.policy();
      const p = await prices(f);
      const kickBase = min((g.kickGas * min(kickGasPrice, policy.maxGasPrice) * p.weth) / WAD, policy.maxRewardBase);
      const refund = toAmount(kickBase, p.usdc, 6n);
      expect(refund).to.be.gt(0n).and.lt(report.keeperReward);
      await expect(tx)
        .to.emit(f.auction, "KickRefunded")
        .withArgs(await f.vault.getAddress(), f.keeper.address, refund);
      await expect(tx)
        .to.emit(f.auction, "Executed")
        .withArgs(
          await f.vault.getAddress(),
          f.keeper2.address,
          f.recipient.address,
          anyValue,
          await modelGasBase(f, tx, kickGasPrice, false),
          report.keeperReward,
          report.hfBefore,
          report.hfAfter,
        );
      expect((await usdc.balanceOf(f.keeper)) - keeperBefore).to.equal(refund);
      expect((await usdc.balanceOf(f.recipient)) - recipientBefore).to.equal(report.keeperReward - refund);
      // The refund covers what the kick cost the kicker, valued at the oracle.
      const kickCostBase = (kickReceipt.gasUsed * kickReceipt.gasPrice * p.weth) / WAD;
      expect(kickBase).to.be.gte(kickCostBase);
      await expectAuctionClean(f);
    });

    it("when the owner's maxRewardBase binds, pays the kicker first and the executor what is left", async function () {
      // The refund is priced from the kick's base fee, which solidity-coverage's network does not model.
      skipUnderCoverage(this);
      const f = await loadFixture(droppedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      // A $0.10 cap on the whole reward: the kick's refund alone (about $0.32 at the local base fee) is more.
      await (await f.vault.setPolicy({ ...DEFAULT_POLICY, maxRewardBase: 10n ** 7n })).wait();
      await (await f.auction.connect(f.keeper).kick(f.vault)).wait();
      await time.increase(300);
      const [keeperBefore, recipientBefore] = [await usdc.balanceOf(f.keeper), await usdc.balanceOf(f.recipient)];
      const tx = await f.auction.connect(f.keeper2).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.keeperReward).to.equal(toAmount(10n ** 7n, (await prices(f)).usdc, 6n));
      await expect(tx)
        .to.emit(f.auction, "KickRefunded")
        .withArgs(await f.vault.getAddress(), f.keeper.address, report.keeperReward);
      expect((await usdc.balanceOf(f.keeper)) - keeperBefore).to.equal(report.keeperReward);
      expect(await usdc.balanceOf(f.recipient)).to.equal(recipientBefore);
      await expectAuctionClean(f);
    });
  });

  describe("#execute", () => {
    for (const side of [
      { label: "Deleverage", fixture: kickedVaultFixture, path: "down", direction: DELEVERAGE },
      { label: "Leverage", fixture: kickedLeverageFixture, path: "up", direction: LEVERAGE },
    ] as const) {
      it(`rebalances a ${side.label} and pays the recipient the reward it priced in that block`, async function () {
        // The gas part it checks is priced from the base fee, which solidity-coverage's network does not model.
        skipUnderCoverage(this);
        const f = await loadFixture(side.fixture);
        const usdc = f.tokens.erc20.USDC;
        const vault = await f.vault.getAddress();
        const { timestamp, bps, model } = await pendingRewardBps(f, 300);
        // 300 s into the 600-s linear curve: 55 bps, raised by the urgency on the Deleverage side.
        expect(bps).to.equal(model);
        if (side.direction === LEVERAGE) expect(bps).to.equal(55n);
        else expect(bps).to.be.gt(55n).and.lte(OWNER_CAP);
        const recipientBefore = await usdc.balanceOf(f.recipient);
        const keeperBefore = await usdc.balanceOf(f.keeper);
        const tx = await f.auction.connect(f.keeper).execute(f.vault, f[side.path], MaxUint256, f.recipient.address);
        expect(await blockTimestamp(tx)).to.equal(timestamp);
        const [report] = await rebalancedReports(f.vault, tx);
        expect(report.direction).to.equal(side.direction);
        await expect(tx)
          .to.emit(f.vault, "Rebalanced")
          .withArgs(await f.auction.getAddress(), anyValue);
        const gasBase = await modelGasBase(f, tx, f.kickGasPrice);
        expect(gasBase).to.be.gt(0n);
        await expect(tx)
          .to.emit(f.auction, "Executed")
          .withArgs(
            vault,
            f.keeper.address,
            f.recipient.address,
            bps,
            gasBase,
            report.keeperReward,
            report.hfBefore,
            report.hfAfter,
          );
        // Paid exactly once, exactly the reward the vault kept for those bps and that gas, to the recipient only.
        expect(report.keeperReward).to.be.gt(0n);
        expect(report.keeperReward).to.equal(await expectedReward(f, report, bps, gasBase));
        expect((await usdc.balanceOf(f.recipient)) - recipientBefore).to.equal(report.keeperReward);
        expect(await usdc.balanceOf(f.keeper)).to.equal(keeperBefore);
        // The keeper kicked it too: its kick's refund is in the one reward, nothing goes apart.
        await expect(tx).to.not.emit(f.auction, "KickRefunded");
        // Within the owner's cap on the value sold.
        const sold = await valueSold(f, report);
        const rewardBase = toBase(report.keeperReward, (await prices(f)).usdc, 6n);
        expect(rewardBase * BPS).to.be.lte(sold * OWNER_CAP);
        await expectLanded(f.vault, report);
        // Invariant 3: the loss is within slippage + premium + reward (+ the tests' usual 4 base units).
        expect(report.equityLossBase).to.be.lte(
          (sold * SLIPPAGE_BPS) / BPS + report.flashPremiumBase + rewardBase + 4n,
        );
        expect(report.equityLossBase).to.be.gte(rewardBase);
        // The auction ended.
        expect([...(await f.auction.auctionOf(f.vault))]).to.deep.equal([0n, 0n, NONE, ZeroAddress, 0n]);
        expect(await f.auction.currentRewardBps(f.vault)).to.equal(0n);
        expect(await f.auction.owed(f.recipient, usdc)).to.equal(0n);
        await expectAuctionClean(f);
        await expectExecutorClean(f);
      });
    }

    it("rejects a vault that was never kicked with AuctionNotActive", async () => {
      const f = await loadFixture(droppedVaultFixture);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(await f.vault.getAddress());
      await expect(f.auction.connect(f.keeper).execute(f.attacker.address, f.down, MaxUint256, f.recipient.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(f.attacker.address);
      await expectSnapshotUnchanged(f, before);
    });

    it("rejects the zero recipient with AuctionZeroRecipient and keeps the auction", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const before = await snapshot(f);
      await expect(
        f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, ZeroAddress),
      ).to.be.revertedWithCustomError(f.auction, "AuctionZeroRecipient");
      await expect(
        f.auction
          .connect(f.keeper)
          .executeBatch([{ vault: f.vault, path: f.down, maxAmountIn: MaxUint256 }], ZeroAddress),
      ).to.be.revertedWithCustomError(f.auction, "AuctionZeroRecipient");
      await expectSnapshotUnchanged(f, before);
      expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(f.kickedAt);
    });

    it("keeps the auction running when the vault refuses the rebalance (a path the wrong way round)", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).execute(f.vault, f.up, MaxUint256, f.recipient.address))
        // The vault's planner library validates the path.
        .to.be.revertedWithCustomError({ interface: SwapPath__factory.createInterface() }, "SwapPathWrongTokenIn")
        .withArgs(await f.tokens.erc20.WETH.getAddress(), await f.tokens.erc20.USDC.getAddress());
      await expectSnapshotUnchanged(f, before);
      expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(f.kickedAt);
      await expectAuctionClean(f);
    });
  });

  describe("#execute after the vault turned", () => {
    it("reverts with AuctionDirectionChanged when a Deleverage auction's vault now needs a Leverage", async () => {
      const f = await loadFixture(kickedVaultFixture);
      // WETH rallies past the band's top: the vault kicked for a Deleverage (HF 1.2) now sits at about 2.03.
      await movePrice(f, "WETH", 2_700n * 10n ** 8n);
      expect((await f.vault.position()).healthFactor).to.be.gt(MAX_HF);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).execute(f.vault, f.up, MaxUint256, f.recipient.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionDirectionChanged")
        .withArgs(await f.vault.getAddress(), DELEVERAGE, LEVERAGE);
      await expectSnapshotUnchanged(f, before);
      // The way out: cancel (the kicked move is no longer needed) and kick afresh, the reward starting over.
      await (await f.auction.connect(f.keeper2).cancel(f.vault)).wait();
      await (await f.auction.connect(f.keeper2).kick(f.vault)).wait();
      const a = await f.auction.auctionOf(f.vault);
      expect(a.direction).to.equal(LEVERAGE);
      expect(a.kickedAt).to.equal(BigInt(await time.latest()));
    });
  });

  describe("#rewardBpsAt", () => {
    const HALF = WAD / 2n;
    /** Each row's `bps` is worked out by hand from the curve's definition in IKeeperAuction, not by the model. */
    const TABLE: {
      name: string;
      config: Partial<IKeeperAuction.ConfigStruct>;
      rows: [elapsed: bigint, urgency: bigint, bps: bigint, why: string][];
    }[] = [
      {
        name: "Linear 10 -> 100 bps over 600 s, boost 10,000",
        config: { kind: CurveKind.Linear, startBps: 10, maxBps: 100, urgencyBoostBps: 10_000, duration: 600 },
        rows: [
          [0n, 0n, 10n, "start"],
          [1n, 0n, 10n, "10 + 90/600 = 10.15"],
          [7n, 0n, 11n, "10 + 630/600 = 11.05"],
          [300n, 0n, 55n, "halfway: 10 + 45"],
          [599n, 0n, 99n, "10 + 90·599/600 = 99.85"],
          [600n, 0n, 100n, "max at the duration"],
          [31_536_000n, 0n, 100n, "a year later: still max"],
          [0n, HALF, 15n, "10 + 10·0.5"],
          [300n, HALF, 82n, "55 + 27.5"],
          [300n, (3n * WAD) / 10n, 71n, "55 + 16.5"],
          [300n, WAD, 110n, "55 doubled at HF 1.0"],
          [600n, WAD, 200n, "the boost applies on top of max"],
          [10n ** 9n, WAD, 200n, "long past the duration at HF 1.0"],
        ],
      },
      {
        name: "Linear 0 -> 1,000 bps over a day, boost 2,500",
        config: {
          kind: CurveKind.Linear,
          startBps: 0,
          maxBps: 1_000,
          urgencyBoostBps: 2_500,
          duration: 86_400,
          step: 0,
        },
        rows: [
          [0n, WAD, 0n, "nothing at the kick, boosted or not"],
          [21_600n, HALF, 281n, "250 + 250·0.25·0.5 = 281.25"],
          [43_200n, 0n, 500n, "halfway"],
          [86_399n, 0n, 999n, "1,000·86,399/86,400 = 999.99"],
          [86_400n, WAD, 1_250n, "1,000 + 25%"],
        ],
      },
      {
        name: "Stairstep 10 -> 100 bps over 600 s in 60-s steps, boost 10,000",
        config: {
          kind: CurveKind.Stairstep,
          startBps: 10,
          maxBps: 100,
          urgencyBoostBps: 10_000,
          duration: 600,
          step: 60,
        },
        rows: [
          [0n, 0n, 10n, "start"],
          [59n, 0n, 10n, "still the first step"],
          [60n, 0n, 19n, "10 + 90·60/600"],
          [119n, 0n, 19n, "last second of the second step"],
          [120n, 0n, 28n, "third step"],
          [599n, 0n, 91n, "t -> 540: 10 + 81"],
          [600n, 0n, 100n, "max at the duration"],
          [5_000n, 0n, 100n, "past the duration"],
          [60n, HALF, 28n, "19 + 9.5"],
          [600n, WAD, 200n, "max doubled at HF 1.0"],
        ],
      },
      {
        name: "Stairstep 10 -> 100 bps over 600 s in 250-s steps (a step that does not divide the duration)",
        config: { kind: CurveKind.Stairstep, startBps: 10, maxBps: 100, urgencyBoostBps: 0, duration: 600, step: 250 },
        rows: [
          [249n, 0n, 10n, "first step"],
          [250n, 0n, 47n, "10 + 90·250/600 = 47.5"],
          [500n, 0n, 85n, "10 + 90·500/600"],
          [600n, 0n, 85n, "t -> 500: max waits for the next step"],
          [749n, 0n, 85n, "t -> 500"],
          [750n, 0n, 100n, "t -> 750 >= 600"],
          [750n, WAD, 100n, "no boost configured"],
        ],
      },
      {
        name: "Stairstep with one step as long as the duration",
        config: { kind: CurveKind.Stairstep, startBps: 10, maxBps: 100, urgencyBoostBps: 0, duration: 600, step: 600 },
        rows: [
          [599n, 0n, 10n, "start until the duration"],
          [600n, 0n, 100n, "then max"],
        ],
      },
      {
        name: "Exponential from 10 bps doubling every 300 s up to 1,000, boost 10,000",
        config: {
          kind: CurveKind.Exponential,
          startBps: 10,
          maxBps: 1_000,
          urgencyBoostBps: 10_000,
          duration: 300,
        },
        rows: [
          [0n, 0n, 10n, "start"],
          [150n, 0n, 15n, "halfway to the first doubling: 10·1.5"],
          [299n, 0n, 19n, "10·599/300 = 19.97"],
          [300n, 0n, 20n, "one doubling"],
          [450n, 0n, 30n, "20·1.5"],
          [600n, 0n, 40n, "two"],
          [900n, 0n, 80n, "three"],
          [1_200n, 0n, 160n, "four"],
          [1_500n, 0n, 320n, "five"],
          [1_800n, 0n, 640n, "six"],
          [1_950n, 0n, 960n, "640·1.5"],
          [2_000n, 0n, 1_000n, "640·500/300 = 1,066: capped"],
          [2_100n, 0n, 1_000n, "seven doublings, 1,280: capped"],
          [4_800n, 0n, 1_000n, "sixteen doublings"],
          [10n ** 12n, 0n, 1_000n, "far past any doubling count"],
          [300n, WAD / 4n, 25n, "20 + 20·0.25"],
          [300n, WAD, 40n, "20 doubled at HF 1.0"],
          [2_100n, WAD, 2_000n, "max doubled"],
        ],
      },
      {
        name: "Exponential from 1 bps doubling every 60 s up to 1,000, no boost",
        config: { kind: CurveKind.Exponential, startBps: 1, maxBps: 1_000, urgencyBoostBps: 0, duration: 60 },
        rows: [
          [59n, 0n, 1n, "119/60 = 1.98"],
          [60n, 0n, 2n, "one doubling"],
          [540n, 0n, 512n, "nine doublings: 2^9"],
          [570n, 0n, 768n, "512·1.5"],
          [589n, 0n, 930n, "512·109/60 = 930.1"],
          [599n, 0n, 1_000n, "512·119/60 = 1,015: capped"],
          [959n, 0n, 1_000n, "fifteen doublings, 32,768: capped"],
          [960n, 0n, 1_000n, "sixteen doublings"],
        ],
      },
    ];

    for (const { name, config, rows } of TABLE) {
      it(`matches the hand-worked table: ${name}`, async () => {
        const f = await loadFixture(protocolFixture);
        const full = withConfig(CONFIG, config);
        await (await f.auction.connect(f.governance).setConfig(full)).wait();
        for (const [elapsed, u, bps, why] of rows) {
          const label = `t=${elapsed} u=${u}: ${why}`;
          expect(referenceRewardBps(curveOf(full), elapsed, u), `model ${label}`).to.equal(bps);
          expect(await f.auction.rewardBpsAt(elapsed, u), `contract ${label}`).to.equal(bps);
        }
      });
    }
  });

  describe("reward caps", () => {
    it("caps the reward at the owner's maxKeeperRewardBps", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await (await f.vault.setPolicy({ ...DEFAULT_POLICY, maxKeeperRewardBps: 20 })).wait();
      // Long past the duration the curve alone asks for 100 bps and more with the urgency.
      await time.increase(900);
      expect(await f.auction.rewardBpsAt(900, 0)).to.equal(100n);
      const { bps, model } = await pendingRewardBps(f, 1);
      expect(bps).to.equal(20n);
      expect(model).to.equal(20n);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      await expect(tx)
        .to.emit(f.auction, "Executed")
        .withArgs(
          await f.vault.getAddress(),
          f.keeper.address,
          f.recipient.address,
          20n,
          await modelGasBase(f, tx, f.kickGasPrice),
          report.keeperReward,
          report.hfBefore,
          report.hfAfter,
        );
      expect(report.keeperReward).to.equal(
        await expectedReward(f, report, 20n, await modelGasBase(f, tx, f.kickGasPrice)),
      );
      expect(report.keeperReward).to.be.gt(0n);
      await expectLanded(f.vault, report);
      await expectAuctionClean(f);
    });

    it("caps the reward at the protocol's maxKeeperRewardBpsCap when governance lowers it below the owner's", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await (
        await f.factory.connect(f.governance).setPolicyBounds({ ...LOCAL_PARAMS.bounds, maxKeeperRewardBpsCap: 30 })
      ).wait();
      // The owner's policy still says 100: the protocol cap is the lower one.
      expect((await f.vault.policy()).maxKeeperRewardBps).to.equal(OWNER_CAP);
      await time.increase(900);
      const { bps, model } = await pendingRewardBps(f, 1);
      expect(bps).to.equal(30n);
      expect(model).to.equal(30n);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const [executed] = await executedEvents(f.auction, tx);
      expect([executed.rewardBps, executed.reward]).to.deep.equal([30n, report.keeperReward]);
      expect(executed.gasRewardBase).to.equal(await modelGasBase(f, tx, f.kickGasPrice));
      expect(report.keeperReward).to.equal(await expectedReward(f, report, 30n, executed.gasRewardBase));
      await expectLanded(f.vault, report);
    });
  });

  describe("anti-farming", () => {
    it("pays nothing for a position that became dust after the kick, but still rebalances it", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await setConfig(f, { minDebtBase: DUST_LINE });
      await time.increase(300);
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(0n);
      const { bps } = await pendingRewardBps(f, 1);
      expect(bps).to.equal(0n);
      const recipientBefore = await f.tokens.erc20.USDC.balanceOf(f.recipient);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      await expect(tx)
        .to.emit(f.auction, "Executed")
        .withArgs(
          await f.vault.getAddress(),
          f.keeper.address,
          f.recipient.address,
          0n,
          0n,
          0n,
          report.hfBefore,
          report.hfAfter,
        );
      expect(report.keeperReward).to.equal(0n);
      expect(await f.tokens.erc20.USDC.balanceOf(f.recipient)).to.equal(recipientBefore);
      await expectLanded(f.vault, report);
      expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(0n);
      await expectAuctionClean(f);
      await expectExecutorClean(f);
    });

    it("pays nothing for a move smaller than minHFMove, but still rebalances", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await time.increase(300);
      const hf = (await f.vault.position()).healthFactor;
      // The move is |target - HF|, about 0.3. Just below it the reward is paid; just above, nothing.
      const move = TARGET_HF - hf;
      expect(move).to.be.gt(parseUnits("0.29", 18)).and.lt(parseUnits("0.31", 18));
      await setConfig(f, { minHFMove: parseUnits("0.29", 18) });
      expect(await f.auction.currentRewardBps(f.vault)).to.be.gt(0n);
      await setConfig(f, { minHFMove: parseUnits("0.31", 18) });
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(0n);
      const recipientBefore = await f.tokens.erc20.USDC.balanceOf(f.recipient);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const [executed] = await executedEvents(f.auction, tx);
      expect([executed.rewardBps, executed.reward, report.keeperReward]).to.deep.equal([0n, 0n, 0n]);
      expect(await f.tokens.erc20.USDC.balanceOf(f.recipient)).to.equal(recipientBefore);
      await expectLanded(f.vault, report);
      await expectAuctionClean(f);
    });
  });

  describe("races and hostile keepers", () => {
    it("pays the first of two racing keepers; the second reverts with AuctionNotActive for little gas", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.keeper.address);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.keeperReward).to.be.gt(0n);
      const before = await snapshot(f);
      const ethBefore = await hre.ethers.provider.getBalance(f.keeper2);
      // An explicit gas limit: the transaction is sent and mined as the losing keeper's would be, not estimated.
      await expect(
        f.auction.connect(f.keeper2).execute(f.vault, f.down, MaxUint256, f.keeper2.address, { gasLimit: 1_000_000 }),
      )
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(await f.vault.getAddress());
      const block = await hre.ethers.provider.getBlock("latest");
      if (block === null) throw new Error("no block");
      expect(block.transactions).to.have.lengthOf(1);
      const receipt = await hre.ethers.provider.getTransactionReceipt(block.transactions[0]);
      if (receipt === null) throw new Error("no receipt");
      expect(receipt.from).to.equal(f.keeper2.address);
      expect(receipt.status).to.equal(0);
      expect(receipt.gasUsed).to.be.lt(LOST_RACE_GAS);
      // The loser paid only for that gas, and nobody was paid twice.
      expect(ethBefore - (await hre.ethers.provider.getBalance(f.keeper2))).to.equal(
        receipt.gasUsed * receipt.gasPrice,
      );
      await expectSnapshotUnchanged(f, before);
      expect(await usdc.balanceOf(f.keeper2)).to.equal(0n);
      await expectAuctionClean(f);
    });

    it("settles and pays in USDC a keeper contract whose fallback and receive burn gas and revert", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      const griefer = await new GriefingKeeper__factory(f.keeper).deploy(f.auction);
      // It is hostile: ETH and unknown calls are refused after burning the gas.
      await expect(
        f.keeper.sendTransaction({ to: griefer, value: 1n, gasLimit: 1_000_000 }),
      ).to.be.revertedWithCustomError(griefer, "GriefingKeeperRefused");
      await expect(
        f.keeper.sendTransaction({ to: griefer, data: "0xdeadbeef", gasLimit: 1_000_000 }),
      ).to.be.revertedWithCustomError(griefer, "GriefingKeeperRefused");
      const { kickGasPrice } = await f.auction.auctionOf(f.vault);
      const tx = await griefer.execute(f.vault, f.down, MaxUint256);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.keeperReward).to.be.gt(0n);
      // The keeper, not the contract, kicked: its refund, as the model prices it at the kick's gas price, comes out
      // first (none where the network has no base fee, as under solidity-coverage).
      const refund = await kickRefunded(f, tx);
      expect(refund).to.equal(
        min(toAmount(await modelKickBase(f, kickGasPrice), (await prices(f)).usdc, 6n), report.keeperReward),
      );
      await expect(tx)
        .to.emit(griefer, "Rewarded")
        .withArgs(report.keeperReward - refund);
      const [executed] = await executedEvents(f.auction, tx);
      expect([executed.keeper, executed.recipient, executed.reward]).to.deep.equal([
        await griefer.getAddress(),
        await griefer.getAddress(),
        report.keeperReward,
      ]);
      expect(await usdc.balanceOf(griefer)).to.equal(report.keeperReward - refund);
      expect(await f.auction.owed(griefer, usdc)).to.equal(0n);
      await expectLanded(f.vault, report);
      await expectAuctionClean(f);
    });

    it("reverts a keeper contract's second execute of the same vault in one transaction, undoing the first", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const griefer = await new GriefingKeeper__factory(f.keeper).deploy(f.auction);
      const before = await snapshot(f);
      await expect(griefer.executeTwice(f.vault, f.down, MaxUint256))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(await f.vault.getAddress());
      await expectSnapshotUnchanged(f, before);
      expect(await f.tokens.erc20.USDC.balanceOf(griefer)).to.equal(0n);
      expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(f.kickedAt);
    });
  });

  describe("#claim", () => {
    it("credits a reward the token refuses to push, and pays it out on claim", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      const holders = [f.alice, f.recipient, f.aave.aTokens.USDC, f.uniswap.router];
      const balancesBefore = await Promise.all(holders.map(async (h) => usdc.balanceOf(h)));
      const blocklist = await blocklistUsdc(f);
      // Same storage, new code: every balance and the metadata survived.
      expect(await Promise.all(holders.map(async (h) => usdc.balanceOf(h)))).to.deep.equal(balancesBefore);
      expect([await usdc.decimals(), await usdc.symbol()]).to.deep.equal([6n, "USDC"]);
      await expect(blocklist.setBlocked(f.recipient.address, true))
        .to.emit(blocklist, "BlockedSet")
        .withArgs(f.recipient.address, true);
      // The block works on a plain transfer.
      await f.world.fund("USDC", f.keeper.address, 1n);
      await expect(usdc.connect(f.keeper).transfer(f.recipient, 1n))
        .to.be.revertedWithCustomError(blocklist, "BlocklistRecipientBlocked")
        .withArgs(f.recipient.address);

      const recipientBefore = await usdc.balanceOf(f.recipient);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const reward = report.keeperReward;
      expect(reward).to.be.gt(0n);
      await expect(tx)
        .to.emit(f.auction, "RewardDeferred")
        .withArgs(f.recipient.address, await usdc.getAddress(), reward);
      const [executed] = await executedEvents(f.auction, tx);
      expect(executed.reward).to.equal(reward);
      await expectLanded(f.vault, report);
      expect(await usdc.balanceOf(f.recipient)).to.equal(recipientBefore);
      expect(await f.auction.owed(f.recipient, usdc)).to.equal(reward);
      await expectAuctionClean(f, [], reward);

      // The recipient claims to an address the token accepts.
      const claimTx = await f.auction.connect(f.recipient).claim(usdc, f.keeper2.address);
      await expect(claimTx)
        .to.emit(f.auction, "Claimed")
        .withArgs(f.recipient.address, await usdc.getAddress(), f.keeper2.address, reward);
      await expect(claimTx).to.changeTokenBalances(usdc, [f.auction, f.keeper2], [-reward, reward]);
      expect(await f.auction.owed(f.recipient, usdc)).to.equal(0n);
      await expectAuctionClean(f);

      const before = await snapshot(f);
      await expect(f.auction.connect(f.recipient).claim(usdc, f.keeper2.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionNothingOwed")
        .withArgs(await usdc.getAddress());
      await expectSnapshotUnchanged(f, before);
    });

    it("keeps the credit when the claim is sent to a blocked address, and refuses a caller owed nothing", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const usdc = f.tokens.erc20.USDC;
      const blocklist = await blocklistUsdc(f);
      await (await blocklist.setBlocked(f.recipient.address, true)).wait();
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      const reward = report.keeperReward;
      const before = await snapshot(f);
      await expect(f.auction.connect(f.recipient).claim(usdc, f.recipient.address))
        .to.be.revertedWithCustomError(blocklist, "BlocklistRecipientBlocked")
        .withArgs(f.recipient.address);
      await expect(f.auction.connect(f.keeper2).claim(usdc, f.keeper2.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionNothingOwed")
        .withArgs(await usdc.getAddress());
      await expectSnapshotUnchanged(f, before);
      expect(await f.auction.owed(f.recipient, usdc)).to.equal(reward);
      await expectAuctionClean(f, [], reward);
    });
  });

  describe("#executeBatch", () => {
    async function batchCalls(f: BatchFixture): Promise<IKeeperAuction.CallStruct[]> {
      return f.vaults.map((vault) => ({ vault, path: f.down, maxAmountIn: MaxUint256 }));
    }

    it("rebalances and pays the others when one vault fails, and keeps the failed one's auction", async () => {
      const f = await loadFixture(kickedBatchFixture);
      const usdc = f.tokens.erc20.USDC;
      // An eth_call prices gas apart from the transaction (no tip): compare the premium alone.
      await gasPartOff(f);
      // Bob pauses automation after the kick: his vault now refuses keepers.
      await (await f.vaults[1].connect(f.owners[1]).pauseAutomation(true)).wait();
      const calls = await batchCalls(f);
      const timestamp = (await time.latest()) + 30;
      await time.setNextBlockTimestamp(timestamp);
      const pending = { blockTag: "pending" };
      const expected = await f.auction.connect(f.keeper).executeBatch.staticCall(calls, f.recipient.address, pending);
      const bps = await Promise.all(f.vaults.map(async (v) => f.auction.currentRewardBps(v, pending)));
      const recipientBefore = await usdc.balanceOf(f.recipient);
      const tx = await f.auction.connect(f.keeper).executeBatch(calls, f.recipient.address);
      expect(await blockTimestamp(tx)).to.equal(timestamp);

      expect(expected.map((r) => r.ok)).to.deep.equal([true, false, true]);
      const reason = expected[1].reason;
      expect(f.vault.interface.parseError(reason)?.name).to.equal("VaultAutomationPaused");
      expect(reason).to.equal(f.vault.interface.encodeErrorResult("VaultAutomationPaused", []));
      expect(expected[1].reward).to.equal(0n);
      await expect(tx)
        .to.emit(f.auction, "ExecutionFailed")
        .withArgs(await f.vaults[1].getAddress(), reason);

      const events = await executedEvents(f.auction, tx);
      expect(events.map((e) => e.vault)).to.deep.equal([
        await f.vaults[0].getAddress(),
        await f.vaults[2].getAddress(),
      ]);
      let paid = 0n;
      for (const [i, event] of [
        [0, events[0]],
        [2, events[1]],
      ] as const) {
        const [report] = await rebalancedReports(f.vaults[i], tx);
        expect(event.rewardBps, `vault ${i} bps`).to.equal(bps[i]);
        expect(event.reward, `vault ${i} reward`).to.equal(report.keeperReward);
        expect(expected[i].reward, `vault ${i} result`).to.equal(report.keeperReward);
        expect(report.keeperReward).to.be.gt(0n);
        // The first vault of the batch is priced as a single execution, the next one as a further call.
        expect(event.gasRewardBase, `vault ${i} gas part`).to.equal(
          await modelGasBase(f, tx, f.kickGasPrices[i], i !== 0, f.vaults[i]),
        );
        expect(report.keeperReward).to.equal(await expectedReward(f, report, bps[i], event.gasRewardBase, f.vaults[i]));
        expect([event.keeper, event.recipient]).to.deep.equal([f.keeper.address, f.recipient.address]);
        await expectLanded(f.vaults[i], report);
        expect((await f.auction.auctionOf(f.vaults[i])).kickedAt).to.equal(0n);
        paid += report.keeperReward;
      }
      expect((await usdc.balanceOf(f.recipient)) - recipientBefore).to.equal(paid);
      // Bob's vault is untouched and still up for auction, from its original kick.
      expect(await rebalancedReports(f.vaults[1], tx)).to.have.lengthOf(0);
      expect((await f.vaults[1].position()).healthFactor).to.be.lt(MIN_HF);
      expect((await f.auction.auctionOf(f.vaults[1])).kickedAt).to.equal(f.kicks[1]);
      await expectAuctionClean(f, f.vaults);
      for (const vault of f.vaults) await expectExecutorClean({ ...f, vault });
    });

    it("reports the same vault twice as AuctionNotActive the second time and pays once", async () => {
      const f = await loadFixture(kickedBatchFixture);
      const usdc = f.tokens.erc20.USDC;
      await gasPartOff(f);
      const call = { vault: f.vault, path: f.down, maxAmountIn: MaxUint256 };
      const timestamp = (await time.latest()) + 30;
      await time.setNextBlockTimestamp(timestamp);
      const results = await f.auction
        .connect(f.keeper)
        .executeBatch.staticCall([call, call], f.recipient.address, { blockTag: "pending" });
      const recipientBefore = await usdc.balanceOf(f.recipient);
      const tx = await f.auction.connect(f.keeper).executeBatch([call, call], f.recipient.address);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(await rebalancedReports(f.vault, tx)).to.have.lengthOf(1);
      expect(results.map((r) => r.ok)).to.deep.equal([true, false]);
      expect(results[0].reward).to.equal(report.keeperReward);
      const notActive = f.auction.interface.encodeErrorResult("AuctionNotActive", [await f.vault.getAddress()]);
      expect(results[1].reason).to.equal(notActive);
      expect(f.auction.interface.parseError(results[1].reason)?.args[0]).to.equal(await f.vault.getAddress());
      await expect(tx)
        .to.emit(f.auction, "ExecutionFailed")
        .withArgs(await f.vault.getAddress(), notActive);
      expect(await executedEvents(f.auction, tx)).to.have.lengthOf(1);
      expect((await usdc.balanceOf(f.recipient)) - recipientBefore).to.equal(report.keeperReward);
      // The other two vaults were not in the batch: their auctions still run.
      expect((await auctionsOf(f, f.vaults.slice(1))).map((a) => a[0])).to.deep.equal(f.kicks.slice(1));
      await expectAuctionClean(f, f.vaults);
    });

    it("fails the whole batch with AuctionBatchOutOfGas when a call runs out of gas, and an estimate covers all", async () => {
      const f = await loadFixture(kickedBatchFixture);
      const calls = await batchCalls(f);
      const batch = f.auction.connect(f.keeper).executeBatch;
      const single = await f.auction.connect(f.keeper).execute.estimateGas(f.vault, f.down, MaxUint256, f.recipient);
      const before = await snapshot(f, f.vaults);
      // Room for the first (cold) call and little more: the second fails for want of gas, so nothing is kept.
      await expect(batch(calls, f.recipient.address, { gasLimit: single + 150_000n }))
        .to.be.revertedWithCustomError(f.auction, "AuctionBatchOutOfGas")
        .withArgs(1n);
      await expectSnapshotUnchanged(f, before, f.vaults);
      // The node's estimate is therefore one at which every call runs: all three are rebalanced.
      const estimate = await batch.estimateGas(calls, f.recipient.address);
      const tx = await batch(calls, f.recipient.address, { gasLimit: estimate });
      expect(await executedEvents(f.auction, tx)).to.have.lengthOf(3);
      await expectAuctionClean(f, f.vaults);
    });

    it("never settles on a partial batch below the estimate, even where an out-of-gas comes back as Uniswap's TF", async function () {
      // Hundreds of eth_calls: too slow under coverage, where the gas, and so the windows swept, differ anyway.
      skipUnderCoverage(this);
      const f = await loadFixture(kickedBatchFixture);
      const calls = await batchCalls(f);
      const batch = f.auction.connect(f.keeper).executeBatch;
      const single = await f.auction.connect(f.keeper).execute.estimateGas(f.vault, f.down, MaxUint256, f.recipient);
      const estimate = await batch.estimateGas(calls, f.recipient.address);
      // A token transfer that runs out of gas inside a swap surfaces as TransferHelper's "TF", not as empty revert
      // data: before the check counted only empty data, a window of about 12,000 gas below the estimate returned a
      // batch that skipped its last vault, and an estimate could settle there. Every limit must now either revert
      // or run every call.
      const outOfGas = new Set<bigint>();
      for (let gasLimit = single; gasLimit < estimate; gasLimit += 6_000n) {
        let results;
        try {
          results = await batch.staticCall(calls, f.recipient.address, { gasLimit });
        } catch (e) {
          // The batch reverted: AuctionBatchOutOfGas(index), or out of gas in the auction's own code (no data).
          const data = (e as { data?: unknown }).data;
          const parsed = typeof data === "string" && data !== "0x" ? f.auction.interface.parseError(data) : null;
          if (parsed?.name === "AuctionBatchOutOfGas") outOfGas.add(parsed.args[0] as bigint);
          continue;
        }
        expect(
          results.map((r) => r.ok),
          `a batch at ${gasLimit} gas`,
        ).to.deep.equal([true, true, true]);
      }
      // The sweep reached the last call's want of gas, where the window was.
      expect(outOfGas.has(2n)).to.equal(true);
    });

    it("rejects a direct call to executeOne with AuctionOnlySelf", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const before = await snapshot(f);
      await expect(
        f.auction
          .connect(f.attacker)
          .executeOne(
            { vault: f.vault, path: f.down, maxAmountIn: MaxUint256 },
            f.attacker.address,
            f.attacker.address,
            false,
          ),
      )
        .to.be.revertedWithCustomError(f.auction, "AuctionOnlySelf")
        .withArgs(f.attacker.address);
      await expectSnapshotUnchanged(f, before);
    });
  });

  describe("#cancel", () => {
    it("lets anyone cancel once the price is back in band", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await movePrice(f, "WETH", OPEN_PRICE);
      const hf = (await f.vault.position()).healthFactor;
      expect(hf).to.be.gte(MIN_HF).and.lte(MAX_HF);
      const kickerUsdc = await f.tokens.erc20.USDC.balanceOf(f.keeper.address);
      const cancelTx = await f.auction.connect(f.attacker).cancel(f.vault);
      await expect(cancelTx)
        .to.emit(f.auction, "Cancelled")
        .withArgs(await f.vault.getAddress(), f.attacker.address);
      // The kick was for a move the vault no longer needs: its gas is not refunded, now or later.
      await expect(cancelTx).to.not.emit(f.auction, "KickRefunded");
      expect(await f.tokens.erc20.USDC.balanceOf(f.keeper.address)).to.equal(kickerUsdc);
      expect([...(await f.auction.auctionOf(f.vault))]).to.deep.equal([0n, 0n, NONE, ZeroAddress, 0n]);
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(0n);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(await f.vault.getAddress());
      await expectSnapshotUnchanged(f, before);
    });

    it("lets anyone cancel once the vault needs the other direction, or its owner paused automation", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await movePrice(f, "WETH", 2_600n * 10n ** 8n);
      const need = await f.vault.rebalanceNeeded();
      expect([need.needed, need.direction]).to.deep.equal([true, LEVERAGE]);
      await expect(f.auction.connect(f.attacker).cancel(f.vault)).to.emit(f.auction, "Cancelled");
      // A new auction for the new direction can start at once.
      await expect(f.auction.connect(f.keeper).kick(f.vault))
        .to.emit(f.auction, "Kicked")
        .withArgs(await f.vault.getAddress(), f.keeper.address, LEVERAGE, (hf: bigint) => hf > MAX_HF);

      const paused = await loadFixture(kickedVaultFixture);
      await (await paused.vault.pauseAutomation(true)).wait();
      await expect(paused.auction.connect(paused.attacker).cancel(paused.vault)).to.emit(paused.auction, "Cancelled");
      expect((await paused.auction.auctionOf(paused.vault)).kickedAt).to.equal(0n);
    });

    it("rejects a cancel while the vault still needs the rebalance with AuctionStillNeeded", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.attacker).cancel(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionStillNeeded")
        .withArgs(await f.vault.getAddress());
      await expectSnapshotUnchanged(f, before);
      expect((await f.auction.auctionOf(f.vault)).kickedAt).to.equal(f.kickedAt);
    });

    it("rejects a cancel when no auction runs with AuctionNotActive", async () => {
      const f = await loadFixture(keeperFixture);
      const before = await snapshot(f);
      await expect(f.auction.connect(f.attacker).cancel(f.vault))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotActive")
        .withArgs(await f.vault.getAddress());
      await expectSnapshotUnchanged(f, before);
    });
  });

  describe("#setConfig", () => {
    it("stores the configuration and emits ConfigSet", async () => {
      const f = await loadFixture(protocolFixture);
      expect([...(await f.auction.config())]).to.deep.equal(configValues(CONFIG));
      const next = withConfig(CONFIG, {
        kind: CurveKind.Stairstep,
        startBps: 5,
        maxBps: 250,
        urgencyBoostBps: 5_000,
        duration: 1_200,
        step: 120,
        minHFMove: parseUnits("0.02", 18),
        minDebtBase: 500n * 10n ** 8n,
      });
      await expect(f.auction.connect(f.governance).setConfig(next))
        .to.emit(f.auction, "ConfigSet")
        .withArgs(configValues(next));
      expect([...(await f.auction.config())]).to.deep.equal(configValues(next));
    });

    it("rejects anyone but governance with AuctionNotGovernance", async () => {
      const f = await loadFixture(keeperFixture);
      for (const caller of [f.alice, f.keeper, f.guardian]) {
        await expect(f.auction.connect(caller).setConfig(withConfig(CONFIG, { startBps: 1 })))
          .to.be.revertedWithCustomError(f.auction, "AuctionNotGovernance")
          .withArgs(caller.address);
      }
      expect([...(await f.auction.config())]).to.deep.equal(configValues(CONFIG));
    });

    const INVALID: [string, Partial<IKeeperAuction.ConfigStruct>][] = [
      ["startBps above maxBps", { startBps: 101, maxBps: 100 }],
      ["maxBps above 1,000", { maxBps: 1_001 }],
      ["urgencyBoostBps above 10,000", { urgencyBoostBps: 10_001 }],
      ["duration below 60 s", { duration: 59 }],
      ["duration above a day", { duration: 86_401 }],
      ["a Stairstep without a step", { kind: CurveKind.Stairstep, step: 0 }],
      ["a Stairstep step longer than the duration", { kind: CurveKind.Stairstep, duration: 600, step: 601 }],
      ["an Exponential from 0 bps", { kind: CurveKind.Exponential, startBps: 0 }],
      ["minHFMove above 0.5", { minHFMove: parseUnits("0.5", 18) + 1n }],
    ];
    for (const [label, change] of INVALID) {
      it(`rejects ${label} with AuctionConfigInvalid`, async () => {
        const f = await loadFixture(protocolFixture);
        await expect(
          f.auction.connect(f.governance).setConfig(withConfig(CONFIG, change)),
        ).to.be.revertedWithCustomError(f.auction, "AuctionConfigInvalid");
        expect([...(await f.auction.config())]).to.deep.equal(configValues(CONFIG));
      });
    }

    it("accepts every hard limit exactly", async () => {
      const f = await loadFixture(protocolFixture);
      const edges: Partial<IKeeperAuction.ConfigStruct>[] = [
        { startBps: 1_000, maxBps: 1_000, urgencyBoostBps: 10_000, duration: 60, minHFMove: parseUnits("0.5", 18) },
        { duration: 86_400 },
        { kind: CurveKind.Stairstep, duration: 600, step: 600 },
        { kind: CurveKind.Stairstep, step: 1 },
        { kind: CurveKind.Exponential, startBps: 1 },
        // Linear and Exponential ignore the step, so zero is fine for them.
        { kind: CurveKind.Linear, step: 0 },
        { kind: CurveKind.Linear, startBps: 0, maxBps: 0 },
      ];
      for (const change of edges) {
        const config = withConfig(CONFIG, change);
        await expect(f.auction.connect(f.governance).setConfig(config))
          .to.emit(f.auction, "ConfigSet")
          .withArgs(configValues(config));
      }
    });

    it("rejects a curve kind outside the enum without a reason", async () => {
      const f = await loadFixture(protocolFixture);
      await expect(
        f.auction.connect(f.governance).setConfig(withConfig(CONFIG, { kind: 3 })),
      ).to.be.revertedWithoutReason();
      expect([...(await f.auction.config())]).to.deep.equal(configValues(CONFIG));
    });

    it("follows the factory's ownership through an Ownable2Step transfer", async () => {
      const f = await loadFixture(keeperFixture);
      const next = f.attacker;
      const config = withConfig(CONFIG, { startBps: 20 });
      await (await f.factory.connect(f.governance).transferOwnership(next.address)).wait();
      // Pending is not enough: the old governance still rules.
      await expect(f.auction.connect(next).setConfig(config))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotGovernance")
        .withArgs(next.address);
      await (await f.factory.connect(next).acceptOwnership()).wait();
      await expect(f.auction.connect(f.governance).setConfig(config))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotGovernance")
        .withArgs(f.governance.address);
      expect([...(await f.auction.config())]).to.deep.equal(configValues(CONFIG));
      await expect(f.auction.connect(next).setConfig(config))
        .to.emit(f.auction, "ConfigSet")
        .withArgs(configValues(config));
      expect((await f.auction.config()).startBps).to.equal(20n);
    });
  });

  describe("views", () => {
    it("exposes the factory, and no reward or auction for a vault never kicked", async () => {
      const f = await loadFixture(droppedVaultFixture);
      expect(await f.auction.FACTORY()).to.equal(await f.factory.getAddress());
      expect(await f.factory.AUCTION()).to.equal(await f.auction.getAddress());
      expect(await f.vault.AUCTION()).to.equal(await f.auction.getAddress());
      expect(await f.auction.currentRewardBps(f.vault)).to.equal(0n);
      expect([...(await f.auction.auctionOf(f.vault))]).to.deep.equal([0n, 0n, NONE, ZeroAddress, 0n]);
    });
  });
});

describe("KeeperAuction gas part", () => {
  // solidity-coverage runs its own network (gas price 1, no base fee to speak of, huge gas limits): the gas part,
  // priced from the base fee and the tip, means nothing there.
  before(function () {
    skipUnderCoverage(this);
  });

  const GWEI = 10n ** 9n;
  const BASE_FEE = 200n * GWEI;
  const GAS = LOCAL_PARAMS.auctionGas;

  /** The next block's base fee, and EIP-1559 fees that pay it plus `tip`. */
  async function atBaseFee(baseFee: bigint, tip: bigint) {
    await hre.network.provider.send("hardhat_setNextBlockBaseFeePerGas", [toQuantity(baseFee)]);
    return { maxFeePerGas: baseFee * 2n + tip, maxPriorityFeePerGas: tip };
  }

  async function wethPrice(f: KeeperFixture): Promise<bigint> {
    return f.aave.oracle.getAssetPrice(f.tokens.erc20.WETH);
  }

  /** What the keeper paid for `tx`, valued at the WETH oracle price, base units. */
  async function gasCostBase(f: KeeperFixture, tx: ContractTransactionResponse): Promise<bigint> {
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("no receipt");
    return (receipt.gasUsed * receipt.gasPrice * (await wethPrice(f))) / WAD;
  }

  describe("#setGasConfig", () => {
    it("is set by deployProtocol to the local parameters, with WETH as the native asset", async () => {
      const f = await loadFixture(protocolFixture);
      expect([...(await f.auction.gasConfig())]).to.deep.equal([
        BigInt(GAS.executeGas),
        BigInt(GAS.batchCallGas),
        BigInt(GAS.kickGas),
        GAS.maxTip,
        await f.tokens.erc20.WETH.getAddress(),
      ]);
    });

    it("lets governance replace it, emits GasConfigSet, and turns the gas part off with zero units", async () => {
      const f = await loadFixture(protocolFixture);
      const next = {
        executeGas: 1_000_000,
        batchCallGas: 600_000,
        kickGas: 250_000,
        maxTip: 3n * GWEI,
        nativeAsset: await f.tokens.erc20.WETH.getAddress(),
      };
      await expect(f.auction.connect(f.governance).setGasConfig(next))
        .to.emit(f.auction, "GasConfigSet")
        .withArgs([next.executeGas, next.batchCallGas, next.kickGas, next.maxTip, next.nativeAsset]);
      expect([...(await f.auction.gasConfig())]).to.deep.equal([
        1_000_000n,
        600_000n,
        250_000n,
        3n * GWEI,
        next.nativeAsset,
      ]);
      const off = { executeGas: 0, batchCallGas: 0, kickGas: 0, maxTip: 0, nativeAsset: ZeroAddress };
      await expect(f.auction.connect(f.governance).setGasConfig(off)).to.emit(f.auction, "GasConfigSet");
    });

    it("rejects every breach of the hard limits with its error and arguments, and keeps the config", async () => {
      const f = await loadFixture(protocolFixture);
      const weth = await f.tokens.erc20.WETH.getAddress();
      const base = { ...GAS, nativeAsset: weth };
      const before = [...(await f.auction.gasConfig())];
      const limit = await f.auction.HARD_MAX_EXECUTE_GAS();
      expect(limit).to.equal(5_000_000n);
      expect(await f.auction.HARD_MAX_TIP()).to.equal(100n * GWEI);
      await expect(f.auction.connect(f.governance).setGasConfig({ ...base, executeGas: 5_000_001 }))
        .to.be.revertedWithCustomError(f.auction, "AuctionGasUnitsInvalid")
        .withArgs(5_000_001n, BigInt(GAS.batchCallGas), limit);
      await expect(f.auction.connect(f.governance).setGasConfig({ ...base, batchCallGas: GAS.executeGas + 1 }))
        .to.be.revertedWithCustomError(f.auction, "AuctionGasUnitsInvalid")
        .withArgs(BigInt(GAS.executeGas), BigInt(GAS.executeGas + 1), limit);
      await expect(f.auction.connect(f.governance).setGasConfig({ ...base, kickGas: GAS.executeGas + 1 }))
        .to.be.revertedWithCustomError(f.auction, "AuctionKickGasInvalid")
        .withArgs(BigInt(GAS.executeGas + 1), BigInt(GAS.executeGas));
      await expect(f.auction.connect(f.governance).setGasConfig({ ...base, maxTip: 100n * GWEI + 1n }))
        .to.be.revertedWithCustomError(f.auction, "AuctionMaxTipAboveLimit")
        .withArgs(100n * GWEI + 1n, 100n * GWEI);
      await expect(f.auction.connect(f.governance).setGasConfig({ ...base, nativeAsset: ZeroAddress }))
        .to.be.revertedWithCustomError(f.auction, "AuctionNativeAssetInvalid")
        .withArgs(ZeroAddress);
      // An asset the price guard does not price.
      await expect(
        f.auction.connect(f.governance).setGasConfig({ ...base, nativeAsset: f.governance.address }),
      ).to.be.revertedWithCustomError(f.priceGuard, "PriceGuardNoHeartbeat");
      expect([...(await f.auction.gasConfig())]).to.deep.equal(before);
    });

    it("rejects anyone but governance with AuctionNotGovernance", async () => {
      const f = await loadFixture(keeperFixture);
      const before = [...(await f.auction.gasConfig())];
      await expect(f.auction.connect(f.keeper).setGasConfig({ ...GAS, nativeAsset: ZeroAddress, executeGas: 0 }))
        .to.be.revertedWithCustomError(f.auction, "AuctionNotGovernance")
        .withArgs(f.keeper.address);
      expect([...(await f.auction.gasConfig())]).to.deep.equal(before);
    });
  });

  describe("#execute at a Black-Thursday base fee (200 gwei)", () => {
    it("pays units x (base fee + tip) at the WETH price, on top of the premium, and covers the keeper's gas", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const tip = 1n * GWEI;
      const fees = await atBaseFee(BASE_FEE, tip);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address, fees);
      const [event] = await executedEvents(f.auction, tx);
      const [report] = await rebalancedReports(f.vault, tx);
      const expectedGas =
        (BigInt(GAS.executeGas) * (BASE_FEE + tip) * (await wethPrice(f))) / WAD +
        (await modelKickBase(f, f.kickGasPrice));
      expect(event.gasRewardBase).to.equal(expectedGas);
      expect(report.keeperReward).to.equal(await expectedReward(f, report, event.rewardBps, expectedGas));
      // The gas part alone covers what the keeper paid, valued at the oracle.
      const cost = await gasCostBase(f, tx);
      expect(event.gasRewardBase, "gas part vs gas paid").to.be.gte(cost);
      const p = await prices(f);
      expect(toBase(report.keeperReward, p.usdc, 6n)).to.be.gt(cost);
      await expectLanded(f.vault, report);
      await expectAuctionClean(f);
    });

    it("pays a Leverage the gas part too, borrowed on top, and still lands on the target", async () => {
      const f = await loadFixture(kickedLeverageFixture);
      const fees = await atBaseFee(BASE_FEE, GWEI);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.up, MaxUint256, f.recipient.address, fees);
      const [event] = await executedEvents(f.auction, tx);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(event.gasRewardBase).to.equal(await modelGasBase(f, tx, f.kickGasPrice));
      expect(report.keeperReward).to.equal(await expectedReward(f, report, event.rewardBps, event.gasRewardBase));
      expect(event.gasRewardBase).to.be.gte(await gasCostBase(f, tx));
      await expectLanded(f.vault, report);
    });

    it("ignores a tip above maxTip", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const fees = await atBaseFee(BASE_FEE, 50n * GWEI);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address, fees);
      const [event] = await executedEvents(f.auction, tx);
      expect(event.gasRewardBase).to.equal(
        (BigInt(GAS.executeGas) * (BASE_FEE + GAS.maxTip) * (await wethPrice(f))) / WAD +
          (await modelKickBase(f, f.kickGasPrice)),
      );
    });

    it("prices gas at the owner's maxGasPrice when the base fee is above it", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const cap = 50n * GWEI;
      await (await f.vault.setPolicy({ ...DEFAULT_POLICY, maxGasPrice: cap })).wait();
      const fees = await atBaseFee(BASE_FEE, GWEI);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address, fees);
      const [event] = await executedEvents(f.auction, tx);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(event.gasRewardBase).to.equal(
        (BigInt(GAS.executeGas) * cap * (await wethPrice(f))) / WAD + (await modelKickBase(f, f.kickGasPrice)),
      );
      expect(report.keeperReward).to.equal(await expectedReward(f, report, event.rewardBps, event.gasRewardBase));
      await expectLanded(f.vault, report);
    });

    it("pays no gas part when the owner's maxGasPrice is 0: the premium alone", async () => {
      const f = await loadFixture(kickedVaultFixture);
      await (await f.vault.setPolicy({ ...DEFAULT_POLICY, maxGasPrice: 0 })).wait();
      const fees = await atBaseFee(BASE_FEE, GWEI);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address, fees);
      const [event] = await executedEvents(f.auction, tx);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(event.gasRewardBase).to.equal(0n);
      expect(report.keeperReward).to.equal(await expectedReward(f, report, event.rewardBps));
    });

    for (const side of [
      { label: "Deleverage", fixture: kickedVaultFixture, path: "down" },
      { label: "Leverage", fixture: kickedLeverageFixture, path: "up" },
    ] as const) {
      it(`clamps premium plus gas part to the owner's maxRewardBase (${side.label}) and still lands`, async () => {
        const f = await loadFixture(side.fixture);
        const cap = 100n * 10n ** 8n;
        await (await f.vault.setPolicy({ ...DEFAULT_POLICY, maxRewardBase: cap })).wait();
        await time.increase(600);
        const fees = await atBaseFee(BASE_FEE, GWEI);
        const tx = await f.auction
          .connect(f.keeper)
          .execute(f.vault, f[side.path], MaxUint256, f.recipient.address, fees);
        const [event] = await executedEvents(f.auction, tx);
        const [report] = await rebalancedReports(f.vault, tx);
        // The gas part alone (about $260 at 200 gwei) is above the cap.
        expect(event.gasRewardBase).to.equal(cap);
        const p = await prices(f);
        expect(report.keeperReward).to.equal(toAmount(cap, p.usdc, 6n));
        expect(toBase(report.keeperReward, p.usdc, 6n)).to.be.lte(cap);
        await expectLanded(f.vault, report);
      });
    }

    it("pays a batch of three vaults at least the keeper's gas for the whole batch", async () => {
      const f = await loadFixture(kickedBatchFixture);
      const calls = f.vaults.map((vault) => ({ vault, path: f.down, maxAmountIn: MaxUint256 }));
      const fees = await atBaseFee(BASE_FEE, GWEI);
      const tx = await f.auction.connect(f.keeper).executeBatch(calls, f.recipient.address, fees);
      const events = await executedEvents(f.auction, tx);
      expect(events).to.have.lengthOf(3);
      const weth = await wethPrice(f);
      // The first call is priced as a single execution, the others as further calls of a batch.
      const kicks = await Promise.all(f.vaults.map((v, i) => modelKickBase(f, f.kickGasPrices[i], v)));
      expect(events.map((e) => e.gasRewardBase)).to.deep.equal(
        [GAS.executeGas, GAS.batchCallGas, GAS.batchCallGas].map(
          (u, i) => (BigInt(u) * (BASE_FEE + GWEI) * weth) / WAD + kicks[i],
        ),
      );
      const gasPaid = events.reduce((sum, e) => sum + e.gasRewardBase, 0n);
      expect(gasPaid, "gas parts vs gas paid").to.be.gte(await gasCostBase(f, tx));
    });
  });

  describe("#quoteReward", () => {
    it("quotes the premium and the gas part execute then pays, in base units and in USDC", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const tip = GWEI;
      const { timestamp } = await pendingRewardBps(f, 30);
      const quote = await f.auction.quoteReward(f.vault, BASE_FEE, tip, false, { blockTag: "pending" });
      const batched = await f.auction.quoteReward(f.vault, BASE_FEE, tip, true, { blockTag: "pending" });
      const p = await prices(f);
      expect(quote.gasPrice).to.equal(BASE_FEE + tip);
      expect(quote.gasRewardBase).to.equal((BigInt(GAS.executeGas) * (BASE_FEE + tip) * p.weth) / WAD);
      expect(quote.gasReward).to.equal(toAmount(quote.gasRewardBase, p.usdc, 6n));
      expect(quote.maxRewardBase).to.equal(DEFAULT_POLICY.maxRewardBase);
      expect(batched.gasRewardBase).to.equal((BigInt(GAS.batchCallGas) * (BASE_FEE + tip) * p.weth) / WAD);
      const fees = await atBaseFee(BASE_FEE, tip);
      const tx = await f.auction.connect(f.keeper).execute(f.vault, f.down, MaxUint256, f.recipient.address, fees);
      expect(await blockTimestamp(tx)).to.equal(timestamp);
      const [event] = await executedEvents(f.auction, tx);
      expect(quote.kickRefundBase).to.equal(await modelKickBase(f, f.kickGasPrice));
      expect([event.rewardBps, event.gasRewardBase]).to.deep.equal([
        quote.rewardBps,
        quote.gasRewardBase + quote.kickRefundBase,
      ]);
    });

    it("quotes nothing for a vault without an auction", async () => {
      const f = await loadFixture(droppedVaultFixture);
      const quote = await f.auction.quoteReward(f.vault, BASE_FEE, GWEI, false);
      expect([...quote]).to.deep.equal([0n, 0n, 0n, 0n, 0n, 0n]);
    });
  });

  describe("BallastVault#rebalanceForAuction gas reward", () => {
    it("rejects a gas reward from anyone but the auction with VaultNotAuction, and changes nothing", async () => {
      const f = await loadFixture(kickedVaultFixture);
      const before = await snapshot(f);
      const read = await auctionRead(f, f.vault);
      await expect(f.vault.connect(f.keeper).rebalanceForAuction(f.down, MaxUint256, 0, 1n, ...read))
        .to.be.revertedWithCustomError(f.vault, "VaultNotAuction")
        .withArgs(f.keeper.address);
      await expectSnapshotUnchanged(f, before);
    });
  });
});
