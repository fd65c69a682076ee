/**
 * A task's user error (`TaskError`, and what `explain` wraps) is one line on the command line, on every machine.
 * Hardhat's CLI prints a `HardhatPluginError` with a banner and a hint line, and on a machine it takes for CI (the `CI`
 * variable, or Linux without a display) with the whole stack as well. So the task the command line names is wrapped
 * here: a `TaskError` that reaches it is printed as its message alone on stderr and the process exits with code 1.
 * Hardhat's `--verbose` or `--show-stack-traces` print the error with its stack instead. Any other error (a bug) goes
 * on to Hardhat, which prints it with its stack. Tasks run in-process (`hre.run`, the tests) are not wrapped: their
 * callers still get the error thrown.
 */
import { task } from "hardhat/config";
import { ArgumentsParser } from "hardhat/internal/cli/ArgumentsParser";
import { HardhatContext } from "hardhat/internal/context";
import { getEnvHardhatArguments } from "hardhat/internal/core/params/env-variables";
import { HARDHAT_PARAM_DEFINITIONS } from "hardhat/internal/core/params/hardhat-params";
import path from "node:path";

import { TaskError } from "./task-error";

/** The task named on Hardhat's command line, as Hardhat's CLI parses it; undefined outside the CLI. */
function commandLineTask(): string | undefined {
  // `npx hardhat` starts at bootstrap.js, `node …/cli.js` at cli.js: both beside the CLI.
  const cliDir = path.dirname(require.resolve("hardhat/internal/cli/cli"));
  if (require.main === undefined || path.dirname(require.main.filename) !== cliDir) return undefined;
  try {
    const env = getEnvHardhatArguments(HARDHAT_PARAM_DEFINITIONS, process.env);
    const parsed = new ArgumentsParser().parseHardhatArguments(HARDHAT_PARAM_DEFINITIONS, env, process.argv.slice(2));
    return parsed.scopeOrTaskName;
  } catch {
    // A malformed command line: Hardhat's CLI reports it itself.
    return undefined;
  }
}

/** Called once, after every task is registered (tasks/index.ts). */
export function printTaskErrorsOnOneLine(): void {
  const name = commandLineTask();
  // A scope (`ignition deploy`) or an unknown name: Hardhat reports it; nothing of ours runs.
  if (
    name === undefined ||
    HardhatContext.getHardhatContext().tasksDSL.getTaskDefinition(undefined, name) === undefined
  ) {
    return;
  }
  task(name).setAction(async (args, hre, runSuper) => {
    try {
      return await runSuper(args);
    } catch (e) {
      if (!(e instanceof TaskError)) throw e;
      const { verbose, showStackTraces } = hre.hardhatArguments;
      console.error(verbose || showStackTraces ? e : e.message);
      // Hardhat's CLI exits with this code once the task returns.
      process.exitCode = 1;
      return undefined;
    }
  });
}
