/**
 * `--private-rpc`: the keeper's transactions are signed here and sent as raw transactions (`eth_sendRawTransaction`)
 * to a private endpoint (a Flashbots Protect-style RPC) instead of the public mempool, where an `execute` could be
 * copied with another recipient. Only the sending moves: nonces, fees, receipts and deadlines stay on the network's
 * provider. There is no silent fallback to the public mempool.
 */
import { Transaction, type Signer, type TransactionRequest } from "ethers";

import { TaskError } from "../shared/errors";

/** How a transaction reaches the network, chosen when the `TxSender` is built; returns the transaction's hash. */
export type Transport = (signer: Signer, tx: TransactionRequest) => Promise<string>;

/** The default: the signer sends it through the network's provider (the public mempool). */
export const publicTransport: Transport = async (signer, tx) => (await signer.sendTransaction(tx)).hash;

/** How long the private endpoint may take to answer one request, ms. */
export const PRIVATE_RPC_TIMEOUT_MS = 15_000;

const REMEDY = "retry when it answers, or run without --private-rpc to send publicly";

/** A URL for messages and logs: without credentials or query (an RPC key often sits there). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const hidden = u.username !== "" || u.password !== "" || u.search !== "";
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}${hidden ? " (credentials hidden)" : ""}`;
  } catch {
    return "<invalid URL>";
  }
}

/** `--private-rpc`: an http(s) URL, else a one-line error. */
export function parsePrivateRpc(value: string): string {
  let u: URL | undefined;
  try {
    u = new URL(value.trim());
  } catch {
    u = undefined;
  }
  if (u === undefined || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new TaskError(`--private-rpc must be an http(s) URL like https://rpc.flashbots.net, got ${redactUrl(value)}`);
  }
  return u.toString();
}

/**
 * The endpoint took the transaction but gave no answer in time: it may hold it, so its nonce must count as used. The
 * sender tracks it as sent (its hash is known before sending) and, if it is never mined, replaces it at the deadline
 * with the same nonce, rather than sending the next transaction with that nonce and colliding with it.
 */
export class PrivateRpcNoAnswer extends Error {
  readonly code = "PRIVATE_RPC_NO_ANSWER";
  constructor(
    readonly hash: string,
    where: string,
    timeoutMs: number,
  ) {
    super(`private RPC ${where} gave no answer within ${timeoutMs / 1000}s: it may hold the transaction`);
  }
}

/** An error with an ethers-style `code`, so that `describeFailure` names it in the log and the summary. */
function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The low-level reason a request failed (`ECONNREFUSED`), for the one-line message. */
function cause(e: unknown): string {
  const inner = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  if (typeof inner === "object" && inner !== null && "code" in inner) return String((inner as { code: unknown }).code);
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

interface RpcReply {
  result?: unknown;
  error?: { code?: unknown; message?: unknown };
}

/**
 * Posts one signed transaction to `url` with `eth_sendRawTransaction`. Unreachable, an HTTP error or an answer that
 * is not JSON-RPC: `PRIVATE_RPC_UNREACHABLE`; a JSON-RPC error: `PRIVATE_RPC_REFUSED`, with the endpoint's message
 * (so a nonce error there still reads as one). Neither message carries the raw transaction. Returns the signed
 * transaction's own hash, what the receipt polling on the public provider looks for.
 */
export async function broadcastRaw(url: string, raw: string, timeoutMs = PRIVATE_RPC_TIMEOUT_MS): Promise<string> {
  const where = redactUrl(url);
  const hash = Transaction.from(raw).hash as string;
  let reply: RpcReply;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [raw] }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    if (!response.ok && !text.trimStart().startsWith("{")) {
      throw coded("HTTP", `HTTP ${response.status}`);
    }
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null) throw coded("HTTP", "not a JSON-RPC answer");
    reply = parsed as RpcReply;
  } catch (e) {
    // Sent, and then no answer: the endpoint may have taken it.
    if (e instanceof Error && e.name === "TimeoutError") {
      throw new PrivateRpcNoAnswer(hash, where, timeoutMs);
    }
    throw coded("PRIVATE_RPC_UNREACHABLE", `private RPC ${where} is unreachable (${cause(e)}): ${REMEDY}`);
  }
  if (reply.error !== undefined) {
    const message = typeof reply.error.message === "string" ? reply.error.message.split("\n")[0] : "no message";
    const code = reply.error.code !== undefined ? ` (code ${String(reply.error.code)})` : "";
    throw coded("PRIVATE_RPC_REFUSED", `private RPC ${where} refused the transaction: ${message}${code}: ${REMEDY}`);
  }
  if (typeof reply.result !== "string") {
    throw coded("PRIVATE_RPC_UNREACHABLE", `private RPC ${where} gave no transaction hash: ${REMEDY}`);
  }
  return hash;
}

/** Signs with the keeper's local key and broadcasts to `url`; the raw bytes (signature included) are never logged. */
export function privateTransport(url: string, timeoutMs = PRIVATE_RPC_TIMEOUT_MS): Transport {
  return async (signer, tx) => {
    const populated = await signer.populateTransaction(tx);
    const raw = await signer.signTransaction(populated);
    return broadcastRaw(url, raw, timeoutMs);
  };
}
