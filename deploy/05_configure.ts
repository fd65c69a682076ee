import type { DeployFunction } from "hardhat-deploy/types";

import { TAGS } from "../lib/deploy";
import { configureProtocol } from "../lib/deploy/configure";

/**
 * Brings the deployed contracts to the network's configuration (lib/deploy/configure.ts), sending only the settings
 * that differ, so a re-run sends nothing. When governance is not an account of this network (a multisig), the calls
 * are printed for it to send instead.
 */
const func: DeployFunction = async (hre) => {
  const { governance, guardian } = await hre.getNamedAccounts();
  await configureProtocol(hre, governance, guardian, (message) => hre.deployments.log(message));
};
func.tags = [TAGS.configure, TAGS.all];
func.dependencies = [TAGS.priceGuard, TAGS.factory];
export default func;
