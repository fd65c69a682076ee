/**
 * Sending the keeper's transactions: fees from the latest block, an explicit nonce that is re-read from the node after
 * any failure and retried once on a nonce error, a spending cap per pass, a deadline on every transaction (replaced
 * with a bumped fee, or cancelled, when it passes), and failures decoded against the Ballast ABIs for the log. The
 * sending itself is the `Transport` (public mempool, or `--private-rpc`); everything else reads the public provider.
 */
import type { Provider, Signer, TransactionReceipt, TransactionRequest } from "ethers";

import { feeCeiling, unstick, type FeeOverrides } from "../../lib/keeper/fees";
import { decodeRevert, describeError, revertData } from "../shared/errors";
import * as fmt from "../shared/format";
import type { KeeperLog } from "./log";
import { PrivateRpcNoAnswer, publicTransport, type Transport } from "./private";

export { minedHash, readFees, type FeeOverrides, type Fees } from "../../lib/keeper/fees";

/** A call to send: built with a binding's `populateTransaction`, so that it can be sent again with another fee. */
export interface TxRequest {
  to: string;
  data?: string;
  value?: bigint;
}

/** Gas of a 0-value transfer to an account: the cancel. */
const TRANSFER_GAS = 21_000n;
/** A transaction is replaced at most this many times; then the bot stops waiting for it. */
export const MAX_REPLACEMENTS = 3;

export interface Failure {
  /** The custom error's name (`AuctionNotActive`), `Error`/`Panic` for Solidity's built-ins, else an ethers code. */
  error: string;
  /** One line for the log. */
  reason: string;
}

/** Decodes revert data (e.g. an `ExecutionFailed` reason) against the Ballast ABIs. */
export function decodeReason(data: string): Failure {
  if (data === "0x" || data === "") {
    return { error: "EmptyRevert", reason: "reverted without data (out of gas, or a call to a non-contract)" };
  }
  const decoded = decodeRevert(data);
  if (decoded !== undefined) {
    // Solidity's Error(string) says nothing by its name alone: keep the message ("Too little received").
    const error = decoded.name === "Error" ? `Error("${String(decoded.args[0])}")` : decoded.name;
    return { error, reason: describeError(decoded) };
  }
  return { error: "UnknownError", reason: `unknown revert data ${data.length > 74 ? `${data.slice(0, 74)}…` : data}` };
}

/** A failed call or transaction in words. */
export function describeFailure(e: unknown): Failure {
  const data = revertData(e);
  if (data !== undefined && data !== "0x") return decodeReason(data);
  const code = typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : "Error";
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return { error: code, reason: message.length > 300 ? `${message.slice(0, 300)}…` : message };
}

export function isNonceError(e: unknown): boolean {
  if (typeof e === "object" && e !== null && "code" in e) {
    const code = (e as { code: unknown }).code;
    if (code === "NONCE_EXPIRED" || code === "REPLACEMENT_UNDERPRICED") return true;
  }
  const message = e instanceof Error ? e.message : String(e);
  return /nonce too (low|high)|nonce has already been used|invalid nonce|nonce is too low|replacement transaction underpriced/i.test(
    message,
  );
}

function gwei(wei: bigint): string {
  return fmt.fixed(wei, 9, 3);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An error with an ethers-style `code`, so that `describeFailure` names it. */
function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The pass's spending cap (`--max-spend-per-pass`) would be exceeded: nothing was sent. */
export class SpendCapReached extends Error {
  readonly code = "SPEND_CAP";
  constructor(
    readonly cost: bigint,
    readonly spent: bigint,
    readonly cap: bigint,
  ) {
    super(
      `gas limit x max fee ${fmt.fixed(cost, 18, 6)} ETH on top of ${fmt.fixed(spent, 18, 6)} ETH would pass --max-spend-per-pass ${fmt.fixed(cap, 18, 6)} ETH`,
    );
  }
}

export interface SendOptions {
  /** How long a transaction may stay unmined before it is replaced (`--tx-timeout`), ms. */
  timeoutMs: number;
  /** The most a replacement may offer per gas (`--max-fee`), wei; none: no cap. */
  maxFee?: bigint;
  /** The most one pass may commit to gas, gas limit x fee ceiling of what it sends (`--max-spend-per-pass`), wei. */
  maxSpend?: bigint;
  /** How often the node is asked for a receipt, ms; default a quarter of the timeout, at most 1 s. */
  pollMs?: number;
  /** Replacements (or cancels) before giving up on a transaction. */
  maxReplacements?: number;
  /** How every transaction, replacements and cancels included, is sent: default the public mempool. */
  transport?: Transport;
}

/** A transaction the sender is tracking: every hash sent with its nonce, and what the latest one offers. */
export interface SentTx {
  action: string;
  vault?: string;
  nonce: number;
  request: TxRequest;
  gasLimit: bigint;
  fees: FeeOverrides;
  /** The latest hash sent with this nonce. */
  hash: string;
  /** Every hash sent with this nonce, the original first: any of them may be the one mined. */
  hashes: string[];
  /** The hashes of the cancels (0-value self-transfers) among `hashes`: once one is sent, only cancels follow. */
  cancels: string[];
}

/** Sends from one account with nonces it tracks itself, so that a pass can send many transactions before waiting. */
export class TxSender {
  private nonce?: number;
  /**
   * Nonces sent and not yet confirmed or given up: a re-read never goes below them, since the node's pending count
   * does not see a transaction held by a private RPC (`--private-rpc`) until it is mined.
   */
  private readonly inFlight = new Set<number>();
  private spent = 0n;
  /** A nonce given up at the cap in this pass: everything after it waits behind it. */
  private stuckNonce?: number;
  private readonly pollMs: number;
  private readonly maxReplacements: number;
  private readonly transport: Transport;

  constructor(
    readonly signer: Signer,
    private readonly provider: Provider,
    private readonly log: KeeperLog,
    readonly options: SendOptions,
  ) {
    // At most a second between polls, and a few per deadline so that a short --tx-timeout is kept.
    this.pollMs = options.pollMs ?? Math.min(1_000, Math.max(20, Math.floor(options.timeoutMs / 4)));
    this.maxReplacements = options.maxReplacements ?? MAX_REPLACEMENTS;
    this.transport = options.transport ?? publicTransport;
  }

  /** A new pass: its spending starts at 0. */
  newPass(): void {
    this.spent = 0n;
    if (this.stuckNonce !== undefined) this.resync();
    this.stuckNonce = undefined;
  }

  /** What this pass has committed to gas so far, wei. */
  spentThisPass(): bigint {
    return this.spent;
  }

  /** Forces the next send to read the nonce from the node. */
  resync(): void {
    this.nonce = undefined;
  }

  private async next(): Promise<number> {
    if (this.nonce === undefined) {
      const pending = await this.provider.getTransactionCount(await this.signer.getAddress(), "pending");
      this.nonce = Math.max(pending, ...[...this.inFlight].map((n) => n + 1));
    }
    return this.nonce;
  }

  /**
   * Sends `request` at `fees` with the next nonce and `gasLimit` (else the node's estimate, where a revert shows).
   * Refused with `SpendCapReached`, sending nothing, when it would take the pass over `maxSpend`. After any failure
   * the nonce is re-read before the next send; on a nonce error (another process used the account, a dropped
   * transaction) the transaction is retried once with the fresh nonce.
   */
  async submit(
    action: string,
    vault: string | undefined,
    fees: FeeOverrides,
    request: TxRequest,
    gasLimit?: bigint,
  ): Promise<SentTx> {
    if (this.stuckNonce !== undefined) {
      throw coded("TX_STUCK", `nonce ${this.stuckNonce} is stuck unmined (tx-stuck): nothing more is sent this pass`);
    }
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.next();
      try {
        const from = await this.signer.getAddress();
        const limit = gasLimit ?? (await this.provider.estimateGas({ ...request, from }));
        const cost = limit * feeCeiling(fees);
        const cap = this.options.maxSpend;
        if (cap !== undefined && this.spent + cost > cap) throw new SpendCapReached(cost, this.spent, cap);
        const hash = await this.sendMaybe({ ...request, ...fees, nonce, gasLimit: limit }, action, vault);
        this.nonce = nonce + 1;
        this.inFlight.add(nonce);
        this.spent += cost;
        return {
          action,
          vault,
          nonce,
          request,
          gasLimit: limit,
          fees,
          hash,
          hashes: [hash],
          cancels: [],
        };
      } catch (e) {
        if (e instanceof SpendCapReached) throw e;
        this.resync();
        if (attempt === 0 && isNonceError(e)) {
          this.log.warn("nonce-resync", {
            vault,
            action,
            nonce,
            reason: describeFailure(e).reason,
          });
          continue;
        }
        throw e;
      }
    }
  }

  /**
   * Waits for a submitted transaction; a revert throws. Past its deadline it is replaced with a bumped fee, or
   * cancelled, or given up (`unstick`); it never waits forever: a cancel that is mined, and a transaction given up,
   * throw (`TX_CANCELLED`, `TX_STUCK`).
   */
  async confirm(sent: SentTx): Promise<TransactionReceipt> {
    let deadline = Date.now() + this.options.timeoutMs;
    let replacements = 0;
    try {
      for (;;) {
        const receipt = await this.receiptOf(sent);
        if (receipt !== undefined) return this.settle(sent, receipt);
        if (Date.now() >= deadline) {
          await this.unstick(sent, replacements++);
          deadline = Date.now() + this.options.timeoutMs;
        }
        await sleep(this.pollMs);
      }
    } catch (e) {
      // A mined revert consumed the nonce; anything else may not have: read it again either way.
      this.resync();
      throw e;
    } finally {
      this.inFlight.delete(sent.nonce);
    }
  }

  private async receiptOf(sent: SentTx): Promise<TransactionReceipt | undefined> {
    const receipts = await Promise.all(sent.hashes.map((h) => this.provider.getTransactionReceipt(h)));
    return receipts.find((r): r is TransactionReceipt => r !== null);
  }

  private settle(sent: SentTx, receipt: TransactionReceipt): TransactionReceipt {
    if (sent.cancels.includes(receipt.hash)) {
      throw coded(
        "TX_CANCELLED",
        `not mined within ${this.options.timeoutMs / 1000}s; cancelled by a 0-value self-transfer (tx ${receipt.hash})`,
      );
    }
    if (receipt.status !== 1) throw coded("CALL_EXCEPTION", `transaction ${receipt.hash} reverted`);
    return receipt;
  }

  /**
   * Sends through the transport. A private endpoint that took the transaction without answering in time may hold
   * it: it is counted as sent (its hash watched, its nonce used), since sending another with that nonce could collide.
   */
  private async sendMaybe(tx: TransactionRequest, action: string, vault: string | undefined): Promise<string> {
    try {
      return await this.transport(this.signer, tx);
    } catch (e) {
      if (!(e instanceof PrivateRpcNoAnswer)) throw e;
      this.log.warn("private-rpc-no-answer", {
        action,
        vault,
        nonce: tx.nonce ?? undefined,
        tx: e.hash,
        reason: `${e.message}: waiting for it as sent; if it is not mined by --tx-timeout it is replaced with the same nonce`,
      });
      return e.hash;
    }
  }

  /** The deadline passed: replace, cancel or give up, and log it. */
  private async unstick(sent: SentTx, replaced: number): Promise<void> {
    const from = await this.signer.getAddress();
    const cap = this.options.maxFee;
    const fields = { action: sent.action, vault: sent.vault, nonce: sent.nonce, tx: sent.hash };
    const [mined, block] = await Promise.all([
      this.provider.getTransactionCount(from, "latest"),
      this.provider.getBlock("latest"),
    ]);
    if (mined > sent.nonce) {
      // Mined between the two reads, or another transaction took the nonce.
      if ((await this.receiptOf(sent)) !== undefined) return;
      throw coded(
        "NONCE_EXPIRED",
        `nonce ${sent.nonce} was used by another transaction (another process uses this account?)`,
      );
    }
    const behind = this.stuckNonce !== undefined && sent.nonce > this.stuckNonce;
    const step =
      behind || replaced >= this.maxReplacements
        ? ({ kind: "stuck", needed: feeCeiling(sent.fees) } as const)
        : unstick(sent.fees, block?.baseFeePerGas ?? 0n, cap, sent.cancels.length > 0);
    if (step.kind === "stuck") {
      this.stuckNonce = Math.min(this.stuckNonce ?? sent.nonce, sent.nonce);
      const reason = behind
        ? "queued behind a stuck transaction of this account"
        : replaced >= this.maxReplacements
          ? `still unmined after ${replaced} replacements`
          : `a replacement needs at least ${gwei(step.needed)} gwei, above --max-fee ${gwei(cap ?? 0n)} gwei`;
      this.log.warn("tx-stuck", {
        ...fields,
        maxFeeGwei: gwei(feeCeiling(sent.fees)),
        reason: `${reason}: it may still be mined (it stays where it was sent: the node's mempool, or the private RPC); no longer waiting for it`,
      });
      throw coded("TX_STUCK", `not mined within ${this.options.timeoutMs / 1000}s and ${reason}`);
    }
    const cancel = step.kind === "cancel";
    const request: TxRequest = cancel ? { to: from, value: 0n, data: "0x" } : sent.request;
    const gasLimit = cancel ? TRANSFER_GAS : sent.gasLimit;
    try {
      const hash = await this.sendMaybe(
        { ...request, ...step.fees, nonce: sent.nonce, gasLimit },
        sent.action,
        sent.vault,
      );
      // Only one of the hashes can be mined: the pass commits to the dearest.
      if (!cancel) this.spent += gasLimit * (feeCeiling(step.fees) - feeCeiling(sent.fees));
      this.log.warn(cancel ? "tx-cancelling" : "tx-replaced", {
        ...fields,
        replacement: hash,
        maxFeeGwei: gwei(feeCeiling(step.fees)),
        priorityFeeGwei: "gasPrice" in step.fees ? undefined : gwei(step.fees.maxPriorityFeePerGas),
        reason: cancel
          ? `not mined within ${this.options.timeoutMs / 1000}s and a replacement at the market fee is above --max-fee: sending a 0-value self-transfer with the same nonce`
          : `not mined within ${this.options.timeoutMs / 1000}s: same call, same nonce, fee bumped`,
      });
      sent.hashes.push(hash);
      sent.hash = hash;
      sent.fees = step.fees;
      if (cancel) {
        sent.request = request;
        sent.gasLimit = gasLimit;
        sent.cancels.push(hash);
      }
    } catch (e) {
      // Mined meanwhile (the next poll finds it), or refused by the node: wait for the next deadline.
      this.log.warn("tx-replace-failed", { ...fields, ...describeFailure(e) });
    }
  }
}
