import { expect } from "chai";
import { Wallet } from "ethers";

import { PriceGuard__factory } from "../../typechain-types";
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
});
