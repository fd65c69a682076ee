// Task modules only register tasks; their actions import the heavy code lazily so that
// `npx hardhat compile` works before typechain-types/ exists.
import "./market";
import "./local";
import "./intent";
import "./vault";
import "./pool";
import "./keeper";
import "./policy";
import "./simulate";
import "./deployments";
import { printTaskErrorsOnOneLine } from "./shared/cli";

// Last: it wraps the task the command line names, which must be registered by then.
printTaskErrorsOnOneLine();
