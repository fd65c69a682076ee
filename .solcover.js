// Mocks and harnesses are test infrastructure, not protocol code.
module.exports = {
  skipFiles: ["test/"],
  istanbulReporter: ["html", "json-summary", "text", "lcov"],
  mocha: { timeout: 600000 },
};
