// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title BallastForwarder
/// @notice The one ERC-2771 forwarder the factory and every vault trust, set immutably at their construction.
/// OpenZeppelin v5's forwarder unchanged: EIP-712 signed requests ("BallastForwarder", version "1") with per-signer
/// sequential nonces, deadlines, the target-trust check, `msg.value` matching, batches, and the gas check: a relay that
/// gave the call less than the signed `gas`, so that the call could have run out because of it (EIP-150's 1/64 rule),
/// is reverted as a whole.
/// @dev Nothing is added on purpose: every line of a forwarder is attack surface, and OpenZeppelin's is audited.
contract BallastForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("BallastForwarder") {}
}
