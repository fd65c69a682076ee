import { mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import hre from "hardhat";

import { isMainnetFork, MAINNET, MAINNET_FORK_BLOCK, MARKET, NAMES } from "../../lib/deploy";
import { ballastFixture, useTemporaryAddressBook } from "../shared/deployment";
import { vaultLifecycle } from "../shared/lifecycle";

const OWNER = 2;
const KEEPER = 5;

// Run by `npm run test:fork` (BALLAST_FORK=1, MAINNET_RPC_URL): real mainnet Aave V3, Uniswap V3, WETH and USDC.
describe(`mainnet fork at block ${MAINNET_FORK_BLOCK}`, function () {
  let restore: () => void;

  before(async function () {
    if (!isMainnetFork()) this.skip();
    ({ restore } = useTemporaryAddressBook());
    // New blocks continue from the pinned block's time, so the real Chainlink feeds are not stale at the start.
    const pinned = await hre.ethers.provider.getBlock(MAINNET_FORK_BLOCK);
    if (pinned === null) throw new Error(`The RPC returned no block ${MAINNET_FORK_BLOCK}: is it an archive node?`);
    const latest = await time.latest();
    if (latest < pinned.timestamp + 12) {
      await time.setNextBlockTimestamp(pinned.timestamp + 12);
      await mine();
    }
  });
  after(() => restore?.());

  it("the deploy scripts deploy Ballast on mainnet's Aave and Uniswap, with no local market", async () => {
    const d = await ballastFixture();
    expect(await hre.deployments.getOrNull(MARKET.pool)).to.be.oneOf([null, undefined]);
    expect(d.external.addressesProvider).to.equal(MAINNET.external?.addressesProvider);
    expect(d.external.pool).to.equal("0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2");
    expect(await d.factory.isPairAllowed(d.external.tokens.WETH, d.external.tokens.USDC)).to.equal(true);
    expect((await hre.deployments.get(NAMES.auction)).address).to.equal(await d.factory.AUCTION());
  });

  it("a WETH/USDC vault opens, is deleveraged by the keeper auction after an oracle crash, and closes", async () => {
    const d = await ballastFixture();
    await vaultLifecycle(d, (await hre.ethers.getSigners())[OWNER], KEEPER);
  });
});
