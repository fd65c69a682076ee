import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { getAddress, hexlify } from "ethers";
import { ethers } from "hardhat";

import { SwapPathHarness__factory, type SwapPathHarness } from "../../typechain-types";
import { encodePath } from "../../lib/protocol/path";
import { skipUnderCoverage } from "../shared/coverage";

const token = (byte: string): string => getAddress(`0x${byte.repeat(20)}`);
const WETH = token("11");
const USDC = token("22");
const WBTC = token("33");
const DAI = token("44");
const LINK = token("55");

async function harnessFixture(): Promise<SwapPathHarness> {
  const [deployer] = await ethers.getSigners();
  return new SwapPathHarness__factory(deployer).deploy();
}

describe("SwapPath", function () {
  let harness: SwapPathHarness;

  beforeEach(async function () {
    harness = await loadFixture(harnessFixture);
  });

  it("allows at most 3 hops", async function () {
    expect(await harness.maxHops()).to.equal(3n);
  });

  describe("#validate", function () {
    describe("valid paths", function () {
      it("1 hop: returns 1 and its fee", async function () {
        const path = encodePath([WETH, USDC], [500]);
        expect(await harness.validate(path, WETH, USDC)).to.deep.equal([1n, 500n]);
      });

      it("2 hops: returns 2 and the fee sum", async function () {
        const path = encodePath([WETH, WBTC, USDC], [500, 3000]);
        expect(await harness.validate(path, WETH, USDC)).to.deep.equal([2n, 3500n]);
      });

      it("3 hops: returns 3 and the fee sum", async function () {
        const path = encodePath([WETH, WBTC, DAI, USDC], [100, 10_000, 3000]);
        expect(await harness.validate(path, WETH, USDC)).to.deep.equal([3n, 13_100n]);
      });

      for (const fee of [100, 500, 3000, 10_000]) {
        it(`accepts the ${fee} fee tier`, async function () {
          expect(await harness.validate(encodePath([USDC, WETH], [fee]), USDC, WETH)).to.deep.equal([1n, BigInt(fee)]);
        });
      }
    });

    describe("length", function () {
      for (const length of [0, 19, 20, 42, 44, 65, 67]) {
        it(`rejects ${length} bytes`, async function () {
          const path = hexlify(new Uint8Array(length).fill(0x11));
          await expect(harness.validate(path, WETH, USDC))
            .to.be.revertedWithCustomError(harness, "SwapPathInvalidLength")
            .withArgs(length);
        });
      }

      it("rejects 4 hops", async function () {
        const path = encodePath([WETH, WBTC, DAI, LINK, USDC], [500, 500, 500, 500]);
        expect(path.length).to.equal(2 + 2 * 112);
        await expect(harness.validate(path, WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathTooManyHops")
          .withArgs(4n, 3n);
      });

      it("checks the length before the tokens", async function () {
        await expect(harness.validate(`${encodePath([DAI, WBTC], [500])}00`, WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathInvalidLength")
          .withArgs(44n);
      });
    });

    describe("tokens", function () {
      it("rejects a path from another token", async function () {
        const path = encodePath([WBTC, WETH, USDC], [500, 500]);
        await expect(harness.validate(path, WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathWrongTokenIn")
          .withArgs(WETH, WBTC);
      });

      it("rejects a path to another token", async function () {
        const path = encodePath([WETH, USDC, DAI], [500, 100]);
        await expect(harness.validate(path, WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathWrongTokenOut")
          .withArgs(USDC, DAI);
      });

      it("rejects a hop that swaps a token for itself", async function () {
        await expect(harness.validate(encodePath([WETH, WETH], [500]), WETH, WETH))
          .to.be.revertedWithCustomError(harness, "SwapPathRepeatedToken")
          .withArgs(WETH);
        await expect(harness.validate(encodePath([WETH, WBTC, WBTC, USDC], [500, 500, 500]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathRepeatedToken")
          .withArgs(WBTC);
      });

      it("rejects tokenIn in the middle", async function () {
        await expect(harness.validate(encodePath([WETH, WBTC, WETH, USDC], [500, 500, 500]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathRepeatedToken")
          .withArgs(WETH);
      });

      it("rejects tokenOut in the middle", async function () {
        await expect(harness.validate(encodePath([WETH, USDC, WBTC, USDC], [500, 500, 500]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathRepeatedToken")
          .withArgs(USDC);
      });

      it("rejects a round trip (tokenIn == tokenOut)", async function () {
        await expect(harness.validate(encodePath([WETH, USDC, WETH], [500, 500]), WETH, WETH))
          .to.be.revertedWithCustomError(harness, "SwapPathRepeatedToken")
          .withArgs(WETH);
      });
    });

    describe("fees", function () {
      it("rejects fee 1234", async function () {
        await expect(harness.validate(encodePath([WETH, USDC], [1234]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathInvalidFee")
          .withArgs(1234);
      });

      it("rejects fee 0", async function () {
        await expect(harness.validate(encodePath([WETH, USDC], [0]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathInvalidFee")
          .withArgs(0);
      });

      it("rejects an invalid fee in a later hop", async function () {
        await expect(harness.validate(encodePath([WETH, WBTC, DAI, USDC], [500, 3000, 0xffffff]), WETH, USDC))
          .to.be.revertedWithCustomError(harness, "SwapPathInvalidFee")
          .withArgs(0xffffff);
      });
    });

    // Measured with gasleft(), including the calldata-to-memory copy (solc 0.8.28, 10k runs): 1880 for 2 hops.
    it("stays within its gas budget for 2 hops", async function () {
      skipUnderCoverage(this);
      const path = encodePath([WETH, WBTC, USDC], [500, 3000]);
      const [hops, feePips, gasUsed] = await harness.validateGas(path, WETH, USDC);
      expect([hops, feePips]).to.deep.equal([2n, 3500n]);
      expect(gasUsed).to.be.lessThanOrEqual(2_100n);
    });
  });

  describe("#reverse", function () {
    it("runs the same pools the other way, for one to three hops", async function () {
      const cases: [string[], number[]][] = [
        [[WETH, USDC], [500]],
        [
          [WETH, WBTC, USDC],
          [500, 3000],
        ],
        [
          [WETH, WBTC, DAI, USDC],
          [100, 3000, 10_000],
        ],
      ];
      for (const [tokens, fees] of cases) {
        const reversed = await harness.reverse(encodePath(tokens, fees));
        expect(reversed).to.equal(hexlify(encodePath([...tokens].reverse(), [...fees].reverse())));
        expect(await harness.reverse(reversed)).to.equal(hexlify(encodePath(tokens, fees)));
      }
    });
  });
});
