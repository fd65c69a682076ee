import type { DeployFunction } from "hardhat-deploy/types";

import { addressBook, addressBookFile, TAGS } from "../lib/deploy";
import { writeDeployment } from "../lib/deployments";

/**
 * Writes the address book the tasks read (`deployments/<network>.json`, see lib/deployments), so that vault:*,
 * intent:* and keeper:run work on the deployed network as they do after local:deploy.
 */
const func: DeployFunction = async (hre) => {
  hre.deployments.log(`address book: ${writeDeployment(await addressBook(hre), addressBookFile(hre))}`);
};
func.tags = [TAGS.addressBook, TAGS.all];
func.dependencies = [TAGS.factory, TAGS.configure, TAGS.lens];
export default func;
