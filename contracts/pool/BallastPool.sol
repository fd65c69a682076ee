// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ERC4626} from "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";
import {IERC4626} from "@openzeppelin/contracts/interfaces/IERC4626.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPool} from "@aave/core-v3/contracts/interfaces/IPool.sol";
import {IPoolAddressesProvider} from "@aave/core-v3/contracts/interfaces/IPoolAddressesProvider.sol";
import {IFlashLoanSimpleReceiver} from "@aave/core-v3/contracts/flashloan/interfaces/IFlashLoanSimpleReceiver.sol";
import {DataTypes} from "@aave/core-v3/contracts/protocol/libraries/types/DataTypes.sol";
import {ReserveConfiguration} from "@aave/core-v3/contracts/protocol/libraries/configuration/ReserveConfiguration.sol";
import {ISwapRouter} from "@uniswap/v3-periphery/contracts/interfaces/ISwapRouter.sol";

import {IBallastPool} from "../interfaces/IBallastPool.sol";
import {IBallastVault} from "../interfaces/IBallastVault.sol";
import {IPriceGuard} from "../interfaces/IPriceGuard.sol";
import {IVaultFactory} from "../interfaces/IVaultFactory.sol";
import {SwapPath} from "../libraries/SwapPath.sol";

/// @title BallastPool
/// @notice See {IBallastPool}. Shares carry a decimals offset of 6 (OpenZeppelin's virtual shares and assets), and
/// exits take the same fraction `shares / (totalSupply + 10**6)` of the collateral and of the debt, so that a first
/// depositor's donation to the position cannot be captured back.
contract BallastPool is IBallastPool, ERC4626, Ownable2Step, ReentrancyGuardTransient, IFlashLoanSimpleReceiver {
    using SafeERC20 for IERC20;
    using ReserveConfiguration for DataTypes.ReserveConfigurationMap;

    uint256 private constant _BPS = 10_000;
    uint256 private constant _VARIABLE_RATE = 2;
    uint8 private constant _DECIMALS_OFFSET = 6;
    /// @dev Without a flash loan, at most this many withdraw-buy-repay steps: each step's headroom grows by about
    /// minHF / liquidation threshold, so a few steps unwind even a whole position from its band.
    uint256 private constant _MAX_STEPS = 16;
    /// @dev Each step keeps the HF 0.1% above `minHF`, so that Aave's base-unit rounding cannot fail the vault's check.
    uint256 private constant _STEP_HF_MARGIN_BPS = 10_010;

    /// @notice What the pool is deployed with.
    /// @param factory The Ballast factory that creates the pool's vault.
    /// @param addressesProvider The Aave V3 market's addresses provider: the market the factory's vaults use.
    /// @param router The Uniswap V3 SwapRouter exits swap through.
    /// @param asset The collateral asset, which holders deposit.
    /// @param debtAsset The asset the position borrows.
    /// @param policy The position's band and limits, within the factory's bounds.
    /// @param exitPath See `exitPath`.
    /// @param supplyCap See `supplyCap`.
    /// @param governance The pool's owner (two-step transfer).
    /// @param guardian See `guardian`.
    /// @param name The share token's name.
    /// @param symbol The share token's symbol.
    struct Config {
        IVaultFactory factory;
        IPoolAddressesProvider addressesProvider;
        ISwapRouter router;
        IERC20Metadata asset;
        address debtAsset;
        IBallastVault.Policy policy;
        bytes exitPath;
        uint256 supplyCap;
        address governance;
        address guardian;
        string name;
        string symbol;
    }

    /// @notice The factory whose policy bounds the position follows.
    IVaultFactory public immutable FACTORY;
    /// @inheritdoc IFlashLoanSimpleReceiver
    IPoolAddressesProvider public immutable override ADDRESSES_PROVIDER;
    /// @inheritdoc IFlashLoanSimpleReceiver
    IPool public immutable override POOL;
    /// @notice The oracle guard that prices shares and bounds exit swaps.
    IPriceGuard public immutable PRICE_GUARD;
    /// @notice The Uniswap V3 SwapRouter.
    ISwapRouter public immutable ROUTER;
    /// @inheritdoc IBallastPool
    IBallastVault public immutable override VAULT;
    /// @inheritdoc IBallastPool
    address public immutable override DEBT_ASSET;

    /// @notice The aToken of the collateral asset: the position's collateral is the vault's balance of it.
    IERC20 public immutable A_TOKEN;
    /// @notice The variable debt token of the debt asset: the position's debt is the vault's balance of it.
    IERC20 public immutable DEBT_TOKEN;
    /// @notice The debt reserve's aToken, which holds what Aave can lend of the debt asset.
    address public immutable DEBT_RESERVE_A_TOKEN;
    /// @notice One whole collateral asset, in its smallest units.
    uint256 public immutable COLLATERAL_UNIT;
    /// @notice One whole debt asset, in its smallest units.
    uint256 public immutable DEBT_UNIT;

    bytes private _exitPath;
    /// @inheritdoc IBallastPool
    uint256 public override supplyCap;
    /// @inheritdoc IBallastPool
    bool public override depositsPaused;
    /// @inheritdoc IBallastPool
    address public override guardian;

    // Set only while this pool's own exit holds its flash loan: the collateral to release, the most of it that may
    // be sold, then what was sold.
    uint256 private transient _releasing;
    uint256 private transient _mostSoldBound;
    uint256 private transient _sold;

    /// @dev The worst accepted price of the debt asset in collateral, as `numerator / denominator` collateral units
    /// per debt unit: the oracle price marked up by the slippage bound.
    struct ExitPrice {
        uint256 numerator;
        uint256 denominator;
    }

    constructor(
        Config memory config
    ) ERC20(config.name, config.symbol) ERC4626(config.asset) Ownable(config.governance) {
        if (
            address(config.factory) == address(0) ||
            address(config.addressesProvider) == address(0) ||
            address(config.router) == address(0) ||
            config.guardian == address(0)
        ) revert PoolZeroAddress();
        FACTORY = config.factory;
        ROUTER = config.router;
        PRICE_GUARD = config.factory.PRICE_GUARD();
        ADDRESSES_PROVIDER = config.addressesProvider;
        IPool aavePool = IPool(config.addressesProvider.getPool());
        POOL = aavePool;
        DEBT_ASSET = config.debtAsset;
        A_TOKEN = IERC20(aavePool.getReserveData(address(config.asset)).aTokenAddress);
        DataTypes.ReserveData memory debtReserve = aavePool.getReserveData(config.debtAsset);
        DEBT_TOKEN = IERC20(debtReserve.variableDebtTokenAddress);
        DEBT_RESERVE_A_TOKEN = debtReserve.aTokenAddress;
        COLLATERAL_UNIT = 10 ** config.asset.decimals();
        DEBT_UNIT = 10 ** IERC20Metadata(config.debtAsset).decimals();
        VAULT = config.factory.createVault(address(config.asset), config.debtAsset, config.policy, bytes32(0));
        _setExitPath(config.exitPath);
        supplyCap = config.supplyCap;
        guardian = config.guardian;
        emit SupplyCapSet(config.supplyCap);
        emit GuardianSet(config.guardian);
    }

    /// @inheritdoc IBallastPool
    function setExitPath(bytes calldata path) external override onlyOwner {
        _setExitPath(path);
    }

    /// @inheritdoc IBallastPool
    function setSupplyCap(uint256 cap) external override onlyOwner {
        supplyCap = cap;
        emit SupplyCapSet(cap);
    }

    /// @inheritdoc IBallastPool
    function setGuardian(address guardian_) external override onlyOwner {
        if (guardian_ == address(0)) revert PoolZeroAddress();
        guardian = guardian_;
        emit GuardianSet(guardian_);
    }

    /// @inheritdoc IBallastPool
    function setPolicy(IBallastVault.Policy calldata policy) external override onlyOwner {
        VAULT.setPolicy(policy);
    }

    /// @inheritdoc IBallastPool
    function pauseDeposits(bool paused) external override {
        if (msg.sender != guardian) revert PoolNotGuardian(msg.sender);
        depositsPaused = paused;
        emit DepositsPaused(paused);
    }

    /// @inheritdoc IBallastPool
    function lever() external override nonReentrant {
        (uint256 collateral, uint256 debt) = holdings();
        if (collateral == 0 || debt != 0) revert PoolNotOpenable(collateral, debt);
        VAULT.withdraw(collateral, address(this));
        IERC20(asset()).forceApprove(address(VAULT), collateral);
        VAULT.open(collateral, VAULT.policy().targetHF, SwapPath.reverse(_exitPath));
    }

    /// @inheritdoc IBallastPool
    function exitPath() external view override returns (bytes memory) {
        return _exitPath;
    }

    /// @inheritdoc IBallastPool
    function holdings() public view override returns (uint256 collateral, uint256 debt) {
        collateral = A_TOKEN.balanceOf(address(VAULT));
        debt = DEBT_TOKEN.balanceOf(address(VAULT));
    }

    /// @inheritdoc ERC4626
    /// @dev The position's equity at the price guard's oracle prices, in the collateral asset, rounded down (the debt
    /// is valued rounded up); 0 when the debt is worth the collateral or more. Reverts as `IPriceGuard.price` does.
    function totalAssets() public view override(ERC4626, IERC4626) returns (uint256) {
        (uint256 collateral, uint256 debt) = holdings();
        uint256 debtInCollateral = Math.mulDiv(
            debt,
            PRICE_GUARD.price(DEBT_ASSET) * COLLATERAL_UNIT,
            PRICE_GUARD.price(asset()) * DEBT_UNIT,
            Math.Rounding.Ceil
        );
        return collateral > debtInCollateral ? collateral - debtInCollateral : 0;
    }

    /// @inheritdoc ERC4626
    /// @dev 0 while deposits are paused, while Aave's collateral reserve is inactive, frozen or paused, while the
    /// oracle cannot price the position, or while shares exist and the position has no equity (a deposit would only
    /// pay its debt); otherwise what the supply cap leaves.
    function maxDeposit(address) public view override(ERC4626, IERC4626) returns (uint256) {
        try this.totalAssets() returns (uint256 total) {
            return _maxDeposit(total);
        } catch {
            return 0;
        }
    }

    /// @inheritdoc ERC4626
    function maxMint(address) public view override(ERC4626, IERC4626) returns (uint256) {
        try this.totalAssets() returns (uint256 total) {
            return _maxMint(total);
        } catch {
            return 0;
        }
    }

    /// @inheritdoc ERC4626
    /// @dev The holder's shares; 0 while either Aave reserve is inactive or paused, while the position's HF is below
    /// its `minHF` (the vault refuses the withdrawal until a keeper has restored the band; without flash liquidity,
    /// below `minHF` plus the stepped exit's 0.1% margin), or while the oracle or the exit route cannot price the exit.
    function maxRedeem(address holder) public view override(ERC4626, IERC4626) returns (uint256) {
        uint256 shares = balanceOf(holder);
        if (shares == 0 || !_reserveOpen(asset()) || !_reserveOpen(DEBT_ASSET)) return 0;
        (, uint256 debt) = holdings();
        if (debt == 0) return shares;
        (, , , , , uint256 healthFactor) = POOL.getUserAccountData(address(VAULT));
        uint256 minHF = VAULT.policy().minHF;
        // Without a flash loan, every step keeps the HF a margin above minHF: below it, none can start.
        if (_lendable() < Math.mulDiv(debt, shares, _virtualSupply(), Math.Rounding.Ceil)) {
            minHF = (minHF * _STEP_HF_MARGIN_BPS) / _BPS;
        }
        if (healthFactor < minHF || !_exitPriced(shares)) return 0;
        return shares;
    }

    /// @inheritdoc ERC4626
    /// @dev The assets `maxRedeem` is sure to give at the worst accepted exit, less the rounding margin of
    /// `previewWithdraw`, so that withdrawing them burns no more than `maxRedeem` shares.
    function maxWithdraw(address holder) public view override(ERC4626, IERC4626) returns (uint256) {
        uint256 shares = maxRedeem(holder);
        if (shares == 0) return 0;
        (uint256 net, uint256 margin) = _netAssets();
        uint256 assets = Math.mulDiv(shares, net, _virtualSupply());
        return assets > margin + 1 ? assets - margin - 1 : 0;
    }

    /// @inheritdoc ERC4626
    /// @dev The share of the collateral less the most the exit may sell to repay the share of the debt at the worst
    /// accepted price: with the flash premium when Aave can lend it, or with the stepped exit's rounding when it
    /// cannot. `redeem` gives at least this, usually a little more.
    function previewRedeem(uint256 shares) public view override(ERC4626, IERC4626) returns (uint256) {
        (uint256 collateral, uint256 debt) = _shareOf(shares);
        if (debt == 0) return collateral;
        uint256 mostSold = _exitCost(debt, _exitPrice());
        return collateral > mostSold ? collateral - mostSold : 0;
    }

    /// @inheritdoc ERC4626
    /// @dev Enough shares that `previewRedeem` of them covers `assets`: with N the whole position's equity net of its
    /// worst-case exit cost and m a bound on the rounding of one exit, `ceil((assets + m) * supply / N)`.
    function previewWithdraw(uint256 assets) public view override(ERC4626, IERC4626) returns (uint256) {
        (uint256 net, uint256 margin) = _netAssets();
        if (net == 0) revert PoolNoEquity();
        return Math.mulDiv(assets + margin, _virtualSupply(), net, Math.Rounding.Ceil);
    }

    /// @inheritdoc ERC4626
    /// @dev As OpenZeppelin's, with the position priced once for the limit and the conversion (a stale oracle reverts
    /// with the price guard's error).
    function deposit(
        uint256 assets,
        address receiver
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 shares) {
        uint256 total = totalAssets();
        uint256 maxAssets = _maxDeposit(total);
        if (assets > maxAssets) revert ERC4626ExceededMaxDeposit(receiver, assets, maxAssets);
        shares = Math.mulDiv(assets, _virtualSupply(), total + 1);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev As `deposit`: the position priced once.
    function mint(
        uint256 shares,
        address receiver
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 assets) {
        uint256 total = totalAssets();
        uint256 maxShares = _maxMint(total);
        if (shares > maxShares) revert ERC4626ExceededMaxMint(receiver, shares, maxShares);
        assets = Math.mulDiv(shares, total + 1, _virtualSupply(), Math.Rounding.Ceil);
        _deposit(_msgSender(), receiver, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Burns `previewWithdraw(assets)` shares and unwinds their share of the position; whatever the exit gives
    /// beyond `assets` (a better fill than the worst accepted) is supplied back to the position, for the holders who
    /// stay.
    function withdraw(
        uint256 assets,
        address receiver,
        address holder
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 shares) {
        uint256 maxAssets = maxWithdraw(holder);
        if (assets > maxAssets) revert ERC4626ExceededMaxWithdraw(holder, assets, maxAssets);
        shares = assets == 0 ? 0 : previewWithdraw(assets);
        uint256 released = _burnAndExit(holder, shares);
        IERC20(asset()).safeTransfer(receiver, assets);
        uint256 surplus = released - assets;
        if (surplus != 0) _supply(surplus);
        emit Withdraw(_msgSender(), receiver, holder, assets, shares);
    }

    /// @inheritdoc ERC4626
    /// @dev Burns `shares` and unwinds their share of the position; the receiver gets all the exit gives, at least
    /// `previewRedeem(shares)`.
    function redeem(
        uint256 shares,
        address receiver,
        address holder
    ) public override(ERC4626, IERC4626) nonReentrant returns (uint256 assets) {
        uint256 maxShares = maxRedeem(holder);
        if (shares > maxShares) revert ERC4626ExceededMaxRedeem(holder, shares, maxShares);
        assets = _burnAndExit(holder, shares);
        IERC20(asset()).safeTransfer(receiver, assets);
        emit Withdraw(_msgSender(), receiver, holder, assets, shares);
    }

    /// @inheritdoc IFlashLoanSimpleReceiver
    /// @dev Repays the exit's share of the debt with the loan, withdraws its share of the collateral, and buys back
    /// exactly the loan and its premium with the least collateral the route gives, at most the oracle-bounded maximum.
    function executeOperation(
        address asset_,
        uint256 amount,
        uint256 premium,
        address initiator,
        bytes calldata
    ) external override returns (bool) {
        if (msg.sender != address(POOL)) revert PoolCallerNotAavePool(msg.sender);
        uint256 releasing = _releasing;
        if (initiator != address(this) || releasing == 0) revert PoolInitiatorNotSelf(initiator);
        _repay(amount);
        VAULT.withdraw(releasing, address(this));
        // The bound `_exitCost` set, with the premium rounded up: Aave's own premium is no larger.
        _sold = _buy(amount + premium, _mostSoldBound);
        // Aave pulls exactly the loan and its premium after this callback, leaving no allowance behind.
        IERC20(asset_).forceApprove(address(POOL), amount + premium);
        return true;
    }

    /// @inheritdoc ERC4626
    /// @dev Pulls the assets, mints, then supplies them to the position as collateral (levered at the next rebalance).
    function _deposit(address caller, address receiver, uint256 assets, uint256 shares) internal override {
        super._deposit(caller, receiver, assets, shares);
        _supply(assets);
    }

    /// @inheritdoc ERC4626
    function _decimalsOffset() internal pure override returns (uint8) {
        return _DECIMALS_OFFSET;
    }

    /// @dev The deposit limit with the position's equity at `total`: see `maxDeposit`.
    function _maxDeposit(uint256 total) private view returns (uint256) {
        if (depositsPaused) return 0;
        (bool active, bool frozen, , , bool paused) = POOL.getConfiguration(asset()).getFlags();
        if (!active || frozen || paused || (total == 0 && totalSupply() != 0)) return 0;
        uint256 cap = supplyCap;
        if (cap == 0) return type(uint256).max;
        return cap > total ? cap - total : 0;
    }

    /// @dev The shares `_maxDeposit(total)` buys, rounded down.
    function _maxMint(uint256 total) private view returns (uint256) {
        uint256 assets = _maxDeposit(total);
        return assets == type(uint256).max ? assets : Math.mulDiv(assets, _virtualSupply(), total + 1);
    }

    /// @dev Burns `shares` of `holder` (spending the caller's allowance), then unwinds their fraction of the position,
    /// taken against the supply before the burn, into this pool. Returns the collateral the exit leaves.
    function _burnAndExit(address holder, uint256 shares) private returns (uint256 released) {
        if (_msgSender() != holder) _spendAllowance(holder, _msgSender(), shares);
        (uint256 collateral, uint256 debt) = _shareOf(shares);
        _burn(holder, shares);
        uint256 sold;
        if (debt == 0) {
            if (collateral != 0) VAULT.withdraw(collateral, address(this));
        } else {
            ExitPrice memory price = _exitPrice();
            uint256 mostSold = _exitCost(debt, price);
            // Dust whose debt, rounded up to a whole unit, may cost all of its collateral: `previewRedeem` said 0,
            // and the shares go for nothing rather than fail.
            if (collateral <= mostSold) {
                emit Unwound(holder, shares, 0, 0, 0);
                return 0;
            }
            if (_lendable() >= debt) {
                (_releasing, _mostSoldBound) = (collateral, mostSold);
                POOL.flashLoanSimple(address(this), DEBT_ASSET, debt, "", 0);
                sold = _sold;
                (_releasing, _mostSoldBound, _sold) = (0, 0, 0);
            } else {
                sold = _exitInSteps(collateral, debt, price);
            }
        }
        released = collateral - sold;
        emit Unwound(holder, shares, collateral, debt, sold);
    }

    /// @dev The exit without a flash loan: each step takes what the position's HF can spare above its `minHF` (with a
    /// 0.1% margin for Aave's rounding) and the holder's collateral still has, buys the debt that surely buys at the
    /// worst accepted price (at most the rest of the debt share), withdraws the collateral that costs at that price,
    /// rounded up, and repays; the rest of the holder's collateral follows once the debt share is repaid. Every
    /// withdrawal passes the vault's own HF check. Each step rounds its sale up by at most one unit: `previewRedeem`
    /// counts `_MAX_STEPS` of them.
    function _exitInSteps(uint256 collateral, uint256 debt, ExitPrice memory price) private returns (uint256 sold) {
        uint256 hfFloor = (uint256(VAULT.policy().minHF) * _STEP_HF_MARGIN_BPS) / _BPS;
        uint256 withdrawn;
        for (uint256 step; debt != 0; ++step) {
            uint256 spare = Math.min(_headroom(hfFloor), collateral - withdrawn);
            uint256 bought = Math.min(debt, Math.mulDiv(spare, price.denominator, price.numerator));
            if (step == _MAX_STEPS || bought == 0) revert PoolExitStuck(debt);
            // At most `spare`: `bought` is what `spare` surely buys, rounded down.
            uint256 slice = _mostSold(bought, price);
            VAULT.withdraw(slice, address(this));
            withdrawn += slice;
            sold += _buy(bought, slice);
            _repay(bought);
            debt -= bought;
        }
        if (collateral != withdrawn) VAULT.withdraw(collateral - withdrawn, address(this));
    }

    /// @dev The collateral the position can release with its HF staying at or above `hfFloor`, rounded down.
    function _headroom(uint256 hfFloor) private view returns (uint256) {
        (uint256 collateralBase, uint256 debtBase, , uint256 thresholdBps, , ) = POOL.getUserAccountData(
            address(VAULT)
        );
        uint256 floorBase = Math.mulDiv(debtBase, hfFloor * _BPS, thresholdBps * 1e18, Math.Rounding.Ceil);
        if (collateralBase <= floorBase) return 0;
        return Math.mulDiv(collateralBase - floorBase, COLLATERAL_UNIT, PRICE_GUARD.price(asset()));
    }

    /// @dev Buys exactly `amountOut` of the debt asset along the reversed exit path (checked against governance's
    /// routes again), spending at most `maxIn` collateral; no allowance is left behind.
    function _buy(uint256 amountOut, uint256 maxIn) private returns (uint256 spent) {
        bytes memory path = _exitPath;
        PRICE_GUARD.checkPath(path, 0);
        IERC20 collateral = IERC20(asset());
        collateral.forceApprove(address(ROUTER), maxIn);
        spent = ROUTER.exactOutput(
            ISwapRouter.ExactOutputParams({
                path: SwapPath.reverse(path),
                recipient: address(this),
                deadline: block.timestamp,
                amountOut: amountOut,
                amountInMaximum: maxIn
            })
        );
        if (spent != maxIn) collateral.forceApprove(address(ROUTER), 0);
    }

    /// @dev Repays `amount` of the position's debt from this pool's balance; Aave pulls exactly `amount`.
    function _repay(uint256 amount) private {
        IERC20(DEBT_ASSET).forceApprove(address(POOL), amount);
        POOL.repay(DEBT_ASSET, amount, _VARIABLE_RATE, address(VAULT));
    }

    /// @dev What Aave can lend of the debt asset now: a flash loan larger than this cannot be funded.
    function _lendable() private view returns (uint256) {
        return IERC20(DEBT_ASSET).balanceOf(DEBT_RESERVE_A_TOKEN);
    }

    /// @dev Supplies `assets` to Aave on the position's behalf: the vault's collateral grows without a call through it
    /// (Aave credits `onBehalfOf`; the reserve is the vault's collateral already, or becomes it on the first supply).
    function _supply(uint256 assets) private {
        address collateral = asset();
        IERC20(collateral).forceApprove(address(POOL), assets);
        POOL.supply(collateral, assets, address(VAULT), 0);
    }

    function _setExitPath(bytes memory path) private {
        SwapPath.validate(path, asset(), DEBT_ASSET);
        PRICE_GUARD.checkPath(path, 0);
        _exitPath = path;
        emit ExitPathSet(path);
    }

    /// @dev The fraction `shares / (totalSupply + 10**offset)` of the collateral, rounded down, and of the debt,
    /// rounded up, plus one unit (within the debt): Aave rounds a repayment's scaled amount to the nearest, so the
    /// debt may fall by one unit less than was repaid, and that unit must not stay with the other holders. An exit
    /// leaves the position's HF where it was, or a hair higher.
    function _shareOf(uint256 shares) private view returns (uint256 collateral, uint256 debt) {
        (uint256 allCollateral, uint256 allDebt) = holdings();
        uint256 supply = _virtualSupply();
        collateral = Math.mulDiv(allCollateral, shares, supply);
        debt = Math.mulDiv(allDebt, shares, supply, Math.Rounding.Ceil);
        if (debt != 0 && debt < allDebt) ++debt;
    }

    /// @dev The whole position's equity net of its worst-case exit cost, rounded down, and a bound on what one exit's
    /// rounding may lose against it: one unit of collateral, two more units of debt (see `_shareOf`) with their
    /// premium, one of premium, the rounding up of the amount sold, and a stepped exit's per-step rounding: at most
    /// `5 * price + 2 + _MAX_STEPS` collateral units.
    function _netAssets() private view returns (uint256 net, uint256 margin) {
        (uint256 collateral, uint256 debt) = holdings();
        ExitPrice memory price = _exitPrice();
        uint256 premiumBps = POOL.FLASHLOAN_PREMIUM_TOTAL();
        uint256 mostSold = Math.mulDiv(
            debt,
            price.numerator * (_BPS + premiumBps),
            price.denominator * _BPS,
            Math.Rounding.Ceil
        );
        net = collateral > mostSold ? collateral - mostSold : 0;
        margin = _mostSold(5, price) + 2 + _MAX_STEPS;
    }

    /// @dev The debt asset's worst accepted price in collateral: the oracle price, as fresh as an owner's exit reads
    /// it, over one less the position's slippage bound (clamped to the factory's current cap).
    function _exitPrice() private view returns (ExitPrice memory price) {
        (uint256 collateralPrice, uint256 debtPrice) = PRICE_GUARD.freshPrices(asset(), DEBT_ASSET);
        uint256 slippageBps = FACTORY.boundedPolicy(VAULT.policy()).maxSlippageBps;
        price.numerator = debtPrice * COLLATERAL_UNIT * _BPS;
        price.denominator = collateralPrice * DEBT_UNIT * (_BPS - slippageBps);
    }

    /// @dev The most collateral an exit of `debt` may sell at `price`: with the flash premium, rounded up, when Aave
    /// can lend `debt`; otherwise the stepped exit's, with one unit of rounding per step.
    function _exitCost(uint256 debt, ExitPrice memory price) private view returns (uint256) {
        if (_lendable() < debt) return _mostSold(debt, price) + _MAX_STEPS;
        return _mostSold(debt + Math.mulDiv(debt, POOL.FLASHLOAN_PREMIUM_TOTAL(), _BPS, Math.Rounding.Ceil), price);
    }

    /// @dev The most collateral an exit sells to buy `owed` of the debt asset at `price`, rounded up.
    function _mostSold(uint256 owed, ExitPrice memory price) private pure returns (uint256) {
        return Math.mulDiv(owed, price.numerator, price.denominator, Math.Rounding.Ceil);
    }

    /// @dev Whether an exit of `shares` can read its prices and its route: where either fails, so would the exit.
    function _exitPriced(uint256 shares) private view returns (bool) {
        try this.previewRedeem(shares) returns (uint256) {
            try PRICE_GUARD.checkPath(_exitPath, 0) returns (uint256) {
                return true;
            } catch {
                return false;
            }
        } catch {
            return false;
        }
    }

    function _virtualSupply() private view returns (uint256) {
        return totalSupply() + 10 ** _DECIMALS_OFFSET;
    }

    function _reserveOpen(address reserve) private view returns (bool) {
        (bool active, , , , bool paused) = POOL.getConfiguration(reserve).getFlags();
        return active && !paused;
    }
}
