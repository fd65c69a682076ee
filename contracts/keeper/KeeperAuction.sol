// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IKeeperAuction} from "../interfaces/IKeeperAuction.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {RebalanceMath} from "../libraries/RebalanceMath.sol";
import {RewardCurve} from "../libraries/RewardCurve.sol";

/// @title KeeperAuction
/// @notice See {IKeeperAuction}. Deployed just before the factory, naming the factory's predicted address, which the
/// factory's constructor checks, so that every vault can trust it as an immutable; governance is the factory's owner,
/// read on each call, so one Ownable2Step transfer moves both.
contract KeeperAuction is IKeeperAuction, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint16 public constant HARD_MAX_REWARD_BPS = 1_000;
    uint16 public constant HARD_MAX_URGENCY_BOOST_BPS = 10_000;
    uint32 public constant HARD_MIN_DURATION = 60;
    uint32 public constant HARD_MAX_DURATION = 1 days;
    uint64 public constant HARD_MAX_HF_MOVE = 0.5e18;
    uint32 public constant HARD_MAX_EXECUTE_GAS = 5_000_000;
    uint64 public constant HARD_MAX_TIP = 100 gwei;

    /// @inheritdoc IKeeperAuction
    address public immutable override FACTORY;

    Config private _config;
    GasConfig private _gasConfig;
    mapping(address vault => Auction) private _auctions;
    mapping(address recipient => mapping(address token => uint256)) private _owed;

    /// @dev Read once per `executeBatch` for all its calls while `_batching`: the native asset's price for the gas
    /// part (0 when unavailable: no gas part then, as for a single call), which only another transaction can change.
    bool private transient _batching;
    uint256 private transient _batchNativePrice;

    constructor(address factory, Config memory config_) {
        FACTORY = factory;
        _setConfig(config_);
    }

    /// @inheritdoc IKeeperAuction
    function kick(address vault) external override nonReentrant {
        if (!IVaultFactory(FACTORY).isVault(vault)) revert AuctionUnknownVault(vault);
        Auction memory a = _auctions[vault];
        if (a.kickedAt != 0) revert AuctionActive(vault, a.kickedAt);
        (IRebalanceExecutor.Direction direction, , IBallastVault.Position memory pos) = _state(vault);
        if (direction == IRebalanceExecutor.Direction.None) revert AuctionNotNeeded(vault);
        uint256 minDebt = _config.minDebtBase;
        if (pos.debtBase < minDebt) revert AuctionDustPosition(vault, pos.debtBase, minDebt);
        // The kick's gas price as the gas part prices an execution's: the base fee plus the tip bounded by `maxTip`.
        uint256 price = RewardCurve.gasPrice(block.basefee, _tip(), _gasConfig.maxTip, type(uint64).max);
        _auctions[vault] = Auction(
            uint64(block.timestamp),
            uint128(pos.healthFactor),
            direction,
            msg.sender,
            uint64(price)
        );
        emit Kicked(vault, msg.sender, direction, pos.healthFactor);
    }

    /// @inheritdoc IKeeperAuction
    function execute(
        address vault,
        bytes calldata path,
        uint256 maxAmountIn,
        address recipient
    ) external override nonReentrant returns (uint256) {
        if (recipient == address(0)) revert AuctionZeroRecipient();
        return _execute(vault, path, maxAmountIn, msg.sender, recipient, false);
    }

    /// @inheritdoc IKeeperAuction
    function executeBatch(
        Call[] calldata calls,
        address recipient
    ) external override nonReentrant returns (Result[] memory results) {
        if (recipient == address(0)) revert AuctionZeroRecipient();
        results = new Result[](calls.length);
        GasConfig memory g = _gasConfig;
        if (g.executeGas != 0) _batchNativePrice = _nativePrice(g.nativeAsset);
        _batching = true;
        // The first call that succeeds bears the transaction's overhead and is priced as a single execution.
        bool batched;
        for (uint256 i = 0; i < calls.length; ++i) {
            uint256 available = gasleft();
            try this.executeOne(calls[i], msg.sender, recipient, batched) returns (uint256 reward) {
                batched = true;
                results[i].ok = true;
                results[i].reward = reward;
            } catch (bytes memory reason) {
                // Running out of gas, in this call or deeper (each level keeps back 1/64), leaves little gas here,
                // and not always empty revert data: Uniswap's TransferHelper turns a token transfer that ran out into
                // "TF" or "STF". A call that failed having used over three quarters of the gas it had is a want of
                // gas, not a failure on the vault's merits: fail the batch, so that a gas estimate covers every call
                // instead of settling on a partial batch.
                if (gasleft() < available / 4) revert AuctionBatchOutOfGas(i);
                results[i].reason = reason;
                emit ExecutionFailed(calls[i].vault, reason);
            }
        }
        _batching = false;
        _batchNativePrice = 0;
    }

    /// @inheritdoc IKeeperAuction
    function executeOne(
        Call calldata call,
        address keeper,
        address recipient,
        bool batched
    ) external override returns (uint256) {
        if (msg.sender != address(this)) revert AuctionOnlySelf(msg.sender);
        return _execute(call.vault, call.path, call.maxAmountIn, keeper, recipient, batched);
    }

    /// @inheritdoc IKeeperAuction
    function cancel(address vault) external override nonReentrant {
        Auction memory a = _auctions[vault];
        if (a.kickedAt == 0) revert AuctionNotActive(vault);
        (IRebalanceExecutor.Direction direction, , ) = _state(vault);
        if (direction == a.direction) revert AuctionStillNeeded(vault);
        delete _auctions[vault];
        emit Cancelled(vault, msg.sender);
    }

    /// @inheritdoc IKeeperAuction
    function claim(address token, address to) external override nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender][token];
        if (amount == 0) revert AuctionNothingOwed(token);
        _owed[msg.sender][token] = 0;
        IERC20(token).safeTransfer(to, amount);
        emit Claimed(msg.sender, token, to, amount);
    }

    /// @inheritdoc IKeeperAuction
    function setConfig(Config calldata config_) external override {
        if (msg.sender != Ownable(FACTORY).owner()) revert AuctionNotGovernance(msg.sender);
        _setConfig(config_);
    }

    /// @inheritdoc IKeeperAuction
    function config() external view override returns (Config memory) {
        return _config;
    }

    /// @inheritdoc IKeeperAuction
    function setGasConfig(GasConfig calldata gasConfig_) external override {
        if (msg.sender != Ownable(FACTORY).owner()) revert AuctionNotGovernance(msg.sender);
        if (gasConfig_.executeGas > HARD_MAX_EXECUTE_GAS || gasConfig_.batchCallGas > gasConfig_.executeGas) {
            revert AuctionGasUnitsInvalid(gasConfig_.executeGas, gasConfig_.batchCallGas, HARD_MAX_EXECUTE_GAS);
        }
        if (gasConfig_.kickGas > gasConfig_.executeGas) {
            revert AuctionKickGasInvalid(gasConfig_.kickGas, gasConfig_.executeGas);
        }
        if (gasConfig_.maxTip > HARD_MAX_TIP) revert AuctionMaxTipAboveLimit(gasConfig_.maxTip, HARD_MAX_TIP);
        if (gasConfig_.executeGas != 0) {
            if (gasConfig_.nativeAsset == address(0)) revert AuctionNativeAssetInvalid(address(0));
            // Reverts with the price guard's own error when the asset is not priced.
            IVaultFactory(FACTORY).PRICE_GUARD().price(gasConfig_.nativeAsset);
        }
        _gasConfig = gasConfig_;
        emit GasConfigSet(gasConfig_);
    }

    /// @inheritdoc IKeeperAuction
    function gasConfig() external view override returns (GasConfig memory) {
        return _gasConfig;
    }

    /// @inheritdoc IKeeperAuction
    function quoteReward(
        address vault,
        uint256 baseFee,
        uint256 tip,
        bool batched
    ) external view override returns (Quote memory quote) {
        Auction memory a = _auctions[vault];
        if (a.kickedAt == 0) return quote;
        (IBallastVault.Policy memory p, IBallastVault.Position memory pos) = _read(vault);
        quote.maxRewardBase = p.maxRewardBase;
        (quote.rewardBps, quote.gasPrice, quote.gasRewardBase, quote.kickRefundBase) = _reward(
            a,
            p,
            pos,
            baseFee,
            tip,
            batched
        );
        if (quote.gasRewardBase != 0) {
            address debt = IBallastVault(vault).debtAsset();
            quote.gasReward = RebalanceMath.toAmount(
                quote.gasRewardBase,
                IVaultFactory(FACTORY).PRICE_GUARD().price(debt),
                IERC20Metadata(debt).decimals()
            );
        }
    }

    /// @inheritdoc IKeeperAuction
    function auctionOf(address vault) external view override returns (Auction memory) {
        return _auctions[vault];
    }

    /// @inheritdoc IKeeperAuction
    function currentRewardBps(address vault) external view override returns (uint16) {
        Auction memory a = _auctions[vault];
        if (a.kickedAt == 0) return 0;
        (IBallastVault.Policy memory p, IBallastVault.Position memory pos) = _read(vault);
        (uint16 bps, , , ) = _reward(a, p, pos, 0, 0, false);
        return bps;
    }

    /// @inheritdoc IKeeperAuction
    function rewardBpsAt(uint256 elapsed, uint256 urgency) external view override returns (uint256) {
        return RewardCurve.rewardBps(_config, elapsed, urgency);
    }

    /// @inheritdoc IKeeperAuction
    function owed(address recipient, address token) external view override returns (uint256) {
        return _owed[recipient][token];
    }

    /// @dev Ends the auction before the vault is called, so a second execution in the same transaction finds none;
    /// a revert anywhere restores it.
    function _execute(
        address vault,
        bytes calldata path,
        uint256 maxAmountIn,
        address keeper,
        address recipient,
        bool batched
    ) private returns (uint256 reward) {
        Auction memory a = _auctions[vault];
        if (a.kickedAt == 0) revert AuctionNotActive(vault);
        delete _auctions[vault];
        (IBallastVault.RebalanceReport memory report, uint16 bps, uint256 gasBase, uint256 kickBase) = _rebalance(
            vault,
            a,
            path,
            maxAmountIn,
            batched
        );
        if (report.keeperReward != 0) {
            address kicker = a.kicker == keeper ? address(0) : a.kicker;
            reward = _share(vault, report.keeperReward, kicker, kickBase, recipient);
        }
        emit Executed(
            vault,
            keeper,
            recipient,
            bps,
            gasBase + kickBase,
            report.keeperReward,
            report.hfBefore,
            report.hfAfter
        );
    }

    /// @dev Prices the reward on one read of the vault's bounded policy and position and has the vault rebalance on
    /// that same read: nothing runs between the two. The kick's refund is asked of the vault with the execution's gas
    /// part; the vault clamps the sum.
    function _rebalance(
        address vault,
        Auction memory a,
        bytes calldata path,
        uint256 maxAmountIn,
        bool batched
    ) private returns (IBallastVault.RebalanceReport memory report, uint16 bps, uint256 gasBase, uint256 kickBase) {
        (IBallastVault.Policy memory p, IBallastVault.Position memory pos) = _read(vault);
        (bps, gasBase, kickBase) = _rewardNow(vault, a, p, pos, batched);
        report = IBallastVault(vault).rebalanceForAuction(path, maxAmountIn, bps, gasBase + kickBase, p, pos);
    }

    /// @dev Pays `paid` (the vault's debt asset): a `kicker` (zero when it is the executing keeper) its refund first,
    /// at most all of it, then `recipient` the rest, which it returns.
    function _share(
        address vault,
        uint256 paid,
        address kicker,
        uint256 kickBase,
        address recipient
    ) private returns (uint256 rest) {
        address debt = IBallastVault(vault).debtAsset();
        rest = paid;
        if (kicker != address(0) && kickBase != 0) {
            uint256 refund = RebalanceMath.toAmount(
                kickBase,
                IVaultFactory(FACTORY).PRICE_GUARD().price(debt),
                IERC20Metadata(debt).decimals()
            );
            if (refund > rest) refund = rest;
            rest -= refund;
            _payOut(debt, kicker, refund);
            emit KickRefunded(vault, kicker, refund);
        }
        if (rest != 0) _payOut(debt, recipient, rest);
    }

    /// @dev The reward for executing now, priced at this transaction's base fee and tip.
    function _rewardNow(
        address vault,
        Auction memory a,
        IBallastVault.Policy memory p,
        IBallastVault.Position memory pos,
        bool batched
    ) private view returns (uint16 bps, uint256 gasBase, uint256 kickBase) {
        // An auction kicked one way must not pay, with the time it accrued, for a move the other way. (A pause, or a
        // vault back in band, is the vault's to refuse.)
        IRebalanceExecutor.Direction direction = RebalanceMath.band(pos, p);
        if (direction != a.direction && direction != IRebalanceExecutor.Direction.None) {
            revert AuctionDirectionChanged(vault, a.direction, direction);
        }
        (bps, , gasBase, kickBase) = _reward(a, p, pos, block.basefee, _tip(), batched);
    }

    /// @dev This transaction's priority fee; an eth_call may run with a gas price below the base fee (or none).
    function _tip() private view returns (uint256) {
        return tx.gasprice > block.basefee ? tx.gasprice - block.basefee : 0;
    }

    /// @dev The premium: the curve at the current urgency, capped by the owner and the protocol. The gas part: the gas
    /// units times the base fee plus the tip bounded by `maxTip`, at most the owner's `maxGasPrice`, valued at the
    /// native asset's price and at most the owner's `maxRewardBase`; nothing while the native price is unavailable, so
    /// that a stale feed of an unrelated asset cannot stop rebalances. Neither for dust or for a move smaller than
    /// `minHFMove` (the vault lands within its tolerance of the target, so the move is known up front).
    function _reward(
        Auction memory a,
        IBallastVault.Policy memory p,
        IBallastVault.Position memory pos,
        uint256 baseFee,
        uint256 tip,
        bool batched
    ) private view returns (uint16 bps, uint256 gasPrice, uint256 gasBase, uint256 kickBase) {
        bool earns;
        (earns, bps) = _premium(a.kickedAt, p, pos);
        if (!earns) return (0, 0, 0, 0);
        (gasPrice, gasBase, kickBase) = _gasPart(p, baseFee, tip, batched, a.kickGasPrice);
    }

    /// @dev The curve at the current urgency, capped by the owner and the protocol; `earns` is false for dust and for
    /// a move smaller than `minHFMove`, which earn nothing.
    function _premium(
        uint256 kickedAt,
        IBallastVault.Policy memory p,
        IBallastVault.Position memory pos
    ) private view returns (bool earns, uint16 bps) {
        Config memory c = _config;
        uint256 hf = pos.healthFactor;
        uint256 move = hf > p.targetHF ? hf - p.targetHF : p.targetHF - hf;
        if (pos.debtBase < c.minDebtBase || move < c.minHFMove) return (false, 0);
        uint256 urgency = hf < p.minHF ? RebalanceMath.urgency(hf, p.minHF) : 0;
        uint256 curve = RewardCurve.rewardBps(c, block.timestamp - kickedAt, urgency);
        // `p` is bounded (see `_read`): its premium cap is at most the protocol's.
        if (curve > p.maxKeeperRewardBps) curve = p.maxKeeperRewardBps;
        return (true, uint16(curve));
    }

    /// @dev The execution's gas part and the kick's refund (`kickGas` at the kick's price, at most the owner's
    /// `maxGasPrice`), both at one read of the native asset's price.
    function _gasPart(
        IBallastVault.Policy memory p,
        uint256 baseFee,
        uint256 tip,
        bool batched,
        uint256 kickGasPrice
    ) private view returns (uint256 gasPrice, uint256 gasBase, uint256 kickBase) {
        GasConfig memory g = _gasConfig;
        uint256 units = batched ? g.batchCallGas : g.executeGas;
        if (units == 0) return (0, 0, 0);
        gasPrice = RewardCurve.gasPrice(baseFee, tip, g.maxTip, p.maxGasPrice);
        uint256 nativePrice = _batching ? _batchNativePrice : _nativePrice(g.nativeAsset);
        if (nativePrice == 0) return (gasPrice, 0, 0);
        // The kick's refund comes first, as it is paid first; together they stay within the owner's cap.
        kickBase = RewardCurve.gasRewardBase(
            g.kickGas,
            kickGasPrice < p.maxGasPrice ? kickGasPrice : p.maxGasPrice,
            nativePrice,
            p.maxRewardBase
        );
        gasBase = RewardCurve.gasRewardBase(units, gasPrice, nativePrice, p.maxRewardBase - kickBase);
    }

    /// @dev The price guard's price of the native asset, or 0 when it cannot give one (stale, say): the gas part is
    /// then left out rather than the execution refused.
    function _nativePrice(address nativeAsset) private view returns (uint256) {
        try IVaultFactory(FACTORY).PRICE_GUARD().price(nativeAsset) returns (uint256 nativePrice) {
            return nativePrice;
        } catch {
            return 0;
        }
    }

    /// @dev The vault's own band rule (`rebalanceNeeded` without its sizing): `None` without debt, while automation
    /// is paused, or inside the band. Reverts while the vault is mid-operation.
    function _state(
        address vault
    )
        private
        view
        returns (
            IRebalanceExecutor.Direction direction,
            IBallastVault.Policy memory p,
            IBallastVault.Position memory pos
        )
    {
        if (IBallastVault(vault).rebalancing()) revert AuctionVaultBusy(vault);
        (p, pos) = _read(vault);
        if (!IBallastVault(vault).automationPaused()) direction = RebalanceMath.band(pos, p);
    }

    /// @dev The vault's policy within the factory's current bounds, as the vault's `rebalance` applies it: the premium
    /// at most the protocol's reward cap, `minHF` at least the floor.
    function _read(address vault) private view returns (IBallastVault.Policy memory, IBallastVault.Position memory) {
        return (IVaultFactory(FACTORY).boundedPolicy(IBallastVault(vault).policy()), IBallastVault(vault).position());
    }

    /// @dev A push that fails (a token that blocks the recipient, say) must not undo the rebalance: credit instead.
    function _payOut(address token, address recipient, uint256 amount) private {
        if (!IERC20(token).trySafeTransfer(recipient, amount)) {
            _owed[recipient][token] += amount;
            emit RewardDeferred(recipient, token, amount);
        }
    }

    function _setConfig(Config memory c) private {
        if (
            c.startBps > c.maxBps ||
            c.maxBps > HARD_MAX_REWARD_BPS ||
            c.urgencyBoostBps > HARD_MAX_URGENCY_BOOST_BPS ||
            c.duration < HARD_MIN_DURATION ||
            c.duration > HARD_MAX_DURATION ||
            (c.kind == CurveKind.Stairstep && (c.step == 0 || c.step > c.duration)) ||
            (c.kind == CurveKind.Exponential && c.startBps == 0) ||
            c.minHFMove > HARD_MAX_HF_MOVE
        ) revert AuctionConfigInvalid();
        _config = c;
        emit ConfigSet(c);
    }
}
