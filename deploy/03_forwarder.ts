import type { DeployFunction } from "hardhat-deploy/types";

import { NAMES, TAGS } from "../lib/deploy";

/** The ERC-2771 forwarder the factory and every vault trust. */
const func: DeployFunction = async (hre) => {
  const { deployer } = await hre.getNamedAccounts();
  await hre.deployments.deploy(NAMES.forwarder, { from: deployer, args: [], log: true });
};
func.tags = [TAGS.forwarder, TAGS.all];
export default func;
