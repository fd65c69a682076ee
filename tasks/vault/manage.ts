/** `vault:status`, `vault:policy`, `vault:close`, `vault:switch`. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { getAddress, hexlify, randomBytes, type Signer } from "ethers";

import type { BallastVault } from "../../typechain-types";
import { signVaultIntent, type PolicyValues } from "../intent/payload";
import { relayVaultIntent } from "../intent/relay";
import {
  chainTime,
  loadContext,
  log,
  parseAmount,
  resolveSigner,
  send,
  swapPath,
  switchPath,
  tokenAddress,
  tokenInfo,
  type TaskContext,
  type TokenInfo,
} from "../shared/context";
import { TaskError } from "../shared/errors";
import * as fmt from "../shared/format";
import {
  checkPolicy,
  policyFromFlags,
  anyPolicyFlag,
  POLICY_FLAG_NAMES,
  policyText,
  readPolicy,
  readStatus,
  statusLines,
  type PolicyFlags,
  type VaultStatus,
} from "../shared/vault";
import {
  checkOwner,
  closedAmounts,
  switchedReport,
  locateVault,
  ownerSigner,
  relayerSigner,
  type OwnerArgs,
  type RelayerArgs,
} from "./common";

const INTENT_LIFETIME = 3_600n;

export interface StatusArgs {
  vault?: string;
  owner?: string;
  ownerAccount?: number;
  salt: string;
  deployments?: string;
}

/** `vault:status`. */
export async function statusTask(args: StatusArgs, hre: HardhatRuntimeEnvironment): Promise<VaultStatus> {
  const ctx = await loadContext(hre, args.deployments);
  if (args.vault !== undefined && (args.owner !== undefined || args.ownerAccount !== undefined)) {
    throw new TaskError("Pass either --vault or the owner (--owner-account / --owner) with --salt, not both");
  }
  if (args.owner !== undefined && args.ownerAccount !== undefined) {
    throw new TaskError("Pass either --owner or --owner-account, not both");
  }
  const owner =
    args.ownerAccount !== undefined
      ? await (
          await resolveSigner(hre, undefined, args.ownerAccount, { names: ["--owner-key", "--owner-account"] })
        ).getAddress()
      : args.owner;
  const vault = await locateVault(ctx, args.vault, owner, args.salt);
  const status = await readStatus(ctx, vault);
  for (const line of statusLines(status)) log(line);
  return status;
}

interface OwnedVault {
  ctx: TaskContext;
  owner: Signer;
  ownerAddress: string;
  vault: BallastVault;
  relayer?: Signer;
}

async function ownedVault(
  hre: HardhatRuntimeEnvironment,
  args: OwnerArgs & RelayerArgs & { vault?: string; salt: string; gasless: boolean; deployments?: string },
): Promise<OwnedVault> {
  const ctx = await loadContext(hre, args.deployments);
  const owner = await ownerSigner(hre, args);
  const ownerAddress = getAddress(await owner.getAddress());
  const vault = await locateVault(ctx, args.vault, ownerAddress, args.salt);
  await checkOwner(vault, ownerAddress);
  const relayer = args.gasless ? await relayerSigner(hre, args, ownerAddress) : undefined;
  return { ctx, owner, ownerAddress, vault: vault.connect(owner), relayer };
}

/** A fresh unused nonce for the owner's intent. */
async function freshNonce(vault: BallastVault, owner: string): Promise<bigint> {
  for (let i = 0; i < 8; i++) {
    const nonce = BigInt(hexlify(randomBytes(8)));
    if (!(await vault.nonceUsed(owner, nonce))) return nonce;
  }
  throw new TaskError("Could not find an unused random nonce: retry");
}

/** `--fee-token` (default: the debt asset; it must be the vault's collateral or debt asset) and `--fee` (default 0). */
async function gaslessFee(
  ctx: TaskContext,
  vault: BallastVault,
  args: { fee?: string; feeToken?: string },
): Promise<{ token: TokenInfo; fee: bigint }> {
  const [collateral, debt] = [await vault.collateralAsset(), await vault.debtAsset()];
  const address = args.feeToken === undefined ? debt : tokenAddress(ctx, args.feeToken, "--fee-token");
  if (address !== collateral && address !== debt) {
    throw new TaskError("--fee-token must be the vault's collateral or debt asset: fees are paid in one of them");
  }
  const token = await tokenInfo(ctx, address);
  return { token, fee: parseAmount(args.fee ?? "0", token, "--fee") };
}

function checkGaslessFlags(args: {
  gasless: boolean;
  fee?: string;
  feeToken?: string;
  relayerAccount?: number;
  relayerKey?: string;
}): void {
  if (!args.gasless) {
    const extra = [
      args.fee !== undefined ? "--fee" : undefined,
      args.feeToken !== undefined ? "--fee-token" : undefined,
      args.relayerAccount !== undefined ? "--relayer-account" : undefined,
      args.relayerKey !== undefined ? "--relayer-key" : undefined,
    ].filter((x): x is string => x !== undefined);
    if (extra.length > 0) throw new TaskError(`${extra.join(", ")} only apply with --gasless`);
  }
}

export interface PolicyArgs extends OwnerArgs, RelayerArgs, PolicyFlags {
  vault?: string;
  salt: string;
  gasless: boolean;
  fee?: string;
  feeToken?: string;
  deployments?: string;
}

export interface PolicyResult {
  vault: string;
  policy: PolicyValues;
  hash: string;
}

/** `vault:policy`. */
export async function policyTask(args: PolicyArgs, hre: HardhatRuntimeEnvironment): Promise<PolicyResult> {
  checkGaslessFlags(args);
  if (!anyPolicyFlag(args)) throw new TaskError(`Nothing to change: pass ${POLICY_FLAG_NAMES}`);
  const { ctx, owner, ownerAddress, vault, relayer } = await ownedVault(hre, args);
  const vaultAddress = await vault.getAddress();
  const current = await readPolicy(vault);
  const policy = policyFromFlags(current, args);
  await checkPolicy(ctx, policy);
  log(`Vault ${vaultAddress}: policy ${policyText(current)}`);
  log(`  new policy: ${policyText(policy)}`);
  let hash: string;
  if (relayer === undefined) {
    hash = (await send("setPolicy", () => vault.setPolicy(policy))).hash;
  } else {
    const { token, fee } = await gaslessFee(ctx, vault, args);
    const deadline = (await chainTime(hre)) + INTENT_LIFETIME;
    const intent = await signVaultIntent(ctx, owner, "SetPolicy", vaultAddress, {
      policy,
      version: await vault.policyVersion(),
      feeToken: token.address,
      maxFee: fee,
      nonce: await freshNonce(vault, ownerAddress),
      deadline,
    });
    log(`  owner ${ownerAddress} signed a SetPolicy intent (fee <= ${fmt.token(fee, token.decimals, token.symbol)})`);
    hash = (await relayVaultIntent(ctx, intent, relayer, { feeAmount: fee })).hash;
  }
  const after = await readPolicy(vault);
  const position = await vault.position();
  log(`  policy now: ${policyText(after)}`);
  if (position.debtBase !== 0n && (position.healthFactor < after.minHF || position.healthFactor > after.maxHF)) {
    log(
      `  note: HF ${fmt.hf(position.healthFactor)} is outside the new band, so any keeper may now rebalance it to ` +
        `${fmt.hf(after.targetHF)}`,
    );
  }
  return { vault: vaultAddress, policy: after, hash };
}

export interface CloseArgs extends OwnerArgs, RelayerArgs {
  vault?: string;
  salt: string;
  gasless: boolean;
  fee?: string;
  feeToken?: string;
  path?: string;
  feeTier?: number;
  deployments?: string;
}

export interface CloseResult {
  vault: string;
  hash: string;
  collateralReturned: bigint;
  debtAssetReturned: bigint;
}

/** `vault:close`. */
export async function closeTask(args: CloseArgs, hre: HardhatRuntimeEnvironment): Promise<CloseResult> {
  checkGaslessFlags(args);
  const { ctx, owner, ownerAddress, vault, relayer } = await ownedVault(hre, args);
  const vaultAddress = await vault.getAddress();
  const [collateral, debt] = [
    await tokenInfo(ctx, await vault.collateralAsset()),
    await tokenInfo(ctx, await vault.debtAsset()),
  ];
  const position = await vault.position();
  if (position.collateralBase === 0n && position.debtBase === 0n) {
    throw new TaskError(`Vault ${vaultAddress} holds nothing to close`);
  }
  const route = await swapPath(ctx, collateral, debt, args);
  log(
    `Closing vault ${vaultAddress}: collateral ${fmt.usd(position.collateralBase)}, debt ${fmt.usd(position.debtBase)}, ` +
      `HF ${fmt.hf(position.healthFactor)} (${route.label})`,
  );
  let hash: string;
  if (relayer === undefined) {
    hash = (await send("close", () => vault.close(route.path))).hash;
  } else {
    const { token, fee } = await gaslessFee(ctx, vault, args);
    const intent = await signVaultIntent(ctx, owner, "Close", vaultAddress, {
      maxSlippageBps: (await readPolicy(vault)).maxSlippageBps,
      feeToken: token.address,
      maxFee: fee,
      nonce: await freshNonce(vault, ownerAddress),
      deadline: (await chainTime(hre)) + INTENT_LIFETIME,
    });
    log(`  owner ${ownerAddress} signed a Close intent (fee <= ${fmt.token(fee, token.decimals, token.symbol)})`);
    hash = (
      await relayVaultIntent(ctx, intent, relayer, {
        feeAmount: fee,
        path: args.path,
        feeTier: args.feeTier,
      })
    ).hash;
  }
  const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
  const closed = receipt === null ? undefined : closedAmounts(vault, receipt);
  const result = {
    vault: vaultAddress,
    hash,
    collateralReturned: closed?.collateral ?? 0n,
    debtAssetReturned: closed?.debtAsset ?? 0n,
  };
  log(
    `  returned to ${ownerAddress}: ${fmt.token(result.collateralReturned, collateral.decimals, collateral.symbol)} and ` +
      `${fmt.token(result.debtAssetReturned, debt.decimals, debt.symbol)}`,
  );
  return result;
}

export interface SwitchArgs extends OwnerArgs, RelayerArgs {
  to: string;
  vault?: string;
  salt: string;
  gasless: boolean;
  fee?: string;
  path?: string;
  deployments?: string;
}

export interface SwitchResult {
  vault: string;
  hash: string;
  oldCollateral: string;
  newCollateral: string;
  sold: bigint;
  bought: bigint;
  hfBefore: bigint;
  hfAfter: bigint;
  /** Equity lost to the swap, the flash premium and a relayer's fee, in the oracle's base units. */
  equityLossBase: bigint;
}

/** `vault:switch`. */
export async function switchTask(args: SwitchArgs, hre: HardhatRuntimeEnvironment): Promise<SwitchResult> {
  checkGaslessFlags(args);
  const { ctx, owner, ownerAddress, vault, relayer } = await ownedVault(hre, args);
  const vaultAddress = await vault.getAddress();
  const [from, debt, to] = await Promise.all([
    vault.collateralAsset().then((a) => tokenInfo(ctx, a)),
    vault.debtAsset().then((a) => tokenInfo(ctx, a)),
    tokenInfo(ctx, tokenAddress(ctx, args.to, "--to")),
  ]);
  if (to.address === from.address) throw new TaskError(`Vault ${vaultAddress} already holds ${from.symbol}`);
  if (!(await ctx.factory.isPairAllowed(to.address, debt.address))) {
    throw new TaskError(
      `${to.symbol}/${debt.symbol} is not a pair the factory allows: the vault would refuse the switch ` +
        `(VaultSwitchNotAllowed); governance allows pairs with VaultFactory.setPair`,
    );
  }
  const position = await vault.position();
  if (position.collateralBase === 0n) throw new TaskError(`Vault ${vaultAddress} holds no collateral to switch`);
  const route = await switchPath(ctx, from, debt, to, args);
  log(
    `Switching vault ${vaultAddress} from ${from.symbol} to ${to.symbol}: collateral ${fmt.usd(position.collateralBase)}, ` +
      `debt ${fmt.usd(position.debtBase)} kept, HF ${fmt.hf(position.healthFactor)} (${route.label})`,
  );
  let hash: string;
  if (relayer === undefined) {
    hash = (await send("switchCollateral", () => vault.switchCollateral(to.address, route.path))).hash;
  } else {
    const fee = parseAmount(args.fee ?? "0", to, "--fee");
    const intent = await signVaultIntent(ctx, owner, "Switch", vaultAddress, {
      newCollateral: to.address,
      maxSlippageBps: (await readPolicy(vault)).maxSlippageBps,
      maxFee: fee,
      nonce: await freshNonce(vault, ownerAddress),
      deadline: (await chainTime(hre)) + INTENT_LIFETIME,
    });
    log(`  owner ${ownerAddress} signed a Switch intent (fee <= ${fmt.token(fee, to.decimals, to.symbol)})`);
    hash = (await relayVaultIntent(ctx, intent, relayer, { feeAmount: fee, path: route.path })).hash;
  }
  const receipt = await hre.ethers.provider.getTransactionReceipt(hash);
  const report = receipt === null ? undefined : switchedReport(vault, receipt);
  if (report === undefined) throw new TaskError(`Transaction ${hash} switched nothing: check it on the chain`);
  log(
    `  sold ${fmt.token(report.amountIn, from.decimals, from.symbol)} for ` +
      `${fmt.token(report.amountOut, to.decimals, to.symbol)}; HF ${fmt.hf(report.hfBefore)} -> ` +
      `${fmt.hf(report.hfAfter)}; cost ${fmt.usd(report.equityLossBase)} of equity (swap, flash premium, fee)`,
  );
  return {
    vault: vaultAddress,
    hash,
    oldCollateral: from.address,
    newCollateral: to.address,
    sold: report.amountIn,
    bought: report.amountOut,
    hfBefore: report.hfBefore,
    hfAfter: report.hfAfter,
    equityLossBase: report.equityLossBase,
  };
}
