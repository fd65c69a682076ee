import { expect } from "chai";
import { Wallet } from "ethers";
import hre from "hardhat";
import { execFile } from "node:child_process";

import { PriceGuard__factory } from "../../typechain-types";
import { BUILT_ENV } from "../../tasks/shared/build";
import { explain, TaskError } from "../../tasks/shared/errors";

describe("task errors", () => {
  describe("#explain", () => {
    it("names the remedy for a price source without rounds (PriceGuardNoRoundData)", () => {
      const [asset, source] = [Wallet.createRandom().address, Wallet.createRandom().address];
      const data = PriceGuard__factory.createInterface().encodeErrorResult("PriceGuardNoRoundData", [asset, source]);
      const error = explain("vault:open", { data });
      expect(error).to.be.instanceOf(TaskError);
      expect(error.message).to.equal(
        `vault:open failed: Aave's price source ${source} for ${asset} has no latestRoundData (an adapter): ` +
          "governance must set the Chainlink feed behind it with PriceGuard.setFreshnessFeed (lib/deploy/config, " +
          "then `npx hardhat deploy`)",
      );
    });
  });

  describe("on the command line", function () {
    // Each case starts Hardhat in a child process: a few seconds each.
    this.timeout(60_000);

    /** `hardhat <args>` as CI runs it (`CI=true`), without the compile step the tasks start with. */
    function hardhat(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const cli = require.resolve("hardhat/internal/cli/bootstrap");
      return new Promise((resolve, reject) => {
        execFile(
          process.execPath,
          [cli, ...args],
          { cwd: hre.config.paths.root, env: { ...process.env, CI: "true", [BUILT_ENV]: "1" } },
          (error, stdout, stderr) => {
            if (error !== null && typeof error.code !== "number") reject(error);
            else resolve({ code: error === null ? 0 : (error.code as number), stdout, stderr });
          },
        );
      });
    }

    const BAD_FORMAT = '--log-format must be one of json, pretty, got "xml"';

    it("prints a task's error as its message alone, no stack, and exits with 1, even on CI", async () => {
      const run = await hardhat("keeper:run", "--log-format", "xml");
      expect(run.code).to.equal(1);
      expect(run.stderr).to.equal(`${BAD_FORMAT}\n`);
      expect(run.stdout).to.equal("");
    });

    it("prints the stack as well with --verbose", async () => {
      const run = await hardhat("--verbose", "keeper:run", "--log-format", "xml");
      expect(run.code).to.equal(1);
      expect(run.stderr).to.include(`TaskError: ${BAD_FORMAT}\n    at `);
    });
  });
});
