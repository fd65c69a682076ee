import type { DeployFunction } from "hardhat-deploy/types";

import { assetSettings, NAMES, networkConfig, pairSettings, resolveExternal, TAGS } from "../lib/deploy";
import {
  applyChanges,
  auctionChanges,
  boundsChanges,
  guardianChanges,
  heartbeatChanges,
  pairChanges,
  twapChanges,
} from "../lib/deploy/wiring";
import { KeeperAuction__factory, PriceGuard__factory, VaultFactory__factory } from "../typechain-types";

/**
 * Brings the price guard, the factory and the auction to the network's configuration: TWAP parameters, heartbeats,
 * reference pools and allowed pairs, policy bounds, auction curve, guardian. Only the settings that differ are sent,
 * so a re-run sends nothing. When governance is not an account of this network (a multisig), the calls are printed
 * for it to send instead.
 */
const func: DeployFunction = async (hre) => {
  const { deployments, ethers } = hre;
  const log = (message: string) => deployments.log(message);
  const config = networkConfig(hre);
  const external = await resolveExternal(hre);
  const { governance, guardian } = await hre.getNamedAccounts();
  const at = async (name: string) => (await deployments.get(name)).address;
  const priceGuard = PriceGuard__factory.connect(await at(NAMES.priceGuard), ethers.provider);
  const factory = VaultFactory__factory.connect(await at(NAMES.factory), ethers.provider);
  const auction = KeeperAuction__factory.connect(await at(NAMES.auction), ethers.provider);
  const { params } = config;
  const changes = [
    ...(await twapChanges(priceGuard, params.twapWindow, params.maxTwapDeviationBps)),
    ...(await heartbeatChanges(priceGuard, assetSettings(config, external))),
    ...(await pairChanges(priceGuard, factory, pairSettings(config, external))),
    ...(await boundsChanges(factory, params.bounds)),
    ...(await auctionChanges(auction, params.auction)),
    ...(await guardianChanges(factory, guardian)),
  ];
  if (changes.length === 0) {
    log("configuration: up to date, nothing sent");
    return;
  }
  const signers = await ethers.getSigners();
  const signer = signers.find((s) => s.address.toLowerCase() === governance.toLowerCase());
  if (signer === undefined) {
    log(`configuration: governance ${governance} is not an account of this network; it must send:`);
    for (const c of changes) log(`  ${c.label}\n    to ${c.to}\n    data ${c.data}`);
    return;
  }
  await applyChanges(changes, signer, (c, gas) => log(`configuration: ${c.label} (gas ${gas})`));
};
func.tags = [TAGS.configure, TAGS.all];
func.dependencies = [TAGS.priceGuard, TAGS.factory];
export default func;
