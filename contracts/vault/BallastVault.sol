// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {ICreditDelegationToken} from "@aave/core-v3/contracts/interfaces/ICreditDelegationToken.sol";

import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IPriceGuard} from "../interfaces/IPriceGuard.sol";
import {IRebalanceExecutor} from "../interfaces/IRebalanceExecutor.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {RebalanceMath} from "../libraries/RebalanceMath.sol";
import {VaultPlanner} from "../libraries/VaultPlanner.sol";
import {CollateralLogic} from "./logic/CollateralLogic.sol";

/// @title BallastVault
/// @notice See {IBallastVault}. Deployed once as the implementation of the factory's EIP-1167 clones; each clone is
/// one owner's position. Protocol addresses, the trusted forwarder and the EIP-712 name and version are immutables of
/// the implementation, which clones share; the EIP-712 domain binds each clone's own address and the chain id.
contract BallastVault is IBallastVault, Initializable, ReentrancyGuardTransient, EIP712, ERC2771Context {
    using SafeERC20 for IERC20;

    uint256 private constant _VARIABLE_RATE = 2;

    /// @notice EIP-712 type hashes of the owner's signed intents.
    bytes32 public constant POLICY_TYPEHASH = keccak256(
        "Policy(uint64 minHF,uint64 targetHF,uint64 maxHF,uint16 maxSlippageBps,uint16 maxKeeperRewardBps,"
        "uint64 maxGasPrice,uint64 maxRewardBase,uint16 urgentSlippageBps)"
    );
    bytes32 public constant SET_POLICY_TYPEHASH = keccak256(
        "SetPolicy(address vault,Policy policy,uint64 version,address feeToken,uint256 maxFee,uint256 nonce,"
        "uint256 deadline)"
        "Policy(uint64 minHF,uint64 targetHF,uint64 maxHF,uint16 maxSlippageBps,uint16 maxKeeperRewardBps,"
        "uint64 maxGasPrice,uint64 maxRewardBase,uint16 urgentSlippageBps)"
    );
    bytes32 public constant REBALANCE_TYPEHASH = keccak256(
        "Rebalance(address vault,uint8 direction,uint64 targetHF,uint16 maxSlippageBps,address rewardToken,"
        "uint256 maxReward,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant CLOSE_TYPEHASH = keccak256(
        "Close(address vault,uint16 maxSlippageBps,address feeToken,uint256 maxFee,uint256 nonce,uint256 deadline)"
    );
    bytes32 public constant SWITCH_TYPEHASH = keccak256(
        "Switch(address vault,address newCollateral,uint16 maxSlippageBps,uint256 maxFee,uint256 nonce,"
        "uint256 deadline)"
    );

    /// @notice The factory that created this vault and holds the protocol parameters.
    IVaultFactory public immutable FACTORY;
    /// @notice The Aave V3 pool holding the position.
    IPool public immutable POOL;
    /// @notice The executor trusted with `releaseCollateral` during a rebalance.
    IRebalanceExecutor public immutable EXECUTOR;
    /// @notice The oracle guard every sizing and slippage bound reads.
    IPriceGuard public immutable PRICE_GUARD;
    /// @inheritdoc IBallastVault
    address public immutable override AUCTION;

    /// @inheritdoc IBallastVault
    address public override owner;
    /// @inheritdoc IBallastVault
    bool public override automationPaused;
    /// @inheritdoc IBallastVault
    uint64 public override policyVersion;
    /// @inheritdoc IBallastVault
    address public override collateralAsset;
    uint8 private _collateralDecimals;
    /// @inheritdoc IBallastVault
    address public override debtAsset;
    uint8 private _debtDecimals;
    address private _variableDebtToken;
    Policy private _policy;
    mapping(address owner => mapping(uint256 nonce => bool)) private _nonceUsed;

    /// @dev Set only while this vault's own call to the executor runs: `releaseCollateral` is valid only then.
    bool private transient _executing;

    /// @dev What a caller asks of `_rebalance`: `payAmount` of `payToken` goes to the caller after execution (a
    /// signed intent's fixed reward), `rewardBps` of the value sold and `gasRewardBase` are kept from the swap for the
    /// keeper auction.
    /// `ownerExit` (the owner's own emergency delever) prices with fresh feeds only, without the TWAP agreement.
    struct Order {
        IRebalanceExecutor.Direction direction;
        uint256 targetHF;
        uint256 maxAmountIn;
        uint256 slippageBps;
        bool inBand;
        address payToken;
        uint256 payAmount;
        uint256 rewardBps;
        uint256 gasRewardBase;
        bool ownerExit;
    }

    modifier onlyOwner() {
        if (_msgSender() != owner) revert VaultNotOwner(_msgSender());
        _;
    }

    constructor(
        IVaultFactory factory,
        IPool pool,
        IRebalanceExecutor executor,
        IPriceGuard priceGuard,
        address forwarder,
        address auction
    ) EIP712("BallastVault", "1") ERC2771Context(forwarder) {
        FACTORY = factory;
        POOL = pool;
        EXECUTOR = executor;
        PRICE_GUARD = priceGuard;
        AUCTION = auction;
        _disableInitializers();
    }

    /// @inheritdoc IBallastVault
    function initialize(
        address owner_,
        address collateralAsset_,
        address debtAsset_,
        Policy calldata policy_
    ) external override initializer {
        if (msg.sender != address(FACTORY)) revert VaultNotFactory(msg.sender);
        owner = owner_;
        collateralAsset = collateralAsset_;
        debtAsset = debtAsset_;
        _collateralDecimals = IERC20Metadata(collateralAsset_).decimals();
        _debtDecimals = IERC20Metadata(debtAsset_).decimals();
        _variableDebtToken = POOL.getReserveData(debtAsset_).variableDebtTokenAddress;
        _setPolicy(policy_);
        emit VaultInitialized(owner_, collateralAsset_, debtAsset_);
    }

    /// @inheritdoc IBallastVault
    function deposit(uint256 amount) external override onlyOwner nonReentrant {
        _deposit(amount);
    }

    /// @inheritdoc IBallastVault
    function withdraw(uint256 amount, address to) external override onlyOwner nonReentrant {
        if (amount == 0 || to == address(0)) revert VaultZeroAmount();
        uint256 withdrawn = POOL.withdraw(collateralAsset, amount, to);
        Position memory after_ = _position();
        if (after_.debtBase != 0 && after_.healthFactor < _policy.minHF) {
            revert VaultHealthBelowMin(after_.healthFactor, _policy.minHF);
        }
        emit Withdrawn(to, withdrawn);
    }

    /// @inheritdoc IBallastVault
    function repay(uint256 amount) external override onlyOwner nonReentrant {
        uint256 debt = IERC20(_variableDebtToken).balanceOf(address(this));
        if (debt == 0) revert VaultNoDebt();
        if (amount > debt) amount = debt;
        if (amount == 0) revert VaultZeroAmount();
        address asset = debtAsset;
        IERC20(asset).safeTransferFrom(_msgSender(), address(this), amount);
        IERC20(asset).forceApprove(address(POOL), amount);
        POOL.repay(asset, amount, _VARIABLE_RATE, address(this));
        emit Repaid(_msgSender(), amount);
    }

    /// @inheritdoc IBallastVault
    function open(
        uint256 amount,
        uint64 targetHF,
        bytes calldata path
    ) external override onlyOwner nonReentrant returns (RebalanceReport memory) {
        Policy memory p = _policy;
        if (targetHF < p.minHF || targetHF > p.maxHF) revert VaultOutOfBand(targetHF, p.minHF, p.maxHF);
        if (IERC20(_variableDebtToken).balanceOf(address(this)) != 0) {
            Position memory pos = _position();
            revert VaultNotEmpty(pos.collateralBase, pos.debtBase);
        }
        _deposit(amount);
        return _rebalance(_order(IRebalanceExecutor.Direction.Leverage, targetHF, p, true), path, _position());
    }

    /// @inheritdoc IBallastVault
    function close(bytes calldata path) external override onlyOwner nonReentrant returns (uint256, uint256) {
        return _close(path, _policy.maxSlippageBps, address(0), 0, true);
    }

    /// @inheritdoc IBallastVault
    function emergencyDelever(
        uint64 targetHF,
        bytes calldata path
    ) external override onlyOwner nonReentrant returns (RebalanceReport memory) {
        Position memory pos = _position();
        if (targetHF <= pos.healthFactor) revert VaultTargetNotAbove(targetHF, pos.healthFactor);
        Order memory order = _order(IRebalanceExecutor.Direction.Deleverage, targetHF, _policy, false);
        order.ownerExit = true;
        return _rebalance(order, path, pos);
    }

    /// @inheritdoc IBallastVault
    function setPolicy(Policy calldata policy_) external override onlyOwner {
        _setPolicy(policy_);
    }

    /// @inheritdoc IBallastVault
    function pauseAutomation(bool paused) external override onlyOwner {
        automationPaused = paused;
        emit AutomationPaused(paused);
    }

    /// @inheritdoc IBallastVault
    function rebalance(
        bytes calldata path,
        uint256 maxAmountIn
    ) external override nonReentrant returns (RebalanceReport memory) {
        return _keeperRebalance(path, maxAmountIn, 0, 0, _boundedPolicy(), _position());
    }

    /// @inheritdoc IBallastVault
    function rebalanceForAuction(
        bytes calldata path,
        uint256 maxAmountIn,
        uint16 rewardBps,
        uint256 gasRewardBase,
        Policy calldata boundedPolicy,
        Position calldata position_
    ) external override nonReentrant returns (RebalanceReport memory) {
        if (msg.sender != AUCTION) revert VaultNotAuction(msg.sender);
        if (rewardBps > boundedPolicy.maxKeeperRewardBps) {
            revert VaultRewardAboveCap(rewardBps, boundedPolicy.maxKeeperRewardBps);
        }
        return _keeperRebalance(path, maxAmountIn, rewardBps, gasRewardBase, boundedPolicy, position_);
    }

    /// @inheritdoc IBallastVault
    function setPolicyBySig(
        SetPolicyIntent calldata intent,
        bytes calldata signature,
        uint256 fee
    ) external override nonReentrant {
        if (fee > intent.maxFee) revert VaultFeeAboveMax(fee, intent.maxFee);
        _checkFeeToken(intent.feeToken);
        Policy calldata p = intent.policy;
        // Every field of `Policy` is static, so the struct encodes as its fields one after the other: EIP-712's
        // encodeData of `Policy`.
        bytes32 policyHash = keccak256(abi.encode(POLICY_TYPEHASH, p));
        _useIntent(
            keccak256(
                abi.encode(
                    SET_POLICY_TYPEHASH,
                    address(this),
                    policyHash,
                    intent.version,
                    intent.feeToken,
                    intent.maxFee,
                    intent.nonce,
                    intent.deadline
                )
            ),
            intent.nonce,
            intent.deadline,
            signature
        );
        // After the signature and nonce checks, so that a replay of a used intent reads as `VaultNonceUsed`.
        uint64 current = policyVersion;
        if (intent.version != current) revert VaultPolicyVersionStale(intent.version, current);
        _setPolicy(p);
        if (fee != 0) {
            _pay(intent.feeToken, fee, _msgSender());
            Position memory pos = _position();
            if (pos.debtBase != 0 && pos.healthFactor < p.minHF) revert VaultHealthBelowMin(pos.healthFactor, p.minHF);
        }
        emit IntentExecuted(_msgSender(), intent.nonce, intent.feeToken, fee);
    }

    /// @inheritdoc IBallastVault
    function rebalanceBySig(
        RebalanceIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 reward
    ) external override nonReentrant returns (RebalanceReport memory report) {
        if (reward > intent.maxReward) revert VaultFeeAboveMax(reward, intent.maxReward);
        _checkFeeToken(intent.rewardToken);
        _useIntent(
            keccak256(
                abi.encode(
                    REBALANCE_TYPEHASH,
                    address(this),
                    intent.direction,
                    intent.targetHF,
                    intent.maxSlippageBps,
                    intent.rewardToken,
                    intent.maxReward,
                    intent.nonce,
                    intent.deadline
                )
            ),
            intent.nonce,
            intent.deadline,
            signature
        );
        _checkSlippageCap(intent.maxSlippageBps);
        Position memory pos = _position();
        IRebalanceExecutor.Direction direction =
            intent.targetHF > pos.healthFactor
                ? IRebalanceExecutor.Direction.Deleverage
                : IRebalanceExecutor.Direction.Leverage;
        // Signed to de-risk, filled to lever (or the reverse): refused.
        if (direction != intent.direction) revert VaultIntentDirection(intent.direction, direction);
        Order memory order = Order({
            direction: direction,
            targetHF: intent.targetHF,
            maxAmountIn: type(uint256).max,
            slippageBps: intent.maxSlippageBps,
            inBand: false,
            payToken: intent.rewardToken,
            payAmount: reward,
            rewardBps: 0,
            gasRewardBase: 0,
            ownerExit: false
        });
        report = _rebalance(order, path, pos);
        emit IntentExecuted(_msgSender(), intent.nonce, intent.rewardToken, reward);
    }

    /// @inheritdoc IBallastVault
    function closeBySig(
        CloseIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 fee
    ) external override nonReentrant returns (uint256 collateralReturned, uint256 debtAssetReturned) {
        if (fee > intent.maxFee) revert VaultFeeAboveMax(fee, intent.maxFee);
        _checkFeeToken(intent.feeToken);
        _useIntent(
            keccak256(
                abi.encode(
                    CLOSE_TYPEHASH,
                    address(this),
                    intent.maxSlippageBps,
                    intent.feeToken,
                    intent.maxFee,
                    intent.nonce,
                    intent.deadline
                )
            ),
            intent.nonce,
            intent.deadline,
            signature
        );
        _checkSlippageCap(intent.maxSlippageBps);
        (collateralReturned, debtAssetReturned) = _close(path, intent.maxSlippageBps, intent.feeToken, fee, false);
        emit IntentExecuted(_msgSender(), intent.nonce, intent.feeToken, fee);
    }

    /// @inheritdoc IBallastVault
    function switchCollateral(address newCollateral, bytes calldata path) external override onlyOwner nonReentrant {
        _switch(newCollateral, path, _policy.maxSlippageBps, 0);
    }

    /// @inheritdoc IBallastVault
    function switchCollateralBySig(
        SwitchIntent calldata intent,
        bytes calldata signature,
        bytes calldata path,
        uint256 fee
    ) external override nonReentrant {
        if (fee > intent.maxFee) revert VaultFeeAboveMax(fee, intent.maxFee);
        _useIntent(
            keccak256(
                abi.encode(
                    SWITCH_TYPEHASH,
                    address(this),
                    intent.newCollateral,
                    intent.maxSlippageBps,
                    intent.maxFee,
                    intent.nonce,
                    intent.deadline
                )
            ),
            intent.nonce,
            intent.deadline,
            signature
        );
        _checkSlippageCap(intent.maxSlippageBps);
        _switch(intent.newCollateral, path, intent.maxSlippageBps, fee);
        emit IntentExecuted(_msgSender(), intent.nonce, intent.newCollateral, fee);
    }

    /// @inheritdoc IBallastVault
    function cancelNonce(uint256 nonce) external override onlyOwner {
        address owner_ = owner;
        if (_nonceUsed[owner_][nonce]) revert VaultNonceUsed(nonce);
        _nonceUsed[owner_][nonce] = true;
        emit NonceCancelled(owner_, nonce);
    }

    /// @inheritdoc IBallastVault
    function nonceUsed(address owner_, uint256 nonce) external view override returns (bool) {
        return _nonceUsed[owner_][nonce];
    }

    /// @inheritdoc IBallastVault
    function releaseCollateral(uint256 amount) external override {
        if (msg.sender != address(EXECUTOR) || !_executing) revert VaultNotExecutor(msg.sender);
        POOL.withdraw(collateralAsset, amount, msg.sender);
    }

    /// @inheritdoc IBallastVault
    function rebalanceNeeded()
        external
        view
        override
        returns (bool needed, IRebalanceExecutor.Direction direction, uint256 amountIn, uint256 urgency)
    {
        Policy memory p = _boundedPolicy();
        Position memory pos = _position();
        direction = automationPaused ? IRebalanceExecutor.Direction.None : RebalanceMath.band(pos, p);
        needed = direction != IRebalanceExecutor.Direction.None;
        if (!needed) return (false, direction, 0, 0);
        bool deleverage = direction == IRebalanceExecutor.Direction.Deleverage;
        (amountIn, urgency) = VaultPlanner.hint(
            direction,
            pos,
            p,
            deleverage ? POOL.FLASHLOAN_PREMIUM_TOTAL() : 0,
            PRICE_GUARD.price(deleverage ? collateralAsset : debtAsset),
            deleverage ? _collateralDecimals : _debtDecimals
        );
    }

    /// @inheritdoc IBallastVault
    function disableCollateral(address asset) external override {
        CollateralLogic.disableCollateral(asset, msg.sender);
    }

    /// @inheritdoc IBallastVault
    function rebalancing() external view override returns (bool) {
        return _reentrancyGuardEntered();
    }

    /// @inheritdoc IBallastVault
    function position() external view override returns (Position memory) {
        return _position();
    }

    /// @inheritdoc IBallastVault
    function policy() external view override returns (Policy memory) {
        return _policy;
    }

    function _deposit(uint256 amount) private {
        if (amount == 0) revert VaultZeroAmount();
        address asset = collateralAsset;
        IERC20(asset).safeTransferFrom(_msgSender(), address(this), amount);
        // Aave pulls exactly `amount`, so the allowance returns to zero.
        IERC20(asset).forceApprove(address(POOL), amount);
        POOL.supply(asset, amount, address(this), 0);
        emit Deposited(_msgSender(), amount);
    }

    /// @dev The factory checks the policy against its bounds (see `IVaultFactory.checkPolicy`); every change bumps
    /// `policyVersion`, which makes any `SetPolicy` intent signed against the old version stale.
    function _setPolicy(Policy calldata p) private {
        FACTORY.checkPolicy(p);
        _policy = p;
        ++policyVersion;
        emit PolicySet(p);
    }

    /// @dev A keeper's move into the band, on `p` (the stored policy within the factory's bounds) and `pos`, both read
    /// in this transaction with nothing run since: by this vault, or by the auction just before its call.
    function _keeperRebalance(
        bytes calldata path,
        uint256 maxAmountIn,
        uint16 rewardBps,
        uint256 gasRewardBase,
        Policy memory p,
        Position memory pos
    ) private returns (RebalanceReport memory) {
        if (automationPaused) revert VaultAutomationPaused();
        if (maxAmountIn == 0) revert VaultZeroHint();
        IRebalanceExecutor.Direction direction = RebalanceMath.band(pos, p);
        if (direction == IRebalanceExecutor.Direction.None) revert VaultInBand(pos.healthFactor, p.minHF, p.maxHF);
        Order memory order = _order(direction, p.targetHF, p, true);
        if (direction == IRebalanceExecutor.Direction.Deleverage) {
            order.slippageBps = RebalanceMath.saleSlippageBps(pos.healthFactor, p);
        }
        order.maxAmountIn = maxAmountIn;
        order.rewardBps = rewardBps;
        order.gasRewardBase = gasRewardBase;
        return _rebalance(order, path, pos);
    }

    /// @dev Sizes the move in closed form, runs it through the executor, then verifies the outcome.
    function _rebalance(
        Order memory order,
        bytes calldata path,
        Position memory before
    ) private returns (RebalanceReport memory report) {
        uint256 gasStart = gasleft();
        VaultPlanner.Context memory ctx = _context(
            order.direction,
            order.targetHF,
            order.slippageBps,
            before,
            order.ownerExit
        );
        ctx.rewardBps = order.rewardBps;
        ctx.gasRewardBase = order.gasRewardBase;
        ctx.maxRewardBase = _policy.maxRewardBase;
        if (order.payToken == debtAsset && order.direction == IRebalanceExecutor.Direction.Deleverage) {
            // Out of the swap output, not borrowed: a borrow fails on a frozen reserve, which must not stop a delever.
            ctx.payKeep = order.payAmount;
            order.payAmount = 0;
        }
        IRebalanceExecutor.Plan memory plan = VaultPlanner.sizePlan(ctx, path, order.maxAmountIn);
        if (order.direction == IRebalanceExecutor.Direction.Leverage) {
            // One-shot credit: the flash loan in mode 2 consumes exactly this allowance.
            ICreditDelegationToken(_variableDebtToken).approveDelegation(address(EXECUTOR), plan.flashAmount);
        }
        _executing = true;
        IRebalanceExecutor.Execution memory ex = EXECUTOR.execute(plan);
        _executing = false;
        // The kept keeper reward and a signed intent's reward (paid now, before the checks, so that the HF accounts
        // for it) both count against the owner's equity, within the loss bound.
        uint256 paidBase = RebalanceMath.toBase(plan.keep, ctx.debtPrice, _debtDecimals);
        if (order.payAmount != 0) {
            _pay(order.payToken, order.payAmount, _msgSender());
            paidBase +=
                order.payToken == collateralAsset
                    ? RebalanceMath.toBase(order.payAmount, ctx.collateralPrice, _collateralDecimals)
                    : RebalanceMath.toBase(order.payAmount, ctx.debtPrice, _debtDecimals);
        }
        ex.leftover -= plan.keep;
        report = _verify(ctx, plan, ex, order.inBand, paidBase);
        // The kept reward leaves only once every outcome check has passed.
        if (plan.keep != 0) IERC20(debtAsset).safeTransfer(_msgSender(), plan.keep);
        report.keeperReward = plan.keep;
        report.gasUsed = gasStart - gasleft();
        emit Rebalanced(_msgSender(), report);
    }

    /// @dev The standard order: the whole computed size, the policy's slippage bound, nothing paid.
    function _order(
        IRebalanceExecutor.Direction direction,
        uint256 targetHF,
        Policy memory p,
        bool inBand
    ) private pure returns (Order memory) {
        return Order(direction, targetHF, type(uint256).max, p.maxSlippageBps, inBand, address(0), 0, 0, 0, false);
    }

    /// @dev Unwinds if there is debt, pays `fee` of `feeToken` to the caller out of what is left, and sends the rest to
    /// the owner.
    function _close(
        bytes calldata path,
        uint256 slippageBps,
        address feeToken,
        uint256 fee,
        bool ownerExit
    ) private returns (uint256 collateralReturned, uint256 debtAssetReturned) {
        address collateral = collateralAsset;
        if (IERC20(_variableDebtToken).balanceOf(address(this)) != 0)
            _unwind(path, slippageBps, ownerExit);
            // Without debt there must be collateral, or Aave would refuse the withdrawal with a bare error code.
        else if (_position().collateralBase == 0) revert VaultNothingToClose();
        address to = owner;
        address debt = debtAsset;
        if (fee != 0) {
            // The fee token was checked to be one of the two assets; the fee comes out of what is returned.
            uint256 available =
                feeToken == collateral
                    ? IERC20(POOL.getReserveData(collateral).aTokenAddress).balanceOf(address(this))
                    : IERC20(debt).balanceOf(address(this));
            if (available < fee) revert VaultFeeUnavailable(feeToken, fee, available);
            if (feeToken == collateral) POOL.withdraw(collateral, fee, _msgSender());
            else IERC20(debt).safeTransfer(_msgSender(), fee);
        }
        collateralReturned = POOL.withdraw(collateral, type(uint256).max, to);
        debtAssetReturned = IERC20(debt).balanceOf(address(this));
        if (debtAssetReturned != 0) IERC20(debt).safeTransfer(to, debtAssetReturned);
        emit Closed(to, collateralReturned, debtAssetReturned);
    }

    /// @dev Checks the deadline, the nonce and the owner's signature (EOA or EIP-1271) over the EIP-712 digest of
    /// `structHash`, then spends the nonce.
    function _useIntent(bytes32 structHash, uint256 nonce, uint256 deadline, bytes calldata signature) private {
        if (block.timestamp > deadline) revert VaultIntentExpired(deadline);
        address owner_ = owner;
        if (_nonceUsed[owner_][nonce]) revert VaultNonceUsed(nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(owner_, _hashTypedDataV4(structHash), signature)) {
            revert VaultInvalidSignature(owner_);
        }
        _nonceUsed[owner_][nonce] = true;
    }

    /// @dev The stored policy within the factory's current bounds: lowered caps and a raised floor reach this vault.
    function _boundedPolicy() private view returns (Policy memory) {
        return FACTORY.boundedPolicy(_policy);
    }

    /// @dev A signed slippage bound may not exceed the factory's current cap.
    function _checkSlippageCap(uint16 bps) private view {
        uint16 cap = FACTORY.policyBounds().maxSlippageBpsCap;
        if (bps > cap) revert VaultPolicySlippageAboveCap(bps, cap);
    }

    /// @dev Fees and rewards are paid in the vault's own assets only, checked whether or not any is asked for.
    function _checkFeeToken(address token) private view {
        if (token != collateralAsset && token != debtAsset) revert VaultFeeTokenInvalid(token);
    }

    /// @dev Pays a submitter from the position (the token was checked): collateral is withdrawn from Aave, the debt
    /// asset is borrowed.
    function _pay(address token, uint256 amount, address to) private {
        if (token == collateralAsset) {
            POOL.withdraw(token, amount, to);
        } else {
            POOL.borrow(token, amount, _VARIABLE_RATE, 0, address(this));
            IERC20(token).safeTransfer(to, amount);
        }
    }

    /// @dev The switch itself runs in `CollateralLogic`, as this vault, with the executor's callback armed;
    /// the new collateral is recorded only once every check there has passed.
    function _switch(address newCollateral, bytes calldata path, uint256 slippageBps, uint256 fee) private {
        _executing = true;
        uint8 newDecimals = CollateralLogic.switchCollateral(newCollateral, path, slippageBps, fee, _msgSender());
        _executing = false;
        collateralAsset = newCollateral;
        _collateralDecimals = newDecimals;
    }

    /// @dev Close: repay all debt with a flash loan, selling enough collateral to cover it and the premium at the
    /// worst accepted price; what is left is returned by `close`.
    function _unwind(bytes calldata path, uint256 slippageBps, bool ownerExit) private {
        VaultPlanner.Context memory ctx = _context(
            IRebalanceExecutor.Direction.Close,
            0,
            slippageBps,
            _position(),
            ownerExit
        );
        IRebalanceExecutor.Plan memory plan = VaultPlanner.sizePlan(ctx, path, type(uint256).max);
        _executing = true;
        IRebalanceExecutor.Execution memory ex = EXECUTOR.execute(plan);
        _executing = false;
        Position memory after_ = _position();
        if (after_.debtBase != 0) revert VaultDebtRemaining(after_.debtBase);
        RebalanceReport memory report = VaultPlanner.checkOutcome(ctx, plan, ex, after_, 0);
        emit Rebalanced(_msgSender(), report);
    }

    function _context(
        IRebalanceExecutor.Direction direction,
        uint256 targetHF,
        uint256 slippageBps,
        Position memory before,
        bool ownerExit
    ) private view returns (VaultPlanner.Context memory ctx) {
        ctx.priceGuard = PRICE_GUARD;
        ctx.direction = direction;
        ctx.collateralAsset = collateralAsset;
        ctx.debtAsset = debtAsset;
        ctx.collateralDecimals = _collateralDecimals;
        ctx.debtDecimals = _debtDecimals;
        ctx.targetHF = targetHF;
        ctx.slippageBps = slippageBps;
        if (direction != IRebalanceExecutor.Direction.Close) {
            bool leveragePaused;
            (leveragePaused, ctx.hfTolerance) = FACTORY.rebalanceLimits();
            if (leveragePaused && direction == IRebalanceExecutor.Direction.Leverage) revert VaultLeveragePaused();
        }
        // The owner's own exit needs fresh feeds only: a TWAP lagging a crash must not trap the owner, and the swap is
        // still bounded by the oracle price and the owner's own path. A keeper's or signed sale of collateral (risk-
        // reducing) needs the short-window agreement, leverage the long one.
        (ctx.collateralPrice, ctx.debtPrice) = (
            ownerExit
                ? PRICE_GUARD.freshPrices
                : direction == IRebalanceExecutor.Direction.Leverage
                    ? PRICE_GUARD.checkedPrices
                    : PRICE_GUARD.deleveragePrices
        )(ctx.collateralAsset, ctx.debtAsset);
        if (direction != IRebalanceExecutor.Direction.Leverage) {
            ctx.premiumBps = POOL.FLASHLOAN_PREMIUM_TOTAL();
            ctx.debt = IERC20(_variableDebtToken).balanceOf(address(this));
        }
        ctx.before = before;
    }

    function _verify(
        VaultPlanner.Context memory ctx,
        IRebalanceExecutor.Plan memory plan,
        IRebalanceExecutor.Execution memory ex,
        bool inBand,
        uint256 paidBase
    ) private view returns (RebalanceReport memory report) {
        Position memory after_ = _position();
        uint256 hf = after_.healthFactor;
        // A keeper's sale may stop short of the target, and of the band, if it raised the HF: in a pool too thin for
        // the whole sale within the slippage bound, part of it beats none. It may never overshoot.
        bool keeperSale = inBand && ctx.direction == IRebalanceExecutor.Direction.Deleverage;
        if (
            hf > ctx.targetHF + ctx.hfTolerance ||
            (keeperSale ? hf <= ctx.before.healthFactor : hf + ctx.hfTolerance < ctx.targetHF)
        ) revert VaultTargetMissed(hf, ctx.targetHF, ctx.hfTolerance);
        Policy memory p = _policy;
        if (inBand && (hf > p.maxHF || (hf < p.minHF && !keeperSale))) revert VaultOutOfBand(hf, p.minHF, p.maxHF);
        report = VaultPlanner.checkOutcome(ctx, plan, ex, after_, paidBase);
    }

    function _position() private view returns (Position memory pos) {
        (pos.collateralBase, pos.debtBase, , pos.liquidationThresholdBps, , pos.healthFactor) = POOL.getUserAccountData(
            address(this)
        );
    }
}
