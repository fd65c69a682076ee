/**
 * Signed payloads as `intent:sign` writes them and `intent:relay` reads them: the vault's EIP-712 intents and ERC-2771
 * forward requests. Numbers are decimal strings in the JSON (see tasks/README.md for the shape).
 */
import { getAddress, isAddress, isHexString, verifyTypedData, type Signer } from "ethers";

import { INTENT_TYPES, signForwardRequest, signIntent, vaultDomain, type ForwardCall } from "../../lib/intents";
import type { PolicyValues } from "../../lib/protocol";
import type { ERC2771Forwarder } from "../../typechain-types";
import { TaskError } from "../shared/errors";
import type { TaskContext } from "../shared/context";

export type { PolicyValues };

export interface SetPolicyMessage {
  policy: PolicyValues;
  /** The vault's `policyVersion` this policy replaces: the intent is stale once any other policy change lands. */
  version: bigint;
  feeToken: string;
  maxFee: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface RebalanceMessage {
  /** `IRebalanceExecutor.Direction`: 1 deleverage, 2 leverage; a fill the other way is refused. */
  direction: bigint;
  targetHF: bigint;
  maxSlippageBps: bigint;
  rewardToken: string;
  maxReward: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface CloseMessage {
  /** The unwind's slippage bound, at most the factory's cap. */
  maxSlippageBps: bigint;
  feeToken: string;
  maxFee: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface SwitchMessage {
  /** The asset the collateral moves into; the relayer's fee is paid in it. */
  newCollateral: string;
  /** The switch's slippage bound, at most the factory's cap. */
  maxSlippageBps: bigint;
  maxFee: bigint;
  nonce: bigint;
  deadline: bigint;
}

export interface VaultMessages {
  SetPolicy: SetPolicyMessage;
  Rebalance: RebalanceMessage;
  Close: CloseMessage;
  Switch: SwitchMessage;
}

export type VaultIntentKind = keyof VaultMessages;

interface SignedIntentOf<K extends VaultIntentKind> {
  kind: K;
  chainId: bigint;
  vault: string;
  signer: string;
  message: VaultMessages[K];
  signature: string;
}

export type SignedVaultIntent =
  SignedIntentOf<"SetPolicy"> | SignedIntentOf<"Rebalance"> | SignedIntentOf<"Close"> | SignedIntentOf<"Switch">;

export interface ForwardRequestValues {
  from: string;
  to: string;
  value: bigint;
  gas: bigint;
  deadline: bigint;
  data: string;
  signature: string;
}

export interface SignedForwardRequest {
  kind: "ForwardRequest";
  chainId: bigint;
  forwarder: string;
  /** The forwarder nonce the request was signed with (not part of OpenZeppelin's request struct). */
  nonce: bigint;
  request: ForwardRequestValues;
}

export type SignedPayload = SignedVaultIntent | SignedForwardRequest;

/** The intent's deadline, wherever the kind keeps it. */
export function deadlineOf(payload: SignedPayload): bigint {
  return payload.kind === "ForwardRequest" ? payload.request.deadline : payload.message.deadline;
}

export function nonceOf(payload: SignedPayload): bigint {
  return payload.kind === "ForwardRequest" ? payload.nonce : payload.message.nonce;
}

/** Signs a vault intent with `signer`; the caller checked that the signer owns the vault. */
export async function signVaultIntent<K extends VaultIntentKind>(
  ctx: TaskContext,
  signer: Signer,
  kind: K,
  vault: string,
  message: VaultMessages[K],
): Promise<SignedIntentOf<K>> {
  const signature = await signIntent(signer, kind, vault, ctx.chainId, message);
  return { kind, chainId: ctx.chainId, vault, signer: await signer.getAddress(), message, signature };
}

/** The typed-data value the vault hashes for an intent: the message plus the vault's address. */
function typedValue(intent: SignedVaultIntent): Record<string, unknown> {
  return { vault: intent.vault, ...intent.message };
}

/** Who signed a vault intent, recovered locally (EOA signatures; an EIP-1271 wallet's is checked on-chain only). */
export function recoverIntentSigner(intent: SignedVaultIntent): string | undefined {
  try {
    return verifyTypedData(
      vaultDomain(intent.vault, intent.chainId),
      INTENT_TYPES[intent.kind],
      typedValue(intent),
      intent.signature,
    );
  } catch {
    return undefined;
  }
}

/** Signs an ERC-2771 request for the book's forwarder, with `nonce` or the signer's current forwarder nonce. */
export async function signForward(
  ctx: TaskContext,
  signer: Signer,
  call: ForwardCall,
  nonce?: bigint,
): Promise<SignedForwardRequest> {
  const used = nonce ?? (await ctx.forwarder.nonces(await signer.getAddress()));
  const request = await signForwardRequest(signer, ctx.forwarder, { ...call, to: getAddress(call.to), nonce: used });
  return {
    kind: "ForwardRequest",
    chainId: ctx.chainId,
    forwarder: await ctx.forwarder.getAddress(),
    nonce: used,
    request: {
      from: await signer.getAddress(),
      to: getAddress(call.to),
      value: BigInt(request.value),
      gas: call.gas,
      deadline: call.deadline,
      data: call.data,
      signature: String(request.signature),
    },
  };
}

/** The request as the forwarder's `execute` takes it. */
export function forwardRequestData(payload: SignedForwardRequest): ERC2771Forwarder.ForwardRequestDataStruct {
  return { ...payload.request };
}

/** JSON text: every bigint as a decimal string. */
export function toJson(payload: unknown): string {
  return `${JSON.stringify(payload, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`;
}

class Reader {
  constructor(private readonly where: string) {}

  fail(field: string, expected: string, got: unknown): never {
    throw new TaskError(`${this.where}: ${field} must be ${expected}, got ${JSON.stringify(got)}`);
  }

  object(value: unknown, field: string): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value)) this.fail(field, "an object", value);
    return value as Record<string, unknown>;
  }

  uint(obj: Record<string, unknown>, key: string, prefix: string): bigint {
    const value = obj[key];
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value !== "string" || !/^\d+$/.test(value)) this.fail(`${prefix}${key}`, "a decimal string", value);
    return BigInt(value);
  }

  address(obj: Record<string, unknown>, key: string, prefix: string): string {
    const value = obj[key];
    if (typeof value !== "string" || !isAddress(value)) this.fail(`${prefix}${key}`, "an address", value);
    return getAddress(value);
  }

  hex(obj: Record<string, unknown>, key: string, prefix: string): string {
    const value = obj[key];
    if (typeof value !== "string" || !isHexString(value)) this.fail(`${prefix}${key}`, "0x-prefixed hex", value);
    return value;
  }
}

/** Parses and checks the JSON an `intent:sign` wrote; `where` names the file in error messages. */
export function parsePayload(text: string, where: string): SignedPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TaskError(
      `${where} is not valid JSON (${(e as Error).message}): write it with \`npx hardhat intent:sign\``,
    );
  }
  const r = new Reader(where);
  const top = r.object(raw, "the file");
  const chainId = r.uint(top, "chainId", "");
  switch (top.kind) {
    case "ForwardRequest": {
      const req = r.object(top.request, "request");
      const p = "request.";
      return {
        kind: "ForwardRequest",
        chainId,
        forwarder: r.address(top, "forwarder", ""),
        nonce: r.uint(top, "nonce", ""),
        request: {
          from: r.address(req, "from", p),
          to: r.address(req, "to", p),
          value: r.uint(req, "value", p),
          gas: r.uint(req, "gas", p),
          deadline: r.uint(req, "deadline", p),
          data: r.hex(req, "data", p),
          signature: r.hex(req, "signature", p),
        },
      };
    }
    case "SetPolicy":
    case "Rebalance":
    case "Close":
    case "Switch": {
      const m = r.object(top.message, "message");
      const p = "message.";
      const common = {
        chainId,
        vault: r.address(top, "vault", ""),
        signer: r.address(top, "signer", ""),
        signature: r.hex(top, "signature", ""),
      };
      const nonce = r.uint(m, "nonce", p);
      const deadline = r.uint(m, "deadline", p);
      if (top.kind === "SetPolicy") {
        const pol = r.object(m.policy, "message.policy");
        const pp = "message.policy.";
        return {
          kind: "SetPolicy",
          ...common,
          message: {
            policy: {
              minHF: r.uint(pol, "minHF", pp),
              targetHF: r.uint(pol, "targetHF", pp),
              maxHF: r.uint(pol, "maxHF", pp),
              maxSlippageBps: r.uint(pol, "maxSlippageBps", pp),
              maxKeeperRewardBps: r.uint(pol, "maxKeeperRewardBps", pp),
              maxGasPrice: r.uint(pol, "maxGasPrice", pp),
              maxRewardBase: r.uint(pol, "maxRewardBase", pp),
              urgentSlippageBps: r.uint(pol, "urgentSlippageBps", pp),
            },
            version: r.uint(m, "version", p),
            feeToken: r.address(m, "feeToken", p),
            maxFee: r.uint(m, "maxFee", p),
            nonce,
            deadline,
          },
        };
      }
      if (top.kind === "Rebalance") {
        return {
          kind: "Rebalance",
          ...common,
          message: {
            direction: r.uint(m, "direction", p),
            targetHF: r.uint(m, "targetHF", p),
            maxSlippageBps: r.uint(m, "maxSlippageBps", p),
            rewardToken: r.address(m, "rewardToken", p),
            maxReward: r.uint(m, "maxReward", p),
            nonce,
            deadline,
          },
        };
      }
      if (top.kind === "Switch") {
        return {
          kind: "Switch",
          ...common,
          message: {
            newCollateral: r.address(m, "newCollateral", p),
            maxSlippageBps: r.uint(m, "maxSlippageBps", p),
            maxFee: r.uint(m, "maxFee", p),
            nonce,
            deadline,
          },
        };
      }
      return {
        kind: "Close",
        ...common,
        message: {
          maxSlippageBps: r.uint(m, "maxSlippageBps", p),
          feeToken: r.address(m, "feeToken", p),
          maxFee: r.uint(m, "maxFee", p),
          nonce,
          deadline,
        },
      };
    }
    default:
      return r.fail("kind", "one of SetPolicy, Rebalance, Close, Switch, ForwardRequest", top.kind);
  }
}
