import { getCreateAddress } from "ethers";
import type { DeployFunction } from "hardhat-deploy/types";

import { recordsNetwork, jsonArgs, NAMES, networkConfig, resolveExternal, TAGS } from "../lib/deploy";
import { KeeperAuction__factory, VaultFactory__factory } from "../typechain-types";

/**
 * The vault's libraries (the planner, then the collateral logic linked to it), the keeper auction (naming the
 * factory's predicted address), then the vault factory linked to both libraries, which checks the auction names it and deploys the vault implementation in its constructor.
 * Recorded once: a new factory would orphan every vault, so a changed configuration goes through script 05.
 */
const func: DeployFunction = async (hre) => {
  const { deployments } = hre;
  const { deployer, governance, guardian } = await hre.getNamedAccounts();
  const { params } = networkConfig(hre);
  const external = await resolveExternal(hre);
  const [executor, priceGuard, forwarder] = await Promise.all(
    [NAMES.executor, NAMES.priceGuard, NAMES.forwarder].map(async (name) => (await deployments.get(name)).address),
  );
  // The vault implementation the factory creates calls both libraries: its creation code, embedded in the factory's,
  // carries the link. Deployed from its bytecode alone: its ABI names struct members by their Solidity enum type,
  // which ethers cannot parse, and nothing calls the library but the vault.
  const plannerArtifact = await deployments.getArtifact(NAMES.planner);
  const planner = await deployments.deploy(NAMES.planner, {
    from: deployer,
    contract: { abi: [], bytecode: plannerArtifact.bytecode },
    skipIfAlreadyDeployed: true,
    log: true,
  });
  const collateralLogic = await deployments.deploy(NAMES.collateralLogic, {
    from: deployer,
    libraries: { VaultPlanner: planner.address },
    skipIfAlreadyDeployed: true,
    log: true,
  });
  // The auction names the factory, which the same account deploys right after it: the nonce after the auction's.
  // Deployed afresh whenever the factory is: a recorded auction may name a factory that was never deployed.
  // hardhat-deploy answers a missing record with undefined, not the null its type says.
  const recordedFactory = (await deployments.getOrNull(NAMES.factory)) ?? undefined;
  const auctionAddress =
    recordedFactory !== undefined
      ? (await deployments.get(NAMES.auction)).address
      : (
          await deployments.deploy(NAMES.auction, {
            from: deployer,
            args: [
              getCreateAddress({
                from: deployer,
                nonce: (await hre.ethers.provider.getTransactionCount(deployer, "pending")) + 1,
              }),
              jsonArgs(params.auction),
            ],
            log: true,
          })
        ).address;
  if (recordedFactory === undefined) {
    const next = getCreateAddress({
      from: deployer,
      nonce: await hre.ethers.provider.getTransactionCount(deployer, "pending"),
    });
    const named = await KeeperAuction__factory.connect(auctionAddress, hre.ethers.provider).FACTORY();
    if (named.toLowerCase() !== next.toLowerCase()) {
      throw new Error(
        `The ${NAMES.auction} at ${auctionAddress} names the factory ${named}, but the factory would be deployed at ` +
          `${next}: delete deployments/${recordsNetwork(hre)}/${NAMES.auction}.json and deploy again.`,
      );
    }
  }
  const result = await deployments.deploy(NAMES.factory, {
    from: deployer,
    libraries: { VaultPlanner: planner.address, CollateralLogic: collateralLogic.address },
    args: [
      external.pool,
      executor,
      priceGuard,
      forwarder,
      governance,
      guardian,
      jsonArgs(params.bounds),
      auctionAddress,
    ],
    skipIfAlreadyDeployed: true,
    log: true,
  });
  const factory = VaultFactory__factory.connect(result.address, hre.ethers.provider);
  const links = { EXECUTOR: executor, PRICE_GUARD: priceGuard, trustedForwarder: forwarder, AUCTION: auctionAddress };
  for (const [getter, wanted] of Object.entries(links)) {
    const actual = await factory.getFunction(getter).staticCall();
    if (String(actual).toLowerCase() !== wanted.toLowerCase()) {
      throw new Error(
        `The recorded VaultFactory ${result.address} has ${getter} ${actual}, not the recorded ${wanted}. Its links are ` +
          `immutable: delete deployments/${recordsNetwork(hre)}/${NAMES.factory}.json to deploy a new factory (its vaults ` +
          `stay with the old one), or restore the old record.`,
      );
    }
  }
};
func.tags = [TAGS.factory, TAGS.all];
func.dependencies = [TAGS.localMarket, TAGS.priceGuard, TAGS.executor, TAGS.forwarder];
export default func;
