// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IRebalanceExecutor} from "./IRebalanceExecutor.sol";

/// @title IKeeperAuction
/// @notice Pays keepers to rebalance vaults. Anyone may `kick` a vault whose HF has left its band; from then on the
/// reward for rebalancing it grows with time, on a curve governance picks, and with urgency as the HF approaches 1.0.
/// The first keeper to `execute` wins; the vault checks the outcome, then pays the reward out of the rebalance itself,
/// in its debt asset, and the auction passes it on. A reward has two parts: a premium in bps of the value the
/// rebalance sells, capped by the owner's `maxKeeperRewardBps` and by the protocol cap in the factory's policy bounds;
/// and a gas part that covers the keeper's gas at the prevailing base fee (see `GasConfig`), at most the owner's
/// `maxGasPrice` per unit. The vault clamps their sum to the owner's `maxRewardBase`. The auction holds no funds
/// between transactions except rewards it could not push to a keeper, which wait for `claim`.
interface IKeeperAuction {
    /// @notice How the reward grows with the time since the kick (after Maker's Clipper abacuses).
    /// @dev With s = `startBps`, m = `maxBps`, d = `duration`, t = seconds since the kick, each capped at m:
    /// Linear s + (m - s)·t/d; Stairstep the same with t rounded down to a multiple of `step`;
    /// Exponential s·2^(t/d), interpolated linearly within each doubling (d is the doubling time).
    enum CurveKind {
        Linear,
        Stairstep,
        Exponential
    }

    /// @notice The reward curve and the anti-farming thresholds, set by governance within the hard limits.
    /// @param kind The time curve.
    /// @param startBps Reward at the kick, bps of the value sold; at least 1 for Exponential.
    /// @param maxBps Where the time curve stops growing.
    /// @param urgencyBoostBps At HF 1.0 the time curve's value is raised by this share (10,000 doubles it); linear in
    /// the vault's urgency (0 at `minHF`, 1 at HF 1.0), and nothing when leveraging up.
    /// @param duration Linear and Stairstep: seconds from `startBps` to `maxBps`. Exponential: doubling time.
    /// @param step Stairstep: seconds per step; at most `duration`. Ignored by the other curves.
    /// @param minHFMove No reward when the rebalance would move the HF (current HF to the target) by less than this.
    /// @param minDebtBase No auction for a position with less debt than this (Aave base units): dust.
    struct Config {
        CurveKind kind;
        uint16 startBps;
        uint16 maxBps;
        uint16 urgencyBoostBps;
        uint32 duration;
        uint32 step;
        uint64 minHFMove;
        uint128 minDebtBase;
    }

    /// @notice How the gas part of the reward is priced, set by governance within the hard limits. The gas part, in
    /// Aave base units, is `units · min(block.basefee + min(tx.gasprice - block.basefee, maxTip), policy.maxGasPrice)
    /// · price(nativeAsset) / 1e18`, where `units` is `executeGas` for `execute` and for the first call of a batch that
    /// succeeds, `batchCallGas` for each later one (a batch pays the transaction's overhead once). The native token has
    /// 18 decimals; `price` is the price guard's. All zero (the state at deployment) turns the gas part off.
    /// @param executeGas Gas units a keeper spends on one `execute`, transaction overhead included.
    /// @param batchCallGas Gas units each further call of an `executeBatch` adds; at most `executeGas`.
    /// @param kickGas Gas units of a `kick`, refunded to the kicker out of the execution's reward at the kick's own
    /// base fee plus the bounded tip (at most the owner's `maxGasPrice`); at most `executeGas`.
    /// @param maxTip The most priority fee per gas (wei) the gas part pays on top of the base fee.
    /// @param nativeAsset The wrapped native token (WETH on mainnet) whose price guard price values gas; not zero
    /// when `executeGas` is not.
    struct GasConfig {
        uint32 executeGas;
        uint32 batchCallGas;
        uint32 kickGas;
        uint64 maxTip;
        address nativeAsset;
    }

    /// @notice What `execute` would pay for a vault, as `quoteReward` returns it.
    /// @param rewardBps The premium, bps of the value sold (after the owner's and the protocol's caps).
    /// @param gasPrice The gas price the gas part is priced at: base fee plus the bounded tip, at most the owner's
    /// `maxGasPrice`, wei.
    /// @param gasRewardBase The gas part, Aave base units, at most the owner's `maxRewardBase`.
    /// @param gasReward The gas part in the vault's debt asset, at the price guard's price.
    /// @param maxRewardBase The owner's cap on the whole reward (premium plus gas part), base units.
    /// @param kickRefundBase The kicker's gas refund, base units: part of what the vault pays, and paid to the kicker
    /// first when someone else executes (not included in `gasRewardBase`).
    struct Quote {
        uint16 rewardBps;
        uint256 gasPrice;
        uint256 gasRewardBase;
        uint256 gasReward;
        uint256 maxRewardBase;
        uint256 kickRefundBase;
    }

    /// @notice One running auction.
    /// @param kickedAt When it started (0 = no auction).
    /// @param hfAtKick The vault's HF at the kick.
    /// @param direction The way the vault had to move at the kick.
    /// @param kicker Who kicked it: refunded the kick's gas out of the execution's reward.
    /// @param kickGasPrice The kick's base fee plus its tip bounded by `maxTip`, wei.
    struct Auction {
        uint64 kickedAt;
        uint128 hfAtKick;
        IRebalanceExecutor.Direction direction;
        address kicker;
        uint64 kickGasPrice;
    }

    /// @notice One vault of a batch.
    /// @param vault The vault to rebalance.
    /// @param path Uniswap V3 exactInput path for its swap.
    /// @param maxAmountIn The keeper's hint, as in `IBallastVault.rebalance`.
    struct Call {
        address vault;
        bytes path;
        uint256 maxAmountIn;
    }

    /// @notice What became of one vault of a batch.
    /// @param ok Whether it was rebalanced.
    /// @param reward The reward paid for it (debt asset of that vault).
    /// @param reason The revert data when `ok` is false.
    struct Result {
        bool ok;
        uint256 reward;
        bytes reason;
    }

    /// @notice The caller is not governance (the factory's owner).
    error AuctionNotGovernance(address caller);
    /// @notice The address is not a vault of this auction's factory.
    error AuctionUnknownVault(address vault);
    /// @notice The vault may not be rebalanced now: its HF is inside the band, it has no debt, or its owner paused
    /// automation.
    error AuctionNotNeeded(address vault);
    /// @notice The vault's debt is below the dust threshold.
    error AuctionDustPosition(address vault, uint256 debtBase, uint256 minDebtBase);
    /// @notice An auction for the vault is running already.
    error AuctionActive(address vault, uint256 kickedAt);
    /// @notice No auction for the vault is running (never kicked, or executed or cancelled already).
    error AuctionNotActive(address vault);
    /// @notice The vault still needs the rebalance the auction was kicked for, so it cannot be cancelled.
    error AuctionStillNeeded(address vault);
    /// @notice The reward recipient is the zero address.
    error AuctionZeroRecipient();
    /// @notice The configuration breaks the hard limits (see `setConfig`).
    error AuctionConfigInvalid();
    /// @notice Nothing of that token is owed to the caller.
    error AuctionNothingOwed(address token);
    /// @notice `executeOne` is internal to batches: only the auction itself may call it.
    error AuctionOnlySelf(address caller);
    /// @notice The vault now needs the opposite move to the one the auction was kicked for: cancel and kick again.
    error AuctionDirectionChanged(
        address vault,
        IRebalanceExecutor.Direction kicked,
        IRebalanceExecutor.Direction current
    );
    /// @notice The vault is in the middle of a rebalance or another operation (`IBallastVault.rebalancing`): its
    /// position is not settled, so no auction may start or end on it now.
    error AuctionVaultBusy(address vault);
    /// @notice Call `index` of a batch ran out of gas: send the batch with more gas (or fewer calls).
    error AuctionBatchOutOfGas(uint256 index);
    /// @notice Gas units above the hard limit, or a batch call dearer than a single execution.
    error AuctionGasUnitsInvalid(uint32 executeGas, uint32 batchCallGas, uint32 limit);
    /// @notice `setGasConfig` with `kickGas` above `executeGas`.
    error AuctionKickGasInvalid(uint32 kickGas, uint32 executeGas);
    /// @notice The tip the gas part may pay is above the hard limit.
    error AuctionMaxTipAboveLimit(uint64 maxTip, uint64 limit);
    /// @notice Gas units were set without a native asset to price them.
    error AuctionNativeAssetInvalid(address nativeAsset);

    /// @notice Emitted when an auction started.
    event Kicked(address indexed vault, address indexed kicker, IRebalanceExecutor.Direction direction, uint256 hf);
    /// @notice Emitted when a keeper rebalanced a vault and the auction ended.
    /// @param rewardBps The premium asked for, bps of the value sold.
    /// @param gasRewardBase The gas part asked for, the kick's refund included, base units (the vault clamped the sum
    /// to `maxRewardBase`).
    /// @param reward What the vault paid, in its debt asset: premium and gas part together (a kicker other than the
    /// keeper got its refund out of it first, `KickRefunded`).
    event Executed(
        address indexed vault,
        address indexed keeper,
        address recipient,
        uint16 rewardBps,
        uint256 gasRewardBase,
        uint256 reward,
        uint256 hfBefore,
        uint256 hfAfter
    );
    /// @notice Emitted when the kicker, not the executing keeper, was refunded its kick's gas out of the reward.
    /// @param amount In the vault's debt asset; the rest of the reward went to the executor's recipient.
    event KickRefunded(address indexed vault, address indexed kicker, uint256 amount);
    /// @notice Emitted when one vault of a batch failed; the others went on.
    event ExecutionFailed(address indexed vault, bytes reason);
    /// @notice Emitted when an auction was cancelled because the vault no longer needed it.
    event Cancelled(address indexed vault, address indexed caller);
    /// @notice Emitted when a reward could not be pushed to its recipient and was credited for `claim` instead.
    event RewardDeferred(address indexed recipient, address indexed token, uint256 amount);
    /// @notice Emitted when a recipient claimed deferred rewards.
    event Claimed(address indexed recipient, address indexed token, address to, uint256 amount);
    /// @notice Emitted when governance changed the configuration.
    event ConfigSet(Config config);
    /// @notice Emitted when governance changed the gas pricing.
    event GasConfigSet(GasConfig gasConfig);

    /// @notice Starts the auction for `vault`, which must be a factory vault that needs a rebalance now and is not
    /// dust. Refused while the auction executes (`ReentrancyGuardReentrantCall`, e.g. from a token hook in a swap path)
    /// and while the vault is mid-operation (`AuctionVaultBusy`).
    /// The kicker is refunded `kickGas` at this transaction's base fee plus its bounded tip out of the reward of the
    /// execution that ends the auction (nothing if it is cancelled).
    /// @dev The band is the vault's policy within the factory's current bounds (`IVaultFactory.boundedPolicy`), as
    /// the vault's own `rebalance` applies it.
    function kick(address vault) external;

    /// @notice Rebalances `vault` and pays its reward to `recipient`. Reverts, at little cost, when no auction runs:
    /// of two keepers racing for one vault, the second finds it gone.
    /// @param vault The vault.
    /// @param path Uniswap V3 exactInput path for its swap.
    /// @param maxAmountIn The keeper's hint, as in `IBallastVault.rebalance`.
    /// @param recipient Who is paid; pushed now, or credited for `claim` if the push fails.
    /// @return reward What `recipient` got, in the vault's debt asset: the vault's reward less a kicker's refund.
    function execute(
        address vault,
        bytes calldata path,
        uint256 maxAmountIn,
        address recipient
    ) external returns (uint256 reward);

    /// @notice Executes several vaults; one that fails is reported and skipped, and its auction keeps running. A call
    /// that fails for want of gas fails the whole batch instead (`AuctionBatchOutOfGas`), so that a gas estimate
    /// covers every call. A call that fails having used over three quarters of the gas left to it counts as one,
    /// whatever its revert data: an out-of-gas deep in a call may come back as another contract's error.
    /// @return results One per call, in order.
    function executeBatch(Call[] calldata calls, address recipient) external returns (Result[] memory results);

    /// @notice One vault of a batch, run as a call of the auction to itself so that its failure unwinds alone.
    /// @param batched Whether an earlier call of the batch succeeded: its gas part is priced at `batchCallGas`.
    function executeOne(
        Call calldata call,
        address keeper,
        address recipient,
        bool batched
    ) external returns (uint256 reward);

    /// @notice Ends the auction at no cost once the vault no longer needs the rebalance it was kicked for. Refused,
    /// like `kick`, during an execution and while the vault is mid-operation.
    function cancel(address vault) external;

    /// @notice Pays the caller's deferred rewards in `token` to `to`.
    function claim(address token, address to) external returns (uint256 amount);

    /// @notice Governance: replaces the configuration. Hard limits: `startBps <= maxBps <= 1,000`,
    /// `urgencyBoostBps <= 10,000`, `60 <= duration <= 1 day`, for Stairstep `1 <= step <= duration`, for Exponential
    /// `startBps >= 1`, `minHFMove <= 0.5e18`.
    function setConfig(Config calldata config) external;

    /// @notice The configuration.
    function config() external view returns (Config memory);

    /// @notice Governance: replaces the gas pricing. Hard limits: `batchCallGas <= executeGas <= 5,000,000`,
    /// `maxTip <= 100 gwei`, and a `nativeAsset` the price guard prices whenever `executeGas` is not zero.
    function setGasConfig(GasConfig calldata gasConfig) external;

    /// @notice The gas pricing.
    function gasConfig() external view returns (GasConfig memory);

    /// @notice What executing `vault` would pay now, without simulating: the premium in bps (as `currentRewardBps`)
    /// and the gas part at `baseFee` and `tip`, priced exactly as `execute` prices it on-chain with `block.basefee` and
    /// `tx.gasprice - block.basefee`. Nothing when no auction runs, for dust, or for a move below `minHFMove`. The
    /// vault pays `min(premium + gas part, maxRewardBase)`; the premium's value depends on the size it computes.
    /// @param batched Price one further call of a batch (`batchCallGas`) instead of a single execution.
    function quoteReward(
        address vault,
        uint256 baseFee,
        uint256 tip,
        bool batched
    ) external view returns (Quote memory quote);

    /// @notice The auction running for `vault` (`kickedAt` 0 when none).
    function auctionOf(address vault) external view returns (Auction memory);

    /// @notice The reward `execute` would ask for now, in bps of the value sold; 0 when no auction runs.
    function currentRewardBps(address vault) external view returns (uint16);

    /// @notice The curve alone: the reward `elapsed` seconds after a kick at `urgency` (WAD), before the owner's and
    /// the protocol's caps.
    function rewardBpsAt(uint256 elapsed, uint256 urgency) external view returns (uint256);

    /// @notice Rewards owed to `recipient` in `token`, waiting for `claim`.
    function owed(address recipient, address token) external view returns (uint256);

    /// @notice The factory whose vaults this auction serves.
    function FACTORY() external view returns (address);
}
