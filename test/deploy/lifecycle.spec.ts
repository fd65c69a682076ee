import hre from "hardhat";

import { ballastFixture, useTemporaryAddressBook } from "../shared/deployment";
import { vaultLifecycle } from "../shared/lifecycle";

const OWNER = 2;
const KEEPER = 5;

// The body of the mainnet-fork suite (test/fork), here on the local market the deploy scripts build.
describe("deploy scripts: a vault's life on the deployed protocol (local market)", () => {
  let restore: () => void;
  before(() => ({ restore } = useTemporaryAddressBook()));
  after(() => restore());

  it("opens, is deleveraged by the keeper auction after an oracle crash, and closes", async () => {
    const d = await ballastFixture();
    await vaultLifecycle(d, (await hre.ethers.getSigners())[OWNER], KEEPER);
  });
});
