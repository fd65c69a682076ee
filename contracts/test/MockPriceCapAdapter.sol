// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IAggregatorV3} from "../interfaces/external/IAggregatorV3.sol";

/// @title MockPriceCapAdapter
/// @notice A stand-in for Aave's CAPO `PriceCapAdapterStable`: it wraps a Chainlink aggregator, caps its answer and,
/// like the real adapter (`ICLSynchronicityPriceAdapter`), exposes `latestAnswer` and `decimals` but no rounds.
contract MockPriceCapAdapter {
    /// @notice The wrapped aggregator (the real adapter's getter of the same name).
    IAggregatorV3 public immutable ASSET_TO_USD_AGGREGATOR;
    /// @notice The largest answer served; zero serves the aggregator's answer uncapped.
    int256 public priceCap;

    constructor(IAggregatorV3 aggregator, int256 priceCap_) {
        ASSET_TO_USD_AGGREGATOR = aggregator;
        priceCap = priceCap_;
    }

    /// @notice Sets the cap, as Aave's risk stewards do on the real adapter.
    function setPriceCap(int256 priceCap_) external {
        priceCap = priceCap_;
    }

    /// @notice The decimals of the answer, those of the wrapped aggregator.
    function decimals() external view returns (uint8) {
        return ASSET_TO_USD_AGGREGATOR.decimals();
    }

    /// @notice The wrapped aggregator's latest answer, capped.
    function latestAnswer() external view returns (int256) {
        int256 answer = ASSET_TO_USD_AGGREGATOR.latestAnswer();
        return priceCap != 0 && answer > priceCap ? priceCap : answer;
    }
}
