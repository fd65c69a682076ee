// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../interfaces/external/IAggregatorV3.sol";

/// @title MockAggregatorV3
/// @notice A Chainlink price feed stand-in for local markets and tests, whose answer and
/// `updatedAt` are set by hand. Every update opens a new round, as a real aggregator does.
contract MockAggregatorV3 is IAggregatorV3 {
    struct Round {
        int256 answer;
        uint256 updatedAt;
    }

    /// @notice Emitted when a new round is written (Chainlink's own `AnswerUpdated` shape).
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);

    /// @notice A read of a round that was never written.
    error MockAggregatorNoRound(uint80 roundId);

    uint8 private immutable _DECIMALS;
    string public override description;
    uint80 public latestRound;
    mapping(uint80 => Round) private _rounds;

    constructor(uint8 decimals_, string memory description_, int256 initialAnswer) {
        _DECIMALS = decimals_;
        description = description_;
        _write(initialAnswer, block.timestamp);
    }

    /// @notice Opens a new round with `answer`, updated now.
    function setAnswer(int256 answer) external {
        _write(answer, block.timestamp);
    }

    /// @notice Opens a new round with `answer` and an explicit `updatedAt`, e.g. to simulate a stale feed.
    function setRound(int256 answer, uint256 updatedAt) external {
        _write(answer, updatedAt);
    }

    /// @inheritdoc IAggregatorV3
    function decimals() external view override returns (uint8) {
        return _DECIMALS;
    }

    /// @inheritdoc IAggregatorV3
    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @inheritdoc IAggregatorV3
    function getRoundData(uint80 roundId) external view override returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = _rounds[roundId];
        if (round.updatedAt == 0) revert MockAggregatorNoRound(roundId);
        return (roundId, round.answer, round.updatedAt, round.updatedAt, roundId);
    }

    /// @inheritdoc IAggregatorV3
    function latestRoundData() external view override returns (uint80, int256, uint256, uint256, uint80) {
        Round memory round = _rounds[latestRound];
        return (latestRound, round.answer, round.updatedAt, round.updatedAt, latestRound);
    }

    /// @inheritdoc IAggregatorV3
    function latestAnswer() external view override returns (int256) {
        return _rounds[latestRound].answer;
    }

    function _write(int256 answer, uint256 updatedAt) private {
        uint80 roundId = latestRound + 1;
        latestRound = roundId;
        _rounds[roundId] = Round(answer, updatedAt);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }
}
