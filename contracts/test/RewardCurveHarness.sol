// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";
import {RewardCurve} from "../libraries/RewardCurve.sol";

/// @title RewardCurveHarness
/// @notice Exposes `RewardCurve` to tests, for any config and not only the one an auction holds.
contract RewardCurveHarness {
    /// @notice See `RewardCurve.rewardBps`.
    /// @param c The curve.
    /// @param elapsed Seconds since the kick.
    /// @param urgency Urgency, WAD.
    /// @return The reward, bps, before the owner and protocol caps.
    function rewardBps(
        IKeeperAuction.Config calldata c,
        uint256 elapsed,
        uint256 urgency
    ) external pure returns (uint256) {
        return RewardCurve.rewardBps(c, elapsed, urgency);
    }

    /// @notice See `RewardCurve.timeCurve`.
    /// @param c The curve.
    /// @param elapsed Seconds since the kick.
    /// @return The time curve, bps.
    function timeCurve(IKeeperAuction.Config calldata c, uint256 elapsed) external pure returns (uint256) {
        return RewardCurve.timeCurve(c, elapsed);
    }
}
