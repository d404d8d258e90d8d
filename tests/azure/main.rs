//! End-to-end tests of the Azure provider: the real `gantry` binary against the contract
//! fake of Azure Resource Manager on loopback (tests/azure/fake, one server per test, over
//! TLS), with every result read back through Microsoft's own Python SDKs (azure-mgmt-*).

mod support;

mod compute;
mod credentials;
mod errors;
mod example;
mod failover;
mod identity;
mod key_vault;
mod ml_workspace;
mod network;
mod recovery;
mod remote_state;
mod state_encryption;
mod storage;
