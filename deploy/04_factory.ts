import type { DeployFunction } from "hardhat-deploy/types";

import { recordsNetwork, jsonArgs, NAMES, networkConfig, resolveExternal, TAGS } from "../lib/deploy";
import { VaultFactory__factory } from "../typechain-types";

/**
 * The vault planner library, then the vault factory linked to it, which deploys the keeper auction and the vault implementation in its constructor; the auction is
 * recorded with its ABI and constructor arguments so that tasks find it and `deployments:verify` can verify it.
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
  // The vault implementation the factory creates calls the planner: its creation code, embedded in the factory's,
  // carries the link. Deployed from its bytecode alone: its ABI names struct members by their Solidity enum type,
  // which ethers cannot parse, and nothing calls the library but the vault.
  const plannerArtifact = await deployments.getArtifact(NAMES.planner);
  const planner = await deployments.deploy(NAMES.planner, {
    from: deployer,
    contract: { abi: [], bytecode: plannerArtifact.bytecode },
    skipIfAlreadyDeployed: true,
    log: true,
  });
  const result = await deployments.deploy(NAMES.factory, {
    from: deployer,
    libraries: { VaultPlanner: planner.address },
    args: [
      external.pool,
      executor,
      priceGuard,
      forwarder,
      governance,
      guardian,
      jsonArgs(params.bounds),
      jsonArgs(params.auction),
    ],
    skipIfAlreadyDeployed: true,
    log: true,
  });
  const factory = VaultFactory__factory.connect(result.address, hre.ethers.provider);
  const links = { EXECUTOR: executor, PRICE_GUARD: priceGuard, trustedForwarder: forwarder };
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
  const auction = await factory.AUCTION();
  const recorded = await deployments.getOrNull(NAMES.auction);
  if (recorded?.address.toLowerCase() !== auction.toLowerCase()) {
    const artifact = await deployments.getExtendedArtifact(NAMES.auction);
    const args = [result.address, result.args?.[7] ?? jsonArgs(params.auction)];
    await deployments.save(NAMES.auction, {
      ...artifact,
      address: auction,
      args,
      transactionHash: result.transactionHash,
    });
    deployments.log(`recorded "${NAMES.auction}" at ${auction} (deployed by ${NAMES.factory})`);
  }
};
func.tags = [TAGS.factory, TAGS.all];
func.dependencies = [TAGS.localMarket, TAGS.priceGuard, TAGS.executor, TAGS.forwarder];
export default func;
