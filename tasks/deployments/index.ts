import { TASK_NODE } from "hardhat/builtin-tasks/task-names";
import { task, types } from "hardhat/config";

import type { PrintArgs } from "./print";
import type { VerifyArgs } from "./verify";
import { ensureBuilt } from "../shared/build";

task("deployments:print", "Lists the contracts the deploy scripts recorded on this network (hardhat-deploy records)")
  .addFlag("json", "Print JSON (name, address, constructor arguments, code present) instead of a table")
  .setAction(async (args: PrintArgs, hre) => {
    await ensureBuilt(hre);
    const { printDeployments } = await import("./print");
    return printDeployments(hre, args);
  });

task(
  "deployments:verify",
  "Verifies every recorded Ballast contract on Etherscan (hardhat-verify) with its recorded constructor arguments",
)
  .addOptionalParam("only", "Verify this recorded contract only, e.g. VaultFactory", undefined, types.string)
  .addFlag("dryRun", "Print what would be verified (contract, address, arguments) and verify nothing")
  .setAction(async (args: VerifyArgs, hre) => {
    await ensureBuilt(hre);
    const { verifyDeployments } = await import("./verify");
    return verifyDeployments(hre, args);
  });

// Refused before any script runs when the book names a live deployment the scripts would replace (script 07 checks
// again). With --reset the scripts deploy afresh, so they know no factory.
task("deploy").setAction(async (args: { reset?: boolean }, hre, runSuper) => {
  await ensureBuilt(hre);
  const { addressBookConflict, NAMES } = await import("../../lib/deploy");
  const { TaskError } = await import("../shared/errors");
  const recorded = args.reset === true ? undefined : await hre.deployments.getOrNull(NAMES.factory);
  const conflict = await addressBookConflict(hre, recorded?.address);
  if (conflict !== undefined) throw new TaskError(conflict);
  return runSuper(args);
});

// hardhat-deploy's node runs the deploy scripts on the in-process network and records them as localhost's; the address
// book (script 07) follows it.
task(TASK_NODE).setAction(async (args, _hre, runSuper) => {
  process.env.BALLAST_NODE = "1";
  return runSuper(args);
});
