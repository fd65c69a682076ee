/**
 * Every task action imports code that needs the typechain bindings and the artifacts, which a fresh clone does not
 * have. Each action therefore compiles first: a no-op when nothing changed, and on a fresh clone it builds the
 * contracts and the bindings before the action's lazy import needs them.
 */
import fs from "node:fs";
import path from "node:path";

import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

/**
 * Set by a parent task for the worker processes it starts after building: the workers skip the compile, since two
 * compiles at once rewrite the same bindings and staged artifacts under each other.
 */
export const BUILT_ENV = "BALLAST_ALREADY_BUILT";

export async function ensureBuilt(hre: HardhatRuntimeEnvironment): Promise<void> {
  if (process.env[BUILT_ENV] === "1") return;
  const bindings = path.join(hre.config.paths.root, "typechain-types", "index.ts");
  if (!fs.existsSync(bindings)) {
    console.error("First run: compiling the contracts and generating the typechain bindings (about a minute)…");
  }
  await hre.run(TASK_COMPILE, { quiet: true });
}
