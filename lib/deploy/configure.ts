/** What script 05 does, as a function tests can call with any governance address. */
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { KeeperAuction__factory, PriceGuard__factory, VaultFactory__factory } from "../../typechain-types";
import { assetSettings, networkConfig, pairSettings, resolveExternal, routeSettings } from "./index";
import { NAMES } from "./names";
import {
  applyChanges,
  auctionChanges,
  auctionGasChanges,
  boundsChanges,
  deleverageWindowChanges,
  freshnessChanges,
  guardianChanges,
  heartbeatChanges,
  pairChanges,
  routeChanges,
  twapChanges,
  type Change,
} from "./wiring";

export interface ConfigureResult {
  /** Changes sent from governance. */
  sent: Change[];
  /** Changes governance must send itself: it is not an account of this network (a multisig). */
  pending: Change[];
}

/**
 * Brings the price guard, the factory and the auction to the network's configuration: TWAP parameters, heartbeats, freshness feeds,
 * reference pools and allowed pairs, policy bounds, auction curve and gas pricing, guardian, allowed swap routes. Only
 * what differs is sent.
 */
export async function configureProtocol(
  hre: HardhatRuntimeEnvironment,
  governance: string,
  guardian: string,
  log: (message: string) => void = () => {},
): Promise<ConfigureResult> {
  const { deployments, ethers } = hre;
  const config = networkConfig(hre);
  const external = await resolveExternal(hre);
  const at = async (name: string) => (await deployments.get(name)).address;
  const priceGuard = PriceGuard__factory.connect(await at(NAMES.priceGuard), ethers.provider);
  const factory = VaultFactory__factory.connect(await at(NAMES.factory), ethers.provider);
  const auction = KeeperAuction__factory.connect(await at(NAMES.auction), ethers.provider);
  const { params } = config;
  const assets = assetSettings(config, external);
  const changes = [
    ...(await twapChanges(priceGuard, params.twapWindow, params.maxTwapDeviationBps)),
    ...(await deleverageWindowChanges(priceGuard, params.deleverageTwapWindow)),
    ...(await heartbeatChanges(priceGuard, assets)),
    ...(await freshnessChanges(priceGuard, assets)),
    ...(await pairChanges(priceGuard, factory, pairSettings(config, external))),
    ...(await boundsChanges(factory, params.bounds)),
    ...(await auctionChanges(auction, params.auction)),
    ...(await auctionGasChanges(auction, {
      ...params.auctionGas,
      nativeAsset: external.tokens[params.auctionGas.nativeAsset],
    })),
    ...(await guardianChanges(factory, guardian)),
    // Last, so that a deployment's earlier transactions, and the addresses they create, stay as they were.
    ...(await routeChanges(priceGuard, routeSettings(config, external))),
  ];
  if (changes.length === 0) {
    log("configuration: up to date, nothing sent");
    return { sent: [], pending: [] };
  }
  const signer = (await ethers.getSigners()).find((s) => s.address.toLowerCase() === governance.toLowerCase());
  if (signer === undefined) {
    log(`configuration: governance ${governance} is not an account of this network; it must send:`);
    for (const c of changes) log(`  ${c.label}\n    to ${c.to}\n    data ${c.data}`);
    return { sent: [], pending: changes };
  }
  await applyChanges(changes, signer, (c, gas) => log(`configuration: ${c.label} (gas ${gas})`));
  return { sent: changes, pending: [] };
}
