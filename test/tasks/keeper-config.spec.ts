/** `keeper:run --keeper-config`: the file, the `KEEPER_*` environment and the flags, in that order of strength. */
import { expect } from "chai";
import fs from "node:fs";

import { envName, KEEPER_DEFAULTS, readKeeperConfig, resolveKeeperArgs } from "../../tasks/keeper/config";
import { tmpFile } from "./helpers";

function configFile(name: string, content: unknown): string {
  const file = tmpFile(name);
  fs.writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

describe("keeper:run --keeper-config", () => {
  it("names each option's environment variable from its flag", () => {
    expect(envName("maxSpendPerPass")).to.equal("KEEPER_MAX_SPEND_PER_PASS");
    expect(envName("minProfit")).to.equal("KEEPER_MIN_PROFIT");
    expect(envName("once")).to.equal("KEEPER_ONCE");
  });

  it("takes a flag over the environment over the file over the default", () => {
    const config = configFile("keeper.json", {
      pageSize: 30,
      minProfit: 2,
      interval: 7.5,
      noCancel: true,
      lens: "0xab",
    });
    const fromFile = resolveKeeperArgs({ keeperConfig: config }, {});
    expect([fromFile.pageSize, fromFile.minProfit, fromFile.interval, fromFile.noCancel, fromFile.lens]).to.deep.equal([
      30,
      "2",
      7.5,
      true,
      "0xab",
    ]);
    // Options nobody sets keep their defaults, or stay unset.
    expect([fromFile.blockRange, fromFile.batchSize, fromFile.logFormat]).to.deep.equal([
      KEEPER_DEFAULTS.blockRange,
      KEEPER_DEFAULTS.batchSize,
      KEEPER_DEFAULTS.logFormat,
    ]);
    expect([fromFile.maxFee, fromFile.fromBlock, fromFile.once]).to.deep.equal([undefined, undefined, false]);

    const env = { KEEPER_PAGE_SIZE: "20", KEEPER_MIN_PROFIT: "3.5", KEEPER_NO_CANCEL: "false" };
    const fromEnv = resolveKeeperArgs({ keeperConfig: config }, env);
    expect([fromEnv.pageSize, fromEnv.minProfit, fromEnv.noCancel, fromEnv.interval]).to.deep.equal([
      20,
      "3.5",
      false,
      7.5,
    ]);

    const fromFlags = resolveKeeperArgs({ keeperConfig: config, pageSize: 10, noCancel: true }, env);
    expect([fromFlags.pageSize, fromFlags.minProfit, fromFlags.noCancel]).to.deep.equal([10, "3.5", true]);
  });

  it("takes the file from KEEPER_CONFIG when --keeper-config is not given", () => {
    const config = configFile("env-keeper.json", { batchSize: 2 });
    expect(resolveKeeperArgs({}, { KEEPER_CONFIG: config }).batchSize).to.equal(2);
  });

  it("without --keeper-config or KEEPER_CONFIG, reads only the environment and the defaults", () => {
    const args = resolveKeeperArgs({}, { KEEPER_BATCH_SIZE: "1", KEEPER_LOG_DEBUG: "1" });
    expect([args.batchSize, args.logDebug, args.pageSize]).to.deep.equal([1, true, KEEPER_DEFAULTS.pageSize]);
  });

  it("refuses an unknown option, a key, a wrong type, a missing file and a file that is not an object, in one line", () => {
    expect(() => readKeeperConfig(configFile("unknown.json", { pagesize: 3 }))).to.throw(
      /unknown option "pagesize"; the options are keeper:run's flags in camelCase: account, keystore,/,
    );
    expect(() => readKeeperConfig(configFile("key.json", { privateKey: "0x01" }))).to.throw(
      /a key does not go in a config file; set KEEPER_PRIVATE_KEY or use --keystore$/,
    );
    expect(() => readKeeperConfig(configFile("type.json", { pageSize: "3" }))).to.throw(
      /"pageSize" must be a whole number, got "3"$/,
    );
    expect(() => readKeeperConfig(configFile("flag.json", { once: "yes" }))).to.throw(/"once" must be true or false/);
    expect(() => readKeeperConfig(tmpFile("absent.json"))).to.throw(/absent\.json does not exist: pass a JSON object/);
    expect(() => readKeeperConfig(configFile("bad.json", "{pageSize"))).to.throw(/is not valid JSON/);
    expect(() => readKeeperConfig(configFile("array.json", [1]))).to.throw(/must hold a JSON object/);
  });

  it("refuses a malformed environment variable, naming it", () => {
    expect(() => resolveKeeperArgs({}, { KEEPER_PAGE_SIZE: "ten" })).to.throw(
      /^KEEPER_PAGE_SIZE must be a whole number, got "ten"$/,
    );
    expect(() => resolveKeeperArgs({}, { KEEPER_ONCE: "yes" })).to.throw(/^KEEPER_ONCE must be true or false/);
  });
});
