/**
 * A task's user error: one line that says what went wrong and what to do. A `HardhatPluginError`, so that Hardhat
 * tells it from a bug; on the command line it prints as its message alone (cli.ts). Kept apart from errors.ts, which
 * needs the typechain bindings, so that the task registry can use it before the first compile.
 */
import { HardhatPluginError } from "hardhat/plugins";

const PLUGIN_NAME = "ballast";

export class TaskError extends HardhatPluginError {
  constructor(message: string, parent?: Error) {
    super(PLUGIN_NAME, message, parent);
    // HardhatPluginError resets the prototype to its own; restore ours so `instanceof TaskError` holds.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
