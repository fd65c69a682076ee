import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, parseUnits, Transaction } from "ethers";
import hre from "hardhat";

import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { accountWallet } from "../../tasks/keeper/keys";
import { KeeperLog, parseLogLines, type LogRecord } from "../../tasks/keeper/log";
import { privateTransport, redactUrl } from "../../tasks/keeper/private";
import { TxSender } from "../../tasks/keeper/tx";
import type { PassSummary } from "../../tasks/keeper/types";
import { movePrice } from "../shared/vault";
import { expectTaskError, keeperOnceArgs, openedFixture, runTask, type OpenedFixture } from "./helpers";

/** Signer 6 runs the bot (as in keeper.spec); its key comes from the hardhat network's mnemonic. */
const KEEPER = 6;
const REMEDY = "retry when it answers, or run without --private-rpc to send publicly";

interface RpcBody {
  id: number;
  method: string;
  params: unknown[];
}

/** A stand-in for a Flashbots Protect-style RPC: records every request; `eth_sendRawTransaction` goes to the chain. */
interface PrivateRpc {
  url: string;
  bodies: RpcBody[];
  /** A JSON-RPC error to answer with instead of forwarding. */
  refuse?: string;
  /** Answer with the hash but keep the transaction, as a relay does until a builder includes it. */
  hold?: boolean;
  /** Answer with this HTTP status and a plain-text body, as a proxy in front of a down endpoint does. */
  status?: number;
  /** Answer this many ms late (after doing what it does with the transaction). */
  delayMs?: number;
  close: () => Promise<void>;
}

async function startPrivateRpc(): Promise<PrivateRpc> {
  // The in-process chain as it is before any spy: what the endpoint forwards to is not a public send.
  const provider = hre.network.provider;
  const forward = provider.request.bind(provider);
  const rpc: PrivateRpc = { url: "", bodies: [], close: async () => undefined };
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(text) as RpcBody;
      rpc.bodies.push(body);
      if (rpc.status !== undefined) {
        res.writeHead(rpc.status, { "content-type": "text/plain" });
        res.end("Bad Gateway");
        return;
      }
      const reply = (payload: object) => {
        const answer = () => {
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, ...payload }));
        };
        if (rpc.delayMs === undefined) answer();
        else setTimeout(answer, rpc.delayMs);
      };
      if (rpc.refuse !== undefined) return reply({ error: { code: -32000, message: rpc.refuse } });
      if (body.method !== "eth_sendRawTransaction") return reply({ error: { code: -32601, message: "not here" } });
      if (rpc.hold === true) return reply({ result: Transaction.from(body.params[0] as string).hash });
      forward({ method: body.method, params: body.params }).then(
        (result) => reply({ result }),
        (e: unknown) => reply({ error: { code: -32000, message: e instanceof Error ? e.message : String(e) } }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  rpc.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  rpc.close = () => new Promise((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
  return rpc;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

type Request = typeof hre.network.provider.request;
type Send = typeof hre.network.provider.send;

/** Runs `fn` with every method called on the public provider recorded. */
async function spyPublic<T>(fn: () => Promise<T>): Promise<{ result: T; methods: string[] }> {
  const provider = hre.network.provider;
  const methods: string[] = [];
  const request: Request = provider.request;
  const send: Send = provider.send;
  provider.request = (args) => {
    methods.push(args.method);
    return request.call(provider, args);
  };
  provider.send = (method, params) => {
    methods.push(method);
    return send.call(provider, method, params);
  };
  try {
    return { result: await fn(), methods };
  } finally {
    provider.request = request;
    provider.send = send;
  }
}

/**
 * A `TxSender` for signer 8 sending through the endpoint with a 300 ms deadline, to signer 9 (both idle in every
 * fixture, as in keeper-tx.spec), with its log lines; `answerWithinMs` is how long the transport waits for an answer.
 */
async function privateSender(rpc: PrivateRpc, options: { pollMs?: number; answerWithinMs?: number } = {}) {
  const provider = hre.ethers.provider;
  const wallet = accountWallet(hre, 8, provider);
  if (wallet === undefined) throw new Error("the hardhat network's accounts should be local");
  const to = (await hre.ethers.getSigners())[9].address;
  const lines: string[] = [];
  const log = new KeeperLog({ format: "json", sink: (line) => lines.push(line) });
  const sender = new TxSender(wallet, provider, log, {
    timeoutMs: 300,
    pollMs: options.pollMs,
    transport: privateTransport(rpc.url, options.answerWithinMs),
  });
  const fees = { maxFeePerGas: parseUnits("10", 9), maxPriorityFeePerGas: parseUnits("1", 9) };
  return { provider, wallet, to, lines, sender, fees };
}

/** WETH -15%: Alice's vault (HF 1.5) falls below its minHF 1.3. */
async function outOfBandFixture(): Promise<OpenedFixture> {
  const f = await openedFixture();
  await movePrice(f, "WETH", 1_700n * ORACLE_BASE_CURRENCY_UNIT);
  return f;
}

async function privatePass(f: OpenedFixture, url: string) {
  const { result, methods } = await spyPublic(() =>
    runTask<PassSummary>("keeper:run", keeperOnceArgs(f.book, KEEPER, 0, { privateRpc: url })),
  );
  const records = parseLogLines(result.output.split("\n").filter((l) => l.startsWith("{")));
  return { summary: result.result, output: result.output, records, methods };
}

const PUBLIC_SENDS = ["eth_sendTransaction", "eth_sendRawTransaction"];

function events(records: LogRecord[], event: string): LogRecord[] {
  return records.filter((r) => r.event === event);
}

describe("keeper:run --private-rpc", () => {
  let rpc: PrivateRpc;

  before(async () => {
    rpc = await startPrivateRpc();
  });

  after(async () => {
    await rpc.close();
  });

  beforeEach(() => {
    rpc.bodies.length = 0;
    rpc.refuse = undefined;
    rpc.hold = undefined;
    rpc.status = undefined;
    rpc.delayMs = undefined;
  });

  it("kicks and executes through the private endpoint only, and finds the receipts on the public provider", async () => {
    const f = await loadFixture(outOfBandFixture);
    const vault = getAddress(await f.vault.getAddress());
    const auction = getAddress(await f.auction.getAddress());
    const keeper = (await hre.ethers.getSigners())[KEEPER].address;
    const selector = (name: "kick" | "execute") => f.auction.interface.getFunction(name).selector;

    const kick = await privatePass(f, rpc.url);
    expect(kick.methods.filter((m) => PUBLIC_SENDS.includes(m))).to.deep.equal([]);
    expect(kick.summary.kicked).to.deep.equal([vault]);
    expect(kick.summary.failed).to.deep.equal([]);
    expect(rpc.bodies.map((b) => b.method)).to.deep.equal(["eth_sendRawTransaction"]);
    const kickTx = Transaction.from(rpc.bodies[0].params[0] as string);
    expect(kickTx.to).to.equal(auction);
    expect(kickTx.from).to.equal(keeper);
    expect(kickTx.data.slice(0, 10)).to.equal(selector("kick"));
    expect(kick.summary.transactions).to.deep.equal([kickTx.hash]);
    expect((await hre.ethers.provider.getTransactionReceipt(kickTx.hash as string))?.status).to.equal(1);
    expect(events(kick.records, "start")[0].send).to.equal(`private ${rpc.url}`);

    await f.world.advance(300);
    rpc.bodies.length = 0;
    const exec = await privatePass(f, rpc.url);
    expect(exec.methods.filter((m) => PUBLIC_SENDS.includes(m))).to.deep.equal([]);
    expect(exec.summary.executed.map((e) => e.vault)).to.deep.equal([vault]);
    expect(rpc.bodies.map((b) => b.method)).to.deep.equal(["eth_sendRawTransaction"]);
    const raw = rpc.bodies[0].params[0] as string;
    const execTx = Transaction.from(raw);
    expect(execTx.to).to.equal(auction);
    expect(execTx.from).to.equal(keeper);
    expect(execTx.data.slice(0, 10)).to.equal(selector("execute"));
    expect(exec.summary.executed[0].tx).to.equal(execTx.hash);
    expect(exec.summary.transactions).to.deep.equal([execTx.hash]);
    const receipt = await hre.ethers.provider.getTransactionReceipt(execTx.hash as string);
    expect(receipt?.status).to.equal(1);
    expect((await f.auction.auctionOf(vault)).kickedAt).to.equal(0n);
    // The raw transaction (its signature) is never printed; its hash is.
    expect(exec.output).to.include(execTx.hash as string);
    expect(exec.output).to.not.include(raw.slice(2));
    expect(exec.output).to.not.include(execTx.signature?.r.slice(2) as string);
  });

  it("control: without the flag the spy sees the kick sent publicly, and the endpoint sees nothing", async () => {
    const f = await loadFixture(outOfBandFixture);
    const { result, methods } = await spyPublic(() =>
      runTask<PassSummary>("keeper:run", keeperOnceArgs(f.book, KEEPER, 0)),
    );
    expect(result.result.kicked).to.have.length(1);
    expect(methods).to.include("eth_sendTransaction");
    expect(rpc.bodies).to.deep.equal([]);
    expect(result.output).to.include('"send":"public"');
  });

  it("a JSON-RPC error from the endpoint: one line that names it, nothing sent publicly, nothing kicked", async () => {
    const f = await loadFixture(outOfBandFixture);
    const vault = getAddress(await f.vault.getAddress());
    const keeper = (await hre.ethers.getSigners())[KEEPER].address;
    const nonce = await hre.ethers.provider.getTransactionCount(keeper);
    rpc.refuse = "private pool unavailable";
    const pass = await privatePass(f, rpc.url);
    const reason = `private RPC ${rpc.url} refused the transaction: private pool unavailable (code -32000): ${REMEDY}`;
    expect(pass.summary.failed).to.deep.equal([{ vault, stage: "kick", error: "PRIVATE_RPC_REFUSED", reason }]);
    expect(pass.summary.kicked).to.deep.equal([]);
    expect(pass.summary.transactions).to.deep.equal([]);
    expect(events(pass.records, "kick-failed")[0]).to.include({ vault, error: "PRIVATE_RPC_REFUSED", reason });
    expect(rpc.bodies.map((b) => b.method)).to.deep.equal(["eth_sendRawTransaction"]);
    expect(pass.output).to.not.include((rpc.bodies[0].params[0] as string).slice(2));
    expect(pass.methods.filter((m) => PUBLIC_SENDS.includes(m))).to.deep.equal([]);
    expect(await hre.ethers.provider.getTransactionCount(keeper)).to.equal(nonce);
    expect((await f.auction.auctionOf(vault)).kickedAt).to.equal(0n);
  });

  it("an endpoint that is down (closed port): one line that names it, nothing sent publicly", async () => {
    const f = await loadFixture(outOfBandFixture);
    const vault = getAddress(await f.vault.getAddress());
    const url = `http://127.0.0.1:${await closedPort()}`;
    const pass = await privatePass(f, url);
    const reason = `private RPC ${url} is unreachable (ECONNREFUSED): ${REMEDY}`;
    expect(pass.summary.failed).to.deep.equal([{ vault, stage: "kick", error: "PRIVATE_RPC_UNREACHABLE", reason }]);
    expect(pass.summary.kicked).to.deep.equal([]);
    expect(pass.methods.filter((m) => PUBLIC_SENDS.includes(m))).to.deep.equal([]);
    expect((await f.auction.auctionOf(vault)).kickedAt).to.equal(0n);
  });

  it("sends the deadline's replacement privately too: same nonce, bumped fees, mined and found publicly", async () => {
    const { provider, to, lines, sender, fees } = await privateSender(rpc, { pollMs: 20 });
    const snapshot = await hre.network.provider.send("evm_snapshot");
    await hre.network.provider.send("evm_setAutomine", [false]);
    try {
      const { result: receipt, methods } = await spyPublic(async () => {
        const sent = await sender.submit("transfer", undefined, fees, { to, value: 1n });
        const confirmed = sender.confirm(sent);
        const end = Date.now() + 10_000;
        // Not the endpoint's second request: only once it has answered is the replacement in the node's pool.
        while (!parseLogLines(lines).some((r) => r.event === "tx-replaced")) {
          if (Date.now() > end) throw new Error("timed out waiting for the replacement");
          await new Promise((r) => setTimeout(r, 10));
        }
        await hre.network.provider.send("evm_mine");
        return confirmed;
      });
      expect(methods.filter((m) => PUBLIC_SENDS.includes(m))).to.deep.equal([]);
      expect(rpc.bodies.map((b) => b.method)).to.deep.equal(["eth_sendRawTransaction", "eth_sendRawTransaction"]);
      const [original, replacement] = rpc.bodies.map((b) => Transaction.from(b.params[0] as string));
      expect(replacement.nonce).to.equal(original.nonce);
      expect(replacement.to).to.equal(to);
      expect((replacement.maxFeePerGas ?? 0n) * 8n >= fees.maxFeePerGas * 9n).to.equal(true);
      expect((replacement.maxPriorityFeePerGas ?? 0n) * 8n >= fees.maxPriorityFeePerGas * 9n).to.equal(true);
      expect(receipt.hash).to.equal(replacement.hash);
      expect(await provider.getTransactionReceipt(original.hash as string)).to.equal(null);
      const replaced = parseLogLines(lines).filter((r) => r.event === "tx-replaced");
      expect(replaced[0]).to.include({ tx: original.hash, replacement: replacement.hash });
    } finally {
      await hre.network.provider.send("evm_setAutomine", [true]);
      await hre.network.provider.send("evm_revert", [snapshot]);
    }
  });

  it("after a failure, does not reuse the nonce of a transaction the private endpoint still holds", async () => {
    const { provider, wallet, to, sender, fees } = await privateSender(rpc);
    const pending = await provider.getTransactionCount(wallet.address, "pending");
    rpc.hold = true;
    const held = await sender.submit("transfer", undefined, fees, { to, value: 1n }, 21_000n);
    expect(held.nonce).to.equal(pending);
    // The public node has not seen it: its pending count is unchanged.
    expect(await provider.getTransactionCount(wallet.address, "pending")).to.equal(pending);
    sender.resync();
    const next = await sender.submit("transfer", undefined, fees, { to, value: 1n }, 21_000n);
    expect(next.nonce).to.equal(pending + 1);
    expect(rpc.bodies.map((b) => Transaction.from(b.params[0] as string).nonce)).to.deep.equal([pending, pending + 1]);
  });

  it("an endpoint that takes a transaction and answers too late: its nonce counts as used, its hash is watched", async () => {
    const { provider, wallet, to, lines, sender, fees } = await privateSender(rpc, { answerWithinMs: 100 });
    const pending = await provider.getTransactionCount(wallet.address, "pending");
    rpc.hold = true;
    rpc.delayMs = 1_000;
    const late = await sender.submit("transfer", undefined, fees, { to, value: 1n }, 21_000n);
    const [held] = rpc.bodies.map((b) => Transaction.from(b.params[0] as string));
    expect([late.nonce, late.hash]).to.deep.equal([pending, held.hash]);
    const noAnswer = parseLogLines(lines).filter((r) => r.event === "private-rpc-no-answer");
    expect(noAnswer.map((r) => [r.tx, r.nonce])).to.deep.equal([[held.hash, pending]]);
    // Even after a failure elsewhere makes it re-read the nonce, the next transaction does not take the held one's.
    sender.resync();
    rpc.delayMs = undefined;
    expect((await sender.submit("transfer", undefined, fees, { to, value: 1n }, 21_000n)).nonce).to.equal(pending + 1);
  });

  it("an HTTP error page instead of JSON-RPC: unreachable, in one line, and the nonce is not taken", async () => {
    const { provider, wallet, to, sender, fees } = await privateSender(rpc);
    const pending = await provider.getTransactionCount(wallet.address, "pending");
    rpc.status = 502;
    let failure: { message: string; code?: unknown } | undefined;
    try {
      await sender.submit("transfer", undefined, fees, { to }, 21_000n);
    } catch (e) {
      failure = { message: e instanceof Error ? e.message : String(e), code: (e as { code?: unknown }).code };
    }
    expect(failure).to.deep.equal({
      code: "PRIVATE_RPC_UNREACHABLE",
      message: `private RPC ${rpc.url} is unreachable (HTTP 502): ${REMEDY}`,
    });
    rpc.status = undefined;
    rpc.hold = true;
    expect((await sender.submit("transfer", undefined, fees, { to }, 21_000n)).nonce).to.equal(pending);
  });

  it("refuses a URL that is not http(s), before anything is read", async () => {
    const f = await loadFixture(outOfBandFixture);
    await expectTaskError(
      "keeper:run",
      keeperOnceArgs(f.book, KEEPER, 0, { privateRpc: "ws://127.0.0.1:1" }),
      /^--private-rpc must be an http\(s\) URL like https:\/\/rpc\.flashbots\.net, got ws:\/\/127\.0\.0\.1:1$/,
    );
  });

  it("names an endpoint without its credentials or query", () => {
    expect(redactUrl("https://user:secret@rpc.example.org/fast?key=abc")).to.equal(
      "https://rpc.example.org/fast (credentials hidden)",
    );
    expect(redactUrl("http://127.0.0.1:8546/")).to.equal("http://127.0.0.1:8546");
  });
});
