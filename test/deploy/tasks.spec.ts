import { expect } from "chai";
import { Wallet } from "ethers";
import hre from "hardhat";

import { ASSETS, MARKET, NAMES, tokenName } from "../../lib/deploy";
import type { PrintedDeployment } from "../../tasks/deployments/print";
import type { VerifyResult } from "../../tasks/deployments/verify";
import { ballastFixture, useTemporaryAddressBook } from "../shared/deployment";
import { expectTaskError, runTask } from "../tasks/helpers";

const BALLAST = Object.values(NAMES);

describe("deployments tasks (tasks/deployments)", () => {
  let restore: () => void;
  before(() => ({ restore } = useTemporaryAddressBook()));
  after(() => restore());

  describe("deployments:print", () => {
    it("lists every record with its address and whether it has code", async () => {
      await ballastFixture();
      const { result, output } = await runTask<PrintedDeployment[]>("deployments:print", { json: false });
      const names = result.map((r) => r.name);
      expect(names).to.include.members([...BALLAST, ...Object.values(MARKET), ...ASSETS.map(tokenName)]);
      expect(result.every((r) => r.code)).to.equal(true);
      expect(result.find((r) => r.name === NAMES.factory)?.contract).to.equal(
        "contracts/vault/VaultFactory.sol:VaultFactory",
      );
      expect(output).to.match(/contracts recorded on hardhat \(chain 31337\)/);
    });

    it("flags a record whose address has no code and says how to start over", async () => {
      await ballastFixture();
      const lens = await hre.deployments.get(NAMES.lens);
      const empty = Wallet.createRandom().address;
      await hre.deployments.save(NAMES.lens, { ...lens, address: empty });
      const { result, output } = await runTask<PrintedDeployment[]>("deployments:print", { json: false });
      expect(result.filter((r) => !r.code).map((r) => [r.name, r.address])).to.deep.equal([[NAMES.lens, empty]]);
      expect(output).to.include("1 records have no code on chain (a restarted node?): run `npx hardhat deploy");
      await hre.deployments.save(NAMES.lens, lens);
    });

    it("--json prints the same records as JSON", async () => {
      await ballastFixture();
      const { result, output } = await runTask<PrintedDeployment[]>("deployments:print", { json: true });
      const printed = JSON.parse(output) as { network: string; deployments: { name: string; address: string }[] };
      expect(printed.network).to.equal("hardhat");
      expect(printed.deployments.map((d) => [d.name, d.address])).to.deep.equal(result.map((r) => [r.name, r.address]));
    });
  });

  describe("deployments:verify", () => {
    it("--dry-run lists Ballast's contracts with their recorded constructor arguments, not the local market's", async () => {
      const d = await ballastFixture();
      const { result, output } = await runTask<VerifyResult>("deployments:verify", { dryRun: true });
      expect(result.targets.map((t) => t.name).sort()).to.deep.equal([...BALLAST].sort());
      const auction = result.targets.find((t) => t.name === NAMES.auction);
      expect(auction?.contract).to.equal("contracts/keeper/KeeperAuction.sol:KeeperAuction");
      expect(auction?.constructorArguments[0]).to.equal(await d.factory.getAddress());
      expect(result.verified).to.deep.equal([]);
      expect(output).to.include(`would verify ${NAMES.priceGuard} at ${await d.priceGuard.getAddress()}`);
    });

    it("--only picks one record, and an unknown name lists the recorded ones", async () => {
      await ballastFixture();
      const { result } = await runTask<VerifyResult>("deployments:verify", { dryRun: true, only: NAMES.lens });
      expect(result.targets.map((t) => t.name)).to.deep.equal([NAMES.lens]);
      await expectTaskError(
        "deployments:verify",
        { dryRun: true, only: "AavePool" },
        /--only AavePool: no such Ballast record on hardhat; recorded: .*VaultFactory/,
      );
    });

    it("refuses to verify on a local chain", async () => {
      await ballastFixture();
      await expectTaskError("deployments:verify", { dryRun: false }, /hardhat is a local chain with no block explorer/);
    });
  });

  it("with nothing recorded, both say to deploy first", async () => {
    // A tag no script carries: the records are cleared and nothing is deployed.
    await hre.deployments.run(["NoSuchTag"], { resetMemory: true, writeDeploymentsToFiles: false });
    for (const name of ["deployments:print", "deployments:verify"]) {
      await expectTaskError(
        name,
        { json: false, dryRun: true },
        /Nothing is recorded on hardhat: run `npx hardhat deploy/,
      );
    }
  });
});
