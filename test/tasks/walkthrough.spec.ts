import { takeSnapshot, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fs from "node:fs";
import hre from "hardhat";

import { readDeployment, type BallastDeployment } from "../../lib/deployments";
import type { PriceResult } from "../../tasks/market/price";
import type { PassSummary } from "../../tasks/keeper/types";
import type { VaultStatus } from "../../tasks/shared/vault";
import { useTemporaryAddressBook } from "../shared/deployment";
import { expectTaskError, runTask, tmpFile } from "./helpers";

/**
 * The README's keeper walkthrough ("The keeper bot", "Try it on a node"), task by task with the same arguments. The
 * in-process hardhat network stands in for the node; the node's own start (the deploy scripts) is the first `deploy`.
 * Keep the steps here and the README's commands in sync.
 */
describe("the local walkthrough (README)", () => {
  let book: string;
  let restoreBook: () => void;
  let snapshot: SnapshotRestorer;

  before(async () => {
    // A second Ballast on the shared chain: undone afterwards so other suites' fixtures do not see it.
    snapshot = await takeSnapshot();
    ({ book, restore: restoreBook } = useTemporaryAddressBook());
    // A node starts with no deployment: forget what earlier suites' deploy fixtures recorded in this process, so the
    // first `deploy` deploys afresh at the chain's current time (a reused market's feeds may be past their heartbeat).
    await hre.deployments.run(["NoSuchTag"], { resetMemory: true, writeDeploymentsToFiles: false });
  });
  after(async () => {
    restoreBook();
    await snapshot.restore();
    // The restore removed the contracts hardhat-deploy recorded here: forget the records too, so that a later suite's
    // deploy fixture deploys afresh instead of reusing addresses with no code.
    await hre.deployments.run(["NoSuchTag"], { resetMemory: true, writeDeploymentsToFiles: false });
  });

  it("node, deploy, fund, open, market:price, keeper:run --once twice, status: the vault is back in band", async () => {
    // `npx hardhat node` runs the deploy scripts, which write the address book.
    await runTask("deploy", { noCompile: true });
    const first = readDeployment("hardhat", book);
    // `npx hardhat deploy --network localhost`: nothing new, the same book.
    const { output: again } = await runTask("deploy", { noCompile: true });
    expect(again).to.not.match(/deploying "VaultFactory"/);
    expect(readDeployment("hardhat", book)).to.deep.equal(first);

    await runTask("local:fund", { token: "WETH", amount: "10", account: 2 });
    await runTask("vault:open", { amount: "10", ownerAccount: 2, approve: true });
    const opened = (await runTask<VaultStatus>("vault:status", { ownerAccount: 2 })).result;
    expect(opened.rebalanceNeeded).to.equal(false);

    const { result: moved, output } = await runTask<PriceResult>("market:price", { asset: "WETH", price: "1600" });
    expect(moved.oldPrice).to.equal(2_000n * 10n ** 8n);
    expect(moved.newPrice).to.equal(1_600n * 10n ** 8n);
    expect(moved.waited).to.be.greaterThan(0);
    expect(moved.guard.map((g) => [g.pair, g.deleverage, g.leverage])).to.deep.equal([["WETH/USDC", 0, 0]]);
    expect(output).to.contain("WETH oracle price: 2,000.00 → 1,600.00 USD");
    expect(output).to.contain("price guard WETH/USDC: deleverage accepted now, leverage accepted now");
    const crashed = (await runTask<VaultStatus>("vault:status", { ownerAccount: 2 })).result;
    expect(crashed.rebalanceNeeded).to.equal(true);
    expect(crashed.healthFactor < crashed.policy.minHF).to.equal(true);

    // The first pass kicks the auction; the second executes it.
    const kick = (await runTask<PassSummary>("keeper:run", { once: true, account: 9 })).result;
    expect(kick.kicked).to.deep.equal([opened.vault]);
    const pass = (await runTask<PassSummary>("keeper:run", { once: true, account: 9 })).result;
    expect(pass.executed.map((e) => e.vault)).to.deep.equal([opened.vault]);

    const after = (await runTask<VaultStatus>("vault:status", { ownerAccount: 2 })).result;
    expect(after.rebalanceNeeded).to.equal(false);
    expect(after.healthFactor >= after.policy.minHF && after.healthFactor <= after.policy.maxHF).to.equal(true);
  });

  it("deployments:print shows the book the tasks use", async () => {
    const { result } = await runTask<{ book?: { file: string; entries: { name: string; address: string }[] } }>(
      "deployments:print",
      { json: false },
    );
    expect(result.book?.file).to.equal(book);
    const factory = result.book?.entries.find((e) => e.name === "factory")?.address;
    expect(factory).to.equal(readDeployment("hardhat", book).contracts.factory);
  });

  it("local:deploy and deploy refuse to replace a live book that is not theirs", async () => {
    await expectTaskError("local:deploy", {}, /already names a live Ballast deployment on hardhat .*skip local:deploy/);
    // A second deployment, as local:deploy on a node whose scripts ran: its book in place of the scripts'.
    const other = tmpFile("walkthrough-other.json");
    const { result } = await runTask<{ deployment: BallastDeployment }>("local:deploy", { deployments: other });
    fs.copyFileSync(other, book);
    await expectTaskError(
      "deploy",
      { noCompile: true },
      new RegExp(`names a live Ballast deployment \\(factory ${result.deployment.contracts.factory}.*skip \`deploy\``),
    );
    // The book was left alone.
    expect(readDeployment("hardhat", book).contracts.factory).to.equal(result.deployment.contracts.factory);
  });

  it("market:price: one-line errors for an unknown asset, a bad price and a non-local network", async () => {
    await expectTaskError(
      "market:price",
      { asset: "DOGE", price: "1" },
      /Unknown asset "DOGE" for --asset: use one of WETH, WBTC, USDC/,
    );
    await expectTaskError("market:price", { asset: "WETH", price: "-1" }, /--price must be a positive USD price/);
    const { marketPrice } = await import("../../tasks/market/price");
    const sepolia = Object.create(hre, { network: { value: { ...hre.network, name: "sepolia" } } }) as typeof hre;
    let message = "";
    try {
      await marketPrice(sepolia, { asset: "WETH", price: "1600", noWait: false });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).to.match(/runs on hardhat or localhost only, not on "sepolia"\. Start `npx hardhat node`/);
  });
});
