/** What the vault tasks share: the owner and relayer signers and where the vault is. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Log, LogDescription, Signer } from "ethers";

import type { BallastVault, IBallastVault } from "../../typechain-types";
import { parseAddress, parseSalt, resolveSigner, vaultAt, type TaskContext } from "../shared/context";
import { TaskError } from "../shared/errors";

export interface OwnerArgs {
  ownerAccount?: number;
  ownerKey?: string;
}

export interface RelayerArgs {
  relayerAccount?: number;
  relayerKey?: string;
}

/** The owner: `--owner-key` or `--owner-account`, account 0 by default. */
export function ownerSigner(hre: HardhatRuntimeEnvironment, args: OwnerArgs): Promise<Signer> {
  return resolveSigner(hre, args.ownerKey, args.ownerAccount, {
    names: ["--owner-key", "--owner-account"],
    fallbackAccount: 0,
  });
}

/** The relayer of a gasless flow: `--relayer-key` or `--relayer-account`, account 1 by default; not the owner. */
export async function relayerSigner(hre: HardhatRuntimeEnvironment, args: RelayerArgs, owner: string): Promise<Signer> {
  const relayer = await resolveSigner(hre, args.relayerKey, args.relayerAccount, {
    names: ["--relayer-key", "--relayer-account"],
    fallbackAccount: 1,
  });
  if ((await relayer.getAddress()) === owner) {
    throw new TaskError(
      `The relayer is the owner ${owner}: with --gasless another account pays the gas; pick another --relayer-account`,
    );
  }
  return relayer;
}

/** `--vault`, or the vault the factory gives `owner` for `--salt`. */
export async function locateVault(
  ctx: TaskContext,
  vault: string | undefined,
  owner: string | undefined,
  salt: string,
): Promise<BallastVault> {
  if (vault !== undefined) return vaultAt(ctx, vault);
  if (owner === undefined) {
    throw new TaskError("Pass --vault <address>, or the owner (--owner-account <i> or --owner <address>) and --salt");
  }
  const predicted = await ctx.factory.predictVault(parseAddress(owner, "--owner"), parseSalt(salt));
  if (!(await ctx.factory.isVault(predicted))) {
    throw new TaskError(
      `${owner} has no vault for salt ${salt} (it would be at ${predicted}): open one with \`npx hardhat vault:open\``,
    );
  }
  return vaultAt(ctx, predicted);
}

/** Refuses an owner operation signed by someone else before anything is signed or sent. */
export async function checkOwner(vault: BallastVault, signer: string): Promise<void> {
  const owner = await vault.owner();
  if (owner !== signer) {
    throw new TaskError(
      `${signer} is not the owner ${owner} of vault ${await vault.getAddress()}: pass the owner's --owner-account or --owner-key`,
    );
  }
}

/** The `Closed` event of a close, if the receipt has one. */
export function closedAmounts(
  vault: BallastVault,
  receipt: { logs: readonly Log[] },
): { collateral: bigint; debtAsset: bigint } | undefined {
  const closed = vaultEvent(vault, receipt, "Closed");
  return closed === undefined
    ? undefined
    : { collateral: closed.args.collateralReturned as bigint, debtAsset: closed.args.debtAssetReturned as bigint };
}

/** The report of the vault's `CollateralSwitched` event in `receipt`, if any. */
export function switchedReport(
  vault: BallastVault,
  receipt: { logs: readonly Log[] },
): IBallastVault.RebalanceReportStructOutput | undefined {
  return vaultEvent(vault, receipt, "CollateralSwitched")?.args.report as
    IBallastVault.RebalanceReportStructOutput | undefined;
}

/** The first event named `name` that the vault's ABI decodes in `receipt`. */
function vaultEvent(vault: BallastVault, receipt: { logs: readonly Log[] }, name: string): LogDescription | undefined {
  for (const entry of receipt.logs) {
    try {
      const parsed = vault.interface.parseLog(entry);
      if (parsed?.name === name) return parsed;
    } catch {
      // another contract's event
    }
  }
  return undefined;
}
