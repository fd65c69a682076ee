/** Ballast as the deploy scripts leave it (hardhat-deploy records), typed; shared by test/deploy and test/fork. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";

import { addressBook, NAMES, resolveExternal, TAGS, type External } from "../../lib/deploy";
import { writeDeployment } from "../../lib/deployments";
import {
  BallastForwarder__factory,
  KeeperAuction__factory,
  PriceGuard__factory,
  RebalanceExecutor__factory,
  VaultFactory__factory,
  VaultLens__factory,
  type BallastForwarder,
  type KeeperAuction,
  type PriceGuard,
  type RebalanceExecutor,
  type VaultFactory,
  type VaultLens,
} from "../../typechain-types";

export interface DeployedBallast {
  priceGuard: PriceGuard;
  executor: RebalanceExecutor;
  forwarder: BallastForwarder;
  factory: VaultFactory;
  auction: KeeperAuction;
  lens: VaultLens;
  external: External;
  /** The address book script 07 wrote. */
  book: string;
  /** The block the factory was deployed in: where a keeper starts scanning. */
  factoryBlock: number;
}

/**
 * Points script 07 at a temporary address book, so tests leave deployments/ alone; returns its path. Call it in a
 * `before` hook; the returned function (for `after`) restores the environment and removes the folder.
 */
export function useTemporaryAddressBook(): { book: string; restore: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-deploy-"));
  const book = path.join(dir, "book.json");
  const saved = process.env.BALLAST_ADDRESS_BOOK;
  process.env.BALLAST_ADDRESS_BOOK = book;
  return {
    book,
    restore: () => {
      if (saved === undefined) delete process.env.BALLAST_ADDRESS_BOOK;
      else process.env.BALLAST_ADDRESS_BOOK = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The contracts the current hardhat-deploy records name, connected to the provider. */
export async function deployedBallast(): Promise<DeployedBallast> {
  const { deployments, ethers } = hre;
  const at = async (name: string) => (await deployments.get(name)).address;
  const p = ethers.provider;
  const factoryRecord = await deployments.get(NAMES.factory);
  const book = process.env.BALLAST_ADDRESS_BOOK;
  if (book === undefined) throw new Error("deployedBallast: call useTemporaryAddressBook() in a before hook first");
  return {
    priceGuard: PriceGuard__factory.connect(await at(NAMES.priceGuard), p),
    executor: RebalanceExecutor__factory.connect(await at(NAMES.executor), p),
    forwarder: BallastForwarder__factory.connect(await at(NAMES.forwarder), p),
    factory: VaultFactory__factory.connect(factoryRecord.address, p),
    auction: KeeperAuction__factory.connect(await at(NAMES.auction), p),
    lens: VaultLens__factory.connect(await at(NAMES.lens), p),
    external: await resolveExternal(hre),
    book,
    factoryBlock: factoryRecord.receipt?.blockNumber ?? 0,
  };
}

/**
 * Every deploy script, as a fixture (hardhat-deploy snapshots it; a second call reverts to it). A revert leaves the
 * address book file of a later run, so it is written again for the state reverted to.
 *
 * Only specs under test/deploy/ may call it: they run first, and a revert to hardhat-deploy's snapshot deletes every
 * snapshot taken after it, so a call from a later spec would break the `loadFixture` snapshots of every spec between
 * (FixtureSnapshotError in the next spec that reuses one of those fixtures).
 */
export async function ballastFixture(): Promise<DeployedBallast> {
  await hre.deployments.fixture([TAGS.all]);
  const d = await deployedBallast();
  writeDeployment(await addressBook(hre), d.book);
  return d;
}
