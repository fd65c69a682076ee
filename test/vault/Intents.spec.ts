import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import {
  encodeBytes32String,
  keccak256,
  toUtf8Bytes,
  MaxUint256,
  parseUnits,
  TypedDataEncoder,
  ZeroHash,
  type ContractTransactionResponse,
  type Signer,
  type TypedDataDomain,
} from "ethers";
import hre from "hardhat";

import {
  BallastVault__factory,
  MockERC1271Wallet__factory,
  type BallastVault,
  type IBallastVault,
  type MockERC1271Wallet,
} from "../../typechain-types";
import {
  DIRECTION,
  INTENT_TYPES,
  signForwardRequest,
  signIntent,
  vaultDomain,
  type IntentKind,
  type IntentMessages,
} from "../../lib/intents";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { mined } from "../../lib/market/aave";
import { DEFAULT_POLICY, LOCAL_PARAMS, policyValues } from "../../lib/protocol";
import {
  Captured,
  compactSignature,
  DEPOSIT,
  ecrecoverPrecompile,
  expectExecutorClean,
  expectUnchanged,
  highSSignature,
  movePrice,
  openVaultFixture,
  rayDiv,
  rebalancedReports,
  snapshotState,
  TARGET_HF,
  type StateSnapshot,
  type VaultFixture,
  NEW_POLICY,
  NEW_POLICY_VALUES,
} from "../shared/vault";

const WAD = 10n ** 18n;
const TOLERANCE = LOCAL_PARAMS.bounds.hfTolerance;
const SLIPPAGE_CAP = LOCAL_PARAMS.bounds.maxSlippageBpsCap;

const WETH_FEE = parseUnits("0.01", 18);
const USDC_FEE = parseUnits("10", 6);
const REBALANCE_TARGET = parseUnits("1.6", 18);
const WETH_REWARD = parseUnits("0.02", 18);
/** `policyVersion` of a fresh vault: `initialize` set the first policy. */
const FIRST_VERSION = 1n;
/** A Close intent's signed slippage bound in the shared cases: the policy's, as `close` uses. */
const CLOSE_SLIPPAGE = BigInt(DEFAULT_POLICY.maxSlippageBps);

const price = (usd: bigint): bigint => usd * ORACLE_BASE_CURRENCY_UNIT;
const distance = (a: bigint, b: bigint): bigint => (a > b ? a - b : b - a);

interface IntentFixture extends VaultFixture {
  chainId: bigint;
  /** Alice's second, empty WETH/USDC vault: the same owner, another verifying contract. */
  other: BallastVault;
  /** A signer with no role at all, for relaying forward requests. */
  relayer: HardhatEthersSigner;
  weth: string;
  usdc: string;
  wbtc: string;
}

/** Alice's vault opened at HF 1.5, plus her second, empty vault. */
async function intentFixture(): Promise<IntentFixture> {
  const f = await openVaultFixture();
  const [, , , , , relayer] = await hre.ethers.getSigners();
  const weth = await f.tokens.erc20.WETH.getAddress();
  const usdc = await f.tokens.erc20.USDC.getAddress();
  const wbtc = await f.tokens.erc20.WBTC.getAddress();
  const salt = encodeBytes32String("second");
  await mined(f.factory.connect(f.alice).createVault(weth, usdc, DEFAULT_POLICY, salt));
  const other = BallastVault__factory.connect(await f.factory.predictVault(f.alice.address, salt), f.alice);
  const { chainId } = await hre.ethers.provider.getNetwork();
  return { ...f, chainId, other, relayer, weth, usdc, wbtc };
}

/** The same after a 20% WETH drop: HF about 1.2, below the band. */
async function droppedIntentFixture(): Promise<IntentFixture> {
  const f = await intentFixture();
  await movePrice(f, "WETH", price(1_600n));
  return f;
}

async function deadlineIn(seconds: bigint): Promise<bigint> {
  return BigInt(await time.latest()) + seconds;
}

/** Signs an intent under any domain and with any `vault` field: for signatures the vault must refuse. */
async function signRaw<K extends IntentKind>(
  signer: Signer,
  kind: K,
  domain: TypedDataDomain,
  vault: string,
  message: IntentMessages[K],
): Promise<string> {
  return signer.signTypedData(domain, INTENT_TYPES[kind], { vault, ...message });
}

/** The EIP-712 digest the vault computes for an intent. */
function intentDigest<K extends IntentKind>(
  kind: K,
  vault: string,
  chainId: bigint,
  message: IntentMessages[K],
): string {
  return TypedDataEncoder.hash(vaultDomain(vault, chainId), INTENT_TYPES[kind], { vault, ...message });
}

/** The arguments of the one `name` event `vault` emitted in `tx`. */
async function eventArgs(
  vault: BallastVault,
  tx: ContractTransactionResponse,
  name: string,
): Promise<readonly unknown[]> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("no receipt");
  const address = await vault.getAddress();
  const found = receipt.logs
    .filter((log) => log.address === address)
    .map((log) => vault.interface.parseLog(log))
    .filter((parsed) => parsed?.name === name);
  if (found.length !== 1 || found[0] === null) throw new Error(`expected one ${name} event, got ${found.length}`);
  return found[0].args.toArray();
}

interface VaultState {
  snapshot: StateSnapshot;
  policy: bigint[];
  paused: boolean;
}

async function vaultState(f: IntentFixture): Promise<VaultState> {
  return {
    snapshot: await snapshotState(f),
    policy: [...(await f.vault.policy())],
    paused: await f.vault.automationPaused(),
  };
}

/** A refused intent: the position, balances, policy and pause flag are as before, and each nonce is still free. */
async function expectRefused(f: IntentFixture, before: VaultState, owner: string, ...nonces: bigint[]): Promise<void> {
  await expectUnchanged(f, before.snapshot);
  expect([...(await f.vault.policy())], "policy").to.deep.equal(before.policy);
  expect(await f.vault.automationPaused(), "automationPaused").to.equal(before.paused);
  for (const nonce of nonces) {
    expect(await f.vault.nonceUsed(owner, nonce), `nonce ${nonce} used`).to.equal(false);
  }
}

/** One kind of signed intent, for the shared signature checks. */
interface IntentCase<K extends IntentKind> {
  kind: K;
  /** A state in which a valid intent of this kind succeeds. */
  fixture: () => Promise<IntentFixture>;
  message(f: IntentFixture, nonce: bigint, deadline: bigint): IntentMessages[K];
  /** Submits as the keeper, taking a fee or reward within the signed maximum. */
  submit(
    f: IntentFixture,
    vault: BallastVault,
    message: IntentMessages[K],
    signature: string,
  ): Promise<ContractTransactionResponse>;
  /** Signed fields a submitter might change after signing; each change must break the signature. */
  tampers: Record<string, (m: IntentMessages[K], f: IntentFixture) => IntentMessages[K]>;
}

const setPolicyCase: IntentCase<"SetPolicy"> = {
  kind: "SetPolicy",
  fixture: intentFixture,
  message: (f, nonce, deadline) => ({
    policy: NEW_POLICY,
    version: FIRST_VERSION,
    feeToken: f.weth,
    maxFee: 2n * WETH_FEE,
    nonce,
    deadline,
  }),
  submit: (f, vault, message, signature) => vault.connect(f.keeper).setPolicyBySig(message, signature, WETH_FEE),
  tampers: {
    "policy.minHF": (m) => ({ ...m, policy: { ...m.policy, minHF: parseUnits("1.25", 18) } }),
    "policy.targetHF": (m) => ({ ...m, policy: { ...m.policy, targetHF: parseUnits("1.45", 18) } }),
    "policy.maxHF": (m) => ({ ...m, policy: { ...m.policy, maxHF: parseUnits("3", 18) } }),
    "policy.maxSlippageBps": (m) => ({ ...m, policy: { ...m.policy, maxSlippageBps: 300 } }),
    "policy.maxKeeperRewardBps": (m) => ({ ...m, policy: { ...m.policy, maxKeeperRewardBps: 500 } }),
    version: (m) => ({ ...m, version: BigInt(m.version) + 1n }),
    feeToken: (m, f) => ({ ...m, feeToken: f.usdc }),
    maxFee: (m) => ({ ...m, maxFee: BigInt(m.maxFee) * 10n }),
    nonce: (m) => ({ ...m, nonce: BigInt(m.nonce) + 1n }),
    deadline: (m) => ({ ...m, deadline: BigInt(m.deadline) + 1n }),
  },
};

const rebalanceCase: IntentCase<"Rebalance"> = {
  kind: "Rebalance",
  fixture: droppedIntentFixture,
  message: (f, nonce, deadline) => ({
    direction: DIRECTION.Deleverage,
    targetHF: REBALANCE_TARGET,
    maxSlippageBps: 100,
    rewardToken: f.weth,
    maxReward: 2n * WETH_REWARD,
    nonce,
    deadline,
  }),
  submit: (f, vault, message, signature) =>
    vault.connect(f.keeper).rebalanceBySig(message, signature, f.down, WETH_REWARD),
  tampers: {
    direction: (m) => ({ ...m, direction: DIRECTION.Leverage }),
    targetHF: (m) => ({ ...m, targetHF: parseUnits("1.7", 18) }),
    maxSlippageBps: (m) => ({ ...m, maxSlippageBps: 300 }),
    rewardToken: (m, f) => ({ ...m, rewardToken: f.usdc }),
    maxReward: (m) => ({ ...m, maxReward: BigInt(m.maxReward) * 10n }),
    nonce: (m) => ({ ...m, nonce: BigInt(m.nonce) + 1n }),
    deadline: (m) => ({ ...m, deadline: BigInt(m.deadline) + 1n }),
  },
};

const closeCase: IntentCase<"Close"> = {
  kind: "Close",
  fixture: intentFixture,
  message: (f, nonce, deadline) => ({
    maxSlippageBps: CLOSE_SLIPPAGE,
    feeToken: f.usdc,
    maxFee: 2n * USDC_FEE,
    nonce,
    deadline,
  }),
  submit: (f, vault, message, signature) => vault.connect(f.keeper).closeBySig(message, signature, f.down, USDC_FEE),
  tampers: {
    maxSlippageBps: (m) => ({ ...m, maxSlippageBps: BigInt(m.maxSlippageBps) + 1n }),
    feeToken: (m, f) => ({ ...m, feeToken: f.weth }),
    maxFee: (m) => ({ ...m, maxFee: BigInt(m.maxFee) * 10n }),
    nonce: (m) => ({ ...m, nonce: BigInt(m.nonce) + 1n }),
    deadline: (m) => ({ ...m, deadline: BigInt(m.deadline) + 1n }),
  },
};

/** Invariant 6 for one intent kind: used once, limited in time, bound to the owner, the chain and the vault. */
function behavesLikeASignedIntent<K extends IntentKind>(c: IntentCase<K>): void {
  const NONCE = 7n;

  async function setup(): Promise<{ f: IntentFixture; vault: string; message: IntentMessages[K] }> {
    const f = await loadFixture(c.fixture);
    // Ten minutes: well inside the feeds' one-hour heartbeat, so the deadline test can run in the deadline's block.
    return { f, vault: await f.vault.getAddress(), message: c.message(f, NONCE, await deadlineIn(600n)) };
  }

  async function expectInvalid(f: IntentFixture, message: IntentMessages[K], signature: string): Promise<void> {
    const before = await vaultState(f);
    await expect(c.submit(f, f.vault, message, signature))
      .to.be.revertedWithCustomError(f.vault, "VaultInvalidSignature")
      .withArgs(f.alice.address);
    await expectRefused(f, before, f.alice.address, NONCE, BigInt(message.nonce));
  }

  describe(`${c.kind} signature checks`, () => {
    it("runs once, then refuses the same intent with VaultNonceUsed", async () => {
      const { f, vault, message } = await setup();
      const signature = await signIntent(f.alice, c.kind, vault, f.chainId, message);
      await expect(c.submit(f, f.vault, message, signature)).to.emit(f.vault, "IntentExecuted");
      expect(await f.vault.nonceUsed(f.alice.address, NONCE)).to.equal(true);
      const before = await vaultState(f);
      await expect(c.submit(f, f.vault, message, signature))
        .to.be.revertedWithCustomError(f.vault, "VaultNonceUsed")
        .withArgs(NONCE);
      await expectUnchanged(f, before.snapshot);
      expect([...(await f.vault.policy())]).to.deep.equal(before.policy);
      expect(await f.vault.automationPaused()).to.equal(before.paused);
      await expectExecutorClean(f);
    });

    it("runs in the block of its deadline and is refused one second later with VaultIntentExpired", async () => {
      const { f, vault, message } = await setup();
      const deadline = BigInt(message.deadline);
      const signature = await signIntent(f.alice, c.kind, vault, f.chainId, message);
      const before = await vaultState(f);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(c.submit(f, f.vault, message, signature))
        .to.be.revertedWithCustomError(f.vault, "VaultIntentExpired")
        .withArgs(deadline);
      await expectRefused(f, before, f.alice.address, NONCE);

      const again = await setup();
      await time.setNextBlockTimestamp(deadline);
      await expect(c.submit(again.f, again.f.vault, message, signature)).to.emit(again.f.vault, "IntentExecuted");
    });

    it("refuses a signature by another key with VaultInvalidSignature(owner)", async () => {
      const { f, vault, message } = await setup();
      await expectInvalid(f, message, await signIntent(f.attacker, c.kind, vault, f.chainId, message));
    });

    for (const field of Object.keys(c.tampers)) {
      it(`refuses the intent with ${field} changed after signing`, async () => {
        const { f, vault, message } = await setup();
        const signature = await signIntent(f.alice, c.kind, vault, f.chainId, message);
        await expectInvalid(f, c.tampers[field](message, f), signature);
      });
    }

    it("refuses a signed vault field naming another vault", async () => {
      const { f, vault, message } = await setup();
      const other = await f.other.getAddress();
      await expectInvalid(f, message, await signRaw(f.alice, c.kind, vaultDomain(vault, f.chainId), other, message));
    });

    it("refuses a signature for another chain id", async () => {
      const { f, vault, message } = await setup();
      expect(f.chainId).to.not.equal(1n);
      await expectInvalid(f, message, await signRaw(f.alice, c.kind, vaultDomain(vault, 1n), vault, message));
    });

    it("refuses a signature for alice's other vault (another verifying contract)", async () => {
      const { f, vault, message } = await setup();
      const other = await f.other.getAddress();
      // Signed wholly for the other vault, and with only the domain's verifyingContract pointing there.
      await expectInvalid(f, message, await signIntent(f.alice, c.kind, other, f.chainId, message));
      await expectInvalid(f, message, await signRaw(f.alice, c.kind, vaultDomain(other, f.chainId), vault, message));
    });

    it("refuses the malleable high-s twin of a valid signature, then accepts the original", async () => {
      const { f, vault, message } = await setup();
      const signature = await signIntent(f.alice, c.kind, vault, f.chainId, message);
      const twin = highSSignature(signature);
      // The twin is a genuine signature: the bare precompile recovers alice from it.
      expect(await ecrecoverPrecompile(intentDigest(c.kind, vault, f.chainId, message), twin)).to.equal(
        f.alice.address,
      );
      await expectInvalid(f, message, twin);
      await expect(c.submit(f, f.vault, message, signature)).to.emit(f.vault, "IntentExecuted");
    });

    it("refuses the 64-byte EIP-2098 compact form of a valid signature", async () => {
      const { f, vault, message } = await setup();
      const compact = compactSignature(await signIntent(f.alice, c.kind, vault, f.chainId, message));
      expect(compact.length).to.equal(2 + 64 * 2);
      await expectInvalid(f, message, compact);
    });

    it("refuses an intent whose nonce the owner cancelled with VaultNonceUsed", async () => {
      const { f, vault, message } = await setup();
      const signature = await signIntent(f.alice, c.kind, vault, f.chainId, message);
      await mined(f.vault.cancelNonce(NONCE));
      const before = await vaultState(f);
      await expect(c.submit(f, f.vault, message, signature))
        .to.be.revertedWithCustomError(f.vault, "VaultNonceUsed")
        .withArgs(NONCE);
      await expectUnchanged(f, before.snapshot);
      expect([...(await f.vault.policy())]).to.deep.equal(before.policy);
    });
  });
}

describe("BallastVault intents", () => {
  behavesLikeASignedIntent(setPolicyCase);
  behavesLikeASignedIntent(rebalanceCase);
  behavesLikeASignedIntent(closeCase);

  describe("#setPolicyBySig", () => {
    async function signSetPolicy(
      f: IntentFixture,
      feeToken: string,
      maxFee: bigint,
      nonce = 42n,
      policy: IBallastVault.PolicyStruct = NEW_POLICY,
    ): Promise<{ intent: IBallastVault.SetPolicyIntentStruct; signature: string }> {
      const intent = { policy, version: FIRST_VERSION, feeToken, maxFee, nonce, deadline: await deadlineIn(3_600n) };
      return {
        intent,
        signature: await signIntent(f.alice, "SetPolicy", await f.vault.getAddress(), f.chainId, intent),
      };
    }

    describe("policy version (R3)", () => {
      /** A looser policy than the default: the widest slippage the factory allows. */
      const LOOSE: IBallastVault.PolicyStruct = { ...DEFAULT_POLICY, maxSlippageBps: SLIPPAGE_CAP };

      it("counts every policy change: 1 after initialize, one more per setPolicy and per setPolicyBySig", async () => {
        const f = await loadFixture(intentFixture);
        expect(await f.vault.policyVersion()).to.equal(FIRST_VERSION);
        await (await f.vault.setPolicy(NEW_POLICY)).wait();
        expect(await f.vault.policyVersion()).to.equal(FIRST_VERSION + 1n);
        const intent = { ...setPolicyCase.message(f, 1n, await deadlineIn(600n)), version: FIRST_VERSION + 1n };
        const signature = await signIntent(f.alice, "SetPolicy", await f.vault.getAddress(), f.chainId, intent);
        await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, 0n)).to.emit(f.vault, "PolicySet");
        expect(await f.vault.policyVersion()).to.equal(FIRST_VERSION + 2n);
      });

      it("refuses an older, looser signed policy replayed after a tighter one with VaultPolicyVersionStale", async () => {
        // Before R3 the intent named no version: a relayer holding both could apply the loose one last, then fill a
        // Close through its own pool at the loose bound.
        const f = await loadFixture(intentFixture);
        const vault = await f.vault.getAddress();
        const deadline = await deadlineIn(3_600n);
        const loose = { policy: LOOSE, version: FIRST_VERSION, feeToken: f.weth, maxFee: 0n, nonce: 1n, deadline };
        const tight = { ...loose, policy: NEW_POLICY, nonce: 2n };
        const looseSignature = await signIntent(f.alice, "SetPolicy", vault, f.chainId, loose);
        const tightSignature = await signIntent(f.alice, "SetPolicy", vault, f.chainId, tight);
        await expect(f.vault.connect(f.keeper).setPolicyBySig(tight, tightSignature, 0n))
          .to.emit(f.vault, "PolicySet")
          .withArgs(NEW_POLICY_VALUES);
        const before = await vaultState(f);
        await expect(f.vault.connect(f.keeper).setPolicyBySig(loose, looseSignature, 0n))
          .to.be.revertedWithCustomError(f.vault, "VaultPolicyVersionStale")
          .withArgs(FIRST_VERSION, FIRST_VERSION + 1n);
        await expectRefused(f, before, f.alice.address, 1n);
        expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
      });

      it("refuses an intent signed before the owner's own setPolicy with VaultPolicyVersionStale", async () => {
        const f = await loadFixture(intentFixture);
        const { intent, signature } = await signSetPolicy(f, f.weth, WETH_FEE, 3n, LOOSE);
        await (await f.vault.setPolicy(NEW_POLICY)).wait();
        const before = await vaultState(f);
        await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE))
          .to.be.revertedWithCustomError(f.vault, "VaultPolicyVersionStale")
          .withArgs(FIRST_VERSION, FIRST_VERSION + 1n);
        await expectRefused(f, before, f.alice.address, 3n);
      });
    });

    it("sets the policy and pays the submitter its fee in WETH, withdrawn from Aave", async () => {
      const f = await loadFixture(intentFixture);
      const weth = f.tokens.erc20.WETH;
      const { intent, signature } = await signSetPolicy(f, f.weth, 2n * WETH_FEE);
      const scaledCollateral = await f.aave.aTokens.WETH.scaledBalanceOf(f.vault);
      const scaledDebt = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault);
      const tx = await f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE);
      await expect(tx).to.emit(f.vault, "PolicySet").withArgs(NEW_POLICY_VALUES);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 42n, f.weth, WETH_FEE);
      await expect(tx).to.changeTokenBalances(
        weth,
        [f.keeper, f.alice, f.aave.aTokens.WETH, f.vault],
        [WETH_FEE, 0n, -WETH_FEE, 0n],
      );
      expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
      expect(await f.vault.nonceUsed(f.alice.address, 42n)).to.equal(true);
      // Aave burns fee / liquidityIndex scaled aWETH; the debt is untouched.
      const { liquidityIndex } = await f.aave.pool.getReserveData(weth);
      expect(scaledCollateral - (await f.aave.aTokens.WETH.scaledBalanceOf(f.vault))).to.equal(
        rayDiv(WETH_FEE, liquidityIndex),
      );
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault)).to.equal(scaledDebt);
    });

    it("pays the submitter its fee in USDC, borrowed against the vault", async () => {
      const f = await loadFixture(intentFixture);
      const usdc = f.tokens.erc20.USDC;
      const { intent, signature } = await signSetPolicy(f, f.usdc, USDC_FEE);
      const scaledCollateral = await f.aave.aTokens.WETH.scaledBalanceOf(f.vault);
      const scaledDebt = await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault);
      const tx = await f.vault.connect(f.keeper).setPolicyBySig(intent, signature, USDC_FEE);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 42n, f.usdc, USDC_FEE);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [f.keeper, f.alice, f.aave.aTokens.USDC, f.vault],
        [USDC_FEE, 0n, -USDC_FEE, 0n],
      );
      expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
      expect(await f.vault.nonceUsed(f.alice.address, 42n)).to.equal(true);
      // Aave mints fee / variableBorrowIndex scaled debt; the collateral is untouched.
      const { variableBorrowIndex } = await f.aave.pool.getReserveData(usdc);
      expect((await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault)) - scaledDebt).to.equal(
        rayDiv(USDC_FEE, variableBorrowIndex),
      );
      expect(await f.aave.aTokens.WETH.scaledBalanceOf(f.vault)).to.equal(scaledCollateral);
    });

    it("pays a submitter relayed through the forwarder: the request's signer, not the relayer", async () => {
      const f = await loadFixture(intentFixture);
      const { intent, signature } = await signSetPolicy(f, f.weth, WETH_FEE);
      const request = await signForwardRequest(f.keeper, f.forwarder, {
        to: await f.vault.getAddress(),
        data: f.vault.interface.encodeFunctionData("setPolicyBySig", [intent, signature, WETH_FEE]),
        gas: 1_000_000n,
        deadline: await deadlineIn(3_600n),
      });
      const tx = await f.forwarder.connect(f.relayer).execute(request);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 42n, f.weth, WETH_FEE);
      await expect(tx).to.changeTokenBalances(f.tokens.erc20.WETH, [f.keeper, f.relayer], [WETH_FEE, 0n]);
    });

    it("refuses a fee above the signed maximum with VaultFeeAboveMax", async () => {
      const f = await loadFixture(intentFixture);
      const { intent, signature } = await signSetPolicy(f, f.weth, WETH_FEE);
      const before = await vaultState(f);
      // The fee is the submitter's choice, not signed: the signed maxFee is what bounds it.
      await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE + 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeAboveMax")
        .withArgs(WETH_FEE + 1n, WETH_FEE);
      await expectRefused(f, before, f.alice.address, 42n);
      await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE)).to.emit(
        f.vault,
        "IntentExecuted",
      );
    });

    it("refuses a fee in an asset other than the vault's with VaultFeeTokenInvalid", async () => {
      const f = await loadFixture(intentFixture);
      const { intent, signature } = await signSetPolicy(f, f.wbtc, parseUnits("1", 8));
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeTokenInvalid")
        .withArgs(f.wbtc);
      await expectRefused(f, before, f.alice.address, 42n);
    });

    for (const [symbol, fee] of [
      ["WETH", parseUnits("4", 18)],
      ["USDC", parseUnits("5000", 6)],
    ] as const) {
      it(`refuses a ${symbol} fee that leaves the HF below the new minHF with VaultHealthBelowMin`, async () => {
        const f = await loadFixture(intentFixture);
        const token = symbol === "WETH" ? f.weth : f.usdc;
        // Keep DEFAULT_POLICY's minHF of 1.3: the HF of 1.5 can pay a small fee, not this one.
        const { intent, signature } = await signSetPolicy(f, token, fee, 42n, {
          ...NEW_POLICY,
          minHF: DEFAULT_POLICY.minHF,
        });
        const before = await vaultState(f);
        const hf = new Captured();
        await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, fee))
          .to.be.revertedWithCustomError(f.vault, "VaultHealthBelowMin")
          .withArgs(hf.match, DEFAULT_POLICY.minHF);
        // Measured: about 1.23 (WETH) and 1.25 (USDC); Aave itself would still have allowed it (HF > 1).
        expect(hf.value).to.be.lt(BigInt(DEFAULT_POLICY.minHF)).and.gt(WAD);
        await expectRefused(f, before, f.alice.address, 42n);
      });
    }
  });

  describe("#rebalanceBySig", () => {
    async function signRebalance(
      f: IntentFixture,
      overrides: Partial<IBallastVault.RebalanceIntentStruct> = {},
    ): Promise<{ intent: IBallastVault.RebalanceIntentStruct; signature: string }> {
      const intent = { ...rebalanceCase.message(f, 11n, await deadlineIn(3_600n)), ...overrides };
      return {
        intent,
        signature: await signIntent(f.alice, "Rebalance", await f.vault.getAddress(), f.chainId, intent),
      };
    }

    async function expectDeleveredToSignedTarget(f: IntentFixture, tx: ContractTransactionResponse): Promise<void> {
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 11n, f.weth, WETH_REWARD);
      await expect(tx).to.emit(f.vault, "Rebalanced").withArgs(f.keeper.address, anyValue);
      await expect(tx).to.changeTokenBalances(f.tokens.erc20.WETH, [f.keeper, f.alice], [WETH_REWARD, 0n]);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.direction).to.equal(1n);
      const hf = (await f.vault.position()).healthFactor;
      expect(report.hfAfter).to.equal(hf);
      // The reward is withdrawn after the sized move, so the HF lands a hair under the target, within tolerance.
      // Measured: 1.59771.
      expect(hf).to.be.lt(REBALANCE_TARGET);
      expect(distance(hf, REBALANCE_TARGET)).to.be.lte(TOLERANCE);
      expect(await f.vault.nonceUsed(f.alice.address, 11n)).to.equal(true);
      expect([...(await f.vault.policy())]).to.deep.equal(Object.values(policyValues(DEFAULT_POLICY)));
      await expectExecutorClean(f);
    }

    it("delevers to the signed target after a 20% drop and pays the keeper exactly its reward in WETH", async () => {
      const f = await loadFixture(droppedIntentFixture);
      expect((await f.vault.position()).healthFactor).to.be.lt(BigInt(DEFAULT_POLICY.minHF));
      const { intent, signature } = await signRebalance(f);
      const tx = await f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, WETH_REWARD);
      await expectDeleveredToSignedTarget(f, tx);
    });

    it("works while automation is paused, when a plain keeper rebalance does not", async () => {
      const f = await loadFixture(droppedIntentFixture);
      await mined(f.vault.pauseAutomation(true));
      await expect(f.vault.connect(f.keeper).rebalance(f.down, MaxUint256)).to.be.revertedWithCustomError(
        f.vault,
        "VaultAutomationPaused",
      );
      const { intent, signature } = await signRebalance(f);
      const tx = await f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, WETH_REWARD);
      await expectDeleveredToSignedTarget(f, tx);
      expect(await f.vault.automationPaused()).to.equal(true);
    });

    it("levers up to the signed target after a 30% rise, reward in USDC", async () => {
      const f = await loadFixture(intentFixture);
      await movePrice(f, "WETH", price(2_600n));
      expect((await f.vault.position()).healthFactor).to.be.gt(BigInt(DEFAULT_POLICY.maxHF));
      const reward = parseUnits("5", 6);
      const { intent, signature } = await signRebalance(f, {
        direction: DIRECTION.Leverage,
        targetHF: TARGET_HF,
        rewardToken: f.usdc,
        maxReward: reward,
      });
      const tx = await f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.up, reward);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 11n, f.usdc, reward);
      await expect(tx).to.changeTokenBalances(f.tokens.erc20.USDC, [f.keeper, f.alice], [reward, 0n]);
      const [report] = await rebalancedReports(f.vault, tx);
      expect(report.direction).to.equal(2n);
      expect(distance((await f.vault.position()).healthFactor, TARGET_HF)).to.be.lte(TOLERANCE);
      await expectExecutorClean(f);
    });

    describe("with a USDC reward while the Aave USDC (debt) reserve is frozen", () => {
      async function frozenDebtFixture(): Promise<IntentFixture> {
        const f = await droppedIntentFixture();
        await mined(f.aave.configurator.connect(f.accounts.admin).setReserveFreeze(f.usdc, true));
        return f;
      }

      it("delevers to the signed target, the reward kept from the swap output rather than borrowed", async () => {
        const f = await loadFixture(frozenDebtFixture);
        const reward = parseUnits("40", 6);
        const { intent, signature } = await signRebalance(f, { rewardToken: f.usdc, maxReward: reward });
        const tx = await f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, reward);
        await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 11n, f.usdc, reward);
        await expect(tx).to.changeTokenBalances(f.tokens.erc20.USDC, [f.keeper, f.alice, f.vault], [reward, 0n, 0n]);
        const [report] = await rebalancedReports(f.vault, tx);
        expect([report.direction, report.keeperReward]).to.deep.equal([1n, reward]);
        const hf = (await f.vault.position()).healthFactor;
        expect(report.hfAfter).to.equal(hf);
        // As with a borrowed reward, the debt keeps the reward's worth, so the HF lands a hair under the target.
        expect(hf).to.be.lt(REBALANCE_TARGET);
        expect(distance(hf, REBALANCE_TARGET)).to.be.lte(TOLERANCE);
        await expectExecutorClean(f);
      });

      it("refuses a reward the worst accepted swap output cannot cover with VaultFeeUnavailable", async () => {
        const f = await loadFixture(frozenDebtFixture);
        const reward = parseUnits("1000000", 6);
        const { intent, signature } = await signRebalance(f, { rewardToken: f.usdc, maxReward: reward });
        const before = await vaultState(f);
        const available = new Captured();
        await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, reward))
          .to.be.revertedWithCustomError(f.vault, "VaultFeeUnavailable")
          .withArgs(f.usdc, reward, available.match);
        expect(available.value).to.be.gt(0n).and.lt(reward);
        await expectRefused(f, before, f.alice.address, 11n);
      });
    });

    describe("signed direction (R7)", () => {
      it("refuses a de-risking intent held until a rally and filled as a leverage with VaultIntentDirection", async () => {
        // Signed at HF 1.2 to deleverage to 1.6; WETH then rallies to 2,600 (HF about 2.1). Before R7 the intent
        // fixed no direction, so the relayer could fill it now as a leverage down to 1.6.
        const f = await loadFixture(droppedIntentFixture);
        const { intent, signature } = await signRebalance(f);
        await movePrice(f, "WETH", price(2_600n));
        expect((await f.vault.position()).healthFactor).to.be.gt(REBALANCE_TARGET);
        const before = await vaultState(f);
        await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.up, WETH_REWARD))
          .to.be.revertedWithCustomError(f.vault, "VaultIntentDirection")
          .withArgs(DIRECTION.Deleverage, DIRECTION.Leverage);
        await expectRefused(f, before, f.alice.address, 11n);
        // What the old code did with it: the same move, here signed as a leverage, runs.
        const lever = await signRebalance(f, { direction: DIRECTION.Leverage, nonce: 12n });
        const tx = await f.vault.connect(f.keeper).rebalanceBySig(lever.intent, lever.signature, f.up, WETH_REWARD);
        const [report] = await rebalancedReports(f.vault, tx);
        expect(report.direction).to.equal(DIRECTION.Leverage);
        await expectExecutorClean(f);
      });

      it("refuses a leverage intent filled as a deleverage, and a signed None, with VaultIntentDirection", async () => {
        const f = await loadFixture(droppedIntentFixture);
        const before = await vaultState(f);
        for (const [nonce, direction] of [
          [21n, DIRECTION.Leverage],
          [22n, DIRECTION.None],
          [23n, DIRECTION.Close],
        ] as const) {
          const { intent, signature } = await signRebalance(f, { direction, nonce });
          await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, WETH_REWARD))
            .to.be.revertedWithCustomError(f.vault, "VaultIntentDirection")
            .withArgs(direction, DIRECTION.Deleverage);
        }
        await expectRefused(f, before, f.alice.address, 21n, 22n, 23n);
      });
    });

    it("refuses a reward above the signed maximum with VaultFeeAboveMax", async () => {
      const f = await loadFixture(droppedIntentFixture);
      const { intent, signature } = await signRebalance(f);
      const before = await vaultState(f);
      const tooMuch = 2n * WETH_REWARD + 1n;
      await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, tooMuch))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeAboveMax")
        .withArgs(tooMuch, 2n * WETH_REWARD);
      await expectRefused(f, before, f.alice.address, 11n);
    });

    it("refuses a signed slippage above the factory cap with VaultPolicySlippageAboveCap", async () => {
      const f = await loadFixture(droppedIntentFixture);
      const { intent, signature } = await signRebalance(f, { maxSlippageBps: SLIPPAGE_CAP + 1 });
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, WETH_REWARD))
        .to.be.revertedWithCustomError(f.vault, "VaultPolicySlippageAboveCap")
        .withArgs(SLIPPAGE_CAP + 1, SLIPPAGE_CAP);
      await expectRefused(f, before, f.alice.address, 11n);
    });

    it("refuses a reward in an asset other than the vault's with VaultFeeTokenInvalid", async () => {
      const f = await loadFixture(droppedIntentFixture);
      const { intent, signature } = await signRebalance(f, { rewardToken: f.wbtc, maxReward: 1n });
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).rebalanceBySig(intent, signature, f.down, 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeTokenInvalid")
        .withArgs(f.wbtc);
      await expectRefused(f, before, f.alice.address, 11n);
      await expectExecutorClean(f);
    });
  });

  describe("#closeBySig", () => {
    interface CloseRun {
      f: IntentFixture;
      tx: ContractTransactionResponse;
      collateralReturned: bigint;
      debtAssetReturned: bigint;
    }

    /**
     * Closes alice's vault by signature from the fixture's snapshot, in a block stamped one minute after it: every
     * run accrues the same interest and swaps against the same pool, so runs differing only in the fee compare
     * exactly.
     */
    async function closeRun(feeToken: "WETH" | "USDC", fee: bigint, maxFee = fee): Promise<CloseRun> {
      const f = await loadFixture(intentFixture);
      const at = (await time.latest()) + 60;
      const token = feeToken === "WETH" ? f.weth : f.usdc;
      const intent = {
        maxSlippageBps: CLOSE_SLIPPAGE,
        feeToken: token,
        maxFee,
        nonce: 5n,
        deadline: BigInt(at + 3_600),
      };
      const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, intent);
      await time.setNextBlockTimestamp(at);
      const tx = await f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, fee);
      const [to, collateralReturned, debtAssetReturned] = await eventArgs(f.vault, tx, "Closed");
      expect(to).to.equal(f.alice.address);
      if (typeof collateralReturned !== "bigint" || typeof debtAssetReturned !== "bigint") throw new TypeError();
      return { f, tx, collateralReturned, debtAssetReturned };
    }

    async function expectClosed(run: CloseRun): Promise<void> {
      const { f, tx, collateralReturned, debtAssetReturned } = run;
      await expect(tx).to.changeTokenBalance(f.tokens.erc20.WETH, f.alice, collateralReturned);
      await expect(tx).to.changeTokenBalance(f.tokens.erc20.USDC, f.alice, debtAssetReturned);
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault)).to.equal(0n);
      expect(await f.aave.aTokens.WETH.scaledBalanceOf(f.vault)).to.equal(0n);
      expect(await f.tokens.erc20.USDC.balanceOf(f.vault)).to.equal(0n);
      expect(await f.tokens.erc20.WETH.balanceOf(f.vault)).to.equal(0n);
      const pos = await f.vault.position();
      expect([pos.collateralBase, pos.debtBase]).to.deep.equal([0n, 0n]);
      expect(await f.vault.nonceUsed(f.alice.address, 5n)).to.equal(true);
      await expectExecutorClean(f);
    }

    it("pays the fee in USDC out of the leftover and sends the rest to the owner", async () => {
      const baseline = await closeRun("USDC", 0n);
      await expectClosed(baseline);
      // Selling at the worst accepted price leaves about 1% of the debt over in USDC.
      expect(baseline.debtAssetReturned).to.be.gt(USDC_FEE);

      const run = await closeRun("USDC", USDC_FEE, 2n * USDC_FEE);
      await expect(run.tx)
        .to.emit(run.f.vault, "IntentExecuted")
        .withArgs(run.f.keeper.address, 5n, run.f.usdc, USDC_FEE);
      await expect(run.tx).to.changeTokenBalance(run.f.tokens.erc20.USDC, run.f.keeper, USDC_FEE);
      expect(run.debtAssetReturned).to.equal(baseline.debtAssetReturned - USDC_FEE);
      expect(run.collateralReturned).to.equal(baseline.collateralReturned);
      await expectClosed(run);
    });

    it("takes a USDC fee of exactly the whole leftover, leaving the owner none", async () => {
      const baseline = await closeRun("USDC", 0n);
      const run = await closeRun("USDC", baseline.debtAssetReturned);
      expect(run.debtAssetReturned).to.equal(0n);
      await expect(run.tx).to.changeTokenBalance(run.f.tokens.erc20.USDC, run.f.keeper, baseline.debtAssetReturned);
      await expectClosed(run);
    });

    it("pays the fee in WETH, withdrawn before the rest goes to the owner", async () => {
      const baseline = await closeRun("WETH", 0n);
      const run = await closeRun("WETH", WETH_FEE, 2n * WETH_FEE);
      await expect(run.tx)
        .to.emit(run.f.vault, "IntentExecuted")
        .withArgs(run.f.keeper.address, 5n, run.f.weth, WETH_FEE);
      await expect(run.tx).to.changeTokenBalance(run.f.tokens.erc20.WETH, run.f.keeper, WETH_FEE);
      expect(run.debtAssetReturned).to.equal(baseline.debtAssetReturned);
      // Aave burns the fee as fee / index scaled aWETH (rounded half up) and pays out the scaled remainder times the
      // index; the two roundings could leave a wei between them in general. Measured here: none, exactly the rest.
      expect(run.collateralReturned).to.equal(baseline.collateralReturned - WETH_FEE);
      await expectClosed(run);
    });

    for (const [symbol, returned] of [
      ["USDC", "debtAssetReturned"],
      ["WETH", "collateralReturned"],
    ] as const) {
      it(`refuses a ${symbol} fee above what the close returns with VaultFeeUnavailable`, async () => {
        const baseline = await closeRun(symbol, 0n);
        const f = await loadFixture(intentFixture);
        const token = symbol === "WETH" ? f.weth : f.usdc;
        const at = (await time.latest()) + 60;
        const fee = baseline[returned] + 1n;
        const intent = {
          maxSlippageBps: CLOSE_SLIPPAGE,
          feeToken: token,
          maxFee: fee,
          nonce: 5n,
          deadline: BigInt(at + 3_600),
        };
        const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, intent);
        const before = await vaultState(f);
        await time.setNextBlockTimestamp(at);
        // In the same block as the baseline, what is available is exactly what the baseline returned.
        await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, fee))
          .to.be.revertedWithCustomError(f.vault, "VaultFeeUnavailable")
          .withArgs(token, fee, baseline[returned]);
        await expectRefused(f, before, f.alice.address, 5n);
        await expectExecutorClean(f);
      });
    }

    describe("signed slippage bound (R3)", () => {
      it("refuses a signed slippage above the factory cap with VaultPolicySlippageAboveCap", async () => {
        const f = await loadFixture(intentFixture);
        const intent = { ...closeCase.message(f, 5n, await deadlineIn(3_600n)), maxSlippageBps: SLIPPAGE_CAP + 1 };
        const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, intent);
        const before = await vaultState(f);
        await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, 0n))
          .to.be.revertedWithCustomError(f.vault, "VaultPolicySlippageAboveCap")
          .withArgs(SLIPPAGE_CAP + 1, SLIPPAGE_CAP);
        await expectRefused(f, before, f.alice.address, 5n);
      });

      it("unwinds with the signed bound, not the policy's: 0 bps cannot pay the pool's fee, the policy's 100 can", async () => {
        // Before R3 a Close signed no bound: the unwind took the policy's, whatever the policy was by then.
        const f = await loadFixture(intentFixture);
        const intent = { ...closeCase.message(f, 5n, await deadlineIn(3_600n)), maxSlippageBps: 0n, maxFee: 0n };
        const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, intent);
        const before = await vaultState(f);
        await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, 0n)).to.be.revertedWith(
          "Too little received",
        );
        await expectRefused(f, before, f.alice.address, 5n);
        const atPolicy = { ...intent, maxSlippageBps: CLOSE_SLIPPAGE, nonce: 6n };
        const policySignature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, atPolicy);
        await expect(f.vault.connect(f.keeper).closeBySig(atPolicy, policySignature, f.down, 0n)).to.emit(
          f.vault,
          "Closed",
        );
        await expectExecutorClean(f);
      });
    });

    it("refuses a fee token other than the vault's even when no fee is asked for", async () => {
      const f = await loadFixture(intentFixture);
      const deadline = await deadlineIn(3_600n);
      const intent = { maxSlippageBps: CLOSE_SLIPPAGE, feeToken: f.wbtc, maxFee: 0n, nonce: 5n, deadline };
      const signature = await signIntent(f.alice, "Close", await f.vault.getAddress(), f.chainId, intent);
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, 0n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeTokenInvalid")
        .withArgs(f.wbtc);
      await expectRefused(f, before, f.alice.address, 5n);
    });

    it("refuses a fee above the signed maximum and a fee token other than the vault's", async () => {
      const f = await loadFixture(intentFixture);
      const vault = await f.vault.getAddress();
      const deadline = await deadlineIn(3_600n);
      const intent = { maxSlippageBps: CLOSE_SLIPPAGE, feeToken: f.usdc, maxFee: USDC_FEE, nonce: 5n, deadline };
      const signature = await signIntent(f.alice, "Close", vault, f.chainId, intent);
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).closeBySig(intent, signature, f.down, USDC_FEE + 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeAboveMax")
        .withArgs(USDC_FEE + 1n, USDC_FEE);
      const wbtcIntent = { maxSlippageBps: CLOSE_SLIPPAGE, feeToken: f.wbtc, maxFee: 1n, nonce: 6n, deadline };
      const wbtcSignature = await signIntent(f.alice, "Close", vault, f.chainId, wbtcIntent);
      await expect(f.vault.connect(f.keeper).closeBySig(wbtcIntent, wbtcSignature, f.down, 1n))
        .to.be.revertedWithCustomError(f.vault, "VaultFeeTokenInvalid")
        .withArgs(f.wbtc);
      await expectRefused(f, before, f.alice.address, 5n, 6n);
      await expectExecutorClean(f);
    });
  });

  describe("#cancelNonce", () => {
    it("marks the nonce used and emits NonceCancelled; an intent signed with it is refused", async () => {
      const f = await loadFixture(intentFixture);
      await expect(f.vault.cancelNonce(9n)).to.emit(f.vault, "NonceCancelled").withArgs(f.alice.address, 9n);
      expect(await f.vault.nonceUsed(f.alice.address, 9n)).to.equal(true);
      // Per vault: the same nonce is still free on alice's other vault.
      expect(await f.other.nonceUsed(f.alice.address, 9n)).to.equal(false);
      const intent = setPolicyCase.message(f, 9n, await deadlineIn(3_600n));
      const signature = await signIntent(f.alice, "SetPolicy", await f.vault.getAddress(), f.chainId, intent);
      const before = await vaultState(f);
      await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE))
        .to.be.revertedWithCustomError(f.vault, "VaultNonceUsed")
        .withArgs(9n);
      await expectUnchanged(f, before.snapshot);
      expect([...(await f.vault.policy())]).to.deep.equal(before.policy);
    });

    it("refuses cancelling a cancelled or used nonce with VaultNonceUsed", async () => {
      const f = await loadFixture(intentFixture);
      await mined(f.vault.cancelNonce(9n));
      await expect(f.vault.cancelNonce(9n)).to.be.revertedWithCustomError(f.vault, "VaultNonceUsed").withArgs(9n);
      const intent = setPolicyCase.message(f, 10n, await deadlineIn(3_600n));
      const signature = await signIntent(f.alice, "SetPolicy", await f.vault.getAddress(), f.chainId, intent);
      await mined(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, 0n));
      await expect(f.vault.cancelNonce(10n)).to.be.revertedWithCustomError(f.vault, "VaultNonceUsed").withArgs(10n);
    });

    it("refuses a stranger with VaultNotOwner", async () => {
      const f = await loadFixture(intentFixture);
      const before = await vaultState(f);
      await expect(f.vault.connect(f.attacker).cancelNonce(9n))
        .to.be.revertedWithCustomError(f.vault, "VaultNotOwner")
        .withArgs(f.attacker.address);
      await expectRefused(f, before, f.alice.address, 9n);
      expect(await f.vault.nonceUsed(f.attacker.address, 9n)).to.equal(false);
    });

    it("cancels through the forwarder, relayed by someone else", async () => {
      const f = await loadFixture(intentFixture);
      const request = await signForwardRequest(f.alice, f.forwarder, {
        to: await f.vault.getAddress(),
        data: f.vault.interface.encodeFunctionData("cancelNonce", [9n]),
        gas: 200_000n,
        deadline: await deadlineIn(3_600n),
      });
      await expect(f.forwarder.connect(f.relayer).execute(request))
        .to.emit(f.vault, "NonceCancelled")
        .withArgs(f.alice.address, 9n);
      expect(await f.vault.nonceUsed(f.alice.address, 9n)).to.equal(true);
      expect(await f.vault.nonceUsed(f.relayer.address, 9n)).to.equal(false);
    });
  });

  describe("EIP-1271 owner", () => {
    interface WalletFixture extends IntentFixture {
      wallet: MockERC1271Wallet;
      walletKey: HardhatEthersSigner;
      /** The wallet's vault, opened with 10 WETH at HF 1.5 through the wallet; `vault` for the state helpers. */
      vault: BallastVault;
    }

    /** A smart wallet that created and opened its own vault, every call made through the wallet. */
    async function walletFixture(): Promise<WalletFixture> {
      const f = await intentFixture();
      const [, , , , , , walletKey] = await hre.ethers.getSigners();
      const wallet = await new MockERC1271Wallet__factory(walletKey).deploy(walletKey.address);
      const factory = await f.factory.getAddress();
      await mined(
        wallet.execute(
          factory,
          f.factory.interface.encodeFunctionData("createVault", [f.weth, f.usdc, DEFAULT_POLICY, ZeroHash]),
        ),
      );
      const vault = BallastVault__factory.connect(await f.factory.predictVault(wallet, ZeroHash), f.keeper);
      expect(await vault.owner()).to.equal(await wallet.getAddress());
      await f.world.fund("WETH", wallet, DEPOSIT);
      await mined(
        wallet.execute(
          f.weth,
          f.tokens.erc20.WETH.interface.encodeFunctionData("approve", [await vault.getAddress(), DEPOSIT]),
        ),
      );
      await mined(wallet.execute(vault, vault.interface.encodeFunctionData("open", [DEPOSIT, TARGET_HF, f.up])));
      return { ...f, wallet, walletKey, vault };
    }

    it("accepts a SetPolicy intent the wallet's key signed, and pays the submitter", async () => {
      const f = await loadFixture(walletFixture);
      const owner = await f.wallet.getAddress();
      const intent = setPolicyCase.message(f, 3n, await deadlineIn(3_600n));
      const signature = await signIntent(f.walletKey, "SetPolicy", await f.vault.getAddress(), f.chainId, intent);
      const tx = await f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE);
      await expect(tx).to.emit(f.vault, "IntentExecuted").withArgs(f.keeper.address, 3n, f.weth, WETH_FEE);
      await expect(tx).to.changeTokenBalances(f.tokens.erc20.WETH, [f.keeper, f.wallet], [WETH_FEE, 0n]);
      expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
      expect(await f.vault.nonceUsed(owner, 3n)).to.equal(true);
    });

    it("refuses another key's signature, and the wallet key's high-s twin, with VaultInvalidSignature(wallet)", async () => {
      const f = await loadFixture(walletFixture);
      const owner = await f.wallet.getAddress();
      const vault = await f.vault.getAddress();
      const intent = setPolicyCase.message(f, 3n, await deadlineIn(3_600n));
      const digest = intentDigest("SetPolicy", vault, f.chainId, intent);
      const byKey = await signIntent(f.walletKey, "SetPolicy", vault, f.chainId, intent);
      // The wallet answers with the magic value for its key only.
      expect(await f.wallet.isValidSignature(digest, byKey)).to.equal("0x1626ba7e");
      const byAlice = await signIntent(f.alice, "SetPolicy", vault, f.chainId, intent);
      const twin = highSSignature(byKey);
      const before = await vaultState(f);
      for (const signature of [byAlice, twin, compactSignature(byKey)]) {
        expect(await f.wallet.isValidSignature(digest, signature)).to.equal("0xffffffff");
        await expect(f.vault.connect(f.keeper).setPolicyBySig(intent, signature, WETH_FEE))
          .to.be.revertedWithCustomError(f.vault, "VaultInvalidSignature")
          .withArgs(owner);
      }
      await expectRefused(f, before, owner, 3n);
    });
  });

  describe("type hashes", () => {
    it("match lib/intents' INTENT_TYPES for every intent kind", async () => {
      const f = await loadFixture(intentFixture);
      const hashes: Record<IntentKind, string> = {
        SetPolicy: await f.vault.SET_POLICY_TYPEHASH(),
        Rebalance: await f.vault.REBALANCE_TYPEHASH(),
        Close: await f.vault.CLOSE_TYPEHASH(),
        Switch: await f.vault.SWITCH_TYPEHASH(),
      };
      for (const kind of ["SetPolicy", "Rebalance", "Close", "Switch"] as const) {
        const encoder = TypedDataEncoder.from(INTENT_TYPES[kind]);
        expect(keccak256(toUtf8Bytes(encoder.encodeType(kind))), kind).to.equal(hashes[kind]);
      }
    });
  });

  describe("#eip712Domain", () => {
    it("names BallastVault version 1 on this chain, with each clone's own address", async () => {
      const f = await loadFixture(intentFixture);
      for (const vault of [f.vault, f.other]) {
        const [fields, name, version, chainId, verifyingContract, salt, extensions] = await vault.eip712Domain();
        expect([fields, name, version, chainId, verifyingContract, salt, [...extensions]]).to.deep.equal([
          "0x0f",
          "BallastVault",
          "1",
          f.chainId,
          await vault.getAddress(),
          ZeroHash,
          [],
        ]);
      }
      const implementation = await f.factory.VAULT_IMPLEMENTATION();
      const [, , , , verifyingContract] = await BallastVault__factory.connect(implementation, f.alice).eip712Domain();
      expect(verifyingContract).to.equal(implementation);
    });
  });
});
