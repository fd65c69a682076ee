/**
 * EIP-712 typed data for Ballast's gasless flows, in one place for tests, tasks and the keeper bot:
 * the vault's own intents (SetPolicy, Rebalance, Close, Switch) and the forwarder's ERC-2771 requests.
 */
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

import type { BallastForwarder, ERC2771Forwarder, IBallastVault } from "../../typechain-types";

export const VAULT_DOMAIN = { name: "BallastVault", version: "1" } as const;
export const FORWARDER_DOMAIN = { name: "BallastForwarder", version: "1" } as const;

const POLICY_FIELDS: TypedDataField[] = [
  { name: "minHF", type: "uint64" },
  { name: "targetHF", type: "uint64" },
  { name: "maxHF", type: "uint64" },
  { name: "maxSlippageBps", type: "uint16" },
  { name: "maxKeeperRewardBps", type: "uint16" },
  { name: "maxGasPrice", type: "uint64" },
  { name: "maxRewardBase", type: "uint64" },
  { name: "urgentSlippageBps", type: "uint16" },
];

export type IntentKind = "SetPolicy" | "Rebalance" | "Close" | "Switch";

/** `IRebalanceExecutor.Direction` as a `Rebalance` intent signs it (`uint8`) and a report carries it. */
export const DIRECTION = { None: 0n, Deleverage: 1n, Leverage: 2n, Close: 3n, Switch: 4n } as const;

/** The vault's intent types, exactly as `BallastVault`'s type hashes spell them. */
export const INTENT_TYPES: Record<IntentKind, Record<string, TypedDataField[]>> = {
  SetPolicy: {
    SetPolicy: [
      { name: "vault", type: "address" },
      { name: "policy", type: "Policy" },
      { name: "version", type: "uint64" },
      { name: "feeToken", type: "address" },
      { name: "maxFee", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
    Policy: POLICY_FIELDS,
  },
  Rebalance: {
    Rebalance: [
      { name: "vault", type: "address" },
      { name: "direction", type: "uint8" },
      { name: "targetHF", type: "uint64" },
      { name: "maxSlippageBps", type: "uint16" },
      { name: "rewardToken", type: "address" },
      { name: "maxReward", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  Close: {
    Close: [
      { name: "vault", type: "address" },
      { name: "maxSlippageBps", type: "uint16" },
      { name: "feeToken", type: "address" },
      { name: "maxFee", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  Switch: {
    Switch: [
      { name: "vault", type: "address" },
      { name: "newCollateral", type: "address" },
      { name: "maxSlippageBps", type: "uint16" },
      { name: "maxFee", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
};

/** Each intent kind's message as the vault's `*BySig` functions take it (without the `vault` field). */
export interface IntentMessages {
  SetPolicy: IBallastVault.SetPolicyIntentStruct;
  Rebalance: IBallastVault.RebalanceIntentStruct;
  Close: IBallastVault.CloseIntentStruct;
  Switch: IBallastVault.SwitchIntentStruct;
}

/** OpenZeppelin ERC2771Forwarder's request type. */
export const FORWARD_REQUEST_TYPES: Record<string, TypedDataField[]> = {
  ForwardRequest: [
    { name: "from", type: "address" },
    { name: "to", type: "address" },
    { name: "value", type: "uint256" },
    { name: "gas", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint48" },
    { name: "data", type: "bytes" },
  ],
};

export function vaultDomain(vault: string, chainId: bigint): TypedDataDomain {
  return { ...VAULT_DOMAIN, chainId, verifyingContract: vault };
}

/** Signs an intent for `vault` on `chainId`; the `vault` field of the typed message is filled in here. */
export async function signIntent<K extends IntentKind>(
  signer: Signer,
  kind: K,
  vault: string,
  chainId: bigint,
  message: IntentMessages[K],
): Promise<string> {
  return signer.signTypedData(vaultDomain(vault, chainId), INTENT_TYPES[kind], { vault, ...message });
}

export interface ForwardCall {
  to: string;
  data: string;
  value?: bigint;
  /** Gas the target call must receive; the forwarder checks it (EIP-150's 1/64 rule). */
  gas: bigint;
  deadline: bigint;
  /** Defaults to the signer's current forwarder nonce; set it to sign several requests ahead for one batch. */
  nonce?: bigint;
}

/** Signs an ERC-2771 request and returns it ready for `execute`. */
export async function signForwardRequest(
  signer: Signer,
  forwarder: BallastForwarder,
  call: ForwardCall,
): Promise<ERC2771Forwarder.ForwardRequestDataStruct> {
  const from = await signer.getAddress();
  const network = await forwarder.runner?.provider?.getNetwork();
  if (network === undefined) throw new Error("signForwardRequest: the forwarder has no provider attached");
  const value = call.value ?? 0n;
  const nonce = call.nonce ?? (await forwarder.nonces(from));
  const domain: TypedDataDomain = {
    ...FORWARDER_DOMAIN,
    chainId: network.chainId,
    verifyingContract: await forwarder.getAddress(),
  };
  const signature = await signer.signTypedData(domain, FORWARD_REQUEST_TYPES, {
    from,
    to: call.to,
    value,
    gas: call.gas,
    nonce,
    deadline: call.deadline,
    data: call.data,
  });
  return { from, to: call.to, value, gas: call.gas, deadline: call.deadline, data: call.data, signature };
}
