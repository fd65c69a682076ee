// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";

/// @title RewardCurve
/// @notice The keeper auction's reward: the premium in bps of the value a rebalance sells, as a function of the seconds
/// since the kick and of the vault's urgency, and the gas part that covers the keeper's gas. Pure; the caps (owner,
/// protocol) on the premium are applied by the auction.
library RewardCurve {
    uint256 internal constant BPS = 10_000;
    uint256 internal constant WAD = 1e18;
    /// @dev Past this many doublings any start has reached any cap (2^16 > 1,000 bps), so the shift cannot overflow.
    uint256 private constant _MAX_DOUBLINGS = 16;

    /// @notice The reward `elapsed` seconds after the kick at `urgency` (WAD, 0 to 1e18), uncapped by owner or
    /// protocol: the time curve (at most `maxBps`) raised by `urgencyBoostBps · urgency`.
    function rewardBps(
        IKeeperAuction.Config memory c,
        uint256 elapsed,
        uint256 urgency
    ) internal pure returns (uint256) {
        uint256 timed = timeCurve(c, elapsed);
        return timed + (timed * c.urgencyBoostBps * urgency) / (BPS * WAD);
    }

    /// @notice The time curve alone, from `startBps` at the kick up to `maxBps`.
    function timeCurve(IKeeperAuction.Config memory c, uint256 elapsed) internal pure returns (uint256) {
        uint256 start = c.startBps;
        uint256 max = c.maxBps;
        uint256 d = c.duration;
        if (c.kind == IKeeperAuction.CurveKind.Exponential) {
            uint256 doublings = elapsed / d;
            if (doublings >= _MAX_DOUBLINGS) return max;
            uint256 value = ((start << doublings) * (d + (elapsed % d))) / d;
            return value < max ? value : max;
        }
        if (c.kind == IKeeperAuction.CurveKind.Stairstep) elapsed -= elapsed % c.step;
        if (elapsed >= d) return max;
        return start + ((max - start) * elapsed) / d;
    }

    /// @notice The gas price the gas part pays: `baseFee` plus `tip` bounded by `maxTip`, at most `maxGasPrice`.
    function gasPrice(
        uint256 baseFee,
        uint256 tip,
        uint256 maxTip,
        uint256 maxGasPrice
    ) internal pure returns (uint256) {
        uint256 price = baseFee + (tip < maxTip ? tip : maxTip);
        return price < maxGasPrice ? price : maxGasPrice;
    }

    /// @notice `units` of gas at `price` (wei) valued at `nativePrice` (base units per 1e18 wei), rounded down, at
    /// most `cap` (base units).
    function gasRewardBase(
        uint256 units,
        uint256 price,
        uint256 nativePrice,
        uint256 cap
    ) internal pure returns (uint256) {
        uint256 value = (units * price * nativePrice) / WAD;
        return value < cap ? value : cap;
    }
}
