/** `intent:sign`: builds and signs a vault intent or a forward request and writes it as JSON. */
import fs from "node:fs";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, hexlify, isHexString, randomBytes, type Signer } from "ethers";

import { BallastVault__factory, ERC2771Context__factory, type BallastVault } from "../../typechain-types";
import {
  chainTime,
  estimateCallGas,
  loadContext,
  log,
  parseAddress,
  parseAmount,
  parseBps,
  parseHf,
  parseUint,
  resolveSigner,
  setProgressToStderr,
  swapPath,
  tokenAddress,
  tokenInfo,
  vaultAt,
  type TaskContext,
  type TokenInfo,
} from "../shared/context";
import { TaskError } from "../shared/errors";
import * as fmt from "../shared/format";
import { checkPolicy, policyFromFlags, policyText, readPolicy, type PolicyFlags } from "../shared/vault";
import { DIRECTION } from "../../lib/intents";
import { signForward, signVaultIntent, toJson, type SignedPayload, type SignedVaultIntent } from "./payload";

export const KINDS = {
  "set-policy": "SetPolicy",
  rebalance: "Rebalance",
  close: "Close",
  switch: "Switch",
  forward: "ForwardRequest",
} as const;
export type KindFlag = keyof typeof KINDS;
export const CALLS = ["set-policy", "pause", "resume", "withdraw", "close"] as const;
export type CallFlag = (typeof CALLS)[number];

export interface SignArgs extends PolicyFlags {
  kind: string;
  key?: string;
  account?: number;
  vault?: string;
  feeToken?: string;
  maxFee?: string;
  rewardToken?: string;
  maxReward?: string;
  newCollateral?: string;
  direction?: string;
  to?: string;
  data?: string;
  call?: string;
  gas?: string;
  amount?: string;
  recipient?: string;
  path?: string;
  feeTier?: number;
  nonce?: string;
  deadline: number;
  out?: string;
  deployments?: string;
}

/** The policy's flags, signed as an intent or forwarded as a `setPolicy` call. */
const POLICY_FLAGS: readonly (keyof SignArgs)[] = [
  "minHf",
  "targetHf",
  "maxHf",
  "maxSlippageBps",
  "urgentSlippageBps",
  "maxRewardBps",
  "maxGasPriceGwei",
  "maxRewardUsd",
];

/** Which kind-specific flags each kind (and forward call) accepts; anything else given is an error. */
const FLAGS: Record<string, readonly (keyof SignArgs)[]> = {
  SetPolicy: [...POLICY_FLAGS, "feeToken", "maxFee"],
  Rebalance: ["direction", "targetHf", "maxSlippageBps", "rewardToken", "maxReward"],
  Close: ["maxSlippageBps", "feeToken", "maxFee"],
  Switch: ["newCollateral", "maxSlippageBps", "maxFee"],
  "forward raw": ["to", "data", "gas"],
  "forward set-policy": ["call", ...POLICY_FLAGS, "gas"],
  "forward pause": ["call", "gas"],
  "forward resume": ["call", "gas"],
  "forward withdraw": ["call", "amount", "recipient", "gas"],
  "forward close": ["call", "path", "feeTier", "gas"],
};

const KIND_SPECIFIC: readonly (keyof SignArgs)[] = [...new Set(Object.values(FLAGS).flat())] as (keyof SignArgs)[];

const kebab = (name: string): string => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

function checkFlags(args: SignArgs, allowedKey: string, label: string): void {
  const allowed = new Set(FLAGS[allowedKey]);
  const extra = KIND_SPECIFIC.filter((f) => args[f] !== undefined && !allowed.has(f));
  if (extra.length > 0) {
    throw new TaskError(`${extra.map(kebab).join(", ")} ${extra.length > 1 ? "do" : "does"} not apply to ${label}`);
  }
}

/** The vault, checked to belong to the signer: the vault only accepts its owner's signature. */
async function ownedVault(ctx: TaskContext, args: SignArgs, signer: Signer): Promise<BallastVault> {
  if (args.vault === undefined)
    throw new TaskError("Pass --vault <address> (vault:status --owner-account i finds yours)");
  const vault = await vaultAt(ctx, args.vault);
  const owner = await vault.owner();
  const from = await signer.getAddress();
  if (owner !== from) {
    throw new TaskError(
      `The signer ${from} is not the owner ${owner} of vault ${args.vault}: the vault would reject the signature; ` +
        `sign with the owner's --key or --account`,
    );
  }
  return vault;
}

/** A nonce for a vault intent: `--nonce` if unused, else a random unused 64-bit one. */
async function vaultNonce(vault: BallastVault, owner: string, given: string | undefined): Promise<bigint> {
  if (given !== undefined) {
    const nonce = parseUint(given, "--nonce");
    if (await vault.nonceUsed(owner, nonce)) {
      throw new TaskError(
        `--nonce ${nonce} was already used or cancelled on this vault: pick another or leave --nonce out`,
      );
    }
    return nonce;
  }
  for (let i = 0; i < 8; i++) {
    const nonce = BigInt(hexlify(randomBytes(8)));
    if (!(await vault.nonceUsed(owner, nonce))) return nonce;
  }
  throw new TaskError("Could not find an unused random nonce: pass --nonce");
}

/** A fee or reward token: given as a symbol or address, by default the vault's debt asset; it must be one of its two. */
async function feeTokenOf(
  ctx: TaskContext,
  vault: BallastVault,
  given: string | undefined,
  flag: string,
): Promise<TokenInfo> {
  const [collateral, debt] = [await vault.collateralAsset(), await vault.debtAsset()];
  const address = given === undefined ? debt : tokenAddress(ctx, given, flag);
  if (address !== collateral && address !== debt) {
    const [c, d] = [await tokenInfo(ctx, collateral), await tokenInfo(ctx, debt)];
    throw new TaskError(
      `${flag} must be the vault's collateral (${c.symbol}) or debt asset (${d.symbol}): fees are paid in one of them`,
    );
  }
  return tokenInfo(ctx, address);
}

/** `--max-slippage-bps`, else the current policy's, checked against the factory's cap as the vault checks it. */
async function signedSlippage(ctx: TaskContext, vault: BallastVault, given: number | undefined): Promise<bigint> {
  const maxSlippageBps =
    given !== undefined ? BigInt(parseBps(given, "--max-slippage-bps")) : (await readPolicy(vault)).maxSlippageBps;
  const cap = (await ctx.factory.policyBounds()).maxSlippageBpsCap;
  if (maxSlippageBps > cap) {
    throw new TaskError(
      `--max-slippage-bps ${maxSlippageBps} is above the protocol cap ${cap}: the vault would refuse it`,
    );
  }
  return maxSlippageBps;
}

/** `--direction deleverage|leverage`, else the move the HF now makes towards `targetHF` (above it: deleverage). */
async function signedDirection(vault: BallastVault, targetHF: bigint, given: string | undefined): Promise<bigint> {
  if (given === undefined) {
    const { healthFactor } = await vault.position();
    return targetHF > healthFactor ? DIRECTION.Deleverage : DIRECTION.Leverage;
  }
  if (given === "deleverage") return DIRECTION.Deleverage;
  if (given === "leverage") return DIRECTION.Leverage;
  throw new TaskError(`--direction must be deleverage or leverage, got "${given}"`);
}

/** Signs a vault intent of `kind` from the flags. */
export async function buildVaultIntent(
  ctx: TaskContext,
  signer: Signer,
  kind: "SetPolicy" | "Rebalance" | "Close" | "Switch",
  args: SignArgs,
  deadline: bigint,
): Promise<SignedVaultIntent> {
  const vault = await ownedVault(ctx, args, signer);
  const vaultAddress = await vault.getAddress();
  const owner = await signer.getAddress();
  const nonce = await vaultNonce(vault, owner, args.nonce);
  switch (kind) {
    case "SetPolicy": {
      const policy = policyFromFlags(await readPolicy(vault), args);
      await checkPolicy(ctx, policy);
      const fee = await feeTokenOf(ctx, vault, args.feeToken, "--fee-token");
      const maxFee = parseAmount(args.maxFee ?? "0", fee, "--max-fee");
      log(
        `SetPolicy for ${vaultAddress}: ${policyText(policy)}; fee <= ${fmt.token(maxFee, fee.decimals, fee.symbol)}`,
      );
      const version = await vault.policyVersion();
      log(`  replaces policy version ${version}: stale once any other policy change lands`);
      return signVaultIntent(ctx, signer, "SetPolicy", vaultAddress, {
        policy,
        version,
        feeToken: fee.address,
        maxFee,
        nonce,
        deadline,
      });
    }
    case "Rebalance": {
      if (args.targetHf === undefined) throw new TaskError("--kind rebalance needs --target-hf (e.g. 1.5)");
      const targetHF = parseHf(args.targetHf, "--target-hf");
      const maxSlippageBps = await signedSlippage(ctx, vault, args.maxSlippageBps);
      const direction = await signedDirection(vault, targetHF, args.direction);
      const reward = await feeTokenOf(ctx, vault, args.rewardToken, "--reward-token");
      const maxReward = parseAmount(args.maxReward ?? "0", reward, "--max-reward");
      log(
        `Rebalance for ${vaultAddress}: ${direction === DIRECTION.Deleverage ? "deleverage" : "leverage"} ` +
          `to HF ${fmt.hf(targetHF)}, slippage <= ${fmt.bps(maxSlippageBps)}, ` +
          `reward <= ${fmt.token(maxReward, reward.decimals, reward.symbol)}`,
      );
      return signVaultIntent(ctx, signer, "Rebalance", vaultAddress, {
        direction,
        targetHF,
        maxSlippageBps,
        rewardToken: reward.address,
        maxReward,
        nonce,
        deadline,
      });
    }
    case "Close": {
      const maxSlippageBps = await signedSlippage(ctx, vault, args.maxSlippageBps);
      const fee = await feeTokenOf(ctx, vault, args.feeToken, "--fee-token");
      const maxFee = parseAmount(args.maxFee ?? "0", fee, "--max-fee");
      log(
        `Close for ${vaultAddress}: slippage <= ${fmt.bps(maxSlippageBps)}, ` +
          `fee <= ${fmt.token(maxFee, fee.decimals, fee.symbol)}`,
      );
      return signVaultIntent(ctx, signer, "Close", vaultAddress, {
        maxSlippageBps,
        feeToken: fee.address,
        maxFee,
        nonce,
        deadline,
      });
    }
    case "Switch": {
      if (args.newCollateral === undefined) throw new TaskError("--kind switch needs --new-collateral (e.g. WBTC)");
      const [collateral, debt] = [await vault.collateralAsset(), await vault.debtAsset()];
      const target = await tokenInfo(ctx, tokenAddress(ctx, args.newCollateral, "--new-collateral"));
      if (target.address === collateral || !(await ctx.factory.isPairAllowed(target.address, debt))) {
        const [c, d] = [await tokenInfo(ctx, collateral), await tokenInfo(ctx, debt)];
        throw new TaskError(
          `--new-collateral ${target.symbol}: the vault would refuse it (VaultSwitchNotAllowed): it must differ from ` +
            `${c.symbol} and be allowed against ${d.symbol} by the factory`,
        );
      }
      const maxSlippageBps = await signedSlippage(ctx, vault, args.maxSlippageBps);
      const maxFee = parseAmount(args.maxFee ?? "0", target, "--max-fee");
      log(
        `Switch for ${vaultAddress}: collateral into ${target.symbol}, slippage <= ${fmt.bps(maxSlippageBps)}, ` +
          `fee <= ${fmt.token(maxFee, target.decimals, target.symbol)}`,
      );
      return signVaultIntent(ctx, signer, "Switch", vaultAddress, {
        newCollateral: target.address,
        maxSlippageBps,
        maxFee,
        nonce,
        deadline,
      });
    }
  }
}

/** The vault calldata of `--call`. */
async function vaultCall(
  ctx: TaskContext,
  vault: BallastVault,
  call: CallFlag,
  args: SignArgs,
  from: string,
): Promise<string> {
  const iface = BallastVault__factory.createInterface();
  switch (call) {
    case "set-policy": {
      const policy = policyFromFlags(await readPolicy(vault), args);
      await checkPolicy(ctx, policy);
      log(`  call: setPolicy(${policyText(policy)})`);
      return iface.encodeFunctionData("setPolicy", [policy]);
    }
    case "pause":
    case "resume":
      log(`  call: pauseAutomation(${call === "pause"})`);
      return iface.encodeFunctionData("pauseAutomation", [call === "pause"]);
    case "withdraw": {
      if (args.amount === undefined) throw new TaskError('--call withdraw needs --amount (collateral units, or "max")');
      const collateral = await tokenInfo(ctx, await vault.collateralAsset());
      const amount = parseAmount(args.amount, collateral, "--amount", true);
      const to = args.recipient !== undefined ? parseAddress(args.recipient, "--recipient") : from;
      log(`  call: withdraw(${fmt.token(amount, collateral.decimals, collateral.symbol)} to ${to})`);
      return iface.encodeFunctionData("withdraw", [amount, to]);
    }
    case "close": {
      const [collateral, debt] = [
        await tokenInfo(ctx, await vault.collateralAsset()),
        await tokenInfo(ctx, await vault.debtAsset()),
      ];
      const route = await swapPath(ctx, collateral, debt, args);
      log(`  call: close(${route.label})`);
      return iface.encodeFunctionData("close", [route.path]);
    }
  }
}

/** Signs a forward request from `--to --data` or `--call`. */
export async function buildForwardRequest(ctx: TaskContext, signer: Signer, args: SignArgs, deadline: bigint) {
  const from = await signer.getAddress();
  let to: string;
  let data: string;
  if (args.call !== undefined) {
    if (!(CALLS as readonly string[]).includes(args.call)) {
      throw new TaskError(`--call must be one of ${CALLS.join(", ")}, got "${args.call}"`);
    }
    const call = args.call as CallFlag;
    checkFlags(args, `forward ${call}`, `--kind forward --call ${call}`);
    const vault = await ownedVault(ctx, args, signer);
    to = await vault.getAddress();
    log(`ForwardRequest from ${from} to vault ${to}`);
    data = await vaultCall(ctx, vault, call, args, from);
  } else {
    if (args.to === undefined || args.data === undefined) {
      throw new TaskError(
        `--kind forward needs --to <address> --data <hex>, or --call ${CALLS.join("|")} with --vault`,
      );
    }
    checkFlags(args, "forward raw", "--kind forward --to/--data");
    to = parseAddress(args.to, "--to");
    if (!isHexString(args.data)) throw new TaskError(`--data must be 0x-prefixed hex calldata, got "${args.data}"`);
    data = args.data;
    log(`ForwardRequest from ${from} to ${to}, ${(data.length - 2) / 2} bytes of calldata`);
  }
  const forwarder = await ctx.forwarder.getAddress();
  let trusted = false;
  try {
    trusted = await ERC2771Context__factory.connect(to, ctx.hre.ethers.provider).isTrustedForwarder(forwarder);
  } catch {
    trusted = false;
  }
  if (!trusted) {
    throw new TaskError(
      `${to} does not trust the forwarder ${forwarder}: only the factory and the vaults accept forwarded calls`,
    );
  }
  let gas: bigint;
  if (args.gas !== undefined) {
    gas = parseUint(args.gas, "--gas");
  } else {
    gas = await estimateCallGas(ctx, from, to, data, "The call", "Pass --gas to sign it anyway");
  }
  const current = await ctx.forwarder.nonces(from);
  const nonce = args.nonce !== undefined ? parseUint(args.nonce, "--nonce") : current;
  if (nonce < current) {
    throw new TaskError(`--nonce ${nonce} was already used: the forwarder's nonce for ${from} is ${current}`);
  }
  if (nonce > current)
    log(`  note: nonce ${nonce} is ahead of the forwarder's ${current}; relay ${current}..${nonce - 1n} first`);
  log(`  gas ${fmt.gas(gas)}, forwarder nonce ${nonce}`);
  return signForward(ctx, signer, { to, data, gas, deadline }, nonce);
}

/** `intent:sign`. */
export async function signTask(args: SignArgs, hre: HardhatRuntimeEnvironment): Promise<SignedPayload> {
  const toStdout = args.out === undefined;
  setProgressToStderr(toStdout);
  try {
    if (!(args.kind in KINDS)) {
      throw new TaskError(`--kind must be one of ${Object.keys(KINDS).join(", ")}, got "${args.kind}"`);
    }
    const kind = KINDS[args.kind as KindFlag];
    if (kind !== "ForwardRequest") checkFlags(args, kind, `--kind ${args.kind}`);
    if (!Number.isInteger(args.deadline) || args.deadline <= 0) {
      throw new TaskError(`--deadline is a number of seconds from now, at least 1; got ${args.deadline}`);
    }
    const signer = await resolveSigner(hre, args.key, args.account, { names: ["--key", "--account"] });
    const ctx = await loadContext(hre, args.deployments);
    const deadline = (await chainTime(hre)) + BigInt(args.deadline);
    const payload =
      kind === "ForwardRequest"
        ? await buildForwardRequest(ctx, signer, args, deadline)
        : await buildVaultIntent(ctx, signer, kind, args, deadline);
    const signerAddress = getAddress(await signer.getAddress());
    const json = toJson(payload);
    if (toStdout) {
      process.stdout.write(json);
    } else {
      const file = path.resolve(args.out as string);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, json);
      log(`Signed by ${signerAddress}, valid until ${fmt.timestamp(deadline)}; written to ${file}`);
    }
    return payload;
  } finally {
    setProgressToStderr(false);
  }
}
