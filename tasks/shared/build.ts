/**
 * Every task action imports code that needs the typechain bindings and the artifacts, which a fresh clone does not
 * have. Each action therefore compiles first: a no-op when nothing changed, and on a fresh clone it builds the
 * contracts and the bindings before the action's lazy import needs them.
 */
import fs from "node:fs";
import path from "node:path";

import { TASK_COMPILE } from "hardhat/builtin-tasks/task-names";
import type { HardhatRuntimeEnvironment } from "hardhat/types";

export async function ensureBuilt(hre: HardhatRuntimeEnvironment): Promise<void> {
  const bindings = path.join(hre.config.paths.root, "typechain-types", "index.ts");
  if (!fs.existsSync(bindings)) {
    console.error("First run: compiling the contracts and generating the typechain bindings (about a minute)…");
  }
  await hre.run(TASK_COMPILE, { quiet: true });
}
