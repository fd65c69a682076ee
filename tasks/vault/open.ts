/** `vault:open`: creates the owner's vault if missing and opens the leveraged position, directly or gasless. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, type Signer } from "ethers";

import { adviceNetwork } from "../../lib/deployments";
import { DEFAULT_POLICY, policyValues } from "../../lib/protocol";
import { BallastVault__factory, IERC20Metadata__factory } from "../../typechain-types";
import { relayForward, relayForwardBatch } from "../intent/relay";
import { signForward, type PolicyValues } from "../intent/payload";
import {
  chainTime,
  estimateCallGas,
  loadContext,
  log,
  parseAmount,
  parseHf,
  parseSalt,
  send,
  swapPath,
  tokenAddress,
  tokenInfo,
  type TaskContext,
  type TokenInfo,
} from "../shared/context";
import { decodeRevert, describeError, revertData, TaskError } from "../shared/errors";
import * as fmt from "../shared/format";
import {
  checkPolicy,
  policyFromFlags,
  anyPolicyFlag,
  policyText,
  readPolicy,
  readStatus,
  statusLines,
  type PolicyFlags,
  type VaultStatus,
} from "../shared/vault";
import { ownerSigner, relayerSigner, type OwnerArgs, type RelayerArgs } from "./common";

/** Gas a forwarded `open` must receive: the vault does not exist yet when the request is signed, so it is not estimated. */
const OPEN_GAS = 2_000_000n;
/** How long the owner's gasless requests stay valid. */
const REQUEST_LIFETIME = 3_600n;

export interface OpenArgs extends OwnerArgs, RelayerArgs, PolicyFlags {
  amount: string;
  collateral: string;
  debt: string;
  salt: string;
  feeTier?: number;
  path?: string;
  approve: boolean;
  gasless: boolean;
  deployments?: string;
}

export interface OpenResult {
  vault: string;
  created: boolean;
  status: VaultStatus;
  transactions: string[];
  ownerEthBefore: bigint;
  ownerEthAfter: bigint;
}

const DEFAULT: PolicyValues = policyValues(DEFAULT_POLICY);

interface Plan {
  owner: Signer;
  ownerAddress: string;
  collateral: TokenInfo;
  debt: TokenInfo;
  salt: string;
  vault: string;
  exists: boolean;
  policy: PolicyValues;
  target: bigint;
  amount: bigint;
  path: string;
}

/** Everything `open` needs, checked: pair, pause, vault state, band, balance, allowance, route. */
async function plan(ctx: TaskContext, args: OpenArgs, owner: Signer): Promise<Plan> {
  const ownerAddress = getAddress(await owner.getAddress());
  const collateral = await tokenInfo(ctx, tokenAddress(ctx, args.collateral, "--collateral"));
  const debt = await tokenInfo(ctx, tokenAddress(ctx, args.debt, "--debt"));
  if (!(await ctx.factory.isPairAllowed(collateral.address, debt.address))) {
    throw new TaskError(
      `The factory does not allow ${collateral.symbol} collateral with ${debt.symbol} debt: pick an allowed pair ` +
        `(--collateral / --debt; locally WETH/USDC and WBTC/USDC)`,
    );
  }
  if (await ctx.factory.leveragePaused()) {
    throw new TaskError("The guardian paused new leverage, so no vault can open now: wait until it is lifted");
  }
  const salt = parseSalt(args.salt);
  const vault = await ctx.factory.predictVault(ownerAddress, salt);
  const exists = await ctx.factory.isVault(vault);
  let policy: PolicyValues;
  if (exists) {
    const existing = BallastVault__factory.connect(vault, ctx.hre.ethers.provider);
    const [c, d] = [await existing.collateralAsset(), await existing.debtAsset()];
    if (c !== collateral.address || d !== debt.address) {
      const [ci, di] = [await tokenInfo(ctx, c), await tokenInfo(ctx, d)];
      throw new TaskError(
        `Your vault for salt ${args.salt} (${vault}) is ${ci.symbol}/${di.symbol}, not ${collateral.symbol}/${debt.symbol}: ` +
          `use another --salt`,
      );
    }
    const position = await existing.position();
    if (position.debtBase !== 0n) {
      throw new TaskError(
        `Your vault ${vault} already holds a position (collateral ${fmt.usd(position.collateralBase)}, debt ` +
          `${fmt.usd(position.debtBase)}, HF ${fmt.hf(position.healthFactor)}): close it first (vault:close) or use another --salt`,
      );
    }
    policy = await readPolicy(existing);
    if (anyPolicyFlag({ ...args, targetHf: undefined })) {
      log("  note: the vault exists, so its policy stays; change it with vault:policy");
    }
  } else {
    policy = policyFromFlags(DEFAULT, args);
    await checkPolicy(ctx, policy);
  }
  const target = args.targetHf !== undefined ? parseHf(args.targetHf, "--target-hf") : policy.targetHF;
  if (target < policy.minHF || target > policy.maxHF) {
    throw new TaskError(
      `--target-hf ${fmt.hf(target)} is outside your band [${fmt.hf(policy.minHF)}, ${fmt.hf(policy.maxHF)}]: ` +
        `pick a target inside it, or change the band (vault:policy, or --min-hf/--max-hf for a new vault)`,
    );
  }
  const amount = parseAmount(args.amount, collateral, "--amount");
  if (amount === 0n) throw new TaskError("--amount must be more than 0");
  const erc20 = IERC20Metadata__factory.connect(collateral.address, ctx.hre.ethers.provider);
  const balance = await erc20.balanceOf(ownerAddress);
  if (balance < amount) {
    throw new TaskError(
      `The owner ${ownerAddress} holds ${fmt.token(balance, collateral.decimals, collateral.symbol)} but --amount is ` +
        `${fmt.token(amount, collateral.decimals, collateral.symbol)}: fund it first (on a local chain: ` +
        `npx hardhat local:fund --token ${collateral.symbol} --amount ${args.amount} --to ${ownerAddress} --network ${adviceNetwork(ctx.hre.network.name)})`,
    );
  }
  const route = await swapPath(ctx, debt, collateral, args);
  const allowance = await erc20.allowance(ownerAddress, vault);
  if (allowance < amount) {
    if (args.approve) {
      log(
        `  approving ${fmt.token(amount, collateral.decimals, collateral.symbol)} to the vault ${vault}` +
          (args.gasless ? ` (the owner pays for this one: ${collateral.symbol} has no permit)` : ""),
      );
      await send(`${collateral.symbol}.approve`, () => erc20.connect(owner).approve(vault, amount));
    } else {
      throw new TaskError(
        `The owner ${ownerAddress} has approved ${fmt.token(allowance, collateral.decimals, collateral.symbol)} to the ` +
          `vault ${vault}${exists ? "" : " (its address, predicted for this salt)"}; open pulls ${fmt.token(amount, collateral.decimals, collateral.symbol)}. ` +
          `Approve first: ${collateral.symbol}(${collateral.address}).approve(${vault}, ${amount})` +
          (args.gasless ? ` (${collateral.symbol} has no permit: the owner pays for this one transaction)` : "") +
          ", or rerun with --approve",
      );
    }
  }
  log(
    `Opening ${fmt.token(amount, collateral.decimals, collateral.symbol)} at target HF ${fmt.hf(target)} in ` +
      `${exists ? "the existing" : "a new"} vault ${vault} of ${ownerAddress} (${route.label})`,
  );
  if (!exists) log(`  policy: ${policyText(policy)}`);
  return { owner, ownerAddress, collateral, debt, salt, vault, exists, policy, target, amount, path: route.path };
}

async function openDirect(ctx: TaskContext, p: Plan): Promise<string[]> {
  const hashes: string[] = [];
  if (!p.exists) {
    const factory = ctx.factory.connect(p.owner);
    const r = await send("createVault", () =>
      factory.createVault(p.collateral.address, p.debt.address, p.policy, p.salt),
    );
    hashes.push(r.hash);
  }
  const vault = BallastVault__factory.connect(p.vault, p.owner);
  hashes.push((await send("open", () => vault.open(p.amount, p.target, p.path))).hash);
  return hashes;
}

/** Why the forwarded `open` failed, found by simulating it as the owner now that the vault exists. */
async function openFailure(ctx: TaskContext, p: Plan, data: string): Promise<string> {
  try {
    await ctx.hre.ethers.provider.call({ from: p.ownerAddress, to: p.vault, data });
    return "it reverted (it succeeds when simulated now: retry)";
  } catch (e) {
    const raw = revertData(e);
    const decoded = raw === undefined ? undefined : decodeRevert(raw);
    return decoded !== undefined ? describeError(decoded) : e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}

async function openGasless(ctx: TaskContext, p: Plan, relayer: Signer): Promise<string[]> {
  const deadline = (await chainTime(ctx.hre)) + REQUEST_LIFETIME;
  const openData = BallastVault__factory.createInterface().encodeFunctionData("open", [p.amount, p.target, p.path]);
  log(`  owner signs, relayer ${await relayer.getAddress()} submits through the forwarder`);
  if (p.exists) {
    const gas = await estimateCallGas(ctx, p.ownerAddress, p.vault, openData, "open");
    const request = await signForward(ctx, p.owner, { to: p.vault, data: openData, gas, deadline });
    return [(await relayForward(ctx, request, relayer, "open")).hash];
  }
  const factory = await ctx.factory.getAddress();
  const createData = ctx.factory.interface.encodeFunctionData("createVault", [
    p.collateral.address,
    p.debt.address,
    p.policy,
    p.salt,
  ]);
  const createGas = await estimateCallGas(ctx, p.ownerAddress, factory, createData, "createVault");
  const nonce = await ctx.forwarder.nonces(p.ownerAddress);
  const requests = [
    await signForward(ctx, p.owner, { to: factory, data: createData, gas: createGas, deadline }, nonce),
    await signForward(ctx, p.owner, { to: p.vault, data: openData, gas: OPEN_GAS, deadline }, nonce + 1n),
  ];
  const result = await relayForwardBatch(ctx, requests, relayer, "createVault + open");
  const [created, opened] = result.forwarded ?? [];
  if (created !== true)
    throw new TaskError(`createVault failed inside the batch (tx ${result.hash}): nothing changed; retry`);
  if (opened !== true) {
    throw new TaskError(
      `The vault ${p.vault} was created but open failed (tx ${result.hash}): ${await openFailure(ctx, p, openData)}; ` +
        `fix that and run vault:open again (it will use the vault that now exists)`,
    );
  }
  return [result.hash];
}

/** `vault:open`. */
export async function openTask(args: OpenArgs, hre: HardhatRuntimeEnvironment): Promise<OpenResult> {
  const ctx = await loadContext(hre, args.deployments);
  const owner = await ownerSigner(hre, args);
  const ownerAddress = getAddress(await owner.getAddress());
  const relayer = args.gasless ? await relayerSigner(hre, args, ownerAddress) : undefined;
  const provider = hre.ethers.provider;
  const p = await plan(ctx, args, owner);
  const ownerEthBefore = await provider.getBalance(ownerAddress);
  const transactions = relayer === undefined ? await openDirect(ctx, p) : await openGasless(ctx, p, relayer);
  const ownerEthAfter = await provider.getBalance(ownerAddress);
  if (relayer !== undefined) {
    log(
      `  owner ETH balance: ${fmt.token(ownerEthBefore, 18, "ETH")} before, ${fmt.token(ownerEthAfter, 18, "ETH")} after` +
        (ownerEthAfter === ownerEthBefore ? " (unchanged: the relayer paid the gas)" : ""),
    );
  }
  const status = await readStatus(ctx, BallastVault__factory.connect(p.vault, provider));
  for (const line of statusLines(status)) log(`  ${line}`);
  return { vault: p.vault, created: !p.exists, status, transactions, ownerEthBefore, ownerEthAfter };
}
