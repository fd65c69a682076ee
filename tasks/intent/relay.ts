/**
 * Submits signed payloads: a vault intent through its `*BySig` function, a forward request through the forwarder.
 * Everything that can be checked before sending is checked first, with a message that says what to do.
 */
import fs from "node:fs";
import path from "node:path";

import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, ZeroAddress, type ContractTransactionReceipt, type Signer } from "ethers";

import { DIRECTION } from "../../lib/intents";
import type { BallastVault } from "../../typechain-types";
import {
  chainTime,
  loadContext,
  log,
  parseAmount,
  resolveSigner,
  send,
  swapPath,
  switchPath,
  tokenInfo,
  vaultAt,
  type TaskContext,
} from "../shared/context";
import { decodeRevert, describeError, revertData, TaskError } from "../shared/errors";
import * as fmt from "../shared/format";
import {
  deadlineOf,
  forwardRequestData,
  parsePayload,
  recoverIntentSigner,
  type SignedForwardRequest,
  type SignedPayload,
  type SignedVaultIntent,
} from "./payload";

export interface RelayOptions {
  /** What the relayer takes, in whole units of the fee or reward token; defaults to the signed maximum. */
  fee?: string;
  /** The fee in base units, for callers that have it already (instead of `fee`). */
  feeAmount?: bigint;
  path?: string;
  feeTier?: number;
}

export interface RelayResult {
  hash: string;
  gasUsed: bigint;
  /** The fee or reward paid to the relayer (vault intents only). */
  fee?: { token: string; symbol: string; amount: bigint };
  /** Per forwarded request: whether its call succeeded. */
  forwarded?: boolean[];
}

function checkChain(ctx: TaskContext, payload: SignedPayload, where: string): void {
  if (payload.chainId !== ctx.chainId) {
    throw new TaskError(
      `${where} was signed for chain ${payload.chainId}, but network ${ctx.hre.network.name} is chain ${ctx.chainId}: ` +
        `relay it with the --network it was signed for`,
    );
  }
}

async function checkDeadline(ctx: TaskContext, payload: SignedPayload, where: string): Promise<void> {
  const deadline = deadlineOf(payload);
  const now = await chainTime(ctx.hre);
  // The transaction lands in a later block, so a deadline equal to the latest timestamp is already too late.
  if (deadline <= now) {
    throw new TaskError(
      `${where} expired at ${fmt.timestamp(deadline)} (${fmt.duration(now - deadline)} ago, chain time): ` +
        `nothing was sent; ask the signer for a new one (intent:sign --deadline <seconds from now>)`,
    );
  }
}

/** A vault intent's pre-flight checks: vault, signer is the owner, signature, nonce, deadline. */
async function checkVaultIntent(ctx: TaskContext, intent: SignedVaultIntent, where: string): Promise<BallastVault> {
  checkChain(ctx, intent, where);
  const vault = await vaultAt(ctx, intent.vault, `${where}: vault`);
  const owner = await vault.owner();
  if (getAddress(intent.signer) !== owner) {
    throw new TaskError(
      `${where} was signed by ${intent.signer}, but the vault's owner is ${owner}: the vault would reject it; ` +
        `the owner must sign it`,
    );
  }
  const recovered = recoverIntentSigner(intent);
  if (recovered !== undefined && recovered !== owner && (await ctx.hre.ethers.provider.getCode(owner)) === "0x") {
    throw new TaskError(
      `${where}: the signature does not match the message (it recovers to ${recovered}, not ${owner}); ` +
        `was the file edited? Sign it again with intent:sign`,
    );
  }
  await checkDeadline(ctx, intent, where);
  if (await vault.nonceUsed(owner, intent.message.nonce)) {
    throw new TaskError(
      `${where}: nonce ${intent.message.nonce} was already used or cancelled on vault ${intent.vault}: nothing was ` +
        `sent; ask the owner to sign a new intent (intent:sign picks a fresh nonce unless --nonce is given)`,
    );
  }
  if (intent.kind === "SetPolicy") {
    const current = await vault.policyVersion();
    if (intent.message.version !== current) {
      throw new TaskError(
        `${where}: signed against policy version ${intent.message.version} but vault ${intent.vault} is at ` +
          `${current}: another policy change landed since, so the vault would refuse it (VaultPolicyVersionStale); ` +
          `nothing was sent; ask the owner to sign again`,
      );
    }
  }
  return vault;
}

function intentFee(intent: SignedVaultIntent): { token: string; max: bigint } {
  switch (intent.kind) {
    case "SetPolicy":
    case "Close":
      return { token: intent.message.feeToken, max: intent.message.maxFee };
    case "Rebalance":
      return { token: intent.message.rewardToken, max: intent.message.maxReward };
    case "Switch":
      return { token: intent.message.newCollateral, max: intent.message.maxFee };
  }
}

function paidFee(vault: BallastVault, receipt: ContractTransactionReceipt): bigint | undefined {
  const address = receipt.to === null ? undefined : getAddress(receipt.to);
  for (const entry of receipt.logs) {
    if (address !== undefined && getAddress(entry.address) !== address) continue;
    try {
      const parsed = vault.interface.parseLog(entry);
      if (parsed?.name === "IntentExecuted") return parsed.args.fee as bigint;
    } catch {
      // another contract's event
    }
  }
  return undefined;
}

/** Relays a vault intent straight to the vault through its `*BySig` function. */
export async function relayVaultIntent(
  ctx: TaskContext,
  intent: SignedVaultIntent,
  relayer: Signer,
  options: RelayOptions,
  where = `The ${intent.kind} intent`,
): Promise<RelayResult> {
  const vault = (await checkVaultIntent(ctx, intent, where)).connect(relayer);
  const { token, max } = intentFee(intent);
  const feeToken = await tokenInfo(ctx, token);
  const fee = options.feeAmount ?? (options.fee === undefined ? max : parseAmount(options.fee, feeToken, "--fee"));
  if (fee > max) {
    throw new TaskError(
      `--fee ${fmt.token(fee, feeToken.decimals, feeToken.symbol)} is above the signed maximum ` +
        `${fmt.token(max, feeToken.decimals, feeToken.symbol)}: ask for at most the maximum`,
    );
  }
  const relayerAddress = await relayer.getAddress();
  log(
    `Relaying ${intent.kind} intent (nonce ${intent.message.nonce}) to vault ${intent.vault} as ${relayerAddress}, ` +
      `fee ${fmt.token(fee, feeToken.decimals, feeToken.symbol)}`,
  );
  let receipt: ContractTransactionReceipt;
  if (intent.kind === "SetPolicy") {
    receipt = await send("setPolicyBySig", () => vault.setPolicyBySig(intent.message, intent.signature, fee));
  } else if (intent.kind === "Switch") {
    const [collateral, debt] = await Promise.all([
      vault.collateralAsset().then((a) => tokenInfo(ctx, a)),
      vault.debtAsset().then((a) => tokenInfo(ctx, a)),
    ]);
    const route = await switchPath(ctx, collateral, debt, feeToken, options);
    log(`  route: ${route.label}`);
    receipt = await send("switchCollateralBySig", () =>
      vault.switchCollateralBySig(intent.message, intent.signature, route.path, fee),
    );
  } else {
    const [collateral, debt] = await Promise.all([
      vault.collateralAsset().then((a) => tokenInfo(ctx, a)),
      vault.debtAsset().then((a) => tokenInfo(ctx, a)),
    ]);
    let deleverage = true;
    if (intent.kind === "Rebalance") {
      const position = await vault.position();
      // The vault's own rule: a target above the current HF deleverages; it must be the signed direction.
      deleverage = intent.message.targetHF > position.healthFactor;
      const actual = deleverage ? DIRECTION.Deleverage : DIRECTION.Leverage;
      if (actual !== intent.message.direction) {
        throw new TaskError(
          `${where}: signed to ${intent.message.direction === DIRECTION.Leverage ? "leverage" : "deleverage"} ` +
            `but at HF ${fmt.hf(position.healthFactor)} a move to ${fmt.hf(intent.message.targetHF)} would ` +
            `${deleverage ? "deleverage" : "leverage"}: the vault would refuse it (VaultIntentDirection); nothing was sent`,
        );
      }
      log(
        `  HF now ${fmt.hf(position.healthFactor)}, target ${fmt.hf(intent.message.targetHF)}: ` +
          `${deleverage ? "deleverage" : "leverage"}`,
      );
    }
    const route = deleverage
      ? await swapPath(ctx, collateral, debt, options)
      : await swapPath(ctx, debt, collateral, options);
    log(`  route: ${route.label}`);
    receipt =
      intent.kind === "Rebalance"
        ? await send("rebalanceBySig", () => vault.rebalanceBySig(intent.message, intent.signature, route.path, fee))
        : await send("closeBySig", () => vault.closeBySig(intent.message, intent.signature, route.path, fee));
  }
  const paid = paidFee(vault, receipt) ?? 0n;
  log(
    `  ${intent.kind === "Rebalance" ? "reward" : "fee"} received: ${fmt.token(paid, feeToken.decimals, feeToken.symbol)}`,
  );
  return {
    hash: receipt.hash,
    gasUsed: receipt.gasUsed,
    fee: { token: feeToken.address, symbol: feeToken.symbol, amount: paid },
  };
}

/** Why a forwarded call would revert, found by simulating it as its signer (the target sees the same sender). */
async function simulateForwarded(
  ctx: TaskContext,
  request: SignedForwardRequest["request"],
): Promise<string | undefined> {
  try {
    await ctx.hre.ethers.provider.call({
      from: request.from,
      to: request.to,
      data: request.data,
      value: request.value,
    });
    return undefined;
  } catch (e) {
    const data = revertData(e);
    const decoded = data === undefined ? undefined : decodeRevert(data);
    if (decoded !== undefined) return describeError(decoded);
    return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

/** Pre-flight checks of forward requests meant to run in this order, starting at the forwarder's current nonce. */
async function checkForwardRequests(ctx: TaskContext, payloads: SignedForwardRequest[], where: string): Promise<void> {
  const bookForwarder = await ctx.forwarder.getAddress();
  let expected: Map<string, bigint> = new Map();
  for (const payload of payloads) {
    checkChain(ctx, payload, where);
    if (getAddress(payload.forwarder) !== bookForwarder) {
      throw new TaskError(
        `${where} is for the forwarder ${payload.forwarder}, but ${ctx.bookFile} names ${bookForwarder}: ` +
          `sign it again against this deployment`,
      );
    }
    await checkDeadline(ctx, payload, where);
    const from = payload.request.from;
    const next = expected.get(from) ?? (await ctx.forwarder.nonces(from));
    if (payload.nonce < next) {
      throw new TaskError(
        `${where}: forwarder nonce ${payload.nonce} of ${from} was already used (the forwarder is at ${next}): ` +
          `nothing was sent; sign a new request`,
      );
    }
    if (payload.nonce > next) {
      throw new TaskError(
        `${where}: it was signed with forwarder nonce ${payload.nonce}, but the forwarder expects ${next} from ${from}: ` +
          `relay the requests with nonces ${next}..${payload.nonce - 1n} first, or sign it again without --nonce`,
      );
    }
    expected = new Map(expected).set(from, next + 1n);
  }
  // `verify` reads the current nonce, so only the first request of a sequence can be checked ahead.
  if (!(await ctx.forwarder.verify(forwardRequestData(payloads[0])))) {
    throw new TaskError(
      `${where}: the forwarder rejects the request: the signature does not match its "from" ` +
        `${payloads[0].request.from}, or ${payloads[0].request.to} does not trust the forwarder`,
    );
  }
}

function forwardOutcomes(ctx: TaskContext, receipt: ContractTransactionReceipt): boolean[] {
  const outcomes: boolean[] = [];
  for (const entry of receipt.logs) {
    try {
      const parsed = ctx.forwarder.interface.parseLog(entry);
      if (parsed?.name === "ExecutedForwardRequest") outcomes.push(parsed.args.success as boolean);
    } catch {
      // another contract's event
    }
  }
  return outcomes;
}

/** Relays one forward request with `execute` (which reverts if the call fails). */
export async function relayForward(
  ctx: TaskContext,
  payload: SignedForwardRequest,
  relayer: Signer,
  where = "The forward request",
): Promise<RelayResult> {
  await checkForwardRequests(ctx, [payload], where);
  const failure = await simulateForwarded(ctx, payload.request);
  if (failure !== undefined) {
    throw new TaskError(
      `${where}: the forwarded call to ${payload.request.to} would revert: ${failure}; nothing was sent`,
    );
  }
  log(
    `Relaying forward request from ${payload.request.from} (nonce ${payload.nonce}) to ${payload.request.to} ` +
      `as ${await relayer.getAddress()}`,
  );
  const forwarder = ctx.forwarder.connect(relayer);
  const receipt = await send("forwarder.execute", () =>
    forwarder.execute(forwardRequestData(payload), { value: payload.request.value }),
  );
  log("  fee received: none (forward requests carry no fee)");
  return { hash: receipt.hash, gasUsed: receipt.gasUsed, forwarded: forwardOutcomes(ctx, receipt) };
}

/**
 * Relays a sequence of forward requests in one `executeBatch` transaction. With no refund receiver a request whose
 * signature or deadline fails reverts the batch, but a call that reverts does not: the outcome of each is returned.
 */
export async function relayForwardBatch(
  ctx: TaskContext,
  payloads: SignedForwardRequest[],
  relayer: Signer,
  label: string,
): Promise<RelayResult> {
  await checkForwardRequests(ctx, payloads, label);
  const value = payloads.reduce((sum, p) => sum + p.request.value, 0n);
  const forwarder = ctx.forwarder.connect(relayer);
  const receipt = await send(`forwarder.executeBatch (${label})`, () =>
    forwarder.executeBatch(payloads.map(forwardRequestData), ZeroAddress, { value }),
  );
  return { hash: receipt.hash, gasUsed: receipt.gasUsed, forwarded: forwardOutcomes(ctx, receipt) };
}

export interface RelayArgs extends RelayOptions {
  file: string;
  via?: string;
  relayerAccount?: number;
  relayerKey?: string;
  deployments?: string;
}

/** `intent:relay`. */
export async function relayTask(args: RelayArgs, hre: HardhatRuntimeEnvironment): Promise<RelayResult> {
  const file = path.resolve(args.file);
  if (!fs.existsSync(file))
    throw new TaskError(`--file ${file} does not exist: write it with \`npx hardhat intent:sign\``);
  const payload = parsePayload(fs.readFileSync(file, "utf8"), file);
  const via = args.via ?? (payload.kind === "ForwardRequest" ? "forwarder" : "direct");
  if (via !== "direct" && via !== "forwarder") throw new TaskError(`--via must be direct or forwarder, got "${via}"`);
  if (via === "forwarder" && payload.kind !== "ForwardRequest") {
    throw new TaskError(
      `${file} holds a ${payload.kind} intent, which is submitted straight to the vault (--via direct); ` +
        `--via forwarder is for ForwardRequest files`,
    );
  }
  if (via === "direct" && payload.kind === "ForwardRequest") {
    throw new TaskError(`${file} holds a ForwardRequest, which goes through the forwarder (--via forwarder)`);
  }
  const ctx = await loadContext(hre, args.deployments);
  const relayer = await resolveSigner(hre, args.relayerKey, args.relayerAccount, {
    names: ["--relayer-key", "--relayer-account"],
    fallbackAccount: 1,
  });
  const where = path.basename(file);
  if (payload.kind === "ForwardRequest") {
    if (args.fee !== undefined || args.path !== undefined || args.feeTier !== undefined) {
      throw new TaskError(
        "--fee, --path and --fee-tier apply to vault intents only; a forward request carries its call",
      );
    }
    return relayForward(ctx, payload, relayer, where);
  }
  if (payload.kind === "SetPolicy" && (args.path !== undefined || args.feeTier !== undefined)) {
    throw new TaskError("--path and --fee-tier apply to Rebalance, Close and Switch intents only");
  }
  return relayVaultIntent(ctx, payload, relayer, args, where);
}
