/**
 * The commands of the model-based suite. Each one checks whether it applies to the model, predicts its outcome from the
 * model (and, where the model cannot know, from the HF read just before), runs it, asserts the outcome exactly and
 * updates the model; then every invariant is checked (`Step.run`).
 */
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { expect } from "chai";
import type { ContractTransactionResponse } from "ethers";
import { Interface, MaxUint256, parseUnits } from "ethers";
import fc from "fast-check";
import hre from "hardhat";

import type { IBallastVault } from "../../typechain-types";
import { signForwardRequest, signIntent } from "../../lib/intents";
import { mined } from "../../lib/market/aave";
import { marketPath } from "../../lib/protocol";
import { movePrice, rebalancedReports } from "../shared/vault";
import { executedEvents, kickRefunds } from "../shared/keeper";
import { compared } from "../shared/pool";
import { minAmountOut, saleSlippageBps } from "../shared/reference/rebalanceMath";
import { Direction, expectRebalanceBounded, type RebalanceBounds } from "../shared/rebalance";
import {
  AAVE_FROZEN,
  AAVE_PAUSED,
  band,
  custom,
  Dir,
  expectMatchesModel,
  expectOutcome,
  expectPoolConsistent,
  expectProtocolClean,
  HF_TOLERANCE,
  INVALID_POLICY,
  nearEdge,
  OK,
  OWNER_NAMES,
  outcomes,
  ownerSend,
  POLICIES,
  rearbitrage,
  revertMatcher,
  WAD,
  type Model,
  type Outcome,
  type Owner,
  type OwnerName,
  type System,
  type VaultModel,
} from "./model";

/**
 * How often each command kind ran (and did something), how often it found nothing to do, and how many of its calls
 * succeeded and reverted (as predicted).
 */
export const stats = {
  ran: new Map<string, number>(),
  skipped: new Map<string, number>(),
  succeeded: new Map<string, number>(),
  reverted: new Map<string, number>(),
  commands: 0,
};

function bump(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** The owner functions the commands call. */
type VaultFunction =
  | "deposit"
  | "withdraw"
  | "repay"
  | "open"
  | "close"
  | "emergencyDelever"
  | "switchCollateral"
  | "setPolicy"
  | "pauseAutomation"
  | "cancelNonce";

/** What `act` reports: the command did something, or found nothing it could do (a no-op, nothing sent). */
type Ran = "ran" | "skipped";

export abstract class Step implements fc.AsyncCommand<Model, System> {
  abstract readonly kind: string;

  check(_m: Readonly<Model>): boolean {
    return true;
  }

  async run(m: Model, sys: System): Promise<void> {
    const { succeeded, reverted } = outcomes;
    const ran = await this.act(m, sys);
    stats.commands += 1;
    bump(ran === "ran" ? stats.ran : stats.skipped, this.kind);
    bump(stats.succeeded, this.kind, outcomes.succeeded - succeeded);
    bump(stats.reverted, this.kind, outcomes.reverted - reverted);
    await expectProtocolClean(sys);
    await expectMatchesModel(sys, m);
    await expectPoolConsistent(sys);
  }

  protected abstract act(m: Model, sys: System): Promise<Ran>;

  abstract toString(): string;
}

async function deadlineIn(seconds: bigint): Promise<bigint> {
  const block = await hre.ethers.provider.getBlock("latest");
  if (block === null) throw new Error("no block");
  return BigInt(block.timestamp) + seconds;
}

async function wethPrice(sys: System): Promise<bigint> {
  return sys.aave.oracle.getAssetPrice(sys.tokens.erc20.WETH);
}

async function usdcPrice(sys: System): Promise<bigint> {
  return sys.aave.oracle.getAssetPrice(sys.tokens.erc20.USDC);
}

async function bounds(
  sys: System,
  targetHF: bigint,
  slippageBps: bigint,
  paidBase: bigint,
  policy?: VaultModel["policy"],
): Promise<RebalanceBounds> {
  return {
    targetHF,
    tolerance: HF_TOLERANCE,
    band: policy === undefined ? undefined : { minHF: policy.minHF, maxHF: policy.maxHF },
    slippageBps,
    paidBase,
    collateralPrice: await wethPrice(sys),
    debtPrice: await usdcPrice(sys),
    collateralDecimals: sys.collateralDecimals,
    debtDecimals: sys.debtDecimals,
  };
}

async function singleReport(
  owner: Owner,
  tx: ContractTransactionResponse,
): Promise<IBallastVault.RebalanceReportStructOutput> {
  const reports = await rebalancedReports(owner.vault, tx);
  expect(reports.length, "one Rebalanced report").to.equal(1);
  return reports[0];
}

function send(owner: Owner, fn: VaultFunction, args: unknown[]): Promise<ContractTransactionResponse> {
  // The generic `Interface` overload: the commands pass each function's arguments in order.
  return ownerSend(owner, (owner.vault.interface as Interface).encodeFunctionData(fn, args));
}

export class Deposit extends Step {
  override readonly kind = "deposit";
  constructor(
    readonly who: OwnerName,
    readonly weth: bigint,
  ) {
    super();
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const amount = parseUnits(this.weth.toString(), 18);
    const outcome = m.frozen.WETH ? AAVE_FROZEN : OK;
    await expectOutcome(send(owner, "deposit", [amount]), outcome, owner);
    if (outcome.kind === "ok") m.vaults[this.who].hasCollateral = true;
    return "ran";
  }
  override toString() {
    return `Deposit(${this.who}, ${this.weth} WETH)`;
  }
}

/** Withdraws so that the HF lands midway to minHF (`safe`), or below minHF (which the vault must refuse). */
export class Withdraw extends Step {
  override readonly kind = "withdraw";
  constructor(
    readonly who: OwnerName,
    readonly safe: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasCollateral;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    if (!v.hasDebt) {
      await expectOutcome(send(owner, "withdraw", [MaxUint256, owner.address]), OK, owner);
      v.hasCollateral = false;
      return "ran";
    }
    const pos = await owner.vault.position();
    const minHF = v.policy.minHF;
    let target: bigint;
    if (this.safe) {
      if (pos.healthFactor < minHF + parseUnits("0.1", 18)) return "skipped";
      target = minHF + (pos.healthFactor - minHF) / 2n;
    } else {
      target = minHF - parseUnits("0.05", 18);
    }
    const price = await wethPrice(sys);
    // HF = C * LT / D: the collateral value that leaves HF at `target`.
    const collateralAfter = (target * pos.debtBase * 10_000n) / (pos.liquidationThresholdBps * WAD);
    const amount =
      pos.healthFactor > target ? ((pos.collateralBase - collateralAfter) * WAD) / price : parseUnits("0.001", 18);
    const outcome = this.safe ? OK : custom(owner.vault, "VaultHealthBelowMin", anyValue, minHF);
    await expectOutcome(send(owner, "withdraw", [amount, owner.address]), outcome, owner);
    return "ran";
  }
  override toString() {
    return `Withdraw(${this.who}, ${this.safe ? "safe" : "below minHF"})`;
  }
}

export class Repay extends Step {
  override readonly kind = "repay";
  constructor(readonly who: OwnerName) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasDebt;
  }
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    await expectOutcome(send(owner, "repay", [parseUnits("100", 6)]), OK, owner);
    return "ran";
  }
  override toString() {
    return `Repay(${this.who}, 100 USDC)`;
  }
}

export class Open extends Step {
  override readonly kind = "open";
  constructor(
    readonly who: OwnerName,
    readonly weth: bigint,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return !m.vaults[this.who].hasDebt;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const amount = parseUnits(this.weth.toString(), 18);
    // The deposit comes first (a frozen WETH reserve refuses the supply), then the guardian's pause, then the
    // borrow (refused by a frozen USDC reserve).
    const outcome = m.frozen.WETH
      ? AAVE_FROZEN
      : m.leveragePaused
        ? custom(owner.vault, "VaultLeveragePaused")
        : m.frozen.USDC
          ? AAVE_FROZEN
          : OK;
    const tx = await expectOutcome(send(owner, "open", [amount, v.policy.targetHF, sys.up]), outcome, owner);
    if (tx === undefined) return "ran";
    const report = await singleReport(owner, tx);
    expectRebalanceBounded(report, await bounds(sys, v.policy.targetHF, v.policy.maxSlippageBps, 0n, v.policy));
    v.hasDebt = true;
    v.hasCollateral = true;
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `Open(${this.who}, ${this.weth} WETH)`;
  }
}

/** Liveness: close works while automation is paused and while a reserve is frozen. */
export class Close extends Step {
  override readonly kind = "close";
  constructor(readonly who: OwnerName) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasDebt || m.vaults[this.who].hasCollateral;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const tx = await expectOutcome(send(owner, "close", [sys.down]), OK, owner);
    if (tx === undefined) throw new Error("unreachable");
    await expect(tx).to.emit(owner.vault, "Closed");
    v.hasDebt = false;
    v.hasCollateral = false;
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `Close(${this.who})`;
  }
}

/** Liveness: the owner's ripcord works whatever the automation flag or frozen reserves. */
export class EmergencyDelever extends Step {
  override readonly kind = "emergencyDelever";
  constructor(readonly who: OwnerName) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasDebt;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const hf = (await owner.vault.position()).healthFactor;
    if (hf > parseUnits("3", 18)) return "skipped";
    const lift = hf + parseUnits("0.15", 18);
    const target = lift > v.policy.targetHF ? lift : v.policy.targetHF;
    const tx = await expectOutcome(send(owner, "emergencyDelever", [target, sys.down]), OK, owner);
    if (tx === undefined) throw new Error("unreachable");
    const report = await singleReport(owner, tx);
    expectRebalanceBounded(report, await bounds(sys, target, v.policy.maxSlippageBps, 0n));
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `EmergencyDelever(${this.who})`;
  }
}

/**
 * The owner switches the collateral into WBTC and straight back, each leg keeping the debt and bounded like a
 * rebalance (loss at most the slippage bound on the value sold plus the premium). The model's vaults are WETH vaults,
 * so the command ends on WETH. It runs where its outcome is certain: not with a frozen WETH reserve (the supply back
 * is refused) or a running auction (kept for the auction commands), not within 10% above `minHF` (WBTC's lower
 * threshold takes the HF down about 6%), and not where the Quoter says a leg's sale misses its oracle minimum.
 */
export class SwitchRoundTrip extends Step {
  override readonly kind = "switchRoundTrip";
  constructor(readonly who: OwnerName) {
    super();
  }
  override check(m: Readonly<Model>) {
    const v = m.vaults[this.who];
    return v.hasCollateral && !m.frozen.WETH && v.auction === undefined;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const { healthFactor } = await owner.vault.position();
    if (healthFactor < (v.policy.minHF * 11n) / 10n) return "skipped";
    const legs = [
      { from: "WETH", to: await sys.tokens.erc20.WBTC.getAddress(), path: await toWbtc(sys) },
      { from: "WBTC", to: await sys.tokens.erc20.WETH.getAddress(), path: await fromWbtc(sys) },
    ] as const;
    for (const [i, leg] of legs.entries()) {
      const amountIn = await sys.aave.aTokens[leg.from].balanceOf(owner.vaultAddress);
      const prices = await sys.world.oraclePrices();
      const [fromDecimals, toDecimals] = leg.from === "WETH" ? [18n, 8n] : [8n, 18n];
      const least = minAmountOut(
        amountIn,
        prices[leg.from],
        fromDecimals,
        prices[leg.from === "WETH" ? "WBTC" : "WETH"],
        toDecimals,
        v.policy.maxSlippageBps,
      );
      const [quoted] = await sys.uniswap.quoter.quoteExactInput.staticCall(leg.path, amountIn);
      if (quoted < least) {
        if (i === 0) return "skipped";
        throw new Error("the way back misses its minimum: the pools moved between the legs");
      }
      const tx = await expectOutcome(send(owner, "switchCollateral", [leg.to, leg.path]), OK, owner);
      if (tx === undefined) throw new Error("unreachable");
      const receipt = await tx.wait();
      const reports = (receipt?.logs ?? [])
        .map((log) => (log.address === owner.vaultAddress ? owner.vault.interface.parseLog(log) : null))
        .filter((parsed) => parsed?.name === "CollateralSwitched");
      expect(reports.length, "one CollateralSwitched").to.equal(1);
      const report = reports[0]?.args.report as IBallastVault.RebalanceReportStructOutput;
      expect([report.direction, report.amountIn, report.amountOut >= least]).to.deep.equal([4n, amountIn, true]);
      const valueIn = (amountIn * prices[leg.from]) / 10n ** fromDecimals;
      // The vault's own bound, with its rounding allowance: a wei of each asset and four base units.
      const allowed =
        (valueIn * v.policy.maxSlippageBps) / 10_000n +
        report.flashPremiumBase +
        4n +
        prices[leg.from] / 10n ** fromDecimals +
        1n +
        prices[leg.from === "WETH" ? "WBTC" : "WETH"] / 10n ** toDecimals +
        1n;
      expect(report.equityLossBase, "a switch's loss").to.be.lte(allowed);
      expect(await owner.vault.collateralAsset()).to.equal(leg.to);
      await sys.world.arbitrage("WBTC/USDC/3000");
      await rearbitrage(sys);
    }
    return "ran";
  }
  override toString() {
    return `SwitchRoundTrip(${this.who})`;
  }
}

/** How the owner changes the policy. */
export type PolicyRoute = "direct" | "forwarder" | "signature";

export class SetPolicy extends Step {
  override readonly kind: string;
  constructor(
    readonly who: OwnerName,
    /** An index into POLICIES, or -1 for INVALID_POLICY. */
    readonly index: number,
    readonly route: PolicyRoute,
  ) {
    super();
    this.kind = `setPolicy:${route}`;
  }
  override check() {
    // The forwarder takes ECDSA requests: the wallet owner changes its policy directly or by an EIP-1271 signature.
    return !(this.route === "forwarder" && this.who === "wallet");
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const policy = this.index < 0 ? INVALID_POLICY : POLICIES[this.index];
    const outcome =
      this.index < 0 ? custom(owner.vault, "VaultPolicyBandInvalid", policy.minHF, policy.targetHF, policy.maxHF) : OK;
    const keeper = sys.keepers[0];
    if (this.route === "direct") {
      await expectOutcome(send(owner, "setPolicy", [policy]), outcome, owner);
    } else if (this.route === "forwarder") {
      const request = await signForwardRequest(owner.signer, sys.forwarder, {
        to: owner.vaultAddress,
        data: owner.vault.interface.encodeFunctionData("setPolicy", [policy]),
        gas: 300_000n,
        deadline: await deadlineIn(3_600n),
      });
      // The forwarder reports a reverted call as its own `FailedCall()`.
      const forwarded = outcome.kind === "ok" ? OK : custom(sys.forwarder, "FailedCall");
      await expectOutcome(sys.forwarder.connect(keeper).execute(request), forwarded);
    } else {
      const intent: IBallastVault.SetPolicyIntentStruct = {
        policy,
        version: await owner.vault.policyVersion(),
        feeToken: await sys.tokens.erc20.WETH.getAddress(),
        maxFee: 0n,
        nonce: v.nextNonce,
        deadline: await deadlineIn(3_600n),
      };
      const signature = await signIntent(owner.signer, "SetPolicy", owner.vaultAddress, sys.chainId, intent);
      await expectOutcome(owner.vault.connect(keeper).setPolicyBySig(intent, signature, 0n), outcome);
      if (outcome.kind === "ok") {
        v.nextNonce += 1n;
        v.lastPolicyIntent = { intent, signature };
      }
    }
    if (outcome.kind === "ok") v.policy = policy;
    return "ran";
  }
  override toString() {
    return `SetPolicy(${this.who}, ${this.index < 0 ? "invalid" : `#${this.index}`}, ${this.route})`;
  }
}

export class PauseAutomation extends Step {
  override readonly kind = "pauseAutomation";
  constructor(
    readonly who: OwnerName,
    readonly paused: boolean,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].automationPaused !== this.paused;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    await expectOutcome(send(owner, "pauseAutomation", [this.paused]), OK, owner);
    m.vaults[this.who].automationPaused = this.paused;
    return "ran";
  }
  override toString() {
    return `PauseAutomation(${this.who}, ${this.paused})`;
  }
}

/** Moves WETH by `bps` / 10,000 (feeds, pools and the TWAP), unless that would put a vault's HF under 1.1. */
export class MovePrice extends Step {
  override readonly kind: string;
  constructor(readonly bps: bigint) {
    super();
    this.kind = bps < 10_000n ? "price:down" : "price:up";
  }
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    const price = await wethPrice(sys);
    const next = (price * this.bps) / 10_000n;
    if (next < 800n * 10n ** 8n || next > 5_000n * 10n ** 8n) return "skipped";
    for (const vault of [...Object.values(sys.owners).map((o) => o.vault), sys.poolVault]) {
      const pos = await vault.position();
      if (pos.debtBase !== 0n && (pos.healthFactor * this.bps) / 10_000n < parseUnits("1.1", 18)) return "skipped";
    }
    await movePrice(sys, "WETH", next);
    return "ran";
  }
  override toString() {
    return `MovePrice(${Number(this.bps) / 100}%)`;
  }
}

export class Advance extends Step {
  override readonly kind = "advance";
  constructor(readonly seconds: number) {
    super();
  }
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    await sys.world.advance(this.seconds);
    await sys.world.refreshOracles();
    return "ran";
  }
  override toString() {
    return `Advance(${this.seconds}s)`;
  }
}

/** The band direction the auction sees (none while automation is paused), or undefined when too close to call. */
async function auctionState(m: Model, sys: System, who: OwnerName): Promise<{ dir: Dir; hf: bigint } | undefined> {
  const v = m.vaults[who];
  const pos = await sys.owners[who].vault.position();
  if (pos.debtBase !== 0n && nearEdge(pos.healthFactor, v.policy)) return undefined;
  return { dir: band(pos, v.policy), hf: pos.healthFactor };
}

export class Kick extends Step {
  override readonly kind = "kick";
  constructor(
    readonly who: OwnerName,
    readonly keeper: number,
  ) {
    super();
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const state = await auctionState(m, sys, this.who);
    if (state === undefined) return "skipped";
    const dir = v.automationPaused ? Dir.None : state.dir;
    const outcome: Outcome =
      v.auction !== undefined
        ? custom(sys.auction, "AuctionActive", owner.vaultAddress, v.auction.kickedAt)
        : dir === Dir.None
          ? custom(sys.auction, "AuctionNotNeeded", owner.vaultAddress)
          : OK;
    const tx = await expectOutcome(sys.auction.connect(sys.keepers[this.keeper]).kick(owner.vaultAddress), outcome);
    if (tx !== undefined) {
      const block = await tx.getBlock();
      if (block === null) throw new Error("no block");
      v.auction = { direction: dir, kickedAt: BigInt(block.timestamp), kicker: sys.keepers[this.keeper].address };
    }
    return "ran";
  }
  override toString() {
    return `Kick(${this.who}, keeper ${this.keeper})`;
  }
}

/** A named vault, or the `live`-th (modulo their number) of the vaults with a running auction. */
export type Target = OwnerName | { live: number };

function resolve(m: Readonly<Model>, target: Target): OwnerName | undefined {
  if (typeof target === "string") return target;
  const live = OWNER_NAMES.filter((n) => m.vaults[n].auction !== undefined);
  return live.length === 0 ? undefined : live[target.live % live.length];
}

function label(target: Target): string {
  return typeof target === "string" ? target : `live auction #${target.live}`;
}

/** The outcome `execute` must have for a vault, or undefined when the HF is too close to a band edge to call. */
async function executeOutcome(m: Model, sys: System, who: OwnerName): Promise<Outcome | undefined> {
  const owner = sys.owners[who];
  const v = m.vaults[who];
  if (v.auction === undefined) return custom(sys.auction, "AuctionNotActive", owner.vaultAddress);
  const state = await auctionState(m, sys, who);
  if (state === undefined) return undefined;
  if (state.dir !== v.auction.direction && state.dir !== Dir.None) {
    return custom(sys.auction, "AuctionDirectionChanged", owner.vaultAddress, v.auction.direction, state.dir);
  }
  if (v.automationPaused) return custom(owner.vault, "VaultAutomationPaused");
  if (state.dir === Dir.None) {
    return custom(owner.vault, "VaultInBand", anyValue, v.policy.minHF, v.policy.maxHF);
  }
  // Leverage supplies WETH and borrows USDC; deleverage only repays, withdraws and flash-borrows, which a frozen
  // reserve allows.
  if (state.dir === Dir.Leverage && m.leveragePaused) return custom(owner.vault, "VaultLeveragePaused");
  if (state.dir === Dir.Leverage && (m.frozen.WETH || m.frozen.USDC)) return AAVE_FROZEN;
  return OK;
}

function pathFor(sys: System, v: VaultModel): string {
  return v.auction?.direction === Dir.Leverage ? sys.up : sys.down;
}

/**
 * Invariants 3 and 4 on a successful keeper execution, and the auction's end. Returns what the recipient received: the
 * reward less another kicker's refund (plus the refund, when the recipient is that kicker).
 */
async function checkExecuted(
  m: Model,
  sys: System,
  who: OwnerName,
  tx: ContractTransactionResponse,
  recipient: string,
  /** The recipient's USDC before, to check it received exactly its share; undefined in a batch (checked in sum). */
  usdcBefore: bigint | undefined,
): Promise<bigint> {
  const owner = sys.owners[who];
  const v = m.vaults[who];
  const executed = (await executedEvents(sys.auction, tx)).filter((e) => e.vault === owner.vaultAddress);
  expect(executed.length, "one Executed per auction").to.equal(1);
  const [event] = executed;
  const report = await singleReport(owner, tx);
  expect(event.rewardBps, "reward under the owner's cap").to.be.lte(v.policy.maxKeeperRewardBps);
  expect(event.rewardBps, "reward under the protocol cap").to.be.lte(
    (await sys.factory.policyBounds()).maxKeeperRewardBpsCap,
  );
  expect(event.reward, "reward paid is the one the vault kept").to.equal(report.keeperReward);
  expect(event.gasRewardBase, "gas part under the owner's absolute cap").to.be.lte(v.policy.maxRewardBase);
  // The whole reward (premium and gas part), valued at the rebalance's oracle price, within the owner's absolute cap.
  const rewardBase = (event.reward * (await usdcPrice(sys))) / 10n ** sys.debtDecimals;
  expect(rewardBase, "reward under the owner's maxRewardBase").to.be.lte(v.policy.maxRewardBase);
  expect(event.recipient).to.equal(recipient);
  // The kicker, when another keeper executes, is refunded its kick's gas out of the reward, first.
  const refunds = (await kickRefunds(sys.auction, tx)).filter((r) => r.vault === owner.vaultAddress);
  const kicker = v.auction?.kicker;
  if (kicker === event.keeper) expect(refunds.length, "no refund to a keeper executing its own kick").to.equal(0);
  else expect(refunds.length, "at most one refund per execution").to.be.lte(1);
  const refund = refunds[0]?.amount ?? 0n;
  if (refunds.length > 0) expect(refunds[0].kicker, "the kicker is refunded").to.equal(kicker);
  expect(refund, "the refund is part of the reward").to.be.lte(event.reward);
  const received = event.reward - refund + (refunds[0]?.kicker === recipient ? refund : 0n);
  if (usdcBefore !== undefined) {
    expect(await sys.tokens.erc20.USDC.balanceOf(recipient), "reward reached the recipient").to.equal(
      usdcBefore + received,
    );
  }
  const paidBase = (event.reward * (await usdcPrice(sys))) / 10n ** sys.debtDecimals;
  // A keeper's sale is bounded by the urgency-widened slippage, at the HF it started from.
  const slippageBps =
    report.direction === Direction.Deleverage ? saleSlippageBps(report.hfBefore, v.policy) : v.policy.maxSlippageBps;
  expectRebalanceBounded(report, await bounds(sys, v.policy.targetHF, slippageBps, paidBase, v.policy));
  v.auction = undefined;
  return received;
}

/** `execute` by a keeper EOA (0, 1) or by the griefing keeper contract (2). */
export class Execute extends Step {
  override readonly kind = "execute";
  constructor(
    /** A named vault (the examples), or a live auction (random runs: without one, only `AuctionNotActive`). */
    readonly target: Target,
    readonly keeper: number,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return resolve(m, this.target) !== undefined;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const who = resolve(m, this.target);
    if (who === undefined) throw new Error("unreachable");
    const owner = sys.owners[who];
    const v = m.vaults[who];
    const outcome = await executeOutcome(m, sys, who);
    if (outcome === undefined) return "skipped";
    const keeper = sys.keepers[this.keeper % 2];
    const path = pathFor(sys, v);
    const recipient = this.keeper === 2 ? await sys.griefer.getAddress() : keeper.address;
    const before = await sys.tokens.erc20.USDC.balanceOf(recipient);
    const call =
      this.keeper === 2
        ? sys.griefer.connect(keeper).execute(owner.vaultAddress, path, MaxUint256)
        : sys.auction.connect(keeper).execute(owner.vaultAddress, path, MaxUint256, recipient);
    const tx = await expectOutcome(call, outcome);
    if (tx !== undefined) {
      await checkExecuted(m, sys, who, tx, recipient, before);
      await rearbitrage(sys);
    }
    return "ran";
  }
  override toString() {
    return `Execute(${label(this.target)}, ${this.keeper === 2 ? "griefing keeper" : `keeper ${this.keeper}`})`;
  }
}

/** Invariant 4: the griefing keeper executes twice in one transaction; the second finds no auction, so both revert. */
export class ExecuteTwice extends Step {
  override readonly kind = "executeTwice";
  constructor(readonly target: Target) {
    super();
  }
  override check(m: Readonly<Model>) {
    const who = resolve(m, this.target);
    return who !== undefined && m.vaults[who].auction !== undefined;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const who = resolve(m, this.target);
    if (who === undefined) throw new Error("unreachable");
    const owner = sys.owners[who];
    const first = await executeOutcome(m, sys, who);
    if (first === undefined || first.kind !== "ok") return "skipped";
    const call = sys.griefer
      .connect(sys.keepers[0])
      .executeTwice(owner.vaultAddress, pathFor(sys, m.vaults[who]), MaxUint256);
    await expectOutcome(call, custom(sys.auction, "AuctionNotActive", owner.vaultAddress));
    return "ran";
  }
  override toString() {
    return `ExecuteTwice(${label(this.target)})`;
  }
}

/** `executeBatch` over all three vaults: each succeeds or fails on its own, exactly as predicted. */
export class ExecuteBatch extends Step {
  override readonly kind = "executeBatch";
  constructor(readonly keeper: number) {
    super();
  }
  override check(m: Readonly<Model>) {
    return OWNER_NAMES.some((n) => m.vaults[n].auction !== undefined);
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const predicted: Outcome[] = [];
    for (const name of OWNER_NAMES) {
      const outcome = await executeOutcome(m, sys, name);
      if (outcome === undefined) return "skipped";
      predicted.push(outcome);
    }
    const keeper = sys.keepers[this.keeper];
    const calls = OWNER_NAMES.map((n) => ({
      vault: sys.owners[n].vaultAddress,
      path: pathFor(sys, m.vaults[n]),
      maxAmountIn: MaxUint256,
    }));
    const before = await sys.tokens.erc20.USDC.balanceOf(keeper.address);
    const tx = await sys.auction.connect(keeper).executeBatch(calls, keeper.address);
    const receipt = await tx.wait();
    if (receipt === null) throw new Error("no receipt");
    const failed = new Map<string, string>();
    for (const log of receipt.logs) {
      const parsed = log.address === (await sys.auction.getAddress()) ? sys.auction.interface.parseLog(log) : null;
      if (parsed?.name === "ExecutionFailed") failed.set(parsed.args.vault, parsed.args.reason);
    }
    let rewards = 0n;
    for (const [i, name] of OWNER_NAMES.entries()) {
      const owner = sys.owners[name];
      const outcome = predicted[i];
      outcomes[outcome.kind === "ok" ? "succeeded" : "reverted"] += 1;
      if (outcome.kind === "ok") {
        expect(
          failed.has(owner.vaultAddress),
          `${name} failed in the batch: ${failed.get(owner.vaultAddress)}`,
        ).to.equal(false);
        rewards += await checkExecuted(m, sys, name, tx, keeper.address, undefined);
      } else {
        const reason = failed.get(owner.vaultAddress);
        expect(reason, `${name} should have failed`).to.not.equal(undefined);
        expect(revertMatcher(outcome)(reason ?? "0x"), `${name} failure reason ${reason}`).to.equal(true);
      }
    }
    expect(await sys.tokens.erc20.USDC.balanceOf(keeper.address), "the batch's rewards").to.equal(before + rewards);
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `ExecuteBatch(keeper ${this.keeper})`;
  }
}

export class Cancel extends Step {
  override readonly kind = "cancel";
  constructor(
    /** A named vault (the examples), or a live auction (random runs). */
    readonly target: Target,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return resolve(m, this.target) !== undefined;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const who = resolve(m, this.target);
    if (who === undefined) throw new Error("unreachable");
    const owner = sys.owners[who];
    const v = m.vaults[who];
    const state = await auctionState(m, sys, who);
    if (state === undefined) return "skipped";
    const dir = v.automationPaused ? Dir.None : state.dir;
    const outcome =
      v.auction === undefined
        ? custom(sys.auction, "AuctionNotActive", owner.vaultAddress)
        : dir === v.auction.direction
          ? custom(sys.auction, "AuctionStillNeeded", owner.vaultAddress)
          : OK;
    await expectOutcome(sys.auction.connect(sys.attacker).cancel(owner.vaultAddress), outcome);
    if (outcome.kind === "ok") v.auction = undefined;
    return "ran";
  }
  override toString() {
    return `Cancel(${label(this.target)})`;
  }
}

/** A keeper carries out the owner's signed one-shot rebalance to the policy target, for a reward in WETH or USDC. */
export class RebalanceBySig extends Step {
  override readonly kind = "rebalanceBySig";
  constructor(
    readonly who: OwnerName,
    readonly rewardIn: "WETH" | "USDC",
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasDebt;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const target = v.policy.targetHF;
    const hf = (await owner.vault.position()).healthFactor;
    const gap = hf > target ? hf - target : target - hf;
    if (gap < parseUnits("0.1", 18) || hf > parseUnits("3", 18)) return "skipped";
    const dir = target > hf ? Dir.Deleverage : Dir.Leverage;
    const reward = this.rewardIn === "WETH" ? parseUnits("0.01", 18) : parseUnits("5", 6);
    const token = sys.tokens.erc20[this.rewardIn];
    const intent: IBallastVault.RebalanceIntentStruct = {
      direction: dir,
      targetHF: target,
      maxSlippageBps: v.policy.maxSlippageBps,
      rewardToken: await token.getAddress(),
      maxReward: reward,
      nonce: v.nextNonce,
      deadline: await deadlineIn(3_600n),
    };
    const signature = await signIntent(owner.signer, "Rebalance", owner.vaultAddress, sys.chainId, intent);
    const outcome =
      dir === Dir.Leverage && m.leveragePaused
        ? custom(owner.vault, "VaultLeveragePaused")
        : dir === Dir.Leverage && (m.frozen.WETH || m.frozen.USDC)
          ? AAVE_FROZEN
          : OK;
    const keeper = sys.keepers[1];
    const before = await token.balanceOf(keeper.address);
    const path = dir === Dir.Leverage ? sys.up : sys.down;
    const tx = await expectOutcome(
      owner.vault.connect(keeper).rebalanceBySig(intent, signature, path, reward),
      outcome,
    );
    if (tx === undefined) return "ran";
    v.nextNonce += 1n;
    v.lastRebalanceIntent = { intent, signature, path, reward };
    await expect(tx)
      .to.emit(owner.vault, "IntentExecuted")
      .withArgs(keeper.address, intent.nonce, intent.rewardToken, reward);
    expect(await token.balanceOf(keeper.address), "keeper paid its reward once").to.equal(before + reward);
    const price = this.rewardIn === "WETH" ? await wethPrice(sys) : await usdcPrice(sys);
    const decimals = this.rewardIn === "WETH" ? sys.collateralDecimals : sys.debtDecimals;
    const report = await singleReport(owner, tx);
    expect(report.direction).to.equal(BigInt(dir));
    expectRebalanceBounded(
      report,
      await bounds(sys, target, v.policy.maxSlippageBps, (reward * price) / 10n ** decimals),
    );
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `RebalanceBySig(${this.who}, reward in ${this.rewardIn})`;
  }
}

/** How a keeper submits the owner's signed close. */
export type CloseVariant = "feeWETH" | "feeUSDC" | "noFee" | "feeAboveMax" | "twapLag";

/**
 * A keeper carries out the owner's signed close, paid in WETH (withdrawn), in USDC (out of the unwind's leftover) or
 * not at all; or asks more than the signed maximum. `twapLag` drops WETH by 15% in the feed and pools in one block,
 * which no TWAP has seen yet: the signed close keeps the (short-window) TWAP agreement and reverts, the owner's own
 * `close` does not and succeeds; then the price is restored.
 */
export class CloseBySig extends Step {
  override readonly kind = "closeBySig";
  constructor(
    readonly who: OwnerName,
    readonly variant: CloseVariant,
  ) {
    super();
  }
  override check(m: Readonly<Model>) {
    // Only an unwind reads prices: the TWAP case needs debt.
    return this.variant !== "twapLag" || m.vaults[this.who].hasDebt;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const weth = sys.tokens.erc20.WETH;
    const usdc = sys.tokens.erc20.USDC;
    const price = await wethPrice(sys);
    if (this.variant === "twapLag") {
      for (const o of Object.values(sys.owners)) {
        const pos = await o.vault.position();
        if (pos.debtBase !== 0n && (pos.healthFactor * 8_500n) / 10_000n < parseUnits("1.1", 18)) return "skipped";
      }
      // Feed and pools move now; the TWAP over the last window still reads the old price.
      await sys.world.setPrice("WETH", (price * 8_500n) / 10_000n);
    }
    const wethFee = parseUnits("0.01", 18);
    const usdcFee = parseUnits("1", 6);
    const [feeToken, fee, maxFee] =
      this.variant === "feeWETH"
        ? [weth, wethFee, 2n * wethFee]
        : this.variant === "feeUSDC"
          ? [usdc, usdcFee, usdcFee]
          : this.variant === "feeAboveMax"
            ? [weth, wethFee + 1n, wethFee]
            : [usdc, 0n, 0n];
    const intent: IBallastVault.CloseIntentStruct = {
      maxSlippageBps: v.policy.maxSlippageBps,
      feeToken: await feeToken.getAddress(),
      maxFee,
      nonce: v.nextNonce,
      deadline: await deadlineIn(3_600n),
    };
    const signature = await signIntent(owner.signer, "Close", owner.vaultAddress, sys.chainId, intent);
    const empty = !v.hasDebt && !v.hasCollateral;
    // Without debt nothing is unwound, so no USDC is left over to pay a USDC fee from (the vault holds none idle).
    const noFeeLeft = this.variant === "feeUSDC" && !v.hasDebt;
    // The fee bound first, then the signature and nonce, then the unwind's prices (or, without debt, whether there is
    // anything to close), then the fee.
    const outcome: Outcome =
      this.variant === "feeAboveMax"
        ? custom(owner.vault, "VaultFeeAboveMax", fee, maxFee)
        : this.variant === "twapLag"
          ? custom(sys.priceGuard, "PriceGuardTwapDeviation", weth, usdc, anyValue, anyValue, 500n)
          : empty
            ? custom(owner.vault, "VaultNothingToClose")
            : noFeeLeft
              ? custom(owner.vault, "VaultFeeUnavailable", feeToken, fee, 0n)
              : OK;
    const keeper = sys.keepers[1];
    const balances = () =>
      Promise.all([feeToken.balanceOf(keeper.address), weth.balanceOf(owner.address), usdc.balanceOf(owner.address)]);
    const [keeperBefore, wethBefore, usdcBefore] = await balances();
    const tx = await expectOutcome(owner.vault.connect(keeper).closeBySig(intent, signature, sys.down, fee), outcome);
    if (tx === undefined) {
      if (this.variant === "twapLag") {
        // The owner's own exit prices with fresh feeds only: the lagging TWAP does not trap it.
        await expectOutcome(send(owner, "close", [sys.down]), OK, owner);
        v.hasDebt = false;
        v.hasCollateral = false;
        await movePrice(sys, "WETH", price);
      }
      return "ran";
    }
    v.nextNonce += 1n;
    v.hasDebt = false;
    v.hasCollateral = false;
    await expect(tx).to.emit(owner.vault, "IntentExecuted").withArgs(keeper.address, intent.nonce, feeToken, fee);
    const closed = (await tx.wait())?.logs
      .filter((log) => log.address === owner.vaultAddress)
      .map((log) => owner.vault.interface.parseLog(log))
      .find((parsed) => parsed?.name === "Closed");
    if (closed === undefined || closed === null) throw new Error("no Closed event");
    const [to, collateralReturned, debtAssetReturned] = closed.args as unknown as [string, bigint, bigint];
    expect(to, "closed to the owner").to.equal(owner.address);
    const [keeperAfter, wethAfter, usdcAfter] = await balances();
    expect(keeperAfter - keeperBefore, "keeper paid its fee once").to.equal(fee);
    expect([wethAfter - wethBefore, usdcAfter - usdcBefore], "the owner got what Closed reports").to.deep.equal([
      collateralReturned,
      debtAssetReturned,
    ]);
    expect(collateralReturned > 0n, "the owner got collateral back").to.equal(true);
    await rearbitrage(sys);
    return "ran";
  }
  override toString() {
    return `CloseBySig(${this.who}, ${this.variant})`;
  }
}

/**
 * The owner cancels its next nonce after signing a Close intent with it: the signed close then reverts with
 * `VaultNonceUsed`, as does cancelling the nonce again; the position is untouched.
 */
export class CancelNonce extends Step {
  override readonly kind = "cancelNonce";
  constructor(readonly who: OwnerName) {
    super();
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const nonce = v.nextNonce;
    const intent: IBallastVault.CloseIntentStruct = {
      maxSlippageBps: v.policy.maxSlippageBps,
      feeToken: await sys.tokens.erc20.WETH.getAddress(),
      maxFee: 0n,
      nonce,
      deadline: await deadlineIn(3_600n),
    };
    const signature = await signIntent(owner.signer, "Close", owner.vaultAddress, sys.chainId, intent);
    const tx = await expectOutcome(send(owner, "cancelNonce", [nonce]), OK, owner);
    if (tx === undefined) throw new Error("unreachable");
    await expect(tx).to.emit(owner.vault, "NonceCancelled").withArgs(owner.address, nonce);
    v.nextNonce += 1n;
    const used = custom(owner.vault, "VaultNonceUsed", nonce);
    await expectOutcome(owner.vault.connect(sys.keepers[1]).closeBySig(intent, signature, sys.down, 0n), used);
    await expectOutcome(send(owner, "cancelNonce", [nonce]), used, owner);
    return "ran";
  }
  override toString() {
    return `CancelNonce(${this.who})`;
  }
}

export const ATTACKS = [
  "withdraw",
  "setPolicy",
  "forgedSignature",
  "replayedSignature",
  "replayedRebalanceSignature",
  "expiredSignature",
  "wrongChainSignature",
  "otherVaultSignature",
  "spoofedForwardRequest",
  "cancelNonce",
  "stalePolicySignature",
  "wrongDirectionRebalance",
  "switchCollateral",
  "forgedSwitchSignature",
] as const;
export type Attack = (typeof ATTACKS)[number];

/** WETH -> USDC (0.05%) -> WBTC (0.3%), and back: a collateral switch's paths through governance's routes. */
const toWbtc = (sys: System) => marketPath(sys, ["WETH", "USDC", "WBTC"], [500, 3_000]);
const fromWbtc = (sys: System) => marketPath(sys, ["WBTC", "USDC", "WETH"], [3_000, 500]);

/** Invariants 2 and 6: every way the attacker tries to act for an owner reverts with the exact error, and changes nothing. */
export class AttackerAttempt extends Step {
  override readonly kind: string;
  constructor(
    readonly who: OwnerName,
    readonly attack: Attack,
  ) {
    super();
    this.kind = `attack:${attack}`;
  }
  override check(m: Readonly<Model>) {
    if (this.attack === "replayedSignature") return m.vaults[this.who].lastPolicyIntent !== undefined;
    if (this.attack === "replayedRebalanceSignature") return m.vaults[this.who].lastRebalanceIntent !== undefined;
    if (this.attack === "spoofedForwardRequest") return this.who !== "wallet";
    if (this.attack === "wrongDirectionRebalance") return m.vaults[this.who].hasDebt;
    return true;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const v = m.vaults[this.who];
    const vault = owner.vault.connect(sys.attacker);
    const policy = POLICIES[1];
    const before = await this.snapshot(sys, owner);
    const version = await owner.vault.policyVersion();
    const intent: IBallastVault.SetPolicyIntentStruct = {
      policy,
      version,
      feeToken: await sys.tokens.erc20.WETH.getAddress(),
      maxFee: parseUnits("1", 18),
      nonce: v.nextNonce,
      deadline: await deadlineIn(3_600n),
    };
    const fee = parseUnits("1", 18);
    const sign = (signer = owner.signer, vaultAddress = owner.vaultAddress, chainId = sys.chainId) =>
      signIntent(signer, "SetPolicy", vaultAddress, chainId, intent);
    const invalid = custom(owner.vault, "VaultInvalidSignature", owner.address);
    switch (this.attack) {
      case "withdraw":
        await expectOutcome(
          vault.withdraw(1n, sys.attacker.address),
          custom(owner.vault, "VaultNotOwner", sys.attacker.address),
        );
        break;
      case "setPolicy":
        await expectOutcome(vault.setPolicy(policy), custom(owner.vault, "VaultNotOwner", sys.attacker.address));
        break;
      case "forgedSignature":
        await expectOutcome(vault.setPolicyBySig(intent, await sign(sys.attacker), fee), invalid);
        break;
      case "replayedSignature": {
        const last = v.lastPolicyIntent;
        if (last === undefined) throw new Error("unreachable");
        await expectOutcome(
          vault.setPolicyBySig(last.intent, last.signature, 0n),
          custom(owner.vault, "VaultNonceUsed", last.intent.nonce),
        );
        break;
      }
      case "replayedRebalanceSignature": {
        const last = v.lastRebalanceIntent;
        if (last === undefined) throw new Error("unreachable");
        await expectOutcome(
          vault.rebalanceBySig(last.intent, last.signature, last.path, last.reward),
          custom(owner.vault, "VaultNonceUsed", last.intent.nonce),
        );
        break;
      }
      case "expiredSignature": {
        intent.deadline = (await deadlineIn(0n)) - 1n;
        await expectOutcome(
          vault.setPolicyBySig(intent, await sign(), fee),
          custom(owner.vault, "VaultIntentExpired", intent.deadline),
        );
        break;
      }
      case "wrongChainSignature":
        await expectOutcome(
          vault.setPolicyBySig(intent, await sign(owner.signer, undefined, sys.chainId + 1n), fee),
          invalid,
        );
        break;
      case "otherVaultSignature": {
        // Signed by the owner, but for another vault's domain: the signature is bound to its verifying contract.
        const elsewhere =
          sys.owners[OWNER_NAMES[(OWNER_NAMES.indexOf(this.who) + 1) % OWNER_NAMES.length]].vaultAddress;
        await expectOutcome(vault.setPolicyBySig(intent, await sign(owner.signer, elsewhere), fee), invalid);
        break;
      }
      case "stalePolicySignature": {
        // R3: a policy the owner signed before the last policy change (another nonce, still unused), replayed by a
        // relayer over the newer one. The version it replaces is stale.
        intent.version = version - 1n;
        await expectOutcome(
          vault.setPolicyBySig(intent, await sign(), fee),
          custom(owner.vault, "VaultPolicyVersionStale", version - 1n, version),
        );
        break;
      }
      case "wrongDirectionRebalance": {
        // R7: the owner signed a move one way ("go to target"), the relayer fills it when it would go the other way.
        const target = v.policy.targetHF;
        const hf = (await owner.vault.position()).healthFactor;
        if (hf === target) return "skipped";
        const actual = target > hf ? Dir.Deleverage : Dir.Leverage;
        const signed = actual === Dir.Deleverage ? Dir.Leverage : Dir.Deleverage;
        const rebalance: IBallastVault.RebalanceIntentStruct = {
          direction: signed,
          targetHF: target,
          maxSlippageBps: v.policy.maxSlippageBps,
          rewardToken: await sys.tokens.erc20.WETH.getAddress(),
          maxReward: 0n,
          nonce: v.nextNonce,
          deadline: await deadlineIn(3_600n),
        };
        const signature = await signIntent(owner.signer, "Rebalance", owner.vaultAddress, sys.chainId, rebalance);
        await expectOutcome(
          vault.rebalanceBySig(rebalance, signature, actual === Dir.Leverage ? sys.up : sys.down, 0n),
          custom(owner.vault, "VaultIntentDirection", signed, actual),
        );
        break;
      }
      case "switchCollateral":
        await expectOutcome(
          vault.switchCollateral(await sys.tokens.erc20.WBTC.getAddress(), await toWbtc(sys)),
          custom(owner.vault, "VaultNotOwner", sys.attacker.address),
        );
        break;
      case "forgedSwitchSignature": {
        // The attacker signs a switch of the owner's vault into WBTC with a fee for itself.
        const switchIntent: IBallastVault.SwitchIntentStruct = {
          newCollateral: await sys.tokens.erc20.WBTC.getAddress(),
          maxSlippageBps: v.policy.maxSlippageBps,
          maxFee: 10_000n,
          nonce: v.nextNonce,
          deadline: await deadlineIn(3_600n),
        };
        const forged = await signIntent(sys.attacker, "Switch", owner.vaultAddress, sys.chainId, switchIntent);
        await expectOutcome(vault.switchCollateralBySig(switchIntent, forged, await toWbtc(sys), 10_000n), invalid);
        break;
      }
      case "cancelNonce":
        // The owner's next nonce stays unused (`expectMatchesModel`).
        await expectOutcome(vault.cancelNonce(v.nextNonce), custom(owner.vault, "VaultNotOwner", sys.attacker.address));
        break;
      case "spoofedForwardRequest": {
        const request = await signForwardRequest(sys.attacker, sys.forwarder, {
          to: owner.vaultAddress,
          data: owner.vault.interface.encodeFunctionData("withdraw", [MaxUint256, sys.attacker.address]),
          gas: 300_000n,
          deadline: await deadlineIn(3_600n),
        });
        await expectOutcome(
          sys.forwarder.connect(sys.attacker).execute({ ...request, from: owner.address }),
          custom(sys.forwarder, "ERC2771ForwarderInvalidSigner", anyValue, owner.address),
        );
        break;
      }
    }
    expect(await this.snapshot(sys, owner), "an attack changed nothing").to.deep.equal(before);
    return "ran";
  }
  private async snapshot(sys: System, owner: Owner): Promise<(bigint | string)[]> {
    return Promise.all([
      sys.aave.aTokens.WETH.scaledBalanceOf(owner.vaultAddress),
      sys.aave.aTokens.WBTC.scaledBalanceOf(owner.vaultAddress),
      sys.aave.variableDebtTokens.USDC.scaledBalanceOf(owner.vaultAddress),
      owner.vault.collateralAsset(),
      sys.tokens.erc20.WETH.balanceOf(sys.attacker.address),
      sys.tokens.erc20.WBTC.balanceOf(sys.attacker.address),
      sys.tokens.erc20.USDC.balanceOf(sys.attacker.address),
    ]);
  }
  override toString() {
    return `Attack(${this.who}, ${this.attack})`;
  }
}

/** The market's admin freezes or unfreezes an Aave reserve (PoolConfigurator). */
export class Freeze extends Step {
  override readonly kind: string;
  constructor(
    readonly asset: "WETH" | "USDC",
    readonly frozen: boolean,
  ) {
    super();
    this.kind = frozen ? "freeze" : "unfreeze";
  }
  override check(m: Readonly<Model>) {
    return m.frozen[this.asset] !== this.frozen;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    await mined(
      sys.aave.configurator.connect(sys.accounts.admin).setReserveFreeze(sys.tokens.erc20[this.asset], this.frozen),
    );
    m.frozen[this.asset] = this.frozen;
    return "ran";
  }
  override toString() {
    return `${this.frozen ? "Freeze" : "Unfreeze"}(${this.asset})`;
  }
}

/** The guardian pauses or resumes new leverage: `open` and leverage-up stop, the exits do not. */
export class LeveragePause extends Step {
  override readonly kind: string;
  constructor(readonly paused: boolean) {
    super();
    this.kind = paused ? "leveragePause" : "leverageResume";
  }
  override check(m: Readonly<Model>) {
    return m.leveragePaused !== this.paused;
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    await mined(sys.factory.connect(sys.guardian).setLeveragePaused(this.paused));
    m.leveragePaused = this.paused;
    return "ran";
  }
  override toString() {
    return `LeveragePause(${this.paused})`;
  }
}

/** Invariant 5's converse: with the Aave pool paused, every exit reverts with RESERVE_PAUSED; then it is unpaused. */
export class AavePauseProbe extends Step {
  override readonly kind = "aavePause";
  constructor(readonly who: OwnerName) {
    super();
  }
  override check(m: Readonly<Model>) {
    return m.vaults[this.who].hasDebt;
  }
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    const owner = sys.owners[this.who];
    const configurator = sys.aave.configurator.connect(sys.accounts.admin);
    await mined(configurator.setPoolPause(true));
    const hf = (await owner.vault.position()).healthFactor;
    const exits: [VaultFunction, unknown[]][] = [
      ["withdraw", [parseUnits("0.001", 18), owner.address]],
      ["repay", [parseUnits("100", 6)]],
      ["emergencyDelever", [hf + parseUnits("0.2", 18), sys.down]],
      ["close", [sys.down]],
    ];
    for (const [fn, args] of exits) await expectOutcome(send(owner, fn, args), AAVE_PAUSED, owner);
    await mined(configurator.setPoolPause(false));
    return "ran";
  }
  override toString() {
    return `AavePauseProbe(${this.who})`;
  }
}

/**
 * A pool holder (alice or bob, as EOAs) deposits 1 or 5 WETH through the probe: refused with
 * `ERC4626ExceededMaxDeposit` while Aave's WETH reserve is frozen; otherwise it mints exactly `previewDeposit` in the
 * same transaction and no other holder's shares lose value. Skipped while the oracle cannot price the pool.
 */
export class PoolDeposit extends Step {
  override readonly kind = "pool:deposit";
  constructor(
    readonly holder: number,
    readonly weth: bigint,
  ) {
    super();
  }
  protected override async act(m: Model, sys: System): Promise<Ran> {
    const holder = sys.poolHolders[this.holder];
    const amount = parseUnits(this.weth.toString(), 18);
    const priced = await sys.pool.totalAssets().then(
      () => true,
      () => false,
    );
    if (!priced) return "skipped";
    const deposit = () => sys.probe.connect(holder).deposit(sys.pool, amount);
    if (m.frozen.WETH) {
      await expectOutcome(deposit(), custom(sys.pool, "ERC4626ExceededMaxDeposit", holder.address, amount, 0n));
      return "ran";
    }
    const before = await sys.pool.balanceOf(holder);
    outcomes.succeeded += 1;
    const probed = await compared(sys.probe, deposit());
    expect(probed.actual, "deposit mints previewDeposit").to.equal(probed.preview);
    expect((await sys.pool.balanceOf(holder)) - before).to.equal(probed.actual);
    expect(probed.priceAfter, "a deposit never lowers the share price").to.be.gte(probed.priceBefore);
    return "ran";
  }
  override toString() {
    return `PoolDeposit(holder ${this.holder}, ${this.weth} WETH)`;
  }
}

/**
 * A pool holder redeems a quarter, half or all of their shares through the probe. Predicted from `maxRedeem` read
 * just before (0 while the position is below its minHF, or Aave or the oracle cannot serve the exit): more than it is
 * refused with `ERC4626ExceededMaxRedeem`; otherwise the holder gets at least `previewRedeem` of the same transaction
 * and, the pool's invariant, no other holder's share price falls beyond a unit of rounding.
 */
export class PoolRedeem extends Step {
  override readonly kind = "pool:redeem";
  constructor(
    readonly holder: number,
    readonly ppm: bigint,
  ) {
    super();
  }
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    const holder = sys.poolHolders[this.holder];
    const shares = ((await sys.pool.balanceOf(holder)) * this.ppm) / 1_000_000n;
    if (shares === 0n) return "skipped";
    const most = await sys.pool.maxRedeem(holder);
    const redeem = () => sys.probe.connect(holder).redeem(sys.pool, shares);
    if (shares > most) {
      await expectOutcome(redeem(), custom(sys.pool, "ERC4626ExceededMaxRedeem", holder.address, shares, most));
      return "ran";
    }
    const weth = await sys.tokens.erc20.WETH.balanceOf(holder);
    outcomes.succeeded += 1;
    const probed = await compared(sys.probe, redeem());
    expect(probed.actual, "redeem gives at least previewRedeem").to.be.gte(probed.preview);
    expect((await sys.tokens.erc20.WETH.balanceOf(holder)) - weth).to.equal(probed.actual);
    expect(probed.priceAfter, "no redemption lowers the others' share price").to.be.gte(probed.priceBefore - 1n);
    return "ran";
  }
  override toString() {
    return `PoolRedeem(holder ${this.holder}, ${Number(this.ppm) / 10_000}%)`;
  }
}

/** A keeper's rebalance of the pool's position when it left its band; skipped where the call would revert. */
export class PoolRebalance extends Step {
  override readonly kind = "pool:rebalance";
  protected override async act(_m: Model, sys: System): Promise<Ran> {
    const { needed, direction } = await sys.poolVault.rebalanceNeeded();
    if (!needed) return "skipped";
    const path = direction === BigInt(Dir.Deleverage) ? sys.down : sys.up;
    // Frozen reserves, paused leverage and the like are the vault's own tests; here the pool's invariants matter.
    const ok = await sys.poolVault.rebalance.staticCall(path, MaxUint256).then(
      () => true,
      () => false,
    );
    if (!ok) return "skipped";
    await expectOutcome(sys.poolVault.rebalance(path, MaxUint256), OK);
    return "ran";
  }
  override toString() {
    return "PoolRebalance";
  }
}

const who = fc.constantFrom(...OWNER_NAMES);
const live = fc.integer({ min: 0, max: OWNER_NAMES.length - 1 }).map((n): Target => ({ live: n }));

/**
 * Every command kind, with its random arguments and a weight: price moves, kicks and executions come four times as
 * often as the rest (the other auction commands twice), so that short sequences still move a vault out of its band
 * and race keepers for it. Executions and cancels pick a live auction (`Target`), so they are not wasted.
 */
export const commandArbitrary: fc.Arbitrary<Step> = fc.oneof(
  ...(
    [
      [1, fc.tuple(who, fc.constantFrom(1n, 2n)).map(([w, a]) => new Deposit(w, a))],
      [1, fc.tuple(who, fc.boolean()).map(([w, s]) => new Withdraw(w, s))],
      [1, who.map((w) => new Repay(w))],
      [1, fc.tuple(who, fc.constantFrom(2n, 5n)).map(([w, a]) => new Open(w, a))],
      [1, who.map((w) => new Close(w))],
      [1, who.map((w) => new EmergencyDelever(w))],
      [1, who.map((w) => new SwitchRoundTrip(w))],
      [
        1,
        fc
          .tuple(
            who,
            fc.integer({ min: -1, max: POLICIES.length - 1 }),
            fc.constantFrom<PolicyRoute>("direct", "forwarder", "signature"),
          )
          .map(([w, i, r]) => new SetPolicy(w, i, r)),
      ],
      [1, fc.tuple(who, fc.boolean()).map(([w, p]) => new PauseAutomation(w, p))],
      [4, fc.constantFrom(7_500n, 8_500n, 11_500n, 12_500n).map((bps) => new MovePrice(bps))],
      [1, fc.constantFrom(60, 600, 3_000).map((s) => new Advance(s))],
      [4, fc.tuple(who, fc.integer({ min: 0, max: 1 })).map(([w, k]) => new Kick(w, k))],
      [4, fc.tuple(live, fc.integer({ min: 0, max: 2 })).map(([t, k]) => new Execute(t, k))],
      [2, live.map((t) => new ExecuteTwice(t))],
      [2, fc.integer({ min: 0, max: 1 }).map((k) => new ExecuteBatch(k))],
      [2, live.map((t) => new Cancel(t))],
      [1, fc.tuple(who, fc.constantFrom<"WETH" | "USDC">("WETH", "USDC")).map(([w, t]) => new RebalanceBySig(w, t))],
      [
        1,
        fc
          .tuple(who, fc.constantFrom<CloseVariant>("feeWETH", "feeUSDC", "noFee", "feeAboveMax", "twapLag"))
          .map(([w, c]) => new CloseBySig(w, c)),
      ],
      [1, who.map((w) => new CancelNonce(w))],
      [1, fc.tuple(who, fc.constantFrom(...ATTACKS)).map(([w, a]) => new AttackerAttempt(w, a))],
      [1, fc.tuple(fc.constantFrom<"WETH" | "USDC">("WETH", "USDC"), fc.boolean()).map(([a, f]) => new Freeze(a, f))],
      [1, who.map((w) => new AavePauseProbe(w))],
      [1, fc.boolean().map((p) => new LeveragePause(p))],
      [1, fc.tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom(1n, 5n)).map(([h, a]) => new PoolDeposit(h, a))],
      [
        2,
        fc
          .tuple(fc.integer({ min: 0, max: 1 }), fc.constantFrom(250_000n, 500_000n, 1_000_000n))
          .map(([h, p]) => new PoolRedeem(h, p)),
      ],
      [2, fc.constant(new PoolRebalance())],
    ] as [number, fc.Arbitrary<Step>][]
  ).map(([weight, arbitrary]) => ({ weight, arbitrary })),
);

/** Every kind a sequence can run, for the coverage test. */
export const ALL_KINDS = [
  "deposit",
  "withdraw",
  "repay",
  "open",
  "close",
  "emergencyDelever",
  "switchRoundTrip",
  "setPolicy:direct",
  "setPolicy:forwarder",
  "setPolicy:signature",
  "pauseAutomation",
  "price:down",
  "price:up",
  "advance",
  "kick",
  "execute",
  "executeTwice",
  "executeBatch",
  "cancel",
  "rebalanceBySig",
  "closeBySig",
  "cancelNonce",
  ...ATTACKS.map((a) => `attack:${a}`),
  "freeze",
  "unfreeze",
  "aavePause",
  "leveragePause",
  "leverageResume",
  "pool:deposit",
  "pool:redeem",
  "pool:rebalance",
];

/** Fixed sequences run in every CI run, so that every command kind runs (and does something) at least once. */
export const EXAMPLES: Step[][] = [
  [
    new MovePrice(7_500n),
    new Kick("alice", 0),
    new ExecuteTwice("alice"),
    new Execute("alice", 2),
    new Kick("bob", 1),
    new Kick("wallet", 0),
    new ExecuteBatch(1),
    new Cancel("alice"),
    new Execute("alice", 0),
  ],
  [
    new MovePrice(12_500n),
    new Kick("alice", 0),
    new Advance(600),
    new Execute("alice", 0),
    new PauseAutomation("bob", true),
    new EmergencyDelever("bob"),
    new Kick("wallet", 1),
    new MovePrice(8_500n),
    new Cancel("wallet"),
  ],
  [
    new Freeze("USDC", true),
    new MovePrice(8_500n),
    // BAL-03: a signed deleverage keeps its USDC reward from the swap output, so a frozen USDC reserve does not stop it.
    new RebalanceBySig("alice", "USDC"),
    new AttackerAttempt("alice", "replayedRebalanceSignature"),
    // R3 and R7: a stale signed policy, and a signed rebalance filled the other way, are refused.
    new AttackerAttempt("bob", "stalePolicySignature"),
    new AttackerAttempt("bob", "wrongDirectionRebalance"),
    new Kick("bob", 0),
    new Execute("bob", 0),
    new Withdraw("bob", false),
    new Repay("bob"),
    new Close("bob"),
    new Open("bob", 2n),
    new Freeze("USDC", false),
    new Open("bob", 5n),
  ],
  [
    new Freeze("WETH", true),
    new MovePrice(7_500n),
    new Kick("alice", 1),
    new Execute("alice", 1),
    new Deposit("bob", 1n),
    new Withdraw("alice", true),
    new AavePauseProbe("wallet"),
    new Freeze("WETH", false),
    new Deposit("bob", 2n),
  ],
  [
    new SetPolicy("alice", 1, "direct"),
    new SetPolicy("bob", 2, "forwarder"),
    new SetPolicy("wallet", 1, "signature"),
    new AttackerAttempt("wallet", "replayedSignature"),
    new AttackerAttempt("alice", "forgedSignature"),
    new AttackerAttempt("bob", "expiredSignature"),
    new AttackerAttempt("wallet", "wrongChainSignature"),
    new AttackerAttempt("alice", "otherVaultSignature"),
    new AttackerAttempt("bob", "switchCollateral"),
    new AttackerAttempt("wallet", "forgedSwitchSignature"),
  ],
  [
    new SwitchRoundTrip("alice"),
    new SwitchRoundTrip("wallet"),
    new AttackerAttempt("alice", "withdraw"),
    new AttackerAttempt("bob", "setPolicy"),
    new AttackerAttempt("alice", "spoofedForwardRequest"),
    new SetPolicy("bob", -1, "direct"),
    new SetPolicy("alice", -1, "forwarder"),
    new SetPolicy("wallet", -1, "signature"),
    new MovePrice(12_500n),
    new RebalanceBySig("wallet", "USDC"),
    new PauseAutomation("alice", true),
    new Kick("alice", 0),
    new LeveragePause(true),
    new Kick("bob", 1),
    new Execute("bob", 1),
    new EmergencyDelever("bob"),
    new Close("bob"),
    new Open("bob", 2n),
    new LeveragePause(false),
    new Open("bob", 2n),
  ],
  [
    new PoolDeposit(0, 1n),
    new PoolRedeem(1, 500_000n),
    new MovePrice(7_500n),
    // Below its minHF the pool refuses exits until a keeper restores the band.
    new PoolRedeem(0, 1_000_000n),
    new PoolRebalance(),
    new PoolRedeem(0, 250_000n),
    new Freeze("WETH", true),
    new PoolDeposit(1, 5n),
    new Freeze("WETH", false),
    new PoolRedeem(0, 1_000_000n),
  ],
  [
    new CancelNonce("wallet"),
    new AttackerAttempt("bob", "cancelNonce"),
    new CloseBySig("alice", "feeAboveMax"),
    new CloseBySig("bob", "twapLag"),
    new CloseBySig("bob", "feeWETH"),
    new CloseBySig("bob", "noFee"),
    new CloseBySig("bob", "feeUSDC"),
    new CloseBySig("alice", "feeWETH"),
    new Open("bob", 2n),
    new CloseBySig("bob", "feeUSDC"),
    new CloseBySig("wallet", "noFee"),
  ],
];
