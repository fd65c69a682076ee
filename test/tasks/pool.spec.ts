import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { parseUnits } from "ethers";

import { BallastPool__factory, BallastVault__factory } from "../../typechain-types";
import type { CreateResult, DepositResult, PoolStatus, RedeemResult } from "../../tasks/pool/pool";
import { ORACLE_BASE_CURRENCY_UNIT } from "../../lib/market";
import { DEFAULT_POLICY } from "../../lib/protocol";
import { movePrice } from "../shared/vault";
import { ALICE, expectNear, expectTaskError, runTask, tasksFixture, type TasksFixture } from "./helpers";

const TEN = parseUnits("10", 18);

interface PoolTasksFixture extends TasksFixture {
  pool: string;
}

/** A pool created by `pool:create` (signer 0 its governance), and 10 WETH funded to alice. */
async function createdFixture(): Promise<PoolTasksFixture> {
  const f = await tasksFixture();
  const { result } = await runTask<CreateResult>("pool:create", { deployments: f.book });
  await f.world.fund("WETH", f.alice.address, TEN);
  return { ...f, pool: result.pool };
}

describe("pool tasks", () => {
  it("pool:create deploys a pool whose position is a factory vault it owns", async () => {
    const f = await loadFixture(createdFixture);
    const pool = BallastPool__factory.connect(f.pool, f.alice);
    const vault = await pool.VAULT();
    expect(await f.factory.isVault(vault)).to.equal(true);
    expect(await BallastVault__factory.connect(vault, f.alice).owner()).to.equal(f.pool);
    expect(await pool.asset()).to.equal(await f.tokens.erc20.WETH.getAddress());
  });

  it("pool:deposit with --approve mints shares and levers the first deposit; pool:status shows the holder", async () => {
    const f = await loadFixture(createdFixture);
    const { result, output } = await runTask<DepositResult>("pool:deposit", {
      pool: f.pool,
      amount: "10",
      approve: true,
      account: ALICE,
      deployments: f.book,
    });
    expect(result.levered).to.equal(true);
    expect(result.shares).to.equal(await BallastPool__factory.connect(f.pool, f.alice).balanceOf(f.alice));
    expectNear(result.status.healthFactor, BigInt(DEFAULT_POLICY.targetHF), parseUnits("0.02", 18), "HF after lever");
    expect(output).to.contain("lever: open the position");
    const status = await runTask<PoolStatus>("pool:status", {
      pool: f.pool,
      holder: f.alice.address,
      deployments: f.book,
    });
    expect(status.result.holder?.shares).to.equal(result.shares);
    expect(status.output).to.contain("worth at least");
  });

  it("pool:redeem --all returns at least the preview and burns every share", async () => {
    const f = await loadFixture(createdFixture);
    await runTask("pool:deposit", { pool: f.pool, amount: "10", approve: true, account: ALICE, deployments: f.book });
    const { result } = await runTask<RedeemResult>("pool:redeem", {
      pool: f.pool,
      all: true,
      account: ALICE,
      deployments: f.book,
    });
    expect(result.assets).to.be.gte(result.preview);
    expect(result.assets).to.be.gt((TEN * 98n) / 100n);
    expect(await f.tokens.erc20.WETH.balanceOf(f.alice)).to.equal(result.assets);
    expect(result.status.holder?.shares).to.equal(0n);
  });

  it("refuses with the next step: no approval, no exit under minHF, not a pool, neither --shares nor --all", async () => {
    const f = await loadFixture(createdFixture);
    await expectTaskError(
      "pool:deposit",
      { pool: f.pool, amount: "1", account: ALICE, deployments: f.book },
      /pass --approve/,
    );
    await runTask("pool:deposit", { pool: f.pool, amount: "10", approve: true, account: ALICE, deployments: f.book });
    await movePrice(f, "WETH", 1_600n * ORACLE_BASE_CURRENCY_UNIT);
    await expectTaskError(
      "pool:redeem",
      { pool: f.pool, all: true, account: ALICE, deployments: f.book },
      /under its minHF/,
    );
    await expectTaskError("pool:redeem", { pool: f.pool, account: ALICE, deployments: f.book }, /--all/);
    await expectTaskError(
      "pool:status",
      { pool: await f.factory.getAddress(), deployments: f.book },
      /is not a BallastPool/,
    );
  });
});
