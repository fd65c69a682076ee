import { expect } from "chai";
import { getAddress, Wallet, ZeroAddress } from "ethers";
import hre from "hardhat";

import {
  ASSETS,
  checkGovernance,
  configFor,
  LOCAL,
  MAINNET,
  MARKET,
  NAMES,
  SCRIPT_TAGS,
  TAGS,
  tokenName,
} from "../../lib/deploy";
import { configureProtocol } from "../../lib/deploy/configure";
import { applyChanges, freshnessChanges, sameStruct, type AssetSetting } from "../../lib/deploy/wiring";
import { readDeployment } from "../../lib/deployments";
import { BallastVault__factory, IUniswapV3Factory__factory } from "../../typechain-types";
import { ballastFixture, deployedBallast, useTemporaryAddressBook } from "../shared/deployment";

const MARKET_NAMES = [...Object.values(MARKET), ...ASSETS.map(tokenName)];
const CORE = [
  NAMES.priceGuard,
  NAMES.executor,
  NAMES.forwarder,
  NAMES.planner,
  NAMES.collateralLogic,
  NAMES.factory,
  NAMES.auction,
];
const ALL = [...CORE, NAMES.lens];

/** What each tag records beyond the local market, its dependencies included. */
const EXPECTED: Record<string, readonly string[]> = {
  [TAGS.localMarket]: [],
  [TAGS.priceGuard]: [NAMES.priceGuard],
  [TAGS.executor]: [NAMES.executor],
  [TAGS.forwarder]: [NAMES.forwarder],
  [TAGS.factory]: CORE,
  [TAGS.configure]: CORE,
  [TAGS.lens]: [NAMES.lens],
  [TAGS.addressBook]: ALL,
  [TAGS.all]: ALL,
};

async function nonces(): Promise<number[]> {
  const { deployer, governance } = await hre.getNamedAccounts();
  return Promise.all([deployer, governance].map((a) => hre.ethers.provider.getTransactionCount(a)));
}

/** Runs every script again on the current chain and records, as `npx hardhat deploy` does on a live network. */
async function rerun(): Promise<void> {
  await hre.deployments.run([TAGS.all], {
    resetMemory: false,
    deletePreviousDeployments: false,
    writeDeploymentsToFiles: false,
  });
}

describe("deploy scripts", () => {
  let restore: () => void;
  before(() => ({ restore } = useTemporaryAddressBook()));
  after(() => restore());

  describe("tags", () => {
    it("every tag is listed", () => {
      expect([...SCRIPT_TAGS].sort()).to.deep.equal(Object.keys(EXPECTED).sort());
    });

    for (const tag of Object.keys(EXPECTED)) {
      it(`${tag} deploys alone, with its dependencies`, async () => {
        // The local market once (snapshot), then this tag's scripts on it.
        await hre.deployments.fixture([TAGS.localMarket], { fallbackToGlobal: false });
        await hre.deployments.run([tag], {
          resetMemory: false,
          deletePreviousDeployments: false,
          writeDeploymentsToFiles: false,
        });
        const recorded = Object.keys(await hre.deployments.all());
        expect(recorded.filter((n) => !MARKET_NAMES.includes(n)).sort()).to.deep.equal([...EXPECTED[tag]].sort());
        expect(recorded).to.include.members(MARKET_NAMES);
        for (const name of recorded) {
          expect(await hre.ethers.provider.getCode((await hre.deployments.get(name)).address)).to.not.equal("0x");
        }
        if (EXPECTED[tag].includes(NAMES.lens) && EXPECTED[tag].includes(NAMES.factory)) {
          // Script 07 ran: the book names this run's contracts.
          const book = readDeployment(hre.network.name, process.env.BALLAST_ADDRESS_BOOK);
          expect(book.contracts.factory).to.equal((await hre.deployments.get(NAMES.factory)).address);
          expect(book.contracts.lens).to.equal((await hre.deployments.get(NAMES.lens)).address);
        }
      });
    }
  });

  describe("wiring", () => {
    it("the factory, the vault implementation and the auction trust the recorded contracts", async () => {
      const d = await ballastFixture();
      const forwarder = await d.forwarder.getAddress();
      expect(await d.factory.trustedForwarder()).to.equal(forwarder);
      expect(await d.factory.EXECUTOR()).to.equal(await d.executor.getAddress());
      expect(await d.factory.PRICE_GUARD()).to.equal(await d.priceGuard.getAddress());
      expect(await d.factory.AUCTION()).to.equal(await d.auction.getAddress());
      expect(await d.factory.POOL()).to.equal(d.external.pool);
      expect(await d.auction.FACTORY()).to.equal(await d.factory.getAddress());
      const implementation = BallastVault__factory.connect(await d.factory.VAULT_IMPLEMENTATION(), hre.ethers.provider);
      expect(await implementation.trustedForwarder()).to.equal(forwarder);
      expect(await implementation.EXECUTOR()).to.equal(await d.executor.getAddress());
      expect(await implementation.AUCTION()).to.equal(await d.auction.getAddress());
      expect(await d.executor.ADDRESSES_PROVIDER()).to.equal(d.external.addressesProvider);
      expect(await d.executor.POOL()).to.equal(d.external.pool);
      expect(await d.executor.ROUTER()).to.equal(d.external.router);
      expect(await d.priceGuard.ORACLE()).to.equal(d.external.oracle);
      expect(await d.priceGuard.UNISWAP_FACTORY()).to.equal(d.external.uniswapFactory);
      // Where keepers start scanning for vaults (not block 0, which on a fork would mean millions of blocks).
      const receipt = await hre.ethers.provider.getTransactionReceipt(
        (await hre.deployments.get(NAMES.factory)).transactionHash ?? "",
      );
      expect(d.factoryBlock).to.equal(receipt?.blockNumber);
    });

    it("roles: governance owns the price guard and the factory (so the auction), the guardian is set", async () => {
      const d = await ballastFixture();
      const { governance, guardian } = await hre.getNamedAccounts();
      expect(await d.priceGuard.owner()).to.equal(governance);
      expect(await d.factory.owner()).to.equal(governance);
      expect(await d.factory.guardian()).to.equal(guardian);
      expect(guardian).to.not.equal(governance);
    });

    it("the parameters equal the network's configuration", async () => {
      const d = await ballastFixture();
      const { params, assets } = configFor(hre.network.name);
      expect(await d.priceGuard.twapWindow()).to.equal(BigInt(params.twapWindow));
      expect(await d.priceGuard.maxDeviationBps()).to.equal(BigInt(params.maxTwapDeviationBps));
      expect(await d.priceGuard.deleverageWindow()).to.equal(BigInt(params.deleverageTwapWindow));
      for (const symbol of ASSETS) {
        expect(await d.priceGuard.heartbeat(d.external.tokens[symbol])).to.equal(BigInt(assets[symbol].heartbeat));
        expect(await d.priceGuard.freshnessFeed(d.external.tokens[symbol])).to.equal(
          assets[symbol].freshnessFeed ?? ZeroAddress,
        );
      }
      expect(sameStruct(await d.factory.policyBounds(), params.bounds)).to.equal(true);
      expect(sameStruct(await d.auction.config(), params.auction)).to.equal(true);
      const uniswap = IUniswapV3Factory__factory.connect(d.external.uniswapFactory, hre.ethers.provider);
      for (const [collateral, debt, fee] of params.pairs) {
        const [c, t] = [d.external.tokens[collateral], d.external.tokens[debt]];
        expect(await d.factory.isPairAllowed(c, t)).to.equal(true);
        const pool = await uniswap.getPool(c, t, fee);
        expect(pool).to.not.equal(ZeroAddress);
        expect(await d.priceGuard.referencePool(c, t)).to.equal(pool);
      }
      for (const [tokenA, tokenB, fee] of params.routes) {
        const [a, b] = [d.external.tokens[tokenA], d.external.tokens[tokenB]];
        expect(await d.priceGuard.routeAllowed(a, b, fee)).to.equal(true);
        expect(await d.priceGuard.routeAllowed(b, a, fee)).to.equal(true);
      }
      // Only the configured routes: the 1% WETH/USDC tier is not one.
      expect(await d.priceGuard.routeAllowed(d.external.tokens.WETH, d.external.tokens.USDC, 10_000)).to.equal(false);
      // Only the configured pairs: the reverse direction is not allowed.
      expect(await d.factory.isPairAllowed(d.external.tokens.USDC, d.external.tokens.WETH)).to.equal(false);
    });

    it("the address book lists the recorded contracts, and the tasks can read it", async () => {
      const d = await ballastFixture();
      const book = readDeployment(hre.network.name, d.book);
      const chainId = (await hre.ethers.provider.getNetwork()).chainId;
      expect(book.chainId).to.equal(Number(chainId));
      const at = async (name: string) => (await hre.deployments.get(name)).address;
      expect(book.contracts).to.deep.equal({
        factory: await at(NAMES.factory),
        forwarder: await at(NAMES.forwarder),
        priceGuard: await at(NAMES.priceGuard),
        executor: await at(NAMES.executor),
        pool: d.external.pool,
        router: d.external.router,
        quoter: d.external.quoter,
        lens: await at(NAMES.lens),
        auction: await at(NAMES.auction),
        tokens: d.external.tokens,
      });
    });

    it("records the auction, deployed just before the factory and naming it, with its constructor arguments", async () => {
      const d = await ballastFixture();
      const record = await hre.deployments.get(NAMES.auction);
      expect(record.args?.[0]).to.equal(await d.factory.getAddress());
      expect(sameStruct(await d.auction.config(), record.args?.[1] as object)).to.equal(true);
      expect(record.abi.some((f) => f.type === "function" && f.name === "kick")).to.equal(true);
      const factory = await hre.deployments.get(NAMES.factory);
      expect(factory.args).to.have.length(8);
      expect(factory.args?.[3]).to.equal(await d.forwarder.getAddress());
    });
  });

  describe("a second run", () => {
    it("deploys nothing and sends no transaction", async () => {
      await ballastFixture();
      const before = { nonces: await nonces(), block: await hre.ethers.provider.getBlockNumber() };
      const records = await hre.deployments.all();
      await rerun();
      expect(await nonces()).to.deep.equal(before.nonces);
      expect(await hre.ethers.provider.getBlockNumber()).to.equal(before.block);
      const after = await hre.deployments.all();
      for (const name of ALL) expect(after[name].address).to.equal(records[name].address);
    });

    it("sends only the settings that drifted from the configuration", async () => {
      const d = await ballastFixture();
      const governance = await hre.ethers.getSigner((await hre.getNamedAccounts()).governance);
      const { WETH, USDC } = d.external.tokens;
      await (await d.priceGuard.connect(governance).setHeartbeat(WETH, 120)).wait();
      await (await d.factory.connect(governance).setPair(WETH, USDC, false)).wait();
      await (await d.priceGuard.connect(governance).setFreshnessFeed(USDC, governance.address)).wait();
      const before = await nonces();
      await rerun();
      const after = await nonces();
      // governance is the deployer here: three transactions, nothing redeployed.
      expect(after.map((n, i) => n - before[i])).to.deep.equal([3, 3]);
      expect(await d.priceGuard.heartbeat(WETH)).to.equal(BigInt(LOCAL.assets.WETH.heartbeat));
      // The local configuration has no freshness feed: the drifted one is cleared.
      expect(await d.priceGuard.freshnessFeed(USDC)).to.equal(ZeroAddress);
      expect(await d.factory.isPairAllowed(WETH, USDC)).to.equal(true);
      expect((await deployedBallast()).factory.target).to.equal(d.factory.target);
    });
  });

  describe("freshness feeds (BAL-04)", () => {
    it("a configured feed is one setFreshnessFeed, and then nothing", async () => {
      const d = await ballastFixture();
      const governance = await hre.ethers.getSigner((await hre.getNamedAccounts()).governance);
      const feed = d.external.tokens.WETH;
      const wanted: AssetSetting[] = [
        {
          symbol: "USDC",
          address: d.external.tokens.USDC,
          heartbeat: LOCAL.assets.USDC.heartbeat,
          freshnessFeed: feed,
        },
      ];
      const changes = await freshnessChanges(d.priceGuard, wanted);
      expect(changes.map((c) => c.label)).to.deep.equal([`PriceGuard.setFreshnessFeed(USDC, ${feed})`]);
      expect(await applyChanges(changes, governance)).to.equal(1);
      expect(await d.priceGuard.freshnessFeed(d.external.tokens.USDC)).to.equal(feed);
      expect(await freshnessChanges(d.priceGuard, wanted)).to.deep.equal([]);
    });

    it("mainnet checks the aggregators behind Aave's round-less USDC and WBTC adapters", () => {
      expect(MAINNET.assets.USDC.freshnessFeed).to.equal(getAddress(MAINNET.assets.USDC.freshnessFeed ?? ""));
      expect(MAINNET.assets.WBTC.freshnessFeed).to.equal(getAddress(MAINNET.assets.WBTC.freshnessFeed ?? ""));
      expect(MAINNET.assets.WETH.freshnessFeed).to.equal(undefined);
    });
  });

  describe("configure, with a governance that is not an account here (a multisig)", () => {
    it("sends nothing and returns the calls for governance to send", async () => {
      const d = await ballastFixture();
      const { governance, guardian } = await hre.getNamedAccounts();
      await (
        await d.priceGuard.connect(await hre.ethers.getSigner(governance)).setHeartbeat(d.external.tokens.WBTC, 120)
      ).wait();
      const before = await nonces();
      const multisig = Wallet.createRandom().address;
      const lines: string[] = [];
      const result = await configureProtocol(hre, multisig, guardian, (line) => lines.push(line));
      expect(await nonces()).to.deep.equal(before);
      expect(result.sent).to.deep.equal([]);
      expect(result.pending.map((c) => [c.label, c.to])).to.deep.equal([
        [`PriceGuard.setHeartbeat(WBTC, ${LOCAL.assets.WBTC.heartbeat})`, await d.priceGuard.getAddress()],
      ]);
      expect(result.pending[0].data).to.equal(
        d.priceGuard.interface.encodeFunctionData("setHeartbeat", [
          d.external.tokens.WBTC,
          LOCAL.assets.WBTC.heartbeat,
        ]),
      );
      expect(lines[0]).to.equal(
        `configuration: governance ${multisig} is not an account of this network; it must send:`,
      );
      expect(await d.priceGuard.heartbeat(d.external.tokens.WBTC)).to.equal(120n);
    });
  });

  describe("the factory's immutable links", () => {
    it("a factory whose executor is not the recorded one is refused, saying what to do", async () => {
      const d = await ballastFixture();
      const executor = await hre.deployments.get(NAMES.executor);
      // The executor's record now names another contract with the same code: script 02 reuses it, 04 must not.
      const other = await hre.deployments.deploy("OtherExecutor", {
        contract: "RebalanceExecutor",
        from: (await hre.getNamedAccounts()).deployer,
        args: executor.args,
      });
      await hre.deployments.save(NAMES.executor, { ...executor, address: other.address });
      await expect(rerun()).to.be.rejectedWith(
        `The recorded VaultFactory ${await d.factory.getAddress()} has EXECUTOR ${executor.address}, not the ` +
          `recorded ${other.address}. Its links are immutable: delete deployments/hardhat/VaultFactory.json`,
      );
    });
  });

  describe("configuration", () => {
    it("hardhat and localhost deploy the local market; mainnet does not", () => {
      expect(configFor("hardhat")).to.equal(LOCAL);
      expect(configFor("localhost")).to.equal(LOCAL);
      expect(configFor("mainnet")).to.equal(MAINNET);
      expect(MAINNET.localMarket).to.equal(false);
      for (const symbol of ASSETS) expect(MAINNET.assets[symbol].address).to.match(/^0x[0-9a-fA-F]{40}$/);
    });

    it("on a live network, governance may not be the deployer", () => {
      const [deployer, multisig] = [Wallet.createRandom().address, Wallet.createRandom().address];
      expect(() => checkGovernance({ name: "mainnet", live: true }, deployer, deployer.toLowerCase())).to.throw(
        `On mainnet governance would be the deployer ${deployer}: set BALLAST_GOVERNANCE`,
      );
      expect(() => checkGovernance({ name: "mainnet", live: true }, deployer, multisig)).to.not.throw();
      expect(() => checkGovernance(hre.network, deployer, deployer)).to.not.throw();
      expect(hre.network.live).to.equal(false);
    });

    it("an unknown network is refused, naming the supported ones", () => {
      expect(() => configFor("sepolia")).to.throw(
        'No Ballast configuration for network "sepolia"; supported: hardhat, localhost, mainnet',
      );
    });
  });
});
