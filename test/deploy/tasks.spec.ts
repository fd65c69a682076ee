import { expect } from "chai";
import { Wallet } from "ethers";
import hre from "hardhat";

import { ASSETS, MARKET, NAMES, tokenName } from "../../lib/deploy";
import type { PrintResult } from "../../tasks/deployments/print";
import type { VerifyResult } from "../../tasks/deployments/verify";
import { ballastFixture, useTemporaryAddressBook } from "../shared/deployment";
import { expectTaskError, runTask } from "../tasks/helpers";

const BALLAST = Object.values(NAMES);

describe("deployments tasks (tasks/deployments)", () => {
  let restore: () => void;
  before(() => ({ restore } = useTemporaryAddressBook()));
  after(() => restore());

  describe("deployments:print", () => {
    it("lists the address book the tasks use and every record, with whether each address has code", async () => {
      const d = await ballastFixture();
      const { result, output } = await runTask<PrintResult>("deployments:print", { json: false });
      const names = result.records.map((r) => r.name);
      expect(names).to.include.members([...BALLAST, ...Object.values(MARKET), ...ASSETS.map(tokenName)]);
      expect(result.records.every((r) => r.code)).to.equal(true);
      expect(result.records.find((r) => r.name === NAMES.factory)?.contract).to.equal(
        "contracts/vault/VaultFactory.sol:VaultFactory",
      );
      expect(output).to.match(/contracts recorded on hardhat \(chain 31337\)/);
      // The book the tasks read, as script 07 wrote it: every entry recorded and live.
      expect(result.book?.file).to.equal(d.book);
      expect(result.book?.entries.every((e) => e.code && e.recorded)).to.equal(true);
      expect(output).to.include(`Address book the tasks use: ${d.book}`);
    });

    it("flags a record whose address has no code and says how to start over", async () => {
      await ballastFixture();
      const lens = await hre.deployments.get(NAMES.lens);
      const empty = Wallet.createRandom().address;
      await hre.deployments.save(NAMES.lens, { ...lens, address: empty });
      const { result, output } = await runTask<PrintResult>("deployments:print", { json: false });
      expect(result.records.filter((r) => !r.code).map((r) => [r.name, r.address])).to.deep.equal([
        [NAMES.lens, empty],
      ]);
      expect(output).to.include("1 records have no code on chain (a restarted node?): run `npx hardhat deploy");
      await hre.deployments.save(NAMES.lens, lens);
    });

    it("--json prints the same records as JSON", async () => {
      await ballastFixture();
      const { result, output } = await runTask<PrintResult>("deployments:print", { json: true });
      const printed = JSON.parse(output) as { network: string; records: { name: string; address: string }[] };
      expect(printed.network).to.equal("hardhat");
      expect(printed.records.map((d) => [d.name, d.address])).to.deep.equal(
        result.records.map((r) => [r.name, r.address]),
      );
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

  it("with nothing recorded, verify says to deploy first and print still shows the book the tasks use", async () => {
    const d = await ballastFixture();
    // A tag no script carries: the records are cleared and nothing is deployed; the book stays (local:deploy's case).
    await hre.deployments.run(["NoSuchTag"], { resetMemory: true, writeDeploymentsToFiles: false });
    await expectTaskError(
      "deployments:verify",
      { dryRun: true },
      /Nothing is recorded on hardhat: run `npx hardhat deploy/,
    );
    const { result, output } = await runTask<PrintResult>("deployments:print", { json: false });
    expect(result.records).to.deep.equal([]);
    expect(result.book?.file).to.equal(d.book);
    expect(result.book?.entries.every((e) => e.code && !e.recorded)).to.equal(true);
    expect(output).to.include("0 contracts recorded on hardhat");
  });

  it("with nothing recorded and no book, print says to deploy first", async () => {
    await hre.deployments.run(["NoSuchTag"], { resetMemory: true, writeDeploymentsToFiles: false });
    const saved = process.env.BALLAST_ADDRESS_BOOK;
    process.env.BALLAST_ADDRESS_BOOK = `${saved ?? "/tmp"}.missing.json`;
    try {
      await expectTaskError(
        "deployments:print",
        { json: false },
        /Nothing is recorded on hardhat: run `npx hardhat deploy/,
      );
    } finally {
      if (saved === undefined) delete process.env.BALLAST_ADDRESS_BOOK;
      else process.env.BALLAST_ADDRESS_BOOK = saved;
    }
  });
});
