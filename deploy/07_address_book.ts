import type { DeployFunction } from "hardhat-deploy/types";

import { addressBook, addressBookConflict, addressBookFile, TAGS } from "../lib/deploy";
import { writeDeployment } from "../lib/deployments";

/**
 * Writes the address book the tasks read (`deployments/<network>.json`, see lib/deployments), so that vault:*,
 * intent:* and keeper:run work on the deployed network as they do after local:deploy.
 */
const func: DeployFunction = async (hre) => {
  const book = await addressBook(hre);
  // Never replace a book whose contracts are live and not these: its vaults would vanish from every task.
  const conflict = await addressBookConflict(hre, book.contracts.factory);
  if (conflict !== undefined) throw new Error(conflict);
  hre.deployments.log(`address book: ${writeDeployment(book, addressBookFile(hre))}`);
};
func.tags = [TAGS.addressBook, TAGS.all];
func.dependencies = [TAGS.factory, TAGS.configure, TAGS.lens];
export default func;
