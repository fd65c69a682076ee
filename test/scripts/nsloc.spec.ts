import { expect } from "chai";

import { nsloc, scopeFiles } from "../../scripts/nsloc";

describe("scripts/nsloc", function () {
  it("counts code lines and skips blank, line-comment, NatSpec and block-comment lines", function () {
    const source = [
      "// SPDX-License-Identifier: MIT",
      "pragma solidity 0.8.28;",
      "",
      "/// @title T",
      "/**",
      " * @notice Block NatSpec.",
      " */",
      "contract T {",
      "    /* inline */ uint256 x; // trailing",
      "    /* a block",
      "       over two lines */",
      "}",
    ].join("\n");
    expect(nsloc(source)).to.equal(4);
  });

  it("does not start a comment inside a string literal", function () {
    expect(nsloc('string constant A = "//not a comment";\nstring constant B = "/*";\nuint256 c;')).to.equal(3);
    expect(nsloc('string constant Q = "a \\" // still a string";')).to.equal(1);
  });

  it("scopes contracts/ without the mocks and harnesses of contracts/test/", function () {
    const files = scopeFiles();
    expect(files).to.include("contracts/vault/BallastVault.sol");
    expect(files).to.include("contracts/interfaces/external/IAggregatorV3.sol");
    expect(files.some((f) => f.startsWith("contracts/test/"))).to.equal(false);
  });
});
