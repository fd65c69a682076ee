/**
 * Sending the keeper's transactions: fees from the latest block, an explicit nonce that is re-read from the node after
 * any failure and retried once on a nonce error, and failures decoded against the Ballast ABIs for the log.
 */
import type { ContractTransactionReceipt, ContractTransactionResponse, Provider, Signer } from "ethers";

import { type FeeOverrides } from "../../lib/keeper/fees";
import { decodeRevert, describeError, revertData } from "../shared/errors";
import type { KeeperLog } from "./log";

export { minedHash, readFees, type FeeOverrides, type Fees } from "../../lib/keeper/fees";

export type TxOverrides = FeeOverrides & { nonce: number; gasLimit?: bigint };

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

/** Sends from one account with nonces it tracks itself, so that a pass can send many transactions before waiting. */
export class TxSender {
  private nonce?: number;

  constructor(
    readonly signer: Signer,
    private readonly provider: Provider,
    private readonly log: KeeperLog,
  ) {}

  /** Forces the next send to read the nonce from the node. */
  resync(): void {
    this.nonce = undefined;
  }

  private async next(): Promise<number> {
    this.nonce ??= await this.provider.getTransactionCount(await this.signer.getAddress(), "pending");
    return this.nonce;
  }

  /**
   * Submits a transaction built with the given overrides plus the nonce. After any failure the nonce is re-read
   * before the next send; on a nonce error (another process used the account, a dropped transaction) the
   * transaction is retried once with the fresh nonce.
   */
  async submit(
    action: string,
    vault: string | undefined,
    fees: FeeOverrides,
    build: (overrides: TxOverrides) => Promise<ContractTransactionResponse>,
    gasLimit?: bigint,
  ): Promise<ContractTransactionResponse> {
    for (let attempt = 0; ; attempt++) {
      const nonce = await this.next();
      try {
        const tx = await build({ ...fees, nonce, ...(gasLimit !== undefined ? { gasLimit } : {}) });
        this.nonce = nonce + 1;
        return tx;
      } catch (e) {
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

  /** Waits for a submitted transaction; a revert throws. */
  async confirm(tx: ContractTransactionResponse): Promise<ContractTransactionReceipt> {
    try {
      const receipt = await tx.wait();
      if (receipt === null) throw new Error(`transaction ${tx.hash} was dropped`);
      return receipt;
    } catch (e) {
      // A mined revert consumed the nonce; anything else may not have: read it again either way.
      this.resync();
      throw e;
    }
  }
}
