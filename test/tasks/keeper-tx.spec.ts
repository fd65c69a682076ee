import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { parseUnits, toQuantity } from "ethers";
import hre from "hardhat";

import { minimumBump, unstick, type FeeOverrides } from "../../lib/keeper/fees";
import { KeeperLog, parseLogLines, type LogRecord } from "../../tasks/keeper/log";
import { TxSender, type SendOptions } from "../../tasks/keeper/tx";

const gwei = (v: string): bigint => parseUnits(v, 9);
const FEES = { maxFeePerGas: gwei("10"), maxPriorityFeePerGas: gwei("1") } as const;
/** Signer indices: 8 sends, 9 receives (no other spec's fixture relies on them staying idle here). */
const FROM = 8;
const TO = 9;

function rpc(method: string, params: unknown[] = []): Promise<unknown> {
  return hre.network.provider.send(method, params);
}

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Mines one block at `baseFee` (wei). */
async function mineAt(baseFee: bigint): Promise<void> {
  await rpc("hardhat_setNextBlockBaseFeePerGas", [toQuantity(baseFee)]);
  await rpc("evm_mine");
}

interface Harness {
  sender: TxSender;
  lines: string[];
  records: () => LogRecord[];
  events: (event: string) => LogRecord[];
}

function harness(from: HardhatEthersSigner, options: Partial<SendOptions> = {}): Harness {
  const lines: string[] = [];
  const log = new KeeperLog({ format: "json", sink: (line) => lines.push(line) });
  const sender = new TxSender(from, hre.ethers.provider, log, { timeoutMs: 300, pollMs: 20, ...options });
  const records = () => parseLogLines(lines);
  return { sender, lines, records, events: (event) => records().filter((r) => r.event === event) };
}

/** The message and `code` a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<{ message: string; code?: unknown }> {
  try {
    await p;
  } catch (e) {
    return { message: e instanceof Error ? e.message : String(e), code: (e as { code?: unknown }).code };
  }
  throw new Error("expected a rejection");
}

describe("keeper transactions", () => {
  describe("replacement fees", () => {
    it("bumps both fees by at least 12.5%, rounded up", () => {
      expect(minimumBump(FEES)).to.deep.equal({ maxFeePerGas: gwei("11.25"), maxPriorityFeePerGas: gwei("1.125") });
      expect(minimumBump({ gasPrice: 9n })).to.deep.equal({ gasPrice: 11n });
    });

    it("follows the market when the base fee jumped, within the cap", () => {
      expect(unstick(FEES, gwei("1"), undefined, false)).to.deep.equal({ kind: "replace", fees: minimumBump(FEES) });
      expect(unstick(FEES, gwei("20"), gwei("50"), false)).to.deep.equal({
        kind: "replace",
        fees: { maxFeePerGas: gwei("41.125"), maxPriorityFeePerGas: gwei("1.125") },
      });
    });

    it("cancels at the minimum bump when the market is above the cap, and gives up when the bump is", () => {
      expect(unstick(FEES, gwei("20"), gwei("12"), false)).to.deep.equal({ kind: "cancel", fees: minimumBump(FEES) });
      expect(unstick(FEES, gwei("1"), gwei("12"), true)).to.deep.equal({ kind: "cancel", fees: minimumBump(FEES) });
      expect(unstick(FEES, gwei("1"), gwei("11"), false)).to.deep.equal({ kind: "stuck", needed: gwei("11.25") });
    });
  });

  describe("deadlines on a node that does not mine", () => {
    let snapshot: unknown;
    let from: HardhatEthersSigner;
    let to: string;

    beforeEach(async () => {
      const signers = await hre.ethers.getSigners();
      from = signers[FROM];
      to = signers[TO].address;
      snapshot = await rpc("evm_snapshot");
      await rpc("evm_setAutomine", [false]);
    });

    afterEach(async () => {
      await rpc("evm_setAutomine", [true]);
      // Also drops what is left in the mempool.
      await rpc("evm_revert", [snapshot]);
    });

    it("replaces a transaction not mined by its deadline: same nonce, both fees +12.5%, only one mined", async () => {
      const h = harness(from);
      const provider = hre.ethers.provider;
      const nonce = await provider.getTransactionCount(from.address, "latest");
      const sent = await h.sender.submit("transfer", undefined, FEES, { to, value: 1n });
      const confirmed = h.sender.confirm(sent);
      await until(() => h.events("tx-replaced").length === 1, "the replacement");
      await rpc("evm_mine");
      const receipt = await confirmed;

      expect(sent.hashes).to.have.length(2);
      const [original, replacement] = sent.hashes;
      expect(receipt.hash).to.equal(replacement);
      const tx = await provider.getTransaction(replacement);
      expect(tx?.nonce).to.equal(nonce);
      expect(tx?.to).to.equal(to);
      expect(tx?.value).to.equal(1n);
      expect((tx?.maxFeePerGas ?? 0n) * 8n >= FEES.maxFeePerGas * 9n).to.equal(true);
      expect((tx?.maxPriorityFeePerGas ?? 0n) * 8n >= FEES.maxPriorityFeePerGas * 9n).to.equal(true);
      // The original is gone: never mined, no longer in the mempool; the nonce moved by one.
      expect(await provider.getTransactionReceipt(original)).to.equal(null);
      expect(await provider.getTransaction(original)).to.equal(null);
      expect(await provider.getTransactionCount(from.address, "latest")).to.equal(nonce + 1);
      const [logged] = h.events("tx-replaced");
      expect(logged).to.include({ action: "transfer", nonce, tx: original, replacement });
    });

    it("with a cap below the market, cancels with a 0-value self-transfer at the bumped fee", async () => {
      const h = harness(from, { maxFee: gwei("12"), timeoutMs: 500 });
      const provider = hre.ethers.provider;
      const nonce = await provider.getTransactionCount(from.address, "latest");
      const sent = await h.sender.submit("transfer", undefined, FEES, { to, value: 1n });
      // The base fee jumps above the transaction's max fee: it is not included, and the market is above the cap.
      await mineAt(gwei("20"));
      expect(await provider.getTransactionCount(from.address, "latest")).to.equal(nonce);
      const confirmed = rejection(h.sender.confirm(sent));
      await until(() => h.events("tx-cancelling").length === 1, "the cancel");
      await mineAt(gwei("1"));
      const failure = await confirmed;

      expect(failure.code).to.equal("TX_CANCELLED");
      expect(failure.message).to.match(/cancelled by a 0-value self-transfer/);
      const cancel = await provider.getTransaction(sent.hashes[1]);
      expect(cancel).to.include({ nonce, to: from.address, value: 0n, gasLimit: 21_000n });
      expect(cancel?.maxFeePerGas).to.equal(gwei("11.25"));
      expect(cancel?.maxPriorityFeePerGas).to.equal(gwei("1.125"));
      expect((await provider.getTransactionReceipt(sent.hashes[1]))?.status).to.equal(1);
      expect(await provider.getTransactionReceipt(sent.hashes[0])).to.equal(null);
      expect(await provider.getTransactionCount(from.address, "latest")).to.equal(nonce + 1);
    });

    it("with a cap below even the smallest bump, logs it stuck, stops waiting and sends nothing more", async () => {
      const h = harness(from, { maxFee: gwei("11") });
      const sent = await h.sender.submit("transfer", "0x00000000000000000000000000000000000000aa", FEES, { to });
      const started = Date.now();
      const failure = await rejection(h.sender.confirm(sent));
      expect(Date.now() - started).to.be.below(5_000);
      expect(failure.code).to.equal("TX_STUCK");
      expect(sent.hashes).to.have.length(1);
      const [stuck] = h.events("tx-stuck");
      expect(stuck).to.include({ action: "transfer", tx: sent.hash, maxFeeGwei: "10.000" });
      expect(String(stuck.reason)).to.match(/at least 11\.250 gwei, above --max-fee 11\.000 gwei/);
      // Still in the mempool, unmined.
      expect(await hre.ethers.provider.getTransaction(sent.hash)).to.not.equal(null);
      expect(await hre.ethers.provider.getTransactionReceipt(sent.hash)).to.equal(null);
      // Later transactions would queue behind it: the rest of the pass sends nothing.
      expect((await rejection(h.sender.submit("transfer", undefined, FEES, { to }))).code).to.equal("TX_STUCK");
    });

    it("without a cap, gives up after its replacements instead of waiting forever", async () => {
      const h = harness(from, { maxReplacements: 1, timeoutMs: 200 });
      const sent = await h.sender.submit("transfer", undefined, FEES, { to });
      const failure = await rejection(h.sender.confirm(sent));
      expect(failure.code).to.equal("TX_STUCK");
      expect(h.events("tx-replaced")).to.have.length(1);
      expect(String(h.events("tx-stuck")[0].reason)).to.match(/still unmined after 1 replacements/);
    });

    it("refuses a send that would take the pass over its spending cap, until the next pass", async () => {
      // Room for one transfer (21,000 gas at 10 gwei) and a half.
      const cap = (21_000n * FEES.maxFeePerGas * 3n) / 2n;
      const h = harness(from, { maxSpend: cap });
      const fees: FeeOverrides = FEES;
      const first = await h.sender.submit("transfer", undefined, fees, { to }, 21_000n);
      expect(h.sender.spentThisPass()).to.equal(21_000n * FEES.maxFeePerGas);
      const refused = await rejection(h.sender.submit("transfer", undefined, fees, { to }, 21_000n));
      expect(refused.code).to.equal("SPEND_CAP");
      expect(refused.message).to.match(/would pass --max-spend-per-pass 0\.000315 ETH/);
      expect(await hre.ethers.provider.getTransactionCount(from.address, "pending")).to.equal(first.nonce + 1);
      h.sender.newPass();
      const next = await h.sender.submit("transfer", undefined, fees, { to }, 21_000n);
      expect(next.nonce).to.equal(first.nonce + 1);
      await rpc("evm_mine");
    });
  });
});
