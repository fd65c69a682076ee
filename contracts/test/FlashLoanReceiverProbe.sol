// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlashLoanSimpleReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanSimpleReceiver.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {IPoolAddressesProvider} from "@aave/core-v3/contracts/interfaces/IPoolAddressesProvider.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title FlashLoanReceiverProbe
/// @notice A test-only Aave V3 `flashLoanSimple` receiver. It records what the pool lent and charged,
/// then approves the pool to pull back `amount + premium` from its own balance, which the test must
/// have pre-funded with at least the premium.
contract FlashLoanReceiverProbe is IFlashLoanSimpleReceiver {
    /// @notice Emitted from inside the flash loan with what the pool lent and charged.
    event FlashLoanObserved(
        address indexed asset,
        uint256 amount,
        uint256 premium,
        address indexed initiator,
        uint256 balance
    );

    /// @notice A caller other than the pool entered `executeOperation`.
    error FlashLoanReceiverProbeNotPool(address caller);

    // The interface fixes these getters' names, so they cannot be mixedCase.
    /// @inheritdoc IFlashLoanSimpleReceiver
    // solhint-disable-next-line immutable-vars-naming
    IPoolAddressesProvider public immutable override ADDRESSES_PROVIDER;
    /// @inheritdoc IFlashLoanSimpleReceiver
    // solhint-disable-next-line immutable-vars-naming
    IPool public immutable override POOL;

    /// @notice The asset of the last flash loan received.
    address public lastAsset;
    /// @notice The amount of the last flash loan received.
    uint256 public lastAmount;
    /// @notice The premium the pool charged on the last flash loan.
    uint256 public lastPremium;
    /// @notice The initiator the pool reported for the last flash loan.
    address public lastInitiator;
    /// @notice The probe's balance of the asset while it held the loan.
    uint256 public lastBalanceDuringLoan;

    /// @param provider The Aave market's addresses provider; the pool is read from it once.
    constructor(IPoolAddressesProvider provider) {
        ADDRESSES_PROVIDER = provider;
        POOL = IPool(provider.getPool());
    }

    /// @inheritdoc IFlashLoanSimpleReceiver
    function executeOperation(
        address asset,
        uint256 amount,
        uint256 premium,
        address initiator,
        bytes calldata
    ) external override returns (bool) {
        if (msg.sender != address(POOL)) revert FlashLoanReceiverProbeNotPool(msg.sender);
        uint256 balance = IERC20(asset).balanceOf(address(this));
        lastAsset = asset;
        lastAmount = amount;
        lastPremium = premium;
        lastInitiator = initiator;
        lastBalanceDuringLoan = balance;
        IERC20(asset).approve(address(POOL), amount + premium);
        emit FlashLoanObserved(asset, amount, premium, initiator, balance);
        return true;
    }
}
