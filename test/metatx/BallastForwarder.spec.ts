import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import {
  concat,
  encodeBytes32String,
  id,
  parseUnits,
  TypedDataEncoder,
  verifyTypedData,
  Wallet,
  ZeroAddress,
  ZeroHash,
  type Signer,
  type TypedDataDomain,
} from "ethers";
import hre from "hardhat";

import {
  BallastForwarder__factory,
  BallastVault__factory,
  type BallastForwarder,
  type BallastVault,
} from "../../typechain-types";
import { FORWARD_REQUEST_TYPES, FORWARDER_DOMAIN, signForwardRequest } from "../../lib/intents";
import { mined } from "../../lib/market/aave";
import { DEFAULT_POLICY } from "../../lib/protocol";
import {
  compactSignature,
  ecrecoverPrecompile,
  expectExecutorClean,
  expectUnchanged,
  highSSignature,
  openVaultFixture,
  snapshotState,
  type StateSnapshot,
  type VaultFixture,
  NEW_POLICY,
  NEW_POLICY_VALUES,
} from "../shared/vault";

const GAS = 1_000_000n;

interface ForwarderFixture extends VaultFixture {
  chainId: bigint;
  /** The forwarder's own EIP-712 domain. */
  domain: TypedDataDomain;
  /** A signer with no role at all: it only pays gas. */
  relayer: HardhatEthersSigner;
  /** A second BallastForwarder that neither the factory nor any vault trusts. */
  untrusted: BallastForwarder;
  /** Alice's second, empty vault. */
  other: BallastVault;
}

/** Alice's vault opened at HF 1.5, her second vault, and a forwarder nothing trusts. */
async function forwarderFixture(): Promise<ForwarderFixture> {
  const f = await openVaultFixture();
  const [, , , , , relayer] = await hre.ethers.getSigners();
  const { chainId } = await hre.ethers.provider.getNetwork();
  const domain: TypedDataDomain = { ...FORWARDER_DOMAIN, chainId, verifyingContract: await f.forwarder.getAddress() };
  const untrusted = await new BallastForwarder__factory(f.governance).deploy();
  const salt = encodeBytes32String("second");
  await mined(f.factory.connect(f.alice).createVault(f.tokens.erc20.WETH, f.tokens.erc20.USDC, DEFAULT_POLICY, salt));
  const other = BallastVault__factory.connect(await f.factory.predictVault(f.alice.address, salt), f.alice);
  return { ...f, chainId, domain, relayer, untrusted, other };
}

/** A forward request in full, with the nonce it is signed over. */
interface Request {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  nonce: bigint;
  deadline: bigint;
  data: string;
}

/** What `execute` takes: the request without its nonce (the forwarder reads the current one) and a signature. */
interface Submitted {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  deadline: bigint;
  data: string;
  signature: string;
}

async function deadlineIn(seconds: bigint): Promise<bigint> {
  return BigInt(await time.latest()) + seconds;
}

/** Signs any request under any domain, `from` included: for requests the forwarder must refuse. */
async function signRaw(signer: Signer, domain: TypedDataDomain, request: Request): Promise<Submitted> {
  const signature = await signer.signTypedData(domain, FORWARD_REQUEST_TYPES, request);
  const { nonce: _nonce, ...rest } = request;
  return { ...rest, signature };
}

/** Alice's request to call `to` with `data`, at her current forwarder nonce. */
async function aliceRequest(f: ForwarderFixture, to: string, data: string): Promise<Request> {
  return {
    from: f.alice.address,
    to,
    value: 0n,
    gas: GAS,
    nonce: await f.forwarder.nonces(f.alice.address),
    deadline: await deadlineIn(3_600n),
    data,
  };
}

/**
 * The address the forwarder recovers for a submitted request: the signer of the digest it builds from the request's
 * fields and the current nonce of `from`, under its own domain.
 */
async function recoveredBy(f: ForwarderFixture, request: Submitted): Promise<string> {
  const { signature, ...fields } = request;
  const nonce = await f.forwarder.nonces(fields.from);
  return verifyTypedData(f.domain, FORWARD_REQUEST_TYPES, { ...fields, nonce }, signature);
}

interface RelayState {
  snapshot: StateSnapshot;
  policy: bigint[];
  paused: boolean;
  nonces: bigint[];
}

const WATCHED = (f: ForwarderFixture): string[] => [f.alice.address, f.keeper.address, f.attacker.address];

async function relayState(f: ForwarderFixture): Promise<RelayState> {
  const nonces: bigint[] = [];
  for (const who of WATCHED(f)) nonces.push(await f.forwarder.nonces(who));
  return {
    snapshot: await snapshotState(f),
    policy: [...(await f.vault.policy())],
    paused: await f.vault.automationPaused(),
    nonces,
  };
}

/** A refused request: the position, balances, policy and pause flag are as before, and no forwarder nonce moved. */
async function expectRefused(f: ForwarderFixture, before: RelayState): Promise<void> {
  await expectUnchanged(f, before.snapshot);
  expect([...(await f.vault.policy())], "policy").to.deep.equal(before.policy);
  expect(await f.vault.automationPaused(), "automationPaused").to.equal(before.paused);
  const nonces: bigint[] = [];
  for (const who of WATCHED(f)) nonces.push(await f.forwarder.nonces(who));
  expect(nonces, "forwarder nonces").to.deep.equal(before.nonces);
}

/** An owner call relayed through the forwarder. */
interface RelayedCall {
  name: string;
  data(f: ForwarderFixture): string;
  /** Another call to the same function, for a tampered `data`. */
  otherData(f: ForwarderFixture): string;
  /** Asserts the call took effect. */
  expectDone(f: ForwarderFixture): Promise<void>;
}

const RELAYED_CALLS: RelayedCall[] = [
  {
    name: "setPolicy",
    data: (f) => f.vault.interface.encodeFunctionData("setPolicy", [NEW_POLICY]),
    otherData: (f) =>
      f.vault.interface.encodeFunctionData("setPolicy", [{ ...NEW_POLICY, targetHF: parseUnits("1.45", 18) }]),
    expectDone: async (f) => {
      expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
    },
  },
  {
    name: "pauseAutomation",
    data: (f) => f.vault.interface.encodeFunctionData("pauseAutomation", [true]),
    otherData: (f) => f.vault.interface.encodeFunctionData("pauseAutomation", [false]),
    expectDone: async (f) => {
      expect(await f.vault.automationPaused()).to.equal(true);
    },
  },
];

/** Invariants 2 and 6 through the forwarder, for one owner call. */
function behavesLikeARelayedOwnerCall(call: RelayedCall): void {
  async function setup(): Promise<{ f: ForwarderFixture; vault: string; request: Request }> {
    const f = await loadFixture(forwarderFixture);
    const vault = await f.vault.getAddress();
    return { f, vault, request: await aliceRequest(f, vault, call.data(f)) };
  }

  /** Submits `request` and expects ERC2771ForwarderInvalidSigner(recovered, from), with nothing changed. */
  async function expectInvalidSigner(f: ForwarderFixture, request: Submitted, recovered: string): Promise<void> {
    const before = await relayState(f);
    await expect(f.forwarder.connect(f.relayer).execute(request, { value: request.value }))
      .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderInvalidSigner")
      .withArgs(recovered, request.from);
    await expectRefused(f, before);
  }

  describe(`relayed ${call.name}`, () => {
    it("runs as the signer, whoever relays it, and moves the signer's nonce", async () => {
      const { f, request } = await setup();
      const signed = await signRaw(f.alice, f.domain, request);
      await expect(f.forwarder.connect(f.relayer).execute(signed))
        .to.emit(f.forwarder, "ExecutedForwardRequest")
        .withArgs(f.alice.address, 0n, true);
      await call.expectDone(f);
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(1n);
      expect(await f.forwarder.nonces(f.relayer.address)).to.equal(0n);
    });

    it("runs in the block of its deadline and is refused one second later with ERC2771ForwarderExpiredRequest", async () => {
      const { f, request } = await setup();
      const deadline = await deadlineIn(60n);
      const signed = await signRaw(f.alice, f.domain, { ...request, deadline });
      const before = await relayState(f);
      await time.setNextBlockTimestamp(deadline + 1n);
      await expect(f.forwarder.connect(f.relayer).execute(signed))
        .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderExpiredRequest")
        .withArgs(deadline);
      await expectRefused(f, before);

      const again = await setup();
      await time.setNextBlockTimestamp(deadline);
      await expect(again.f.forwarder.connect(again.f.relayer).execute(signed)).to.emit(
        again.f.forwarder,
        "ExecutedForwardRequest",
      );
      await call.expectDone(again.f);
    });

    it("refuses the same request twice: the nonce moved, so the signature recovers someone else", async () => {
      const { f, request } = await setup();
      const signed = await signRaw(f.alice, f.domain, request);
      await mined(f.forwarder.connect(f.relayer).execute(signed));
      const recovered = await recoveredBy(f, signed);
      // The digest now carries nonce 1, which alice never signed.
      expect(recovered).to.equal(
        verifyTypedData(f.domain, FORWARD_REQUEST_TYPES, { ...request, nonce: 1n }, signed.signature),
      );
      expect(recovered).to.not.equal(f.alice.address);
      await expectInvalidSigner(f, signed, recovered);
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(1n);
    });

    it("refuses a request another key signed in the owner's name", async () => {
      const { f, request } = await setup();
      await expectInvalidSigner(f, await signRaw(f.attacker, f.domain, request), f.attacker.address);
    });

    it("refuses every field changed after signing", async () => {
      const { f, request } = await setup();
      const signed = await signRaw(f.alice, f.domain, request);
      const tampered: Record<string, Submitted> = {
        data: { ...signed, data: call.otherData(f) },
        to: { ...signed, to: await f.other.getAddress() },
        gas: { ...signed, gas: signed.gas + 1n },
        deadline: { ...signed, deadline: signed.deadline + 1n },
        value: { ...signed, value: 1n },
        from: { ...signed, from: f.keeper.address },
      };
      for (const [field, changed] of Object.entries(tampered)) {
        const recovered = await recoveredBy(f, changed);
        expect(recovered, field).to.not.equal(changed.from);
        await expectInvalidSigner(f, changed, recovered);
      }
    });

    it("refuses a request signed for another chain id", async () => {
      const { f, request } = await setup();
      expect(f.chainId).to.not.equal(1n);
      const signed = await signRaw(f.alice, { ...f.domain, chainId: 1n }, request);
      await expectInvalidSigner(f, signed, await recoveredBy(f, signed));
    });

    it("refuses a request signed for another forwarder, which the vault does not trust", async () => {
      const { f, request } = await setup();
      const untrusted = await f.untrusted.getAddress();
      const signed = await signRaw(f.alice, { ...f.domain, verifyingContract: untrusted }, request);
      await expectInvalidSigner(f, signed, await recoveredBy(f, signed));
      // On the forwarder it was signed for, the signature is good, but the vault does not trust that forwarder.
      expect(await f.vault.isTrustedForwarder(untrusted)).to.equal(false);
      const before = await relayState(f);
      await expect(f.untrusted.connect(f.relayer).execute(signed))
        .to.be.revertedWithCustomError(f.untrusted, "ERC2771UntrustfulTarget")
        .withArgs(await f.vault.getAddress(), untrusted);
      await expectRefused(f, before);
      expect(await f.untrusted.nonces(f.alice.address)).to.equal(0n);
    });

    it("refuses the malleable high-s twin of a valid signature, recovering the zero address", async () => {
      const { f, request } = await setup();
      const signed = await signRaw(f.alice, f.domain, request);
      const twin = highSSignature(signed.signature);
      const digest = TypedDataEncoder.hash(f.domain, FORWARD_REQUEST_TYPES, request);
      expect(await ecrecoverPrecompile(digest, twin)).to.equal(f.alice.address);
      // OpenZeppelin's tryRecover reports InvalidSignatureS with address(0), which the forwarder passes on.
      await expectInvalidSigner(f, { ...signed, signature: twin }, ZeroAddress);
      await expect(f.forwarder.connect(f.relayer).execute(signed)).to.emit(f.forwarder, "ExecutedForwardRequest");
    });

    it("refuses the 64-byte EIP-2098 compact form, recovering the zero address", async () => {
      const { f, request } = await setup();
      const signed = await signRaw(f.alice, f.domain, request);
      // OpenZeppelin v5's tryRecover takes 65-byte signatures only: InvalidSignatureLength, address(0).
      await expectInvalidSigner(f, { ...signed, signature: compactSignature(signed.signature) }, ZeroAddress);
    });
  });
}

describe("BallastForwarder", () => {
  for (const call of RELAYED_CALLS) behavesLikeARelayedOwnerCall(call);

  describe("#execute target trust", () => {
    it("refuses a target that does not trust the forwarder with ERC2771UntrustfulTarget", async () => {
      const f = await loadFixture(forwarderFixture);
      const forwarder = await f.forwarder.getAddress();
      const usdc = f.tokens.erc20.USDC;
      const targets = [
        {
          to: await f.priceGuard.getAddress(),
          data: f.priceGuard.interface.encodeFunctionData("setHeartbeat", [await usdc.getAddress(), 1n]),
        },
        {
          to: await usdc.getAddress(),
          data: usdc.interface.encodeFunctionData("transfer", [f.attacker.address, 1n]),
        },
        {
          to: await f.tokens.erc20.WETH.getAddress(),
          data: usdc.interface.encodeFunctionData("approve", [f.attacker.address, 1n]),
        },
      ];
      const before = await relayState(f);
      for (const { to, data } of targets) {
        const signed = await signRaw(f.alice, f.domain, await aliceRequest(f, to, data));
        await expect(f.forwarder.connect(f.relayer).execute(signed))
          .to.be.revertedWithCustomError(f.forwarder, "ERC2771UntrustfulTarget")
          .withArgs(to, forwarder);
      }
      await expectRefused(f, before);
      expect(await f.priceGuard.heartbeat(usdc)).to.not.equal(1n);
      expect(await f.factory.isTrustedForwarder(forwarder)).to.equal(true);
      expect(await f.vault.isTrustedForwarder(forwarder)).to.equal(true);
    });
  });

  describe("#execute msg.value", () => {
    it("refuses a msg.value other than the signed value with ERC2771ForwarderMismatchedValue", async () => {
      const f = await loadFixture(forwarderFixture);
      const vault = await f.vault.getAddress();
      const request = await aliceRequest(f, vault, f.vault.interface.encodeFunctionData("pauseAutomation", [true]));
      const zero = await signRaw(f.alice, f.domain, request);
      const one = await signRaw(f.alice, f.domain, { ...request, value: 1n });
      const before = await relayState(f);
      const forwarderEth = await hre.ethers.provider.getBalance(f.forwarder);
      await expect(f.forwarder.connect(f.relayer).execute(zero, { value: 1n }))
        .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderMismatchedValue")
        .withArgs(0n, 1n);
      await expect(f.forwarder.connect(f.relayer).execute(one))
        .to.be.revertedWithCustomError(f.forwarder, "ERC2771ForwarderMismatchedValue")
        .withArgs(1n, 0n);
      await expectRefused(f, before);
      expect(await hre.ethers.provider.getBalance(f.forwarder)).to.equal(forwarderEth);
    });
  });

  describe("#execute gas check", () => {
    /** The hash of the latest block's only transaction: a reverted one is still mined. */
    async function latestTransaction(): Promise<string> {
      const block = await hre.ethers.provider.getBlock("latest");
      if (block === null || block.transactions.length !== 1) throw new Error("expected one transaction");
      return block.transactions[0];
    }

    /** The last opcode a failed transaction ran, from the node's trace. */
    async function lastOpcode(hash: string): Promise<string> {
      const trace = (await hre.network.provider.request({
        method: "debug_traceTransaction",
        params: [hash, { disableStack: true, disableMemory: true, disableStorage: true }],
      })) as { failed: boolean; structLogs: { op: string }[] };
      expect(trace.failed).to.equal(true);
      return trace.structLogs[trace.structLogs.length - 1].op;
    }

    it("reverts the whole transaction when the relayer starves the call of the gas it signed for", async () => {
      const f = await loadFixture(forwarderFixture);
      const request = await aliceRequest(
        f,
        await f.vault.getAddress(),
        f.vault.interface.encodeFunctionData("close", [f.down]),
      );
      const signed = await signRaw(f.alice, f.domain, { ...request, gas: 5_000_000n });
      const before = await relayState(f);
      // Relayed with enough gas, the close costs about 730k in all (measured 728,134). A 400k limit leaves the call
      // well under what it needs, so it runs out of gas. OpenZeppelin then sees gasleft() < gas / 63 and ends in
      // invalid(): all gas is consumed and there is no error data to match, so `.to.be.reverted` is all chai can
      // assert; the trace shows the INVALID opcode. The relayer cannot spend alice's nonce on a call it made fail.
      const gasLimit = 400_000n;
      await expect(f.forwarder.connect(f.relayer).execute(signed, { gasLimit })).to.be.reverted;
      const hash = await latestTransaction();
      expect(await lastOpcode(hash)).to.equal("INVALID");
      const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
      expect([receipt?.status, receipt?.gasUsed]).to.deep.equal([0, gasLimit]);
      await expectRefused(f, before);
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(0n);

      // With enough gas, the very same signed request goes through.
      await expect(f.forwarder.connect(f.relayer).execute(signed, { gasLimit: 6_000_000n }))
        .to.emit(f.vault, "Closed")
        .withArgs(
          f.alice.address,
          (v: bigint) => v > 0n,
          (v: bigint) => v > 0n,
        );
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(1n);
      expect((await f.vault.position()).debtBase).to.equal(0n);
    });

    it("lets a call that finished count even though it got less than its gas: the check guards the outcome", async () => {
      const f = await loadFixture(forwarderFixture);
      const request = await aliceRequest(
        f,
        await f.vault.getAddress(),
        f.vault.interface.encodeFunctionData("setPolicy", [NEW_POLICY]),
      );
      const signed = await signRaw(f.alice, f.domain, { ...request, gas: 5_000_000n });
      // Under 1M of gas reaches the call, not 5M. setPolicy needs a few tens of thousands and leaves gasleft() far
      // above 5M / 63, so OpenZeppelin accepts it: the check proves the call did not run out of gas, not that it
      // was handed all of `gas`. (Measured: estimateGas gives 163,600 for this request.)
      await expect(f.forwarder.connect(f.relayer).execute(signed, { gasLimit: 1_000_000n }))
        .to.emit(f.forwarder, "ExecutedForwardRequest")
        .withArgs(f.alice.address, 0n, true);
      expect([...(await f.vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
    });
  });

  describe("ERC-2771 suffix from a caller other than the forwarder", () => {
    it("ignores an owner address appended to a vault call: VaultNotOwner(caller)", async () => {
      const f = await loadFixture(forwarderFixture);
      const vault = await f.vault.getAddress();
      const before = await relayState(f);
      for (const data of [
        f.vault.interface.encodeFunctionData("setPolicy", [NEW_POLICY]),
        f.vault.interface.encodeFunctionData("withdraw", [parseUnits("1", 18), f.attacker.address]),
        f.vault.interface.encodeFunctionData("pauseAutomation", [true]),
      ]) {
        await expect(f.attacker.sendTransaction({ to: vault, data: concat([data, f.alice.address]) }))
          .to.be.revertedWithCustomError(f.vault, "VaultNotOwner")
          .withArgs(f.attacker.address);
      }
      await expectRefused(f, before);
    });

    it("creates the vault for the real caller when createVault carries someone else's address", async () => {
      const f = await loadFixture(forwarderFixture);
      const salt = encodeBytes32String("spoof");
      const weth = await f.tokens.erc20.WETH.getAddress();
      const usdc = await f.tokens.erc20.USDC.getAddress();
      const data = f.factory.interface.encodeFunctionData("createVault", [weth, usdc, DEFAULT_POLICY, salt]);
      const attackers = await f.factory.predictVault(f.attacker.address, salt);
      const alices = await f.factory.predictVault(f.alice.address, salt);
      await expect(
        f.attacker.sendTransaction({ to: await f.factory.getAddress(), data: concat([data, f.alice.address]) }),
      )
        .to.emit(f.factory, "VaultCreated")
        .withArgs(f.attacker.address, attackers, weth, usdc, salt);
      expect(await BallastVault__factory.connect(attackers, f.attacker).owner()).to.equal(f.attacker.address);
      expect(await f.factory.isVault(alices)).to.equal(false);
      expect(await hre.ethers.provider.getCode(alices)).to.equal("0x");
    });
  });

  describe("gasless owner operations", () => {
    it("creates a vault for a key holding no ETH, then sets its policy and pauses it, all relayed", async () => {
      const f = await loadFixture(forwarderFixture);
      const owner = new Wallet(id("ballast.test.gasless-owner"));
      expect(await hre.ethers.provider.getBalance(owner.address)).to.equal(0n);
      const salt = encodeBytes32String("gasless");
      const weth = await f.tokens.erc20.WETH.getAddress();
      const usdc = await f.tokens.erc20.USDC.getAddress();
      const factory = await f.factory.getAddress();
      const predicted = await f.factory.predictVault(owner.address, salt);
      const deadline = await deadlineIn(3_600n);

      const create = await signForwardRequest(owner, f.forwarder, {
        to: factory,
        data: f.factory.interface.encodeFunctionData("createVault", [weth, usdc, DEFAULT_POLICY, salt]),
        gas: GAS,
        deadline,
      });
      await expect(f.forwarder.connect(f.relayer).execute(create))
        .to.emit(f.factory, "VaultCreated")
        .withArgs(owner.address, predicted, weth, usdc, salt);
      const vault = BallastVault__factory.connect(predicted, f.relayer);
      expect(await vault.owner()).to.equal(owner.address);
      // Neither the relayer nor the forwarder became an owner of anything.
      for (const who of [f.relayer.address, await f.forwarder.getAddress()]) {
        expect(await hre.ethers.provider.getCode(await f.factory.predictVault(who, salt))).to.equal("0x");
      }

      const setPolicy = await signForwardRequest(owner, f.forwarder, {
        to: predicted,
        data: vault.interface.encodeFunctionData("setPolicy", [NEW_POLICY]),
        gas: GAS,
        deadline,
      });
      await expect(f.forwarder.connect(f.relayer).execute(setPolicy))
        .to.emit(vault, "PolicySet")
        .withArgs(NEW_POLICY_VALUES);
      const pause = await signForwardRequest(owner, f.forwarder, {
        to: predicted,
        data: vault.interface.encodeFunctionData("pauseAutomation", [true]),
        gas: GAS,
        deadline,
      });
      await expect(f.forwarder.connect(f.relayer).execute(pause)).to.emit(vault, "AutomationPaused").withArgs(true);
      expect([...(await vault.policy())]).to.deep.equal(NEW_POLICY_VALUES);
      expect(await vault.automationPaused()).to.equal(true);
      expect(await f.forwarder.nonces(owner.address)).to.equal(3n);
      expect(await hre.ethers.provider.getBalance(owner.address)).to.equal(0n);

      // The relayer has no power of its own over the vault.
      await expect(vault.setPolicy(DEFAULT_POLICY))
        .to.be.revertedWithCustomError(vault, "VaultNotOwner")
        .withArgs(f.relayer.address);
    });

    it("withdraws and closes for the owner, who pays no gas; the forwarder and relayer keep nothing", async () => {
      const f = await loadFixture(forwarderFixture);
      const vault = await f.vault.getAddress();
      const weth = f.tokens.erc20.WETH;
      const usdc = f.tokens.erc20.USDC;
      const aliceEth = await hre.ethers.provider.getBalance(f.alice);
      const amount = parseUnits("0.1", 18);

      const withdraw = await signForwardRequest(f.alice, f.forwarder, {
        to: vault,
        data: f.vault.interface.encodeFunctionData("withdraw", [amount, f.alice.address]),
        gas: GAS,
        deadline: await deadlineIn(3_600n),
      });
      const withdrawTx = await f.forwarder.connect(f.relayer).execute(withdraw);
      await expect(withdrawTx).to.emit(f.vault, "Withdrawn").withArgs(f.alice.address, amount);
      await expect(withdrawTx).to.changeTokenBalances(weth, [f.alice, f.relayer, f.forwarder], [amount, 0n, 0n]);

      const close = await signForwardRequest(f.alice, f.forwarder, {
        to: vault,
        data: f.vault.interface.encodeFunctionData("close", [f.down]),
        gas: 3_000_000n,
        deadline: await deadlineIn(3_600n),
      });
      const closeTx = await f.forwarder.connect(f.relayer).execute(close);
      const receipt = await closeTx.wait();
      const closed = receipt?.logs
        .filter((log) => log.address === vault)
        .map((log) => f.vault.interface.parseLog(log))
        .find((parsed) => parsed?.name === "Closed");
      if (closed === undefined || closed === null) throw new Error("no Closed event");
      const [to, collateralReturned, debtAssetReturned] = closed.args.toArray() as [string, bigint, bigint];
      expect(to).to.equal(f.alice.address);
      expect(collateralReturned).to.be.gt(0n);
      await expect(closeTx).to.changeTokenBalances(
        weth,
        [f.alice, f.relayer, f.forwarder],
        [collateralReturned, 0n, 0n],
      );
      await expect(closeTx).to.changeTokenBalances(
        usdc,
        [f.alice, f.relayer, f.forwarder],
        [debtAssetReturned, 0n, 0n],
      );
      expect((await f.vault.position()).debtBase).to.equal(0n);
      expect(await f.aave.variableDebtTokens.USDC.scaledBalanceOf(f.vault)).to.equal(0n);

      expect(await hre.ethers.provider.getBalance(f.alice)).to.equal(aliceEth);
      expect(await f.forwarder.nonces(f.alice.address)).to.equal(2n);
      // Invariant 1 for the forwarder: no balances, no allowances.
      for (const token of [weth, usdc]) {
        expect(await token.balanceOf(f.forwarder)).to.equal(0n);
        expect(await token.allowance(f.forwarder, f.aave.pool)).to.equal(0n);
      }
      expect(await hre.ethers.provider.getBalance(f.forwarder)).to.equal(0n);
      await expectExecutorClean(f);
    });
  });

  describe("#eip712Domain", () => {
    it("names BallastForwarder version 1 on this chain at its own address", async () => {
      const f = await loadFixture(forwarderFixture);
      const [fields, name, version, chainId, verifyingContract, salt, extensions] = await f.forwarder.eip712Domain();
      expect([fields, name, version, chainId, verifyingContract, salt, [...extensions]]).to.deep.equal([
        "0x0f",
        "BallastForwarder",
        "1",
        f.chainId,
        await f.forwarder.getAddress(),
        ZeroHash,
        [],
      ]);
    });
  });
});
