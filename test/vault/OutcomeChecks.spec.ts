import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { MaxUint256, ZeroHash } from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  RogueExecutor__factory,
  type BallastVault,
  type IBallastVault,
  type RogueExecutor,
  type VaultFactory,
} from "../../typechain-types";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import { DEFAULT_POLICY, deployFactory, LOCAL_PARAMS, singleHopPath } from "../../lib/protocol";
import { protocolFixture, type ProtocolFixture } from "../shared/fixtures";
import { BPS, healthFactor, toBase } from "../shared/reference/rebalanceMath";
import {
  Captured,
  DEPOSIT,
  expectExecutorClean,
  expectUnchanged,
  latestBlock,
  movePrice,
  rayDiv,
  rayMul,
  rebalancedReports,
  snapshotState,
  TARGET_HF,
  type StateSubject,
} from "../shared/vault";

const TOLERANCE = LOCAL_PARAMS.bounds.hfTolerance;
const SLIPPAGE_BPS = BigInt(DEFAULT_POLICY.maxSlippageBps);
/** The vault's `_BASE_ROUNDING`. */
const BASE_ROUNDING = 4n;
/** Every compared rebalance lands this many seconds after the fixture's last block, so all accrue the same interest. */
const SETTLE_AFTER = 60;

/** `RogueExecutor.Mode`. */
const Mode = { Skim: 0n, ShortRepay: 1n, Reenter: 2n } as const;

interface RogueFixture extends ProtocolFixture {
  alice: HardhatEthersSigner;
  keeper: HardhatEthersSigner;
  attacker: HardhatEthersSigner;
  rogue: RogueExecutor;
  /** A second factory, wired to the rogue executor. */
  rogueFactory: VaultFactory;
  /** Alice's vault on `rogueFactory`. */
  vault: BallastVault;
  /** USDC -> WETH through the 0.05% pool (leverage, open). */
  up: string;
  /** WETH -> USDC through the 0.05% pool (close). */
  down: string;
}

/**
 * The protocol, plus a second VaultFactory on the same pool and price guard whose executor is the RogueExecutor,
 * with WETH/USDC allowed; alice's vault on it is opened with 10 WETH at HF 1.5 through the rogue in Skim mode at
 * 0 bps, which is an honest leverage.
 */
async function rogueVaultFixture(): Promise<RogueFixture> {
  const f = await protocolFixture();
  const [governance, guardian, alice, keeper, attacker] = await hre.ethers.getSigners();
  const weth = f.tokens.erc20.WETH;
  const usdc = f.tokens.erc20.USDC;
  const rogue = await new RogueExecutor__factory(governance).deploy(f.aave.addressesProvider, f.uniswap.router);
  const { factory: rogueFactory } = await deployFactory(governance, f.libraries, {
    pool: f.aave.pool,
    executor: rogue,
    priceGuard: f.priceGuard,
    forwarder: f.forwarder,
    governance: governance.address,
    guardian: guardian.address,
    bounds: LOCAL_PARAMS.bounds,
  });
  await mined(rogueFactory.setPair(weth, usdc, true));
  await mined(rogueFactory.connect(alice).createVault(weth, usdc, DEFAULT_POLICY, ZeroHash));
  const vault = BallastVault__factory.connect(await rogueFactory.predictVault(alice.address, ZeroHash), alice);
  await f.world.fund("WETH", alice.address, DEPOSIT);
  await mined(weth.connect(alice).approve(vault, DEPOSIT));
  const up = await singleHopPath(f, "USDC", "WETH", 500);
  const down = await singleHopPath(f, "WETH", "USDC", 500);
  await mined(rogue.setMode(Mode.Skim, 0n));
  await mined(vault.open(DEPOSIT, TARGET_HF, up));
  return { ...f, alice, keeper, attacker, rogue, rogueFactory, vault, up, down };
}

/** The rogue vault after a 30% WETH rise: HF about 1.95, above the band, so a keeper may leverage up. */
async function raisedRogueVaultFixture(): Promise<RogueFixture> {
  const f = await rogueVaultFixture();
  await movePrice(f, "WETH", 2_600n * ORACLE_BASE_CURRENCY_UNIT);
  return f;
}

/** `snapshotState`'s view of the fixture: the rogue is the executor whose balances must not move. */
const subject = (f: RogueFixture): StateSubject => ({ ...f, executor: f.rogue });

/**
 * Restores the raised fixture, sets the skim and the policy, and pins the next block to the common settlement time:
 * every run then sizes the same plan and gets the same swap.
 */
async function prepare(skimBps: bigint, policy: IBallastVault.PolicyStruct = DEFAULT_POLICY): Promise<RogueFixture> {
  const f = await loadFixture(raisedRogueVaultFixture);
  const start = await time.latest();
  await mined(f.rogue.setMode(Mode.Skim, skimBps));
  if (policy !== DEFAULT_POLICY) await mined(f.vault.setPolicy(policy));
  await time.setNextBlockTimestamp(start + SETTLE_AFTER);
  return f;
}

interface Settled {
  report: IBallastVault.RebalanceReportStructOutput;
  position: IBallastVault.PositionStructOutput;
  wethPrice: bigint;
  usdcPrice: bigint;
}

/** A keeper's leverage-up that the vault accepts, with the position as of its block. */
async function settle(skimBps: bigint, policy: IBallastVault.PolicyStruct = DEFAULT_POLICY): Promise<Settled> {
  const f = await prepare(skimBps, policy);
  const [report] = await rebalancedReports(f.vault, await f.vault.connect(f.keeper).rebalance(f.up, MaxUint256));
  const blockTag = await latestBlock();
  return {
    report,
    position: await f.vault.position({ blockTag }),
    wethPrice: await f.aave.oracle.getAssetPrice(f.tokens.erc20.WETH),
    usdcPrice: await f.aave.oracle.getAssetPrice(f.tokens.erc20.USDC),
  };
}

/** Oracle value of the WETH the rogue keeps back out of `amountOut`. */
function skimmedBase(amountOut: bigint, skimBps: bigint, wethPrice: bigint): bigint {
  const supplied = (amountOut * (BPS - skimBps)) / BPS;
  return toBase(amountOut - supplied, wethPrice, 18n);
}

/** The vault's `_checkLoss` bound for a leverage (no flash premium) that sold `amountIn` USDC. */
function allowedLoss(amountIn: bigint, wethPrice: bigint, usdcPrice: bigint): bigint {
  const ceilDiv = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
  const rounding = BASE_ROUNDING + ceilDiv(wethPrice, 10n ** 18n) + ceilDiv(usdcPrice, 10n ** 6n);
  return (toBase(amountIn, usdcPrice, 6n) * SLIPPAGE_BPS) / BPS + rounding;
}

describe("BallastVault outcome checks against a skimming executor", () => {
  it("accepts an honest leverage-up through the rogue executor skimming 0 bps", async () => {
    const honest = await settle(0n);
    const { report } = honest;
    expect(report.direction).to.equal(2n);
    // The sizing prices the pool's fee and expected impact (rounded up to a whole bp), so it lands a hair above the
    // target. Measured: HF 1.500020.
    expect(report.hfAfter).to.equal(honest.position.healthFactor);
    expect(report.hfAfter)
      .to.be.gte(TARGET_HF)
      .and.lt(TARGET_HF + TOLERANCE);
    expect(report.equityLossBase).to.be.lte(allowedLoss(report.amountIn, honest.wethPrice, honest.usdcPrice));
  });

  it("reverts with VaultTargetMissed when the executor keeps 10% of the collateral bought", async () => {
    const skim = 1_000n;
    const honest = await settle(0n);
    // The skim run sizes the same plan and gets the same swap; only the collateral supplied differs.
    const expected = healthFactor(
      honest.position.collateralBase - skimmedBase(honest.report.amountOut, skim, honest.wethPrice),
      honest.position.debtBase,
      honest.position.liquidationThresholdBps,
    );
    // Measured: 1.467020, 0.033 below the target.
    expect(expected + TOLERANCE).to.be.lt(TARGET_HF);
    const f = await prepare(skim);
    const before = await snapshotState(subject(f));
    await expect(f.vault.connect(f.keeper).rebalance(f.up, MaxUint256))
      .to.be.revertedWithCustomError(f.vault, "VaultTargetMissed")
      // Aave rounds the collateral to a base unit per step: a few units of 57,800 USD, ~2e5 wei of HF each.
      .withArgs((hf: bigint) => hf >= expected - 10n ** 6n && hf <= expected + 10n ** 6n, TARGET_HF, TOLERANCE);
    await expectUnchanged(subject(f), before);
  });

  it("reverts with VaultEquityLoss when the executor keeps 1.5%: the HF stays within tolerance", async () => {
    const skim = 150n;
    const honest = await settle(0n);
    const allowed = allowedLoss(honest.report.amountIn, honest.wethPrice, honest.usdcPrice);
    expect(honest.report.equityLossBase).to.be.lte(allowed);
    // Under a 3% slippage policy the same skim passes every check, so its report measures the loss exactly.
    const loose = await settle(skim, { ...DEFAULT_POLICY, maxSlippageBps: 300 });
    expect(loose.report.amountIn).to.equal(honest.report.amountIn);
    expect(loose.report.amountOut).to.equal(honest.report.amountOut);
    expect(loose.report.hfAfter).to.be.gte(TARGET_HF - TOLERANCE);
    const loss = loose.report.equityLossBase;
    // The honest run's loss plus the skimmed WETH's oracle value, to Aave's base-unit rounding.
    // Measured: 252.74 USD lost (8.76 + 243.98 skimmed) against 162.74 allowed.
    const expectedLoss = honest.report.equityLossBase + skimmedBase(honest.report.amountOut, skim, honest.wethPrice);
    expect(loss - expectedLoss)
      .to.be.gte(-BASE_ROUNDING)
      .and.lte(BASE_ROUNDING);
    expect(loss).to.be.gt(allowed);

    const f = await prepare(skim);
    const before = await snapshotState(subject(f));
    await expect(f.vault.connect(f.keeper).rebalance(f.up, MaxUint256))
      .to.be.revertedWithCustomError(f.vault, "VaultEquityLoss")
      .withArgs(loss, allowed);
    await expectUnchanged(subject(f), before);
  });
});

/** The rogue's ShortRepay share: half of the flash loan (the vault's whole debt) goes against the debt. */
const HALF_BPS = 5_000n;

/** Alice's rogue vault with the executor switched to `mode` at `bps`. */
async function rogueInMode(mode: bigint, bps: bigint): Promise<RogueFixture> {
  const f = await loadFixture(rogueVaultFixture);
  await mined(f.rogue.setMode(mode, bps));
  return f;
}

describe("BallastVault outcome checks against a short-repaying executor", () => {
  it("closes through the rogue when it repays the whole loan on the debt (control)", async () => {
    const f = await rogueInMode(Mode.ShortRepay, BPS);
    const tx = await f.vault.close(f.down);
    const [report] = await rebalancedReports(f.vault, tx);
    await expect(tx).to.emit(f.vault, "Closed");
    expect(report.direction).to.equal(3n);
    expect(await f.aave.variableDebtTokens.USDC.balanceOf(f.vault)).to.equal(0n);
    expect(await f.aave.aTokens.WETH.balanceOf(f.vault)).to.equal(0n);
    await expectExecutorClean({ ...f, executor: f.rogue });
  });

  it("reverts close with VaultDebtRemaining when the executor repays only half the debt", async () => {
    const f = await rogueInMode(Mode.ShortRepay, HALF_BPS);
    const usdc = f.tokens.erc20.USDC;
    const before = await snapshotState(subject(f));
    const debtBase = new Captured();
    await expect(f.vault.close(f.down))
      .to.be.revertedWithCustomError(f.vault, "VaultDebtRemaining")
      .withArgs(debtBase.match);
    await expectUnchanged(subject(f), before);

    // The vault's debt as of the close's block: its scaled debt times that block's borrow index. The vault flash-
    // borrowed all of it; the rogue burned rayDiv(half, index) scaled debt, leaving the rest, valued as Aave does.
    const blockTag = await latestBlock();
    const scaled = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault, { blockTag });
    const index = await f.aave.pool.getReserveNormalizedVariableDebt(usdc, { blockTag });
    const debt = rayMul(scaled, index);
    const repaid = (debt * HALF_BPS) / BPS;
    const remaining = rayMul(scaled - rayDiv(repaid, index), index);
    const usdcPrice = await f.aave.oracle.getAssetPrice(usdc, { blockTag });
    // Measured: 24,429.515296 USDC of debt at that block, 12,214.757648 left, VaultDebtRemaining(1221475764800).
    expect(debtBase.value).to.equal((remaining * usdcPrice) / 10n ** 6n);
    // Half the position's debt stayed, to the value of a wei of USDC either way.
    const { debtBase: debtBefore } = await f.vault.position({ blockTag });
    const weiBase = usdcPrice / 10n ** 6n;
    expect(2n * debtBase.value - debtBefore)
      .to.be.gte(-weiBase)
      .and.lte(weiBase);
  });
});

describe("BallastVault reentrancy guard against a re-entering executor", () => {
  it("reverts a keeper's rebalance with ReentrancyGuardReentrantCall when the executor calls rebalance back", async () => {
    const f = await loadFixture(raisedRogueVaultFixture);
    await mined(f.rogue.setMode(Mode.Reenter, 0n));
    const before = await snapshotState(subject(f));
    await expect(f.vault.connect(f.keeper).rebalance(f.up, MaxUint256))
      .to.be.revertedWithCustomError(f.vault, "ReentrancyGuardReentrantCall")
      .withArgs();
    await expectUnchanged(subject(f), before);
  });

  it("reverts the owner's close with ReentrancyGuardReentrantCall when the executor calls rebalance back", async () => {
    const f = await rogueInMode(Mode.Reenter, 0n);
    const before = await snapshotState(subject(f));
    await expect(f.vault.close(f.down))
      .to.be.revertedWithCustomError(f.vault, "ReentrancyGuardReentrantCall")
      .withArgs();
    await expectUnchanged(subject(f), before);
  });
});
