//! End-to-end tests of the AWS provider: the real `gantry` binary against moto server on
//! loopback (one server per test, started by [`support::Moto`]), with every result read back
//! through an independent client (the AWS SDK, called from the test).

mod support;

mod example;
mod provider;
mod stacks;

mod nat;
mod network;
mod network_data;
mod vpc;

mod iam;

mod fsx_dra;
mod storage;

mod ml;

mod identity_data;

mod compute;
mod failover;
mod quota;

mod eks;

// Crash adoption and what follows an accepted create, on the provider directly.
mod accepted;
mod adoption;

// Replacements in Terraform's two orders.
mod replace;

// import blocks and generated configuration, with objects made by boto3.
mod imports;
mod refactor;

// Taking over a Terraform state written for objects boto3 made.
mod takeover;

// SIGKILL at random moments, then everything in moto compared with state.
mod soak;

// backend "s3": shared state, locks, takeovers and fencing.
mod remote_state;
