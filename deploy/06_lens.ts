import type { DeployFunction } from "hardhat-deploy/types";

import { NAMES, TAGS } from "../lib/deploy";

/** The read-only lens keepers scan vaults with. */
const func: DeployFunction = async (hre) => {
  const { deployer } = await hre.getNamedAccounts();
  await hre.deployments.deploy(NAMES.lens, { from: deployer, args: [], log: true });
};
func.tags = [TAGS.lens, TAGS.all];
export default func;
