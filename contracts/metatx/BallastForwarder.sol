// SPDX-License-Identifier: BUSL-1.1
pragma solidity 0.8.28;

import {ERC2771Forwarder} from "@openzeppelin/contracts/metatx/ERC2771Forwarder.sol";

/// @title BallastForwarder
/// @notice The one ERC-2771 forwarder the factory and every vault trust, set immutably at their construction.
/// OpenZeppelin v5's forwarder unchanged: EIP-712 signed requests ("BallastForwarder", version "1") with per-signer
/// sequential nonces, deadlines, the target-trust check, `msg.value` matching, batches, and the check that the call
/// received the gas the signer asked for (the 1/64 rule of EIP-150).
/// @dev Nothing is added on purpose: every line of a forwarder is attack surface, and OpenZeppelin's is audited.
contract BallastForwarder is ERC2771Forwarder {
    constructor() ERC2771Forwarder("BallastForwarder") {}
}
