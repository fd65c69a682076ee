// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title IAggregatorV3
/// @notice The Chainlink `AggregatorV3Interface` read by Ballast's oracle guard, plus the legacy
/// `latestAnswer` that Aave V3's `AaveOracle` reads. The Chainlink npm package cannot be installed
/// here, so the interface is declared locally with Chainlink's exact signatures.
interface IAggregatorV3 {
    /// @notice Decimals of the answer.
    function decimals() external view returns (uint8);

    /// @notice Human-readable description of the feed, e.g. "ETH / USD".
    function description() external view returns (string memory);

    /// @notice Version of the aggregator contract.
    function version() external view returns (uint256);

    /// @notice Data of a given round.
    /// @param roundId The round to read.
    /// @return roundId_ The round read.
    /// @return answer The price in `decimals()` decimals.
    /// @return startedAt When the round started.
    /// @return updatedAt When the answer was last updated.
    /// @return answeredInRound The round in which the answer was computed.
    function getRoundData(
        uint80 roundId
    )
        external
        view
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice Data of the latest round; see `getRoundData`.
    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound);

    /// @notice The latest answer (legacy Chainlink interface used by Aave's `AaveOracle`).
    function latestAnswer() external view returns (int256);
}
