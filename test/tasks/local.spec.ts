import { takeSnapshot } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import fs from "node:fs";
import hre from "hardhat";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

import { deploymentPath, readDeployment, writeDeployment, type BallastDeployment } from "../../lib/deployments";
import { localDeploy } from "../../tasks/local/deploy";
import { TaskError } from "../../tasks/shared/errors";
import { expectTaskError, runTask, TMP, tmpFile } from "./helpers";

/** The runtime environment as seen on another network, for the guard that runs before anything is deployed. */
function onNetwork(name: string): HardhatRuntimeEnvironment {
  return Object.create(hre, { network: { value: { ...hre.network, name } } }) as HardhatRuntimeEnvironment;
}

describe("local tasks and the address book", () => {
  describe("local:deploy", () => {
    it("refuses a network other than hardhat and localhost", async () => {
      let error: unknown;
      try {
        await localDeploy(onNetwork("sepolia"), {});
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(TaskError);
      expect((error as Error).message).to.match(/runs on hardhat or localhost only, not on "sepolia"/);
    });

    it("deploys the market and the protocol and writes a book the other tasks can read", async () => {
      // A second market on the shared in-process chain: undo it afterwards so other suites' fixtures do not see it.
      const snapshot = await takeSnapshot();
      try {
        const file = tmpFile("local-deploy.json");
        const { result, output } = await runTask<{ deployment: BallastDeployment; file: string }>("local:deploy", {
          deployments: file,
        });
        expect(result.file).to.equal(file);
        const book = readDeployment("hardhat", file);
        expect(book).to.deep.equal(result.deployment);
        expect(book.chainId).to.equal(31337);
        for (const address of [book.contracts.factory, book.contracts.forwarder, book.contracts.tokens.USDC]) {
          expect(await hre.ethers.provider.getCode(address)).to.not.equal("0x");
        }
        expect(output).to.match(/Deployed on hardhat \(chain 31337\) in [\d.]+s/);
        const { output: refreshed } = await runTask("local:refresh", { deployments: file });
        expect(refreshed).to.contain("WETH feed at 2,000.00 USD");
      } finally {
        await snapshot.restore();
      }
    });
  });

  describe("lib/deployments", () => {
    it("says what to run when a network has no book", () => {
      expect(() => readDeployment("sepolia", undefined, TMP)).to.throw(
        "No Ballast deployment for network sepolia: run `npx hardhat deploy --network sepolia` first (or pass --deployments <file>)",
      );
      expect(deploymentPath("localhost", "/repo")).to.equal("/repo/deployments/localhost.json");
    });

    it("refuses a malformed book, naming the field", () => {
      const file = tmpFile("bad-book.json");
      fs.writeFileSync(file, JSON.stringify({ network: "x", chainId: 1, contracts: { tokens: {} } }));
      expect(() => readDeployment("x", file)).to.throw(/contracts\.tokens\.WETH must be an address/);
      fs.writeFileSync(file, "{");
      expect(() => readDeployment("x", file)).to.throw(/is not valid JSON/);
    });

    it("a book for another chain is refused by the tasks", async () => {
      const file = tmpFile("other-chain.json");
      const address = "0x000000000000000000000000000000000000dEaD";
      const tokens = { WETH: address, WBTC: address, USDC: address };
      writeDeployment(
        {
          network: "hardhat",
          chainId: 1,
          contracts: {
            factory: address,
            forwarder: address,
            priceGuard: address,
            executor: address,
            pool: address,
            router: address,
            quoter: address,
            tokens,
          },
        },
        file,
      );
      await expectTaskError(
        "vault:status",
        { vault: address, deployments: file },
        /is for chain 1 \(hardhat\) but network hardhat is chain 31337/,
      );
    });
  });
});
