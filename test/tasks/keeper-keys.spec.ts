import { expect } from "chai";
import fs from "node:fs";
import { encryptKeystoreJson, Wallet } from "ethers";
import hre from "hardhat";

import {
  KEY_ENV,
  KEY_FLAG_REFUSED,
  keeperKeySource,
  keeperSigner,
  keystoreSigner,
  PASSWORD_ENV,
  type KeyOptions,
} from "../../tasks/keeper/keys";
import { tmpFile } from "./helpers";

const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const PASSWORD = "correct horse battery staple";
/** A cheap scrypt: the default (N = 2^17) takes seconds per test. */
const CHEAP_SCRYPT = { N: 1 << 10, r: 8, p: 1 };

function options(env: Record<string, string | undefined>, interactive = false, answer?: string): KeyOptions {
  return {
    env,
    interactive,
    prompt: async () => {
      if (answer === undefined) throw new Error("no prompt expected");
      return answer;
    },
  };
}

/** The message a promise rejects with. */
async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected a rejection");
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  throw new Error("expected an error");
}

describe("keeper keys", () => {
  let keystore: string;
  const wallet = new Wallet(KEY);

  before(async () => {
    keystore = tmpFile("keeper-keystore.json");
    const json = await encryptKeystoreJson({ address: wallet.address, privateKey: KEY }, PASSWORD, {
      scrypt: CHEAP_SCRYPT,
    });
    fs.writeFileSync(keystore, json);
  });

  describe("the key source", () => {
    it("refuses --key with one line naming the alternatives", () => {
      expect(KEY_FLAG_REFUSED).to.equal(
        "--key is refused: a key on the command line shows in `ps` and the shell history; " +
          "set KEEPER_PRIVATE_KEY in the environment or pass --keystore <file.json>",
      );
      expect(refusal(() => keeperKeySource({ key: KEY }, "hardhat", {}))).to.equal(KEY_FLAG_REFUSED);
      expect(refusal(() => keeperKeySource({ key: KEY, account: 1 }, "mainnet", { [KEY_ENV]: KEY }))).to.equal(
        KEY_FLAG_REFUSED,
      );
    });

    it("off hardhat and localhost, refuses to default to the deployer's account 0", () => {
      for (const network of ["mainnet", "sepolia", "fork"]) {
        expect(refusal(() => keeperKeySource({}, network, {}))).to.equal(
          `On network ${network} the keeper needs its own key (the deployer's account 0 is never the default): ` +
            "set KEEPER_PRIVATE_KEY, pass --keystore <file.json>, or pick an account with --account <index>",
        );
      }
      expect(keeperKeySource({}, "hardhat", {})).to.deep.equal({ kind: "account", index: 0 });
      expect(keeperKeySource({}, "localhost", {})).to.deep.equal({ kind: "account", index: 0 });
      // An explicit choice is accepted anywhere.
      expect(keeperKeySource({ account: 0 }, "mainnet", {})).to.deep.equal({ kind: "account", index: 0 });
      expect(keeperKeySource({}, "mainnet", { [KEY_ENV]: KEY })).to.deep.equal({ kind: "env", key: KEY });
      expect(keeperKeySource({ keystore: "k.json" }, "mainnet", {})).to.deep.equal({
        kind: "keystore",
        file: "k.json",
      });
      // An empty variable is no key.
      expect(refusal(() => keeperKeySource({}, "mainnet", { [KEY_ENV]: " " }))).to.match(/needs its own key/);
    });

    it("takes one source only", () => {
      expect(refusal(() => keeperKeySource({ account: 3 }, "hardhat", { [KEY_ENV]: KEY }))).to.equal(
        "The keeper's key comes from one source: KEEPER_PRIVATE_KEY and --account are both given; drop one",
      );
      expect(refusal(() => keeperKeySource({ keystore: "k.json", account: 3 }, "hardhat", {}))).to.match(
        /--keystore and --account are both given/,
      );
    });
  });

  describe("the signer", () => {
    it("uses KEEPER_PRIVATE_KEY from the environment", async () => {
      const signer = await keeperSigner(hre, {}, options({ [KEY_ENV]: KEY }));
      expect(await signer.getAddress()).to.equal(wallet.address);
      expect(await message(keeperSigner(hre, {}, options({ [KEY_ENV]: "0x1234" })))).to.equal(
        "KEEPER_PRIVATE_KEY must be a 32-byte hex private key (64 hex digits, 0x optional)",
      );
    });

    it("decrypts a keystore with the password from KEEPER_KEYSTORE_PASSWORD", async () => {
      const signer = await keeperSigner(hre, { keystore }, options({ [PASSWORD_ENV]: PASSWORD }));
      expect(await signer.getAddress()).to.equal(wallet.address);
      expect(signer.provider).to.equal(hre.ethers.provider);
    });

    it("asks for the password on a terminal when the variable is unset", async () => {
      const signer = await keystoreSigner(keystore, hre.ethers.provider, options({}, true, PASSWORD));
      expect(await signer.getAddress()).to.equal(wallet.address);
    });

    it("a wrong password, a missing password and a missing file each fail with one line", async () => {
      expect(
        await message(keystoreSigner(keystore, hre.ethers.provider, options({ [PASSWORD_ENV]: "nope" }))),
      ).to.equal(`Wrong password for the keystore ${keystore}: check KEEPER_KEYSTORE_PASSWORD or what you typed`);
      expect(await message(keystoreSigner(keystore, hre.ethers.provider, options({}, true, "nope")))).to.match(
        /^Wrong password for the keystore/,
      );
      expect(await message(keystoreSigner(keystore, hre.ethers.provider, options({}, false)))).to.equal(
        "--keystore needs its password: set KEEPER_KEYSTORE_PASSWORD (stdin is not a terminal to ask on)",
      );
      const missing = tmpFile("no-such-keystore.json");
      expect(
        await message(keystoreSigner(missing, hre.ethers.provider, options({ [PASSWORD_ENV]: PASSWORD }))),
      ).to.equal(`--keystore ${missing} cannot be read: check the path`);
      const notKeystore = tmpFile("not-a-keystore.json");
      fs.writeFileSync(notKeystore, "{}");
      expect(
        await message(keystoreSigner(notKeystore, hre.ethers.provider, options({ [PASSWORD_ENV]: PASSWORD }))),
      ).to.match(/is not an encrypted JSON keystore/);
    });
  });
});
