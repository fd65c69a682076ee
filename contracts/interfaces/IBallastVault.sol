// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";

import {IPriceGuard} from "./IPriceGuard.sol";
import {IRebalanceExecutor} from "./IRebalanceExecutor.sol";
import {IVaultFactory} from "./IVaultFactory.sol";

/// @title IBallastVault
/// @notice One owner's leveraged Aave V3 position (one collateral asset supplied, one debt asset borrowed at the
/// variable rate) and the health-factor band that keeps it out of liquidation. Anyone may rebalance the vault once its
/// health factor (HF) leaves the band; the vault sizes the move, hands the plan to the executor and checks the outcome
/// itself. HF values are WAD (1e18 = 1.0) as Aave reports them; values in "base" are Aave oracle base-currency units.
interface IBallastVault {
    /// @notice The owner's band and risk limits.
    /// @param minHF Below this HF, a keeper may deleverage.
    /// @param targetHF Where every rebalance lands.
    /// @param maxHF Above this HF, a keeper may leverage up.
    /// @param maxSlippageBps Largest accepted swap output shortfall against the oracle price.
    /// @param maxKeeperRewardBps Largest keeper premium, as a share of the rebalanced value.
    /// @param maxGasPrice Largest gas price (wei) at which the keeper auction's gas part is priced, whatever the base
    /// fee. 0 turns the gas part off: keepers then get the premium alone, which at high gas may not cover their gas,
    /// so that keepers may stop rebalancing the vault.
    /// @param maxRewardBase Largest keeper reward per rebalance, premium and gas part together, in base units (8
    /// decimals, USD on mainnet). At least 1: a policy cannot silently set the keeper reward to nothing (to stop
    /// keeper rebalances, `pauseAutomation`).
    /// @param urgentSlippageBps The slippage bound of a keeper's deleverage at HF 1: from `maxSlippageBps` at `minHF`
    /// it rises linearly with the urgency, so that a sale still clears when the pools trade below the oracle in a
    /// crash, where a liquidation would cost Aave's bonus instead. At least `maxSlippageBps` and at most the factory's
    /// cap; equal to `maxSlippageBps`, the bound never widens. Signed rebalances, `emergencyDelever` and `close` keep
    /// their own bound.
    struct Policy {
        uint64 minHF;
        uint64 targetHF;
        uint64 maxHF;
        uint16 maxSlippageBps;
        uint16 maxKeeperRewardBps;
        uint64 maxGasPrice;
        uint64 maxRewardBase;
        uint16 urgentSlippageBps;
    }

    /// @notice The vault's Aave position, valued at the Aave oracle price.
    struct Position {
        uint256 collateralBase;
        uint256 debtBase;
        uint256 liquidationThresholdBps;
        uint256 healthFactor;
    }

    /// @notice Signed by the owner: replace the policy. EIP-712 type
    /// `SetPolicy(address vault,Policy policy,uint64 version,address feeToken,uint256 maxFee,uint256 nonce,
    /// uint256 deadline)` with `Policy(uint64 minHF,uint64 targetHF,uint64 maxHF,uint16 maxSlippageBps,
    /// uint16 maxKeeperRewardBps,uint64 maxGasPrice,uint64 maxRewardBase,uint16 urgentSlippageBps)`.
    /// @param version The `policyVersion` the new policy replaces: once any other policy change lands (direct or
    /// signed), the intent is stale and refused, so an older, looser signed policy cannot be replayed over a newer one.
    /// @param feeToken The collateral or debt asset the submitter is paid in.
    /// @param maxFee The most the submitter may take.
    struct SetPolicyIntent {
        Policy policy;
        uint64 version;
        address feeToken;
        uint256 maxFee;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Signed by the owner: a one-shot rebalance to `targetHF` that anyone may carry out and be paid for.
    /// EIP-712 type `Rebalance(address vault,uint8 direction,uint64 targetHF,uint16 maxSlippageBps,
    /// address rewardToken,uint256 maxReward,uint256 nonce,uint256 deadline)`.
    /// @param direction The move the owner signed: `Deleverage` (1) or `Leverage` (2). A fill is refused when the HF
    /// at that moment would make the move the other way (a target above the HF is a deleverage), so an intent signed to
    /// de-risk cannot be held until a rally and filled as a leverage.
    struct RebalanceIntent {
        IRebalanceExecutor.Direction direction;
        uint64 targetHF;
        uint16 maxSlippageBps;
        address rewardToken;
        uint256 maxReward;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice Signed by the owner: unwind and send everything to the owner. EIP-712 type
    /// `Close(address vault,uint16 maxSlippageBps,address feeToken,uint256 maxFee,uint256 nonce,uint256 deadline)`.
    /// @param maxSlippageBps The slippage bound the unwind's swap uses (its minimum output and the equity check), at
    /// most the factory's `maxSlippageBpsCap` when it runs.
    struct CloseIntent {
        uint16 maxSlippageBps;
        address feeToken;
        uint256 maxFee;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice A collateral switch signed by the owner for anyone to carry out; EIP-712 type `Switch(address vault,
    /// address newCollateral,uint16 maxSlippageBps,uint256 maxFee,uint256 nonce,uint256 deadline)` (one line, no
    /// spaces).
    /// @param newCollateral The asset the vault's collateral moves into; the debt is kept.
    /// @param maxSlippageBps The slippage bound the switch's swap uses (its minimum output and the equity check), at
    /// most the factory's `maxSlippageBpsCap` when it runs.
    /// @param maxFee The most the submitter may take, in `newCollateral`.
    struct SwitchIntent {
        address newCollateral;
        uint16 maxSlippageBps;
        uint256 maxFee;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice What a rebalance did and what it cost, all costs valued in base at the oracle price.
    /// @param direction Deleverage, Leverage, Close or Switch.
    /// @param amountIn Tokens sold: collateral when deleveraging, closing or switching (all of the old collateral),
    /// debt asset when leveraging.
    /// @param amountOut Tokens bought by the swap (on a switch, the new collateral).
    /// @param hfBefore HF before the rebalance.
    /// @param hfAfter HF after the rebalance.
    /// @param flashPremiumBase Aave flash-loan premium paid.
    /// @param swapShortfallBase Oracle value of `amountIn` less oracle value of `amountOut` (fees and price impact).
    /// @param equityLossBase Fall in collateral minus debt across the rebalance, the keeper reward included.
    /// @param keeperReward Debt asset paid to the caller as the keeper auction's reward, premium and gas part (0
    /// outside the auction).
    /// @param gasUsed Gas the rebalance itself used, from sizing to the last check (transaction overhead excluded).
    struct RebalanceReport {
        IRebalanceExecutor.Direction direction;
        uint256 amountIn;
        uint256 amountOut;
        uint256 hfBefore;
        uint256 hfAfter;
        uint256 flashPremiumBase;
        uint256 swapShortfallBase;
        uint256 equityLossBase;
        uint256 keeperReward;
        uint256 gasUsed;
    }

    /// @notice The caller is not the vault's owner.
    error VaultNotOwner(address caller);
    /// @notice The caller is not the factory.
    error VaultNotFactory(address caller);
    /// @notice The caller is not the executor, or no rebalance of this vault is running.
    error VaultNotExecutor(address caller);
    /// @notice A zero amount or address was given.
    error VaultZeroAmount();
    /// @notice The band breaks the protocol's bounds: it needs floor <= minHF, minHF + gap <= targetHF,
    /// targetHF + gap <= maxHF <= ceiling (the factory's `policyBounds`).
    error VaultPolicyBandInvalid(uint64 minHF, uint64 targetHF, uint64 maxHF);
    /// @notice `maxSlippageBps` is above the protocol cap.
    error VaultPolicySlippageAboveCap(uint16 maxSlippageBps, uint16 cap);
    /// @notice `urgentSlippageBps` is below `maxSlippageBps` or above the factory's cap.
    error VaultPolicyUrgentSlippageInvalid(uint16 urgentSlippageBps, uint16 maxSlippageBps, uint16 cap);
    /// @notice `maxKeeperRewardBps` is above the protocol cap.
    error VaultPolicyRewardAboveCap(uint16 maxKeeperRewardBps, uint16 cap);
    /// @notice `maxRewardBase` is zero (see `Policy`).
    error VaultPolicyRewardCapZero();
    /// @notice A keeper rebalance was asked for while the HF lies inside the band.
    error VaultInBand(uint256 healthFactor, uint256 minHF, uint256 maxHF);
    /// @notice The owner paused automation, so keepers may not rebalance.
    error VaultAutomationPaused();
    /// @notice The guardian paused new leverage.
    error VaultLeveragePaused();
    /// @notice The HF after a rebalance is not within the tolerance of its target; a keeper's deleverage may stop
    /// below it, but must raise the HF (`healthFactor` is then at most the HF before).
    error VaultTargetMissed(uint256 healthFactor, uint256 targetHF, uint256 tolerance);
    /// @notice The HF after a rebalance is outside the policy band.
    error VaultOutOfBand(uint256 healthFactor, uint256 minHF, uint256 maxHF);
    /// @notice The equity lost in a rebalance exceeds the slippage bound plus the flash premium.
    error VaultEquityLoss(uint256 lossBase, uint256 allowedBase);
    /// @notice A withdrawal would leave the HF below `minHF`.
    error VaultHealthBelowMin(uint256 healthFactor, uint256 minHF);
    /// @notice An emergency delever target must be above the current HF.
    error VaultTargetNotAbove(uint256 targetHF, uint256 healthFactor);
    /// @notice `open` needs a vault without debt (collateral deposited beforehand is fine and is levered too).
    error VaultNotEmpty(uint256 collateralBase, uint256 debtBase);
    /// @notice Debt remained after `close` unwound the position.
    error VaultDebtRemaining(uint256 debtBase);
    /// @notice `repay` was called on a vault without debt.
    error VaultNoDebt();
    /// @notice The keeper's amount hint is zero.
    error VaultZeroHint();
    /// @notice A keeper's deleverage hint sells less than a quarter of the computed size (`least`).
    error VaultHintTooSmall(uint256 hint, uint256 least);
    /// @notice Only the keeper auction may call `rebalanceForAuction`, the rebalance that pays a reward.
    error VaultNotAuction(address caller);
    /// @notice The reward asked for is above the owner's `maxKeeperRewardBps`.
    error VaultRewardAboveCap(uint16 rewardBps, uint16 maxKeeperRewardBps);

    /// @notice The intent's deadline has passed.
    error VaultIntentExpired(uint256 deadline);
    /// @notice The nonce was used or cancelled already.
    error VaultNonceUsed(uint256 nonce);
    /// @notice The signature is not the owner's for this intent, chain and vault (EOA or EIP-1271 wallet).
    error VaultInvalidSignature(address owner);
    /// @notice The submitter asked for more than the signed maximum.
    error VaultFeeAboveMax(uint256 fee, uint256 maxFee);
    /// @notice Fees and rewards are paid in the vault's collateral or debt asset only.
    error VaultFeeTokenInvalid(address token);
    /// @notice After a close, too little of the fee token (collateral or debt asset) is left to pay the fee; or a
    /// deleverage's worst accepted swap output (`available`) cannot cover the debt-asset reward kept from it, which
    /// includes a sale too small to be worth one unit of the debt asset (`fee` = `available` = 0); or a leverage's
    /// borrow (`available`, less the premium) smaller than the keeper auction's gas part (`fee`).
    error VaultFeeUnavailable(address token, uint256 fee, uint256 available);
    /// @notice A close of a vault that holds neither debt nor collateral: there is nothing to unwind or return.
    error VaultNothingToClose();
    /// @notice `disableCollateral` of the vault's own collateral asset, which must stay collateral.
    error VaultCollateralAssetKept(address asset);
    /// @notice A `SetPolicy` intent signed against policy version `signed` while the vault is at `current`: another
    /// policy change landed since it was signed.
    error VaultPolicyVersionStale(uint64 signed, uint64 current);
    /// @notice A `Rebalance` intent signed for one direction would move the other way at the current HF (or signed
    /// neither `Deleverage` nor `Leverage`).
    error VaultIntentDirection(IRebalanceExecutor.Direction signed, IRebalanceExecutor.Direction actual);
    /// @notice A collateral switch to the vault's own collateral, or to an asset the factory does not allow against
    /// the vault's debt asset: governance must allow the pair (`IVaultFactory.setPair`) first.
    error VaultSwitchNotAllowed(address collateralAsset, address newCollateral);

    /// @notice Emitted once, when the factory initialises the clone.
    event VaultInitialized(address indexed owner, address indexed collateralAsset, address indexed debtAsset);
    /// @notice Emitted when collateral was supplied to Aave for the vault.
    event Deposited(address indexed from, uint256 amount);
    /// @notice Emitted when collateral was withdrawn from Aave to `to`.
    event Withdrawn(address indexed to, uint256 amount);
    /// @notice Emitted when the owner repaid debt.
    event Repaid(address indexed from, uint256 amount);
    /// @notice Emitted when the policy changed.
    event PolicySet(Policy policy);
    /// @notice Emitted when the owner paused or resumed automation.
    event AutomationPaused(bool paused);
    /// @notice Emitted after every verified rebalance, with its cost breakdown.
    event Rebalanced(address indexed caller, RebalanceReport report);
    /// @notice Emitted when a signed intent was carried out and its submitter paid.
    event IntentExecuted(address indexed submitter, uint256 indexed nonce, address feeToken, uint256 fee);
    /// @notice Emitted when the owner cancelled a nonce before anyone used it.
    event NonceCancelled(address indexed owner, uint256 indexed nonce);
    /// @notice Emitted when the position was fully unwound and the remainder sent to `to`.
    event Closed(address indexed to, uint256 collateralReturned, uint256 debtAssetReturned);
    /// @notice Emitted when `caller` disabled a foreign `asset` someone supplied to the vault as its collateral.
    event CollateralDisabled(address indexed asset, address indexed caller);
    /// @notice Emitted when the vault's collateral moved from `oldCollateral` to `newCollateral`, its debt kept;
    /// `report` is the switch's (direction `Switch`). Indexers that group vaults by pair follow this event.
    event CollateralSwitched(address indexed oldCollateral, address indexed newCollateral, RebalanceReport report);

    /// @notice Called once by the factory on a fresh clone.
    function initialize(address owner, address collateralAsset, address debtAsset, Policy calldata policy) external;

    /// @notice Pulls `amount` of collateral from the caller (the owner) and supplies it to Aave for the vault.
    function deposit(uint256 amount) external;

    /// @notice Withdraws `amount` of collateral (`type(uint256).max` for all) to `to`; the HF must stay >= `minHF`.
    function withdraw(uint256 amount, address to) external;

    /// @notice Pulls up to `amount` of the debt asset from the owner and repays the vault's debt with it.
    function repay(uint256 amount) external;

    /// @notice Deposits `amount` of collateral and levers the fresh position to `targetHF`, in one transaction.
    /// @param path Uniswap V3 exactInput path from the debt asset to the collateral asset.
    function open(uint256 amount, uint64 targetHF, bytes calldata path) external returns (RebalanceReport memory);

    /// @notice Unwinds the position fully and sends the remaining collateral (and any debt asset left) to the owner.
    /// @dev Prices need fresh feeds only, not the TWAP agreement, so that a lagging TWAP cannot trap the owner.
    /// @param path Uniswap V3 exactInput path from the collateral asset to the debt asset.
    function close(bytes calldata path) external returns (uint256 collateralReturned, uint256 debtAssetReturned);

    /// @notice The owner's ripcord: deleverages to `targetHF` now, whether or not automation is paused.
    /// @dev Prices need fresh feeds only, not the TWAP agreement, so that a lagging TWAP cannot trap the owner.
    function emergencyDelever(uint64 targetHF, bytes calldata path) external returns (RebalanceReport memory);

    /// @notice Replaces the policy, validated against the protocol's bounds.
    function setPolicy(Policy calldata policy) external;

    /// @notice Stops (or resumes) keeper rebalances; owner operations keep working.
    function pauseAutomation(bool paused) external;

    /// @notice Permissionless: brings the HF back to `targetHF` once it left the band, for no reward (keepers are paid
    /// through the keeper auction, which calls `rebalanceForAuction`).
    /// @dev The stored policy is applied within the factory's current bounds (`IVaultFactory.boundedPolicy`): the
    /// slippage and premium at most the caps, `minHF` at least the floor for the band check, so lowered bounds reach
    /// existing vaults.
    /// @param path Uniswap V3 exactInput path, collateral to debt asset when deleveraging, the reverse when leveraging.
    /// @param maxAmountIn A keeper's hint: the most to sell. It can shrink the move, never grow it. A deleverage may
    /// stop short of the target (when the pool is too thin for the whole sale within the slippage bound, or its impact
    /// exceeds the fee the sizing priced), but the hint must sell at least a quarter of the computed size
    /// (`VaultHintTooSmall`), the HF must rise, and every other outcome check holds. A leverage must land on target, so
    /// a hint too small to reach it reverts.
    function rebalance(bytes calldata path, uint256 maxAmountIn) external returns (RebalanceReport memory);

    /// @notice `rebalance` with the keeper's reward, for the keeper auction only (`VaultNotAuction`).
    /// @dev The auction has just read the vault's bounded policy and position to price the reward, in the same call and
    /// with nothing run since; the vault uses them instead of reading Aave's account data and the factory's bounds a
    /// second time. The move is sized with the reward as one more cost, so the HF still lands on target, and the reward
    /// is paid to the auction in the debt asset only after every outcome check passed.
    /// @param rewardBps The keeper premium as bps of the value sold, at most the owner's bounded `maxKeeperRewardBps`
    /// (`VaultRewardAboveCap`).
    /// @param gasRewardBase The keeper's gas part, a fixed amount in base units, paid in the debt asset at the price
    /// the rebalance uses. The premium and the gas part together are clamped to the owner's `maxRewardBase`.
    /// @param boundedPolicy `IVaultFactory.boundedPolicy(policy())`, as read by the auction in this call.
    /// @param position `position()`, as read by the auction in this call.
    function rebalanceForAuction(
        bytes calldata path,
        uint256 maxAmountIn,
        uint16 rewardBps,
        uint256 gasRewardBase,
        Policy calldata boundedPolicy,
        Position calldata position
    ) external returns (RebalanceReport memory);

    /// @notice Anyone may submit the owner's signed policy change; the submitter takes up to `maxFee`, on success only.
    /// The intent must name the current `policyVersion`, else `VaultPolicyVersionStale`.
    /// @param fee What the submitter takes, at most `intent.maxFee`; paid after the change, and the HF must then
    /// still be at least the new `minHF`.
    function setPolicyBySig(SetPolicyIntent calldata intent, bytes calldata signature, uint256 fee) external;

    /// @notice Anyone may carry out the owner's signed one-shot rebalance to `intent.targetHF`, with the owner's
    /// slippage bound, and take up to `intent.maxReward`, only in the signed direction (`VaultIntentDirection`). Works
    /// while automation is paused; the band is not checked (the owner chose the target), the tolerance and equity
    /// checks are. A debt-asset reward on a deleverage is kept
    /// from the swap output, so it works while the debt reserve is frozen; otherwise the reward is borrowed (debt
    /// asset) or withdrawn (collateral).
    function rebalanceBySig(
        RebalanceIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 reward
    ) external returns (RebalanceReport memory);

    /// @notice Anyone may carry out the owner's signed close, with the signed slippage bound (at most the factory's
    /// cap, else `VaultPolicySlippageAboveCap`); the fee comes out of what the close returns.
    function closeBySig(
        CloseIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 fee
    ) external returns (uint256 collateralReturned, uint256 debtAssetReturned);

    /// @notice The owner moves all of the vault's collateral into `newCollateral` in one transaction, keeping the debt:
    /// flash-borrow the new asset and supply it, withdraw the old, sell it along `path` (governance's routes only) for
    /// at least its oracle value less the policy's `maxSlippageBps`, repay the loan and supply the rest. Both
    /// collateral assets must be allowed against the debt asset, and both prices must agree with their TWAPs, as for a
    /// leverage. Afterwards the HF must be at least `minHF` (`VaultHealthBelowMin`) and equity may have fallen by at
    /// most the slippage bound on the value sold plus the flash premium (`VaultEquityLoss`).
    /// @param newCollateral The asset to move into.
    /// @param path Uniswap V3 exactInput path from the collateral asset to `newCollateral`. The switch's report is in
    /// the `CollateralSwitched` event.
    function switchCollateral(address newCollateral, bytes calldata path) external;

    /// @notice Anyone may carry out the owner's signed collateral switch, with the signed slippage bound (at most the
    /// factory's cap, else `VaultPolicySlippageAboveCap`), and take up to `intent.maxFee` of the new collateral,
    /// withdrawn after the switch; the HF must then still be at least `minHF`.
    function switchCollateralBySig(
        SwitchIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 fee
    ) external;

    /// @notice The owner cancels a nonce so that an intent signed with it can never run.
    function cancelNonce(uint256 nonce) external;

    /// @notice Whether `owner` used or cancelled `nonce` on this vault. Nonces are unordered: any unused one works.
    function nonceUsed(address owner, uint256 nonce) external view returns (bool);

    /// @notice Executor callback during a deleverage, close or switch: withdraws `amount` of collateral to the
    /// executor.
    function releaseCollateral(uint256 amount) external;

    /// @notice Whether a keeper may rebalance now, in which direction, how much it would sell and how urgent it is,
    /// with the policy within the factory's current bounds, as `rebalance` applies it.
    /// @return needed True when the HF is outside the band (and automation is on).
    /// @return direction Deleverage or leverage (`None` when not needed).
    /// @return amountIn Tokens to sell, sized before swap fees (the executed size also prices the path's fees).
    /// @return urgency 0 at `minHF`, rising to 1e18 at HF 1.0; 0 when leveraging.
    function rebalanceNeeded()
        external
        view
        returns (bool needed, IRebalanceExecutor.Direction direction, uint256 amountIn, uint256 urgency);

    /// @notice Disables as collateral an asset other than the vault's own that someone supplied on its behalf. Anyone
    /// may call it: Aave enables a first supply as collateral, and once that reserve's LTV is 0 (Aave sets it on a
    /// freeze) Aave refuses every withdrawal of the real collateral while debt remains, which would stop every
    /// rebalance and exit of the vault. The foreign aTokens stay with the vault; the owner is not harmed.
    /// @dev Reverts `VaultCollateralAssetKept` for the collateral asset and the factory's `FactoryNotCollateral` for an
    /// asset the vault does not use as collateral (or Aave does not list); Aave's own checks apply (HF >= 1 after).
    /// @param asset The foreign asset.
    function disableCollateral(address asset) external;

    /// @notice The vault's Aave position now.
    function position() external view returns (Position memory);

    /// @notice The owner.
    function owner() external view returns (address);

    /// @notice The asset supplied to Aave.
    function collateralAsset() external view returns (address);

    /// @notice The asset borrowed from Aave.
    function debtAsset() external view returns (address);

    /// @notice The current policy.
    function policy() external view returns (Policy memory);

    /// @notice Counts policy changes: 1 after `initialize`, one more on every `setPolicy` or `setPolicyBySig`. A
    /// `SetPolicy` intent signs the version it replaces.
    function policyVersion() external view returns (uint64);

    /// @notice Whether a call that moves this vault's position (a rebalance, signed or not, open, close or another
    /// owner operation) is running now. The keeper auction refuses to kick or cancel meanwhile, so that a token in a
    /// swap path cannot start an auction from a mid-rebalance state.
    function rebalancing() external view returns (bool);

    /// @notice Whether the owner paused keeper rebalances.
    function automationPaused() external view returns (bool);

    /// @notice The keeper auction, the one caller that may ask `rebalance` for a reward.
    function AUCTION() external view returns (address);

    /// @notice The Aave V3 pool holding the position. Like `AUCTION` and `PRICE_GUARD`, an immutable of the
    /// implementation, which every clone of a factory shares.
    function POOL() external view returns (IPool);

    /// @notice The price guard every sizing and slippage bound reads (`rebalanceNeeded` included).
    function PRICE_GUARD() external view returns (IPriceGuard);

    /// @notice The factory that created this vault: its pairs and policy bounds apply.
    function FACTORY() external view returns (IVaultFactory);

    /// @notice The executor that runs every rebalance and switch, the one caller of `releaseCollateral`.
    function EXECUTOR() external view returns (IRebalanceExecutor);
}
